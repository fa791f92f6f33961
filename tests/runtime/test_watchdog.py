"""The watchdog process on its own: what it kills when its pipe closes, and what it must not."""

from __future__ import annotations

import subprocess
import sys

from smartflow.runtime.watchdog import _SCRIPT


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen(["sleep", "60"], start_new_session=True)


def _gone(proc: subprocess.Popen, within: float) -> bool:
    try:
        return proc.wait(timeout=within) is not None
    except subprocess.TimeoutExpired:
        return False


def test_kills_recorded_groups_but_not_forgotten_or_torn_ones() -> None:
    recorded, forgotten, torn = _sleeper(), _sleeper(), _sleeper()
    try:
        lines = f"+{recorded.pid}\n+{forgotten.pid}\n-{forgotten.pid}\n+{torn.pid}"  # no "\n"
        watchdog = subprocess.run(
            [sys.executable, "-c", _SCRIPT], input=lines, text=True, timeout=30
        )
        assert watchdog.returncode == 0
        assert _gone(recorded, 5), "a recorded group must be killed when the pipe closes"
        assert not _gone(forgotten, 0.2), "a forgotten group must be left alone"
        assert not _gone(torn, 0.2), "a torn last line must be ignored"
    finally:
        for proc in (recorded, forgotten, torn):
            proc.kill()
            proc.wait()
