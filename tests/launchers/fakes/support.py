"""The fake schedulers, as tests use them: :func:`fake_fixture` puts a fake's folder first on
PATH (with this interpreter's folder, where the fakes' ``python3`` comes from), points
``$SMARTFLOW_FAKE_SCHEDULER_DIR`` at the test's own state directory, and polls fast. At the
end it checks that no job's processes are left (they run detached, so the process guard of
conftest.py cannot see them), and kills any it finds."""

from __future__ import annotations

import inspect
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import psutil
import pytest

from smartflow import Experiment, Status
from smartflow.launchers import _batch
from tests.launchers.fakes import _fake

FAKES = Path(__file__).parent

#: How long a cancelled job's processes may take to go.
GONE_WITHIN_S = 10.0


class FakeScheduler:
    """One test's fake scheduler: its commands' folder and its state."""

    def __init__(self, name: str, state_dir: Path) -> None:
        self.name = name
        self.folder = FAKES / name
        self.state_dir = state_dir

    def state(self) -> dict[str, Any]:
        return _fake.read_state() if (self.state_dir / "state.json").exists() else {"jobs": {}}

    def job(self, job_id: str) -> dict[str, Any]:
        return self.state()["jobs"][job_id.split(".", 1)[0]]

    def calls(self, command: str) -> list[list[str]]:
        return [argv for name, argv in self.state().get("calls", []) if name == command]

    def hang(self, command: str) -> Path:
        """Make ``command`` sleep (until :meth:`answer`)."""
        flag = self.state_dir / f"{command}.hang"
        self.state_dir.mkdir(parents=True, exist_ok=True)
        flag.touch()
        return flag

    def answer(self, command: str) -> None:
        (self.state_dir / f"{command}.hang").unlink(missing_ok=True)

    def vanish(self, job_id: str) -> None:
        _fake.vanish(job_id.split(".", 1)[0])

    def alive(self, job_id: str) -> list[int]:
        """The job's processes still alive (its runner, its script, its members)."""
        pgid = self.job(job_id)["pgid"]
        found = []
        for proc in psutil.process_iter():
            try:
                if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                    found.append(proc.pid)
            except (OSError, psutil.Error):
                continue
        return found

    def wait_gone(self, job_id: str, within: float = GONE_WITHIN_S) -> list[int]:
        deadline = time.monotonic() + within
        while (left := self.alive(job_id)) and time.monotonic() < deadline:
            time.sleep(0.05)
        return left


def fake_fixture(name: str, **env: str) -> Callable[..., Iterator[FakeScheduler]]:
    """A fixture giving a :class:`FakeScheduler` for ``name`` (pbs, lsf, cobalt); ``env`` is
    set for the test too (``SMARTFLOW_FAKE_PBS_FLAVOR="torque"``)."""

    @pytest.fixture
    def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeScheduler]:
        scheduler = FakeScheduler(name, tmp_path / "fake-state")
        monkeypatch.setenv(_fake.DIR_VARIABLE, str(scheduler.state_dir))
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        path = [str(scheduler.folder), str(Path(sys.executable).parent), os.environ["PATH"]]
        monkeypatch.setenv("PATH", os.pathsep.join(path))
        monkeypatch.setattr(_batch, "MAX_POLL_S", 0.2)
        yield scheduler
        left = {j: scheduler.wait_gone(j, within=2.0) for j in scheduler.state()["jobs"]}
        left = {j: pids for j, pids in left.items() if pids}
        _fake.kill_all()
        assert not left, f"jobs left running (now killed): {left}"

    return fake


def py(code: str) -> list[str]:
    """A Python program's arguments."""
    return ["-c", code]


async def until(check: Callable[[], Any], within: float = 20) -> None:
    """Wait until ``check()`` (awaited if it gives an awaitable) is true."""
    with anyio.fail_after(within):
        while True:
            found = check()
            if inspect.isawaitable(found):
                found = await found
            if found:
                return
            await anyio.sleep(0.05)


async def until_status(exp: Experiment, entity: Any, status: Status, within: float = 20) -> None:
    """Wait until every process of ``entity`` has ``status``."""

    async def reached() -> bool:
        return set(await exp.get_status(entity)) == {status}

    await until(reached, within)
