"""Fake PBS Pro ``qsub``, ``qstat`` and ``qdel`` (see _fake.py), in PBS Pro's formats; with
``SMARTFLOW_FAKE_PBS_FLAVOR=torque``, in those of Slurm's torque wrappers (slurm-wlm-torque)
instead: bare ids, no ``-F json``/``-x``/``-W force``, finished jobs shown as ``C``.

The formats are those of samples/pbs_* (PBS Pro: SmartSim's recorded ``qstat.json`` and table;
torque: recorded here from slurm-wlm-torque 22.05.8).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import _fake

SERVER = "sdb"
#: qsub/qstat options that take a value (the others are flags).
_VALUED = {
    "-o", "-e", "-q", "-N", "-l", "-A", "-W", "-v", "-a", "-M", "-m", "-p", "-r", "-S", "-u", "-j",
    "-k", "-F",
}  # fmt: skip
_TORQUE_USAGE = "Usage:\n    qstat [-f] [-a|-i|-r] [-n [-1]] [-G|-M] [-u user_list] [-? | --help]\n"


def _torque() -> bool:
    return os.environ.get("SMARTFLOW_FAKE_PBS_FLAVOR") == "torque"


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    """(options with their values, operands)."""
    options, operands, index = [], [], 0
    while index < len(argv):
        token = argv[index]
        if token in _VALUED and index + 1 < len(argv):
            options += [token, argv[index + 1]]
            index += 2
        elif token.startswith("-"):
            options.append(token)
            index += 1
        else:
            operands.append(token)
            index += 1
    return options, operands


def _unknown_options(options: list[str], known: set[str]) -> list[str]:
    return [o[1:] for o in options if o.startswith("-") and o not in known]


def qsub(argv: list[str]) -> int:
    _fake.called("qsub", argv)
    options, operands = _split(argv)
    if not operands:
        sys.stderr.write("usage: qsub [options] script\n")
        return 2
    script = Path(operands[-1])
    text = script.read_text()
    tokens = _fake.directive_options(text, "#PBS") + options  # the command line wins
    queue = _fake.option(tokens, "-q") or "workq"
    name = _fake.option(tokens, "-N") or script.name
    if queue == "nosuch":
        if _torque():  # the wrapper prints sbatch's refusal on stdout
            print("There was an error running the Slurm sbatch command.")
            print(f"'sbatch: error: invalid partition specified: {queue}'")
        else:
            sys.stderr.write("qsub: Unknown queue\n")
        return 1
    job_id = _fake.submit(
        script=script,
        execute=False,
        name=name,
        queue=queue,
        output=_fake.option(options, "-o"),
        error=_fake.option(options, "-e"),
        id_variable="PBS_JOBID",
        first_id=1000,
    )
    print(job_id if _torque() else f"{job_id}.{SERVER}")
    return 0


def _number(job_id: str) -> str:
    return job_id.split(".", 1)[0]


def _letter(seen: str) -> str:
    if seen == "queued":
        return "Q"
    if seen == "running":
        return "R"
    return "C" if _torque() else "F"


def _exit_status(code: int) -> int:
    """PBS's Exit_status: the script's code, or 256 + the signal that killed it."""
    return code if code >= 0 else 256 - code


def qstat(argv: list[str]) -> int:
    _fake.called("qstat", argv)
    options, ids = _split(argv)
    if _torque():
        bad = _unknown_options(options, {"-f", "-a", "-i", "-r", "-n", "-1", "-u"})
        if bad:
            sys.stderr.write("".join(f"Unknown option: {b}\n" for b in bad) + _TORQUE_USAGE)
            return 2
    history = "-x" in options
    as_json = "-F" in options and _fake.option(options, "-F") == "json"
    unknown, finished = [], []
    shown: dict[str, tuple[dict[str, Any], str]] = {}
    with _fake.locked() as state:
        for job_id in ids:
            number = _number(job_id)
            seen = _fake.observe(state, number)
            job = state["jobs"].get(number)
            if seen == "unknown":
                unknown.append(job_id)
            elif seen == "ended" and not history and not _torque():
                finished.append(job_id)
            else:
                shown[number] = (dict(job), seen)
    for job_id in unknown:
        if not _torque():
            sys.stderr.write(f"qstat: Unknown Job Id {job_id}\n")
    for job_id in finished:
        sys.stderr.write(
            f"qstat: {job_id} Job has finished, use -x or -H to obtain historical job information\n"
        )
    if as_json:
        jobs = {}
        for number, (job, seen) in shown.items():
            info: dict[str, Any] = {
                "Job_Name": job["name"],
                "Job_Owner": "user@login1",
                "job_state": _letter(seen),
                "queue": job["queue"],
            }
            if seen == "queued":
                info["comment"] = "Not Running: Insufficient amount of resource: ncpus"
            elif seen == "ended":
                info["Exit_status"] = _exit_status(job["exit"])
                info["comment"] = (
                    "Job run at Wed Nov 04 at 12:23 on (server_1:ncpus=1) and finished"
                )
            jobs[f"{number}.{SERVER}"] = info
        report: dict[str, Any] = {
            "timestamp": int(time.time()),
            "pbs_version": "2022.1.0",
            "pbs_server": SERVER,
        }
        if jobs:
            report["Jobs"] = jobs
        print(json.dumps(report, indent=4))
    elif shown:
        print(_table(shown))
    if unknown and (not _torque() or not shown):
        return 153
    return 35 if finished else 0


def _table(shown: dict[str, tuple[dict[str, Any], str]]) -> str:
    if _torque():
        lines = [
            "Job id              Name             Username        Time Use S Queue          ",
            "------------------- ---------------- --------------- -------- - ---------------",
        ]
        for number, (job, seen) in shown.items():
            letter = _letter(seen)
            lines.append(
                f"{number:<19} {job['name'][:16]:<16} {'root':<15} 00:00:00 {letter} "
                f"{job['queue']:<15}"
            )
        return "\n".join(lines)
    lines = [
        "Job id            Name             User              Time Use S Queue",
        "----------------  ---------------- ----------------  -------- - -----",
    ]
    for number, (job, seen) in shown.items():
        job_id = f"{number}.{SERVER}"
        if len(job_id) > 16:
            job_id = job_id[:15] + "*"
        letter = _letter(seen)
        lines.append(
            f"{job_id:<17} {job['name'][:16]:<16} {'user':<16}  00:00:00 {letter} {job['queue']}"
        )
    return "\n".join(lines)


def qdel(argv: list[str]) -> int:
    _fake.called("qdel", argv)
    options, ids = _split(argv)
    force = _fake.option(options, "-W") == "force"
    if _torque() and "-W" in options:
        sys.stderr.write("Unknown option: W\nUsage:\n    qdel job_id...\n")
        return 2
    code = 0
    for job_id in ids:
        done = _fake.cancel(_number(job_id), signal.SIGKILL if force else signal.SIGTERM)
        if _torque():
            code = code or (0 if done == "signalled" else 1)  # it says nothing
        elif done == "unknown":
            sys.stderr.write(f"qdel: Unknown Job Id {job_id}\n")
            code = 153
        elif done == "ended":
            sys.stderr.write(f"qdel: Job has finished {job_id}\n")
            code = 35
    return code
