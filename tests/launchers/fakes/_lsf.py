"""Fake LSF ``bsub``, ``bjobs`` and ``bkill`` (see _fake.py), in LSF's formats (samples/lsf_*).

bsub takes the script on stdin, as ``bsub < script``, and honours its ``#BSUB`` lines. bjobs
answers ``-o "<fields>" -json`` with one record per id; an unknown id is a record holding only
``ERROR``, and bjobs then exits 255 (LSB_BJOBS_CONSISTENT_EXIT_CODE's documented behaviour).
bkill sends SIGTERM (LSF sends SIGINT, SIGTERM, then SIGKILL); ``bkill -s KILL`` SIGKILL.
"""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

import _fake


def bsub(argv: list[str]) -> int:
    _fake.called("bsub", argv)
    text = sys.stdin.read()
    if not text.strip():
        sys.stderr.write("bsub: no script on stdin. Job not submitted.\n")
        return 255
    tokens = _fake.directive_options(text, "#BSUB") + argv
    queue = _fake.option(tokens, "-q") or "normal"
    if queue == "nosuch":
        sys.stderr.write(f"{queue}: No such queue. Job not submitted.\n")
        return 1
    base = _fake.state_dir()
    number = len(list(base.glob("bsub-*.sh")))
    script = base / f"bsub-{number}.sh"  # bsub keeps its own copy of a script read on stdin
    script.write_text(text)
    job_id = _fake.submit(
        script=script,
        execute=False,
        name=_fake.option(tokens, "-J") or "NONAME",
        queue=queue,
        output=_fake.option(tokens, "-o"),
        error=_fake.option(tokens, "-e"),
        id_variable="LSB_JOBID",
        first_id=100,
    )
    print(f"Job <{job_id}> is submitted to queue <{queue}>.")
    return 0


def _record(job_id: str, job: dict[str, Any], seen: str, fields: list[str]) -> dict[str, str]:
    code = job["exit"]
    stat = {"queued": "PEND", "running": "RUN"}.get(seen) or ("DONE" if code == 0 else "EXIT")
    values = {
        "jobid": job_id,
        "stat": stat,
        "exit_code": "" if stat != "EXIT" else str(code if code >= 0 else 128 - code),
        "exit_reason": "TERM_OWNER: job killed by owner"
        if job["cancelled"] and stat == "EXIT"
        else "",
        "job_name": job["name"],
        "queue": job["queue"],
    }
    return {field.upper(): values.get(field, "") for field in fields}


def bjobs(argv: list[str]) -> int:
    _fake.called("bjobs", argv)
    fields = (_fake.option(argv, "-o") or "jobid stat").lower().split()
    ids = [a for i, a in enumerate(argv) if not a.startswith("-") and argv[i - 1] != "-o"]
    if "-json" not in argv:
        sys.stderr.write("fake bjobs: only -o ... -json is implemented\n")
        return 2
    records: list[dict[str, str]] = []
    with _fake.locked() as state:
        for job_id in ids:
            seen = _fake.observe(state, job_id)
            if seen == "unknown":
                records.append({"JOBID": job_id, "ERROR": f"Job <{job_id}> is not found"})
            else:
                records.append(_record(job_id, state["jobs"][job_id], seen, fields))
    print(json.dumps({"COMMAND": "bjobs", "JOBS": len(records), "RECORDS": records}, indent=2))
    return 255 if any("ERROR" in r for r in records) else 0


def bkill(argv: list[str]) -> int:
    _fake.called("bkill", argv)
    force = _fake.option(argv, "-s") == "KILL"
    ids = [a for i, a in enumerate(argv) if not a.startswith("-") and argv[i - 1] != "-s"]
    code = 0
    for job_id in ids:
        done = _fake.cancel(job_id, signal.SIGKILL if force else signal.SIGTERM)
        if done == "signalled":
            print(f"Job <{job_id}> is being terminated")
        elif done == "ended":
            sys.stderr.write(f"Job <{job_id}>: Job has already finished\n")
            code = 255
        else:
            sys.stderr.write(f"Job <{job_id}>: No matching job found\n")
            code = 255
    return code
