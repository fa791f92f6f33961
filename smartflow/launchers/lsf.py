"""LSF: steps are ``jsrun`` (or ``mpirun``) child processes, batch jobs are ``bsub < script``.

bsub reads ``#BSUB`` lines only from a script fed on stdin, so :meth:`LsfScheduler.submit` feeds
it there. Batch jobs are watched by the launcher's poller with one
``bjobs -o "jobid stat exit_code exit_reason" -json -a <ids>`` call for every live id (SmartSim
ran one bjobs per job); ``-a`` keeps finished jobs (for ``CLEAN_PERIOD``, an hour by default),
so an ended job shows DONE or EXIT with its exit code. An id bjobs does not know comes back as
a record holding ``ERROR`` ("Job <9> is not found"), and bjobs may then exit 255 while its JSON
still holds every other job: the JSON is read whatever the exit code.

States: PEND, PROV (being provisioned), WAIT (a chunk job's turn) and PSUSP (held while pending,
as a held Slurm job is PENDING) are QUEUED; RUN is RUNNING, and so is UNKWN (LSF has lost contact
with the job's host, where it may well still run); USUSP and SSUSP (suspended while running, by
the user or by LSF) are PAUSED; DONE is COMPLETED; EXIT is FAILED with its exit code, or
CANCELLED when its exit reason says bkill ended it (``TERM_OWNER``, ``TERM_ADMIN``, ...).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anyio

from smartflow.errors import SchedulerError
from smartflow.launchers._base import JobState, run_command
from smartflow.launchers._launcher import Launcher
from smartflow.status import Status

_QUEUED = {
    "PEND": "pending",
    "PROV": "being provisioned",
    "WAIT": "waiting for its turn in a chunk job",
    "PSUSP": "held",
}
_RUNNING = {"RUN": "running", "UNKWN": "LSF has lost contact with its host"}
_PAUSED = {"USUSP": "suspended by its owner", "SSUSP": "suspended by LSF"}
#: Exit reasons that mean bkill ended the job (LSF's termination reason keywords).
_KILLED = ("TERM_OWNER", "TERM_ADMIN", "TERM_FORCE_OWNER", "TERM_FORCE_ADMIN")
#: Exit reasons that fail a job, with what summary() says of each.
_LIMITS = {
    "TERM_RUNLIMIT": "the run time limit was reached",
    "TERM_MEMLIMIT": "it reached its memory limit",
    "TERM_CPULIMIT": "it reached its CPU time limit",
    "TERM_SWAP": "it reached its swap limit",
    "TERM_DEADLINE": "its deadline passed",
    "TERM_PREEMPT": "it was preempted",
}
_BSUB_ID = re.compile(r"Job <(\d+)> is submitted")
#: The fields bjobs prints for each job (``-o``).
_FIELDS = "jobid stat exit_code exit_reason"


def job_state(stat: str, exit_code: str = "", exit_reason: str = "") -> JobState:
    """A bjobs ``STAT`` (with ``EXIT_CODE`` and ``EXIT_REASON`` once ended) as a status."""
    stat, reason = stat.strip(), exit_reason.strip()
    code = int(exit_code) if exit_code.strip().lstrip("-").isdigit() else None
    if stat in _QUEUED:
        return JobState(Status.QUEUED, f"{stat}: {_QUEUED[stat]}")
    if stat in _RUNNING:
        return JobState(Status.RUNNING, f"{stat}: {_RUNNING[stat]}")
    if stat in _PAUSED:
        return JobState(Status.PAUSED, f"{stat}: {_PAUSED[stat]}")
    if stat == "DONE":
        return JobState(Status.COMPLETED, stat, 0)
    if stat == "EXIT":
        if any(word in reason.upper() for word in _KILLED) or "killed by owner" in reason.lower():
            return JobState(Status.CANCELLED, reason or "EXIT: killed", code)
        why = next((v for k, v in _LIMITS.items() if k in reason.upper()), None)
        if why is None:
            why = f"it exited with code {code}" if code is not None else "it exited"
        return JobState(Status.FAILED, f"EXIT: {why}" + (f" ({reason})" if reason else ""), code)
    return JobState(Status.FAILED, f"{stat!r}: an unknown state")


def base_id(job_id: str) -> str:
    """The job a record belongs to: ``123[4]`` (an array element) belongs to ``123``."""
    return job_id.split("[", 1)[0]


def parse_bjobs_json(text: str) -> dict[str, JobState]:
    """``bjobs -o "jobid stat exit_code exit_reason" -json`` output: ``RECORDS``, one per id
    (a record holding ``ERROR`` is an id bjobs does not know: absent)."""
    data: Any = json.loads(text, strict=False)
    records = data.get("RECORDS", []) if isinstance(data, dict) else []
    found: dict[str, JobState] = {}
    for record in records:
        if not isinstance(record, dict) or "ERROR" in record or not record.get("JOBID"):
            continue
        found[base_id(str(record["JOBID"]))] = job_state(
            str(record.get("STAT", "")),
            str(record.get("EXIT_CODE", "")),
            str(record.get("EXIT_REASON", "")),
        )
    return found


def parse_bsub(stdout: str) -> str:
    """``Job <12345> is submitted to queue <debug>.``"""
    found = _BSUB_ID.search(stdout)
    if found is None:
        raise SchedulerError(f"bsub printed no job id: {stdout.strip()[:200]!r}")
    return found.group(1)


def bsub_error(output: str) -> str:
    """What a refusal says: a site's esub lists each problem in a banner, on a ``**`` line and
    the lines under it; otherwise the whole message."""
    problems: list[list[str]] = []
    current: list[str] | None = None
    for line in output.splitlines():
        text = line.strip()
        if text.startswith("**"):
            current = [text[2:].strip()]
            problems.append(current)
        elif current is not None and text and not text.startswith("-"):
            current.append(text)
        else:
            current = None
    if problems:
        return "\n".join(" ".join(problem) for problem in problems)
    return output.strip() or "bsub said nothing"


class LsfScheduler:
    """The batch side of LSF (see the module docstring)."""

    name = "lsf"

    async def submit(self, script: Path, submit_argv: list[str], stdin: bool) -> str:
        text = await anyio.Path(script).read_bytes() if stdin else None
        result = await run_command(submit_argv, stdin=text)
        if result.returncode != 0:
            said = bsub_error(result.stdout + "\n" + result.stderr)
            raise SchedulerError(f"bsub refused the job: {said}")
        return parse_bsub(result.stdout)

    async def query(self, ids: list[str]) -> dict[str, JobState]:
        result = await run_command(["bjobs", "-o", _FIELDS, "-json", "-a", *ids])
        try:
            states = parse_bjobs_json(result.stdout)
        except ValueError:
            if "is not found" in result.message:
                return {}  # no id known, and no JSON printed
            raise SchedulerError(f"bjobs failed: {result.message}") from None
        return {job_id: states[job_id] for job_id in ids if job_id in states}

    async def final_states(self, ids: list[str]) -> dict[str, JobState]:
        return {}  # bjobs -a already shows finished jobs; one gone from it is gone for good

    async def cancel(self, job_id: str, *, force: bool) -> None:
        result = await run_command(["bkill", *(["-s", "KILL"] if force else []), job_id])
        said = result.message.lower()
        if result.returncode != 0 and not ("already finished" in said or "no matching" in said):
            raise SchedulerError(f"bkill {job_id} failed: {result.message}")

    async def cancel_member(self, job_id: str, member: str) -> bool:
        return False  # bkill ends a whole job; one jsrun step of it cannot be ended from here

    def cancel_argv(self, job_id: str) -> list[str]:
        return ["bkill", job_id]


class LsfLauncher(Launcher):
    """``jsrun`` steps (child processes of the driver, as on every launcher) and ``bsub``
    batch jobs."""

    name = "lsf"

    def make_scheduler(self) -> LsfScheduler:
        return LsfScheduler()


LAUNCHER = LsfLauncher
