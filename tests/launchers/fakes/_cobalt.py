"""Fake Cobalt ``qsub``, ``qstat`` and ``qdel`` (see _fake.py), in Cobalt's formats
(samples/cobalt_*).

qsub runs the script itself, so it refuses one that is not executable, and prints a notice
before the id. qstat shows ``JobId State`` rows under a header and a line of ``=``; a job that
has ended is ``exiting`` once, then gone, as Cobalt forgets it; when it knows none of the ids,
qstat exits 1 printing nothing (psij's observation). A cancelled job is ``killing`` until its
processes are gone.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import _fake

_VALUED = {
    "-o", "-e", "-q", "--queue", "-n", "--nodecount", "-t", "--time", "-A", "--project",
    "--jobname", "--cwd", "--attrs", "--proccount", "--header", "--debuglog", "-O",
}  # fmt: skip


def _operands(argv: list[str]) -> list[str]:
    out, index = [], 0
    while index < len(argv):
        token = argv[index]
        if token in _VALUED:
            index += 2
            continue
        if not token.startswith("-"):
            out.append(token)
        index += 1
    return out


def qsub(argv: list[str]) -> int:
    _fake.called("qsub", argv)
    operands = _operands(argv)
    if not operands:
        sys.stderr.write("Usage: qsub [options] <executable> [<args>]\n")
        return 1
    script = Path(operands[0]).absolute()
    if not os.access(script, os.X_OK):
        sys.stderr.write(f"qsub: error: {script} is not executable\n")
        return 1
    tokens = _fake.directive_options(script.read_text(), "#COBALT") + argv
    queue = _fake.option(tokens, "-q", "--queue") or "default"
    if queue == "nosuch":
        sys.stderr.write(f"qsub: error: queue {queue!r} does not exist\n")
        return 1
    job_id = _fake.submit(
        script=script,
        execute=True,
        name=_fake.option(tokens, "--jobname") or script.name,
        queue=queue,
        output=_fake.option(tokens, "-o"),
        error=_fake.option(tokens, "-e"),
        id_variable="COBALT_JOBID",
        first_id=4000,
    )
    print(f'Job routed to queue "{queue}".')
    print(job_id)
    return 0


def qstat(argv: list[str]) -> int:
    _fake.called("qstat", argv)
    header = (_fake.option(argv, "--header") or "JobId:State").split(":")
    rows: list[tuple[str, str]] = []
    with _fake.locked() as state:
        for job_id in _operands(argv):
            seen = _fake.observe(state, job_id)
            job = state["jobs"].get(job_id)
            if seen == "unknown" or job is None:
                continue
            if seen == "ended":
                if job.get("exit_shown"):
                    continue  # Cobalt has forgotten it
                job["exit_shown"] = True
                rows.append((job_id, "exiting"))
            elif seen == "running" and job["cancelled"]:
                rows.append((job_id, "killing"))
            else:
                rows.append((job_id, seen))
    if not rows:
        return 1
    width = max(len(h) for h in header)
    print("  ".join(f"{h:<{width}}" for h in header))
    print("=" * (len(header) * (width + 2)))
    for job_id, word in rows:
        print(f"{job_id:<{width}}  {word:<{width}}")
    return 0


def qdel(argv: list[str]) -> int:
    _fake.called("qdel", argv)
    deleted = [j for j in _operands(argv) if _fake.cancel(j, signal.SIGTERM) == "signalled"]
    if deleted:
        print("      Deleted Jobs")
        print("JobID  User")
        print("=====================")
        for job_id in deleted:
            print(f"{job_id:<6} user")
    return 0
