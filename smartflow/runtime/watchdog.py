"""The watchdog: a tiny process that ends every recorded process group if the driver dies.

A parent-death signal reaches only a direct child; a model's own children (shell pipelines, MPI
ranks) would survive a SIGKILLed driver. The supervisor starts this watchdog (in its own session,
with no parent-death signal: it must outlive the driver to do its job) and tells it, over a pipe,
each job it starts (``+TOKEN``) and ends (``-TOKEN``). A token is a process group id, or ``!`` and
a JSON argv that cancels a scheduler's job (``!["scancel", "12"]``). When the pipe reaches EOF,
whether the supervisor closed it or the driver died, the watchdog SIGKILLs the groups still
recorded and runs the cancel commands still recorded (each bounded: a hung scheduler command must
not keep the watchdog alive).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import anyio
from anyio.abc import Process

_SCRIPT = r"""
import json, os, signal, subprocess, sys
tokens = {}
for line in sys.stdin:
    if not line.endswith("\n"):
        break  # torn by the driver's death mid-write: a partial id could name a stranger
    op, token = line[:1], line[1:-1]
    count = tokens.get(token, 0) + (1 if op == "+" else -1)  # members of one job share one
    if count > 0:
        tokens[token] = count
    else:
        tokens.pop(token, None)
for token in tokens:
    if token.startswith("!"):
        try:
            subprocess.run(json.loads(token[1:]), stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20)
        except Exception:
            pass
        continue
    try:
        os.killpg(int(token), signal.SIGKILL)
    except (OSError, ValueError):
        pass
"""


class Watchdog:
    """The supervisor's handle on its watchdog process.

    Messages go down a pipe whose write end is non-blocking. Lines are gathered and written once
    per event-loop iteration (each write wakes the watchdog), so recording a process group costs
    no await and an ensemble's launch costs a handful of writes, not one per member.
    """

    def __init__(self, process: Process, write_fd: int) -> None:
        self._process = process
        self._fd: int | None = write_fd
        self._pending = b""
        self._flush_scheduled = False

    @classmethod
    async def start(cls) -> Watchdog:
        read_fd, write_fd = os.pipe()  # both ends close-on-exec: no other child inherits them
        try:
            process = await anyio.open_process(
                [sys.executable, "-I", "-S", "-c", _SCRIPT],
                stdin=read_fd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except BaseException:
            os.close(write_fd)
            raise
        finally:
            os.close(read_fd)
        os.set_blocking(write_fd, False)
        return cls(process, write_fd)

    def watch(self, token: str | int) -> None:
        """Record a job to end if the driver dies (see the module docstring for tokens)."""
        self._queue(f"+{token}\n".encode())

    def forget(self, token: str | int) -> None:
        self._queue(f"-{token}\n".encode())

    def _queue(self, line: bytes) -> None:
        self._pending += line
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._fd is None or not self._pending:
            return
        try:
            written = os.write(self._fd, self._pending)
        except BlockingIOError:
            written = 0  # the watchdog is behind by thousands of lines: keep them for later
        except OSError:
            self._close_pipe()  # the watchdog has gone: nothing more to tell it
            return
        self._pending = self._pending[written:]
        if self._pending:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_later(0.01, self._flush)

    def _close_pipe(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    async def aclose(self) -> None:
        """Close the pipe (the watchdog kills what is still recorded) and reap it."""
        with anyio.CancelScope(shield=True):
            if self._pending and self._fd is not None:
                os.set_blocking(self._fd, True)
                self._flush()
            self._close_pipe()
            with anyio.move_on_after(5):
                await self._process.wait()
            if self._process.returncode is None:
                self._process.kill()
                await self._process.wait()
            await self._process.aclose()
