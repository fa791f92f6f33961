"""The termination ladder every actor uses to end its process.

A polite SIGTERM to the whole process group, a bounded wait, then SIGKILL; all inside a shielded
cancel scope so that a cancelled caller still leaves nothing running. (anyio's
``Process.aclose()`` alone goes straight to SIGKILL when cancelled.)
"""

from __future__ import annotations

import os
import signal

import anyio
from anyio.abc import Process


def signal_group(process: Process, signum: int) -> None:
    """Send ``signum`` to the process group the child leads; quiet if it has gone."""
    if process.returncode is not None:
        return
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass
    except PermissionError:
        # The group leader has been reaped and its id reused elsewhere: signal the child alone.
        process.send_signal(signum)


async def terminate(process: Process, grace: float = 5.0) -> int:
    """End ``process`` and its group: SIGTERM, wait up to ``grace`` seconds, then SIGKILL.

    Whatever of the group outlives its leader (background children of a shell script) is
    SIGKILLed too, so nothing the process started survives it.
    """
    with anyio.CancelScope(shield=True):
        if process.returncode is None:
            signal_group(process, signal.SIGTERM)
            with anyio.move_on_after(grace):
                await process.wait()
            signal_group(process, signal.SIGKILL)
        returncode = await process.wait()
        _sweep_group(process.pid)
        return returncode


def _sweep_group(pgid: int) -> None:
    # The group id cannot be reused while any member lives, so this reaches only our stragglers.
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
