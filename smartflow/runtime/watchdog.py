"""The watchdog: a tiny process that ends every recorded process group if the driver dies.

A parent-death signal reaches only a direct child; a model's own children (shell pipelines, MPI
ranks) would survive a SIGKILLed driver. The supervisor starts this watchdog (in its own session,
with no parent-death signal: it must outlive the driver to do its job) and tells it, over a pipe,
each process group it starts (``+PGID``) and ends (``-PGID``). When the pipe reaches EOF, whether
the supervisor closed it or the driver died, the watchdog SIGKILLs the groups still recorded.
"""

from __future__ import annotations

import subprocess
import sys

import anyio
from anyio.abc import Process

_SCRIPT = """
import os, signal, sys
groups = set()
for line in sys.stdin:
    op, pgid = line[:1], int(line[1:])
    (groups.add if op == "+" else groups.discard)(pgid)
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


class Watchdog:
    """The supervisor's handle on its watchdog process."""

    def __init__(self, process: Process) -> None:
        self._process = process
        self._lock = anyio.Lock()

    @classmethod
    async def start(cls) -> Watchdog:
        process = await anyio.open_process(
            [sys.executable, "-I", "-S", "-c", _SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return cls(process)

    async def watch(self, pgid: int) -> None:
        await self._send(f"+{pgid}\n")

    async def forget(self, pgid: int) -> None:
        await self._send(f"-{pgid}\n")

    async def _send(self, line: str) -> None:
        assert self._process.stdin is not None
        async with self._lock:
            try:
                await self._process.stdin.send(line.encode())
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                pass  # the watchdog has gone: the parent-death signal still covers direct children

    async def aclose(self) -> None:
        """Close the pipe (the watchdog kills what is still recorded) and reap it."""
        with anyio.CancelScope(shield=True):
            assert self._process.stdin is not None
            await self._process.stdin.aclose()
            with anyio.move_on_after(5):
                await self._process.wait()
            if self._process.returncode is None:
                self._process.kill()
                await self._process.wait()
            await self._process.aclose()
