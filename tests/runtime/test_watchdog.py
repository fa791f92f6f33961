"""The watchdog process on its own: what it kills when its pipe closes, and what it must not."""

from __future__ import annotations

import subprocess
import sys

from smartflow.runtime.watchdog import _SCRIPT
from tests._support import wait_gone_blocking


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen(["sleep", "60"], start_new_session=True)


def test_kills_recorded_groups_but_not_forgotten_or_torn_ones() -> None:
    recorded, forgotten, torn = _sleeper(), _sleeper(), _sleeper()
    try:
        lines = f"+{recorded.pid}\n+{forgotten.pid}\n-{forgotten.pid}\n+{torn.pid}"  # no "\n"
        watchdog = subprocess.run(
            [sys.executable, "-c", _SCRIPT], input=lines, text=True, timeout=30
        )
        assert watchdog.returncode == 0
        killed = wait_gone_blocking(recorded.pid) == []
        assert killed, "a recorded group must be killed when the pipe closes"
        # The watchdog has exited, so any signal it was going to send is on its way: 0.2 s only
        # lets a wrong kill land, and a loaded runner can only make this pass, not fail.
        survivors = wait_gone_blocking(forgotten.pid, torn.pid, within=0.2)
        assert forgotten.pid in survivors, "a forgotten group must be left alone"
        assert torn.pid in survivors, "a torn last line must be ignored"
    finally:
        for proc in (recorded, forgotten, torn):
            proc.kill()
            proc.wait()


def test_runs_recorded_cancel_commands_but_not_forgotten_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A scheduler's job is ended by the command its launcher recorded (``scancel <id>``)."""
    import json

    ran, forgotten = tmp_path / "ran", tmp_path / "forgotten"
    recorded = "!" + json.dumps(["touch", str(ran)])
    dropped = "!" + json.dumps(["touch", str(forgotten)])
    lines = f"+{recorded}\n+{dropped}\n-{dropped}\n"
    watchdog = subprocess.run([sys.executable, "-c", _SCRIPT], input=lines, text=True, timeout=30)
    assert watchdog.returncode == 0
    assert ran.exists(), "a recorded cancel command must run when the pipe closes"
    assert not forgotten.exists(), "a forgotten one must not"
