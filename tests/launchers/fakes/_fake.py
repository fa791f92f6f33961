"""What the fake schedulers share: their state, and jobs that really run.

The state is one JSON file in ``$SMARTFLOW_FAKE_SCHEDULER_DIR`` (``state.json``), read and
written under an ``fcntl.flock`` on ``state.lock``, so concurrent fake commands see one queue.
A submitted script runs detached (its own session, so its own process group) under a *runner*:
``python _fake.py run <id>``, which starts the script, waits for it and records its exit status.
A cancel signals the whole process group; a forced one (SIGKILL) kills the runner too, so the
cancel command records the status itself.

A job is pending at its first query, running while its script lives, then ended with the
script's status; the query commands render that in their scheduler's own format. Tests steer the
fakes through the state directory: a file ``<command>.hang`` makes that command sleep while it
exists; :func:`vanish` makes every query command forget a job. Every call is logged in the
state's ``calls`` (command, argv) for tests to check.

Standard library only: the fakes run under whichever ``python3`` PATH finds.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DIR_VARIABLE = "SMARTFLOW_FAKE_SCHEDULER_DIR"
#: How long a hanging command sleeps at most (the flag file is normally removed sooner).
HANG_MAX_S = 60.0


def state_dir() -> Path:
    value = os.environ.get(DIR_VARIABLE)
    if not value:
        sys.stderr.write(f"fake scheduler: ${DIR_VARIABLE} is not set\n")
        sys.exit(2)
    path = Path(value)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def locked() -> Iterator[dict[str, Any]]:
    """The state, under the lock; what the block leaves in it is written back."""
    base = state_dir()
    with open(base / "state.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = base / "state.json"
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            state = {"next_id": 0, "jobs": {}, "calls": [], "cancels": []}
        yield state
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        os.replace(tmp, path)


def read_state() -> dict[str, Any]:
    with locked() as state:
        return state


def called(command: str, argv: list[str]) -> None:
    """Log the call, then sleep while ``<command>.hang`` exists."""
    with locked() as state:
        state["calls"].append([command, argv])
    flag = state_dir() / f"{command}.hang"
    deadline = time.monotonic() + HANG_MAX_S
    while flag.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def directive_options(script: str, prefix: str) -> list[str]:
    """The tokens of every ``<prefix> ...`` line of a script (``#PBS -q debug`` -> -q, debug)."""
    tokens: list[str] = []
    for line in script.splitlines():
        if line.startswith(prefix + " "):
            tokens += line[len(prefix) :].split()
    return tokens


def option(tokens: list[str], *names: str) -> str | None:
    """The value of the last ``name value`` (or ``name=value``) among ``tokens``."""
    found = None
    for index, token in enumerate(tokens):
        for name in names:
            if token == name and index + 1 < len(tokens):
                found = tokens[index + 1]
            elif token.startswith(name + "=") and name.startswith("--"):
                found = token.split("=", 1)[1]
    return found


def submit(
    *,
    script: Path,
    execute: bool,
    name: str,
    queue: str,
    output: str | None,
    error: str | None,
    id_variable: str,
    first_id: int,
) -> str:
    """Queue the job and start its runner; its id (a number, as text)."""
    base = state_dir()
    with locked() as state:
        number = max(state["next_id"], first_id)
        state["next_id"] = number + 1
        job_id = str(number)
        state["jobs"][job_id] = {
            "script": str(script),
            "execute": execute,
            "name": name,
            "queue": queue,
            "output": output or str(base / f"{name}.o{job_id}"),
            "error": error or str(base / f"{name}.e{job_id}"),
            "cwd": os.getcwd(),
            "queries": 0,
            "exit": None,
            "pgid": None,
            "script_pid": None,
            "cancelled": None,
            "vanished": False,
        }
    env = dict(os.environ, **{id_variable: job_id})
    # A job's environment is the scheduler's to make: the basics are always on its PATH.
    parts = env.get("PATH", "").split(os.pathsep)
    env["PATH"] = os.pathsep.join([*parts, *(p for p in ("/usr/bin", "/bin") if p not in parts)])
    runner = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "run", job_id],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    with locked() as state:
        state["jobs"][job_id]["pgid"] = runner.pid
    return job_id


def _run(job_id: str) -> int:
    """The runner: start the script, wait for it, record its status (a signal: -N)."""
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: None)  # outlive the script, to record how it ended
    with locked() as state:
        job = state["jobs"][job_id]
    argv = [job["script"]] if job["execute"] else ["/bin/bash", job["script"]]
    with open(job["output"], "ab") as out, open(job["error"], "ab") as err:
        script = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=job["cwd"]
        )
    with locked() as state:
        state["jobs"][job_id]["script_pid"] = script.pid
    code = script.wait()
    with locked() as state:
        job = state["jobs"][job_id]
        if job["exit"] is None:
            job["exit"] = code
    return 0


def _alive(pgid: int | None) -> bool:
    if pgid is None:
        return True  # its runner is being started
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def observe(state: dict[str, Any], job_id: str) -> str:
    """What one query sees of a job: unknown, queued, running or ended (counted per query)."""
    job = state["jobs"].get(job_id)
    if job is None or job["vanished"]:
        return "unknown"
    job["queries"] += 1
    if job["queries"] == 1:
        return "queued"
    if job["exit"] is None and not _alive(job["pgid"]):
        job["exit"] = -signal.SIGKILL  # its runner died without a word
    return "running" if job["exit"] is None else "ended"


def cancel(job_id: str, signum: int) -> str:
    """Signal the job's process group: 'unknown', 'ended' or 'signalled'."""
    with locked() as state:
        job = state["jobs"].get(job_id)
        if job is None or job["vanished"]:
            return "unknown"
        if job["exit"] is not None:
            return "ended"
        job["cancelled"] = signal.Signals(signum).name
        state["cancels"].append([job_id, job["cancelled"]])
        pgid = job["pgid"]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)
    if signum == signal.SIGKILL:  # the runner died too: record it here
        with locked() as state:
            job = state["jobs"][job_id]
            if job["exit"] is None:
                job["exit"] = -signal.SIGKILL
    return "signalled"


def vanish(job_id: str) -> None:
    """Make every query command forget the job (its processes go on: kill them yourself)."""
    with locked() as state:
        state["jobs"][job_id]["vanished"] = True


def kill_all() -> list[str]:
    """SIGKILL every job whose process group is still alive (a test's cleanup); their ids."""
    killed = []
    for job_id, job in read_state()["jobs"].items():
        if job["pgid"] is not None and _alive(job["pgid"]):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(job["pgid"], signal.SIGKILL)
            killed.append(job_id)
    return killed


def strip_and_exec(argv: list[str], takes_value: set[str]) -> None:
    """A fake run command: drop the options (``--k=v``, ``--flag``, and ``-k v`` for the
    single-dash ones in ``takes_value``), then exec the program with its arguments."""
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        index += 2 if argv[index] in takes_value else 1
    if index >= len(argv):
        sys.stderr.write("fake run command: no program given\n")
        sys.exit(2)
    os.execvp(argv[index], argv[index:])


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "run":
    sys.exit(_run(sys.argv[2]))
