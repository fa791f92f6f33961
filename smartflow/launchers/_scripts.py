r"""Batch scripts: rendered once per batch entity, written 0600, submitted when the first
member's actor starts (see :mod:`smartflow.launchers._batch` for how the jobs are watched).

A script starts every member in the background (``srun ... &``), each in its directory with the
variables smartflow sets exported (shell-quoted), each writing its own exit code to a file when
it ends, then ``wait``\s.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import anyio
import attrs

from smartflow._log import get_logger
from smartflow.errors import SchedulerError
from smartflow.launchers._batch import BatchJob, BatchMember, Poller
from smartflow.runtime.process import ProcessSpec

_log = get_logger("launchers.batch")


@attrs.frozen
class MemberScript:
    """One member of a batch script: its name, step command line, directory and environment."""

    name: str
    argv: tuple[str, ...]
    spec: ProcessSpec
    exit_file: Path


def render_script(directives: list[str], preamble: list[str], members: list[MemberScript]) -> str:
    """The batch script: directives, preamble, each member in the background writing its exit
    code, then ``wait``. Values are shell-quoted; the file is written 0600 (it holds secrets)."""
    lines = ["#!/bin/bash", *directives, "", *preamble, ""]
    for member in members:
        spec = member.spec
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(spec.env.items()))
        done = shlex.quote(str(member.exit_file))
        body = [f"cd {shlex.quote(str(spec.cwd))} || exit 127"]
        if exports:
            body.append(f"export {exports}")
        body += [shlex.join(member.argv), f"echo $? > {done}.tmp && mv {done}.tmp {done}"]
        out, err = shlex.quote(str(spec.stdout_path)), shlex.quote(str(spec.stderr_path))
        lines.append(f"( {'; '.join(body)} ) > {out} 2> {err} < /dev/null &")
    lines += ["", "wait", ""]
    return "\n".join(lines)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by its owner only (blocking: call from a worker thread)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


class BatchSubmission:
    """One batch entity's script, submitted once, when its first member's actor starts; each
    member's actor gets its :class:`BatchMember` (see :meth:`start_member`)."""

    def __init__(
        self,
        poller: Poller,
        script_path: Path,
        script: str,
        submit_argv: list[str],
        submit_stdin: bool,
        members: list[MemberScript],
    ) -> None:
        self._poller = poller
        self._script_path = script_path
        self._script = script
        self._submit_argv = submit_argv
        self._submit_stdin = submit_stdin
        self._members = members
        self._lock = anyio.Lock()
        self._job: BatchJob | None = None
        self._error: SchedulerError | None = None

    async def start_member(self, name: str) -> BatchMember:
        async with self._lock:
            if self._error is not None:
                raise self._error
            if self._job is None:
                with anyio.CancelScope(shield=True):  # a job id must never be lost
                    try:
                        self._job = await self._submit()
                    except SchedulerError as exc:
                        self._error = exc
                        raise
        return self._job.members[name]

    async def _submit(self) -> BatchJob:
        def prepare() -> None:
            for member in self._members:
                member.exit_file.unlink(missing_ok=True)
                member.spec.cwd.mkdir(parents=True, exist_ok=True)
            write_private(self._script_path, self._script)

        await anyio.to_thread.run_sync(prepare)
        scheduler = self._poller.scheduler
        job_id = await scheduler.submit(self._script_path, self._submit_argv, self._submit_stdin)
        job = BatchJob(job_id, scheduler)
        for member in self._members:
            job.members[member.name] = BatchMember(member.name, job, member.exit_file, self._poller)
        self._poller.add(job)
        _log.info("submitted", job_id=job_id, script=str(self._script_path))
        return job
