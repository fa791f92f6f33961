"""Spawning child processes so that none of them can outlive the driver.

Every child gets its own session, so its whole process group (grandchildren included) can be
signalled, and the supervisor's watchdog records that group: if the driver dies, even by
SIGKILL, the watchdog sees its pipe close and kills every recorded group. (A parent-death signal
through ``setpriv`` covered only direct children and doubled the cost of a spawn, so the watchdog
alone does the job.) Output goes straight to files: no pipes through the driver.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import anyio
import attrs
from anyio.abc import Process

from smartflow.errors import ExecutableNotFoundError, LaunchError
from smartflow.runtime.terminate import terminate


def _count_variables(env: dict[str, str]) -> str:
    return f"<{len(env)} variables>"  # values hold store secrets: never shown


def _hide_bytes(data: bytes | None) -> str:
    return "None" if data is None else f"<{len(data)} bytes>"


@attrs.frozen
class ProcessSpec:
    """Everything needed to start one child process. Its repr shows neither the environment's
    values nor the stdin data: both carry store secrets."""

    argv: tuple[str, ...]
    cwd: Path
    env: dict[str, str] = attrs.field(repr=_count_variables)
    stdout_path: Path
    stderr_path: Path
    #: Bytes written to the child's stdin, which is then closed (secrets travel this way).
    stdin_data: bytes | None = attrs.field(default=None, repr=_hide_bytes)
    #: Seconds the process may run before it is stopped and marked FAILED.
    walltime: float | None = None


def _open_outputs(spec: ProcessSpec, truncate: bool) -> tuple[int, int]:
    spec.cwd.mkdir(parents=True, exist_ok=True)
    # O_APPEND: a process that writes its own log into the same file (redis-server's logfile)
    # and a restart of the same actor both add to the end instead of writing over it.
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | (os.O_TRUNC if truncate else 0)
    out = os.open(spec.stdout_path, flags, 0o644)
    try:
        err = (
            out if spec.stderr_path == spec.stdout_path else os.open(spec.stderr_path, flags, 0o644)
        )
    except BaseException:
        os.close(out)
        raise
    return out, err


async def spawn(spec: ProcessSpec, *, truncate: bool = True) -> Process:
    """Start the child described by ``spec`` and hand it its stdin data; its output files are
    emptied first unless ``truncate`` is False (a restart adds to what the last run wrote)."""
    exe = spec.argv[0]
    with anyio.CancelScope(shield=True):  # brief, and a cancel here would leak both fds
        out, err = await anyio.to_thread.run_sync(_open_outputs, spec, truncate)
    try:
        process = await anyio.open_process(
            list(spec.argv),
            stdin=subprocess.PIPE if spec.stdin_data is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=spec.cwd,
            env=spec.env,
            start_new_session=True,
        )
    except (FileNotFoundError, PermissionError) as exc:
        raise ExecutableNotFoundError(f"executable {exe!r} not found or not executable") from exc
    except OSError as exc:
        raise LaunchError(f"could not start {exe!r}: {exc}") from exc
    finally:
        os.close(out)
        if err != out:
            os.close(err)
    if spec.stdin_data is not None:
        try:
            await _feed_stdin(process, spec.stdin_data)
        except BaseException:
            await terminate(process)  # cancelled while feeding it: it must not outlive us
            raise
    return process


async def _feed_stdin(process: Process, data: bytes) -> None:
    assert process.stdin is not None
    try:
        await process.stdin.send(data)
    except (anyio.BrokenResourceError, OSError):
        pass  # the child exited before reading: its exit status tells the story
    finally:
        await process.stdin.aclose()


def read_tail(path: Path, limit: int = 4096) -> str:
    """The last ``limit`` bytes of a child's output file (blocking: call from a worker)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - limit))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
