"""PBS: steps are ``aprun``/``mpirun``/``mpiexec`` child processes, batch jobs are ``qsub`` scripts.

Batch jobs are watched by the launcher's poller with one ``qstat -f -F json -x <ids>`` call for
every live id (PBS Pro and OpenPBS): ``-x`` keeps finished jobs in the answer, with
``job_state`` F and their ``Exit_status``, so a job's end and exit code are known without a
second command. Torque, and Slurm's torque wrappers (Debian's ``slurm-wlm-torque``), know
neither ``-F json`` nor ``-x`` (``Unknown option: F``): the scheduler then reads, for the rest of
its life, the plain ``qstat <ids>`` table, where ``C`` means finished with an outcome it does not
say (each member's exit file still gives that member's own status). An id qstat does not know
(rc 153, "Unknown Job Id"; rc 35, "Job has finished") is absent from the answer; the poller then
asks :meth:`PbsScheduler.final_states`.

States: R, B (an array begun) and E (exiting) are RUNNING; Q, H (held), W (waiting for its start
time), T (moving) and M (moved) are QUEUED, as a held Slurm job is PENDING; S and U (suspended
while running) are PAUSED; F and X are COMPLETED when ``Exit_status`` is 0, else FAILED with
the code: above 256 it is 256 + the signal that killed the job; below 0 it is PBS's own (it
could not start the job, or killed it over a limit: -29 is the walltime).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from smartflow._log import get_logger
from smartflow.errors import SchedulerError
from smartflow.launchers._base import CommandResult, JobState, run_command
from smartflow.launchers._launcher import Launcher
from smartflow.status import Status

_QUEUED = {
    "Q": "queued",
    "H": "held",
    "W": "waiting for its start time",
    "T": "moving between servers",
    "M": "moved to another server",
}
_RUNNING = {"R": "running", "B": "array job begun", "E": "exiting"}
_PAUSED = {"S": "suspended", "U": "suspended (the workstation is busy)"}
_FINISHED = {"F", "X", "C"}
#: PBS's own (negative) exit codes: it could not run the job, or killed it over a limit.
_PBS_CODES = {
    -1: "it could not be started",
    -2: "it could not be started",
    -3: "it could not be started and will be retried",
    -24: "it used more CPUs than it asked for",
    -25: "it used more CPUs than it asked for",
    -26: "it exceeded its virtual memory limit",
    -27: "it exceeded its memory limit",
    -28: "it exceeded its CPU time limit",
    -29: "it exceeded its walltime",
}
#: qstat's codes for ids it does not know: 153 "Unknown Job Id", 35 "Job has finished".
_ABSENT_CODES = (35, 153)
_ABSENT_WORDS = ("unknown job id", "job has finished")
_log = get_logger("launchers.pbs")


def job_state(letter: str, exit_status: int | None = None, comment: str = "") -> JobState:
    """A PBS ``job_state`` letter (and ``Exit_status`` once finished) as a status."""
    letter = letter.strip()
    if letter in _QUEUED:
        return JobState(Status.QUEUED, comment or f"{letter}: {_QUEUED[letter]}")
    if letter in _RUNNING:
        return JobState(Status.RUNNING, f"{letter}: {_RUNNING[letter]}")
    if letter in _PAUSED:
        return JobState(Status.PAUSED, f"{letter}: {_PAUSED[letter]}")
    if letter not in _FINISHED:
        return JobState(Status.FAILED, f"{letter!r}: an unknown state")
    if exit_status is None:
        return JobState(Status.COMPLETED, f"{letter}: finished (qstat keeps no exit status)")
    if exit_status == 0:
        return JobState(Status.COMPLETED, f"{letter}: finished", 0)
    if exit_status > 256:
        signal = exit_status - 256
        return JobState(Status.FAILED, f"killed by signal {signal}", -signal)
    if exit_status < 0:
        why = _PBS_CODES.get(exit_status, "PBS ended it")
        return JobState(Status.FAILED, f"{why} (Exit_status {exit_status})")
    return JobState(Status.FAILED, f"the job script exited with code {exit_status}", exit_status)


def load_json(text: str) -> dict[str, Any]:
    """qstat's JSON, tolerantly: PBS Pro writes some values (a ``Variable_List`` holding quotes
    or backslashes) unescaped, so a line that does not parse is dropped and the rest read."""
    lines = text.splitlines()
    for _ in range(len(lines) + 1):
        try:
            data = json.loads("\n".join(lines), strict=False)
        except json.JSONDecodeError as exc:
            if not 0 < exc.lineno <= len(lines):
                break
            del lines[exc.lineno - 1]
            continue
        return data if isinstance(data, dict) else {}
    raise ValueError("qstat printed no readable JSON")


def _exit_status(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def parse_qstat_json(text: str) -> dict[str, JobState]:
    """``qstat -f -F json -x`` output: ``Jobs[id].job_state``, ``Exit_status``, ``comment``."""
    jobs = load_json(text).get("Jobs") or {}
    return {
        job_id: job_state(
            str(info.get("job_state", "")),
            _exit_status(info.get("Exit_status")),
            str(info.get("comment", "")),
        )
        for job_id, info in jobs.items()
        if isinstance(info, dict)
    }


def parse_qstat_table(text: str) -> dict[str, JobState]:
    """The ``qstat <ids>`` table (``Job id  Name  User  Time Use S Queue``): the state is the
    second field from the right (a name may hold spaces; a queue does not). Long ids come
    truncated (``123.polaris.al*``): :func:`match_ids` matches them by prefix."""
    found: dict[str, JobState] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 3 or not parts[0][:1].isdigit() or len(parts[-2]) != 1:
            continue  # the header, its dashes, and anything else
        found[parts[0]] = job_state(parts[-2])
    return found


def _same_job(wanted: str, shown: str) -> bool:
    if shown.endswith("*"):  # truncated by the table
        return wanted.startswith(shown[:-1])
    longer, shorter = (wanted, shown) if len(wanted) > len(shown) else (shown, wanted)
    return longer.startswith(shorter + ".")  # 123 vs 123.sdb, 123.sdb vs 123.sdb.domain


def match_ids(wanted: list[str], found: dict[str, JobState]) -> dict[str, JobState]:
    """``found`` keyed by the ids asked for: qstat may print an id longer (``.server.domain``),
    shorter (no server) or truncated (``*``) compared with what qsub printed."""
    matched = {job_id: found[job_id] for job_id in wanted if job_id in found}
    for job_id in wanted:
        if job_id not in matched:
            shown = next((s for s in found if _same_job(job_id, s)), None)
            if shown is not None:
                matched[job_id] = found[shown]
    return matched


def parse_qsub(stdout: str) -> str:
    """``qsub`` prints the id as its last line: ``12345.sdb`` (PBS Pro), ``10`` (torque)."""
    lines = stdout.strip().splitlines()
    job_id = lines[-1].strip() if lines else ""
    if not job_id[:1].isdigit() or len(job_id.split()) != 1:
        raise SchedulerError(f"qsub printed no job id: {stdout.strip()[:200]!r}")
    return job_id


def _absent_only(result: CommandResult) -> bool:
    """Whether qstat failed only because some ids are unknown or finished (and not -x)."""
    said = result.stderr.strip().lower()
    if said:
        return all(any(w in line for w in _ABSENT_WORDS) for line in said.splitlines())
    return result.returncode in _ABSENT_CODES


class PbsScheduler:
    """The batch side of PBS (see the module docstring)."""

    name = "pbs"

    def __init__(self) -> None:
        #: False once qstat refused ``-F json`` (torque): the table is read from then on.
        self.uses_json = True

    async def submit(self, script: Path, submit_argv: list[str], stdin: bool) -> str:
        result = await run_command(submit_argv)
        if result.returncode != 0:
            raise SchedulerError(f"qsub refused the job: {result.message}")
        return parse_qsub(result.stdout)

    async def query(self, ids: list[str]) -> dict[str, JobState]:
        if self.uses_json:
            result = await run_command(["qstat", "-f", "-F", "json", "-x", *ids])
            if result.returncode != 0 and "Unknown option" in result.stderr + result.stdout:
                self.uses_json = False
                _log.info("qstat knows no -F json (torque): reading its table", said=result.message)
            else:
                return match_ids(ids, _states_from_json(result))
        result = await run_command(["qstat", *ids])
        if result.returncode != 0 and not _absent_only(result):
            raise SchedulerError(f"qstat failed: {result.message}")
        return match_ids(ids, parse_qstat_table(result.stdout))

    async def final_states(self, ids: list[str]) -> dict[str, JobState]:
        if not self.uses_json:
            return {}  # torque's qstat forgets a finished job entirely
        result = await run_command(["qstat", "-x", "-f", "-F", "json", *ids])
        try:
            return match_ids(ids, parse_qstat_json(result.stdout))
        except ValueError:
            return {}

    async def cancel(self, job_id: str, *, force: bool) -> None:
        result = await run_command(["qdel", *(["-W", "force"] if force else []), job_id])
        if force and result.returncode != 0 and not _gone(result):
            result = await run_command(["qdel", job_id])  # torque's qdel knows no -W force
        if result.returncode != 0 and not _gone(result):
            raise SchedulerError(f"qdel {job_id} failed: {result.message}")

    async def cancel_member(self, job_id: str, member: str) -> bool:
        return False  # PBS cannot end one program of a running job: the whole job is cancelled

    def cancel_argv(self, job_id: str) -> list[str]:
        return ["qdel", job_id]


def _states_from_json(result: CommandResult) -> dict[str, JobState]:
    try:
        return parse_qstat_json(result.stdout)
    except ValueError:
        if result.returncode != 0 and _absent_only(result):
            return {}  # no id known: qstat printed no JSON at all
        raise SchedulerError(f"qstat failed: {result.message}") from None


def _gone(result: CommandResult) -> bool:
    """qdel of a job that already ended: PBS Pro says so (rc 35 or 153); Slurm's torque
    wrapper exits 1 saying nothing."""
    if result.returncode in _ABSENT_CODES:
        return True
    said = result.message.lower()
    return not said or any(w in said for w in _ABSENT_WORDS)


class PbsLauncher(Launcher):
    """``aprun``/``mpirun``/``mpiexec`` steps (child processes of the driver, as on every
    launcher) and ``qsub`` batch jobs."""

    name = "pbs"

    def make_scheduler(self) -> PbsScheduler:
        return PbsScheduler()


LAUNCHER = PbsLauncher
