"""smartflow's Slurm launcher on a real cluster: scheduler calls, steps and batch jobs vs raw Slurm.

    python benchmarks/bench_slurm.py [--quick] [--json PATH] [--workdir DIR]

Needs a Slurm that answers ``sinfo`` with the environment's ``SLURM_CONF`` (the one-host cluster
``.ci/slurm-up`` starts: node names n1 and n2, 2 CPUs each); exits with a message otherwise.
``--workdir`` (default: the system temp dir, fine on one host) must be visible from the nodes.
Each measurement runs beside its baseline in the same run; every cell is the median of the
repeats (3; ``--quick``: 1):
  1. polling: 100 batch models submitted with ``sbatch --hold`` (they stay PENDING, no CPU) and
     watched for WINDOW_S seconds while ``exp.poll()`` waits on them. A wrapper ``squeue`` first
     on PATH counts the real invocations: squeue calls per poll round (goal: 1), the poller's
     own ``queries``, the intervals between rounds. Beside it, measured the same moment: the
     wall time of that one call against one squeue per job (per-job polling) and what SmartSim's
     design (one ``sacct -b --jobs <ids>`` per SMARTSIM_JM_INTERVAL, 10 s) gets from this
     cluster; psij's (one ``squeue -t all -j <ids>`` per 30 s) is stated. Then the experiment is
     closed, timed, and nothing of it may be left in squeue;
  2. steps: 20 steps (an ensemble without batch settings) inside one ``salloc --no-shell -N2
     -n2`` allocation (``SLURM_JOB_ID`` set) vs raw: a bash script starting 20 ``srun
     --jobid=ALLOC --overlap -N1 -n1 TASK &`` then waiting, timed from the shell's start;
  3. batch: a 20-member batch ensemble (one sbatch job) vs raw: the same kind of script (20
     ``srun --overlap -N1 -n1 TASK &`` + ``wait``) submitted with ``sbatch --parsable`` from a
     shell loop that polls ``squeue -h -j ID`` every 0.1 s until the job has left squeue's live
     states. Slurm starts batch jobs on its own clock (about once a second here, whatever
     ``batch_sched_delay``), so the repeats alternate who submits first, and each job's
     submit-to-allocate delay is read from slurmctld's log when it is readable.
TASK is ``sleep 1`` that first prints the time it began on its node (``sh -c 'date +%s.%N; exec
sleep 1'``), on both sides. For 2. and 3., three times from the start call: "all RUNNING" is the
last member's first RUNNING event for smartflow (``exp.watch()``); for raw steps it is
approximated by the moment the shell loop had started all 20 srun processes (a step is RUNNING
once its srun runs), for raw batch it is when the 0.1 s loop first saw RUNNING. "All tasks
began" is the latest stamp the tasks printed (measured the same way on both sides). "All done"
is when ``start(block=True)`` returned / the raw script exited.
Times are seconds from the start call. Every job is named with a per-run prefix and cancelled
by it at the end, errors included. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import anyio

from smartflow import Experiment, Status

#: Each member of 2. and 3.: ``sleep 1`` that first prints when it really began on its node.
TASK = ["sh", "-c", "date +%s.%N; exec sleep 1"]
HELD_JOBS = 100
WINDOW_S = 10.0
MEMBERS = 20
GOAL_RATIO = 1.5
LIVE_STATES = {"PENDING", "RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED", "REQUEUED"}
#: slurmctld's log lines for a batch job's submission and its start (main or backfill scheduler).
LOG_LINE = re.compile(
    r"^\[([0-9T:.-]+)\] (_slurm_rpc_submit_batch_job:|sched: Allocate|"
    r"sched/backfill: _start_job: Started) JobId=(\d+)",
    re.MULTILINE,
)
START_HINT = 'start the one-host cluster with: eval "export $(.ci/slurm-up)"'
#: A measurement that takes longer than this is stuck (a drained node, say): it fails the run.
STUCK_S = 180.0


def check_slurm() -> str:
    """The real ``squeue``; exits with a message if ``sinfo`` does not answer."""
    conf = os.environ.get("SLURM_CONF", "")
    where = f"SLURM_CONF={conf}" if conf else "SLURM_CONF is not set"
    missing = [c for c in ("sinfo", "squeue", "sbatch", "srun", "salloc", "scancel") if not
               shutil.which(c)]  # fmt: skip
    if missing:
        sys.exit(f"bench_slurm: {', '.join(missing)} not on PATH: is Slurm installed? {START_HINT}")
    try:
        result = subprocess.run(
            ["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError) as exc:
        sys.exit(f"bench_slurm: sinfo does not answer ({where}): {exc}; {START_HINT}")
    if result.returncode != 0 or not result.stdout.strip():
        said = (result.stderr or result.stdout).strip().splitlines()
        why = said[-1][-300:] if said else "no partitions"
        sys.exit(f"bench_slurm: sinfo does not answer ({where}): {why}; {START_HINT}")
    squeue = shutil.which("squeue")
    assert squeue is not None
    return squeue


def live_jobs(squeue: str, prefix: str) -> list[tuple[str, str, str]]:
    """(id, name, state) of this user's unfinished jobs named with ``prefix``."""
    out = subprocess.run(
        [squeue, "-h", "--me", "-t", "all", "-o", "%i|%j|%T"],
        capture_output=True, text=True, timeout=30,
    ).stdout  # fmt: skip
    jobs = [tuple(line.split("|", 2)) for line in out.splitlines() if line.count("|") == 2]
    return [j for j in jobs if j[1].startswith(prefix) and j[2] in LIVE_STATES]  # type: ignore[misc]


def cancel_all(squeue: str, prefix: str) -> list[str]:
    """scancel every unfinished job named with ``prefix``; wait up to 20 s for them to go."""
    ids = [job for job, _, _ in live_jobs(squeue, prefix)]
    if ids:
        subprocess.run(["scancel", *ids], capture_output=True, timeout=30, check=False)
        deadline = time.monotonic() + 20
        while live_jobs(squeue, prefix) and time.monotonic() < deadline:
            time.sleep(0.2)
    return ids


def last_task_start(outputs: list[Path], t0: float) -> float | None:
    """When the last task began (the stamp each printed first), seconds after ``t0``."""
    stamps = []
    for path in outputs:
        try:
            stamps.append(float(path.read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            return None
    return max(stamps) - t0 if stamps else None


def line_count(path: Path) -> int:
    try:
        return len(path.read_bytes().splitlines())
    except FileNotFoundError:
        return 0


class SqueueCounter:
    """A ``squeue`` first on PATH that appends a line per call to a file, then execs the real
    one: the scheduler calls counted as they happen, whoever makes them."""

    def __init__(self, root: Path, real: str) -> None:
        self.bindir = root / "bin"
        self.log = root / "squeue-calls.log"
        self.bindir.mkdir(parents=True)
        wrapper = self.bindir / "squeue"
        log = shlex.quote(str(self.log))
        wrapper.write_text(
            f'#!/bin/sh\necho "$(date +%s.%N) $*" >> {log}\nexec {shlex.quote(real)} "$@"\n'
        )
        wrapper.chmod(0o755)
        self._saved: str | None = None

    def __enter__(self) -> SqueueCounter:
        self._saved = os.environ["PATH"]
        os.environ["PATH"] = f"{self.bindir}{os.pathsep}{self._saved}"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._saved is not None
        os.environ["PATH"] = self._saved

    def calls(self) -> int:
        return line_count(self.log)

    def stamps(self) -> list[float]:
        """When each call was made (time.time())."""
        try:
            return [float(line.split()[0]) for line in self.log.read_text().splitlines()]
        except FileNotFoundError:
            return []


async def timed_command(argv: list[str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    done = await anyio.run_process(argv, check=False, stderr=subprocess.PIPE)
    return time.perf_counter() - start, done.returncode, done.stderr.decode(errors="replace")


# -- 1. scheduler calls per poll interval ------------------------------------------------------


async def polling(root: Path, prefix: str, squeue: str) -> dict:
    counter = SqueueCounter(root, squeue)
    rounds: list[dict] = []  # one per poll round: when it began, squeue calls made in it
    with counter:
        async with Experiment("poll", exp_path=root / "exp", launcher="slurm") as exp:
            poller = exp._launcher.poller
            assert poller is not None
            original = poller.poll_once

            async def counted() -> bool:
                before, began = counter.calls(), time.time()
                try:
                    return await original()
                finally:
                    rounds.append({"at": began, "squeue": counter.calls() - before})

            poller.poll_once = counted  # type: ignore[method-assign]
            rs = exp.create_run_settings("sleep", ["1"])
            models = [
                exp.create_model(
                    f"{prefix}{i:03d}",
                    rs,
                    batch_settings=exp.create_batch_settings(batch_args={"hold": None}),
                )
                for i in range(HELD_JOBS)
            ]
            t0 = time.time()
            await exp.start(*models, block=False)
            submitted = time.time()
            queries0 = poller.queries
            with anyio.move_on_after(WINDOW_S):
                await exp.poll(interval=2 * WINDOW_S, verbose=False)  # waits on every job
            window_end = time.time()
            queries1 = poller.queries
            await anyio.sleep(0.5)  # a round begun just before the end has finished
            # The rounds begun in the window, each with the squeue calls made while it ran.
            window = [r for r in rounds if submitted <= r["at"] < window_end]
            statuses = await exp.get_status(*models)
            ids = [r["job_id"] for r in exp.summary(format="records")]
            assert len(set(ids)) == HELD_JOBS and all(i.isdigit() for i in ids), ids
            # Baselines, the same moment, with the real squeue (not counted): one call for every
            # id (smartflow's and psij's), one per job (per-job polling), SmartSim's sacct.
            one_s, one_rc, _ = await timed_command(
                [squeue, "-h", "-t", "all", "-j", ",".join(ids), "-o", "%i|%T|%r"]
            )
            per_job_start = time.perf_counter()
            for job in ids:
                await anyio.run_process([squeue, "-h", "-t", "all", "-j", job, "-o", "%i|%T|%r"])
            per_job_s = time.perf_counter() - per_job_start
            sacct_s, sacct_rc, sacct_err = await timed_command(
                ["sacct", "--noheader", "-p", "-b", "--jobs", ",".join(ids)]
            )
            closing = time.time()
        closed_s = time.time() - closing
    calls_end = counter.calls()
    final = await exp.get_status(*models)
    left = await anyio.to_thread.run_sync(live_jobs, squeue, prefix)
    stamps = counter.stamps()
    window_calls = sum(r["squeue"] for r in window)
    times = [submitted] + [r["at"] for r in window]
    return {
        "jobs": HELD_JOBS,
        "submit_s": submitted - t0,
        "all_queued": statuses == [Status.QUEUED] * HELD_JOBS,
        "window_s": window_end - submitted,
        "window_poll_rounds": len(window),
        "window_squeue_calls": window_calls,
        "calls_per_round": window_calls / len(window) if window else None,
        "squeue_calls_by_round": [r["squeue"] for r in window],
        "window_squeue_calls_by_clock": sum(submitted <= t < window_end for t in stamps),
        "window_poller_queries": queries1 - queries0,
        "intervals_s": [round(b - a, 3) for a, b in itertools.pairwise(times)],
        "submit_phase_rounds": sum(r["at"] < submitted for r in rounds),
        "submit_phase_squeue_calls": sum(t < submitted for t in stamps),
        "poller_queries_total": poller.queries,
        "poll_rounds_total": len(rounds),
        "squeue_calls_total": calls_end,
        "squeue_calls_outside_rounds": calls_end - sum(r["squeue"] for r in rounds),
        "one_call_100_ids_s": one_s if one_rc == 0 else None,
        "per_job_100_calls_s": per_job_s,
        "sacct_s": sacct_s,
        "sacct_ok": sacct_rc == 0,
        "sacct_message": sacct_err.strip().splitlines()[0] if sacct_err.strip() else "",
        "close_s": closed_s,
        "final_statuses": sorted({str(s) for s in final}),
        "left_in_squeue": [job for job, _, _ in left],
    }


# -- 2. steps inside one allocation -------------------------------------------------------------


async def run_watched(
    exp: Experiment, entity, names: set[str]
) -> tuple[float | None, float, float]:
    """(all RUNNING, all done, the clock's start): seconds after ``exp.start(entity, block=True)``
    was called, the last member's first RUNNING event, and its return."""
    running: dict[str, float] = {}
    async with anyio.create_task_group() as tg:

        async def follow() -> None:
            async for event in exp.watch():
                if event.name in names and event.status is Status.RUNNING:
                    running.setdefault(event.name, event.when)

        tg.start_soon(follow)
        await anyio.sleep(0.05)  # subscribed before the clock starts
        t0 = time.time()
        await exp.start(entity, block=True)
        done = time.time() - t0
        tg.cancel_scope.cancel()
    all_running = max(running.values()) - t0 if len(running) == len(names) else None
    return all_running, done, t0


async def allocate(prefix: str) -> str:
    granted = await anyio.run_process(
        ["salloc", "--no-shell", "-N2", "-n2", "--time=00:15:00", f"--job-name={prefix}alloc"],
        check=False, stderr=subprocess.PIPE,
    )  # fmt: skip
    text = granted.stderr.decode(errors="replace")
    if "Granted job allocation" not in text:
        raise RuntimeError(f"salloc failed: {text.strip()[-500:]}")
    return text.split("Granted job allocation", 1)[1].split()[0]


def outputs(entity) -> list[Path]:
    return [Path(m.path) / f"{m.name}.out" for m in entity.models]


async def steps_smartflow(root: Path, prefix: str, counter: SqueueCounter) -> dict:
    async with Experiment("steps", exp_path=root, launcher="slurm") as exp:
        rs = exp.create_run_settings(TASK[0], TASK[1:])
        ens = exp.create_ensemble(f"{prefix}ens", replicas=MEMBERS, run_settings=rs)
        before = counter.calls()
        with counter:
            running, done, t0 = await run_watched(exp, ens, {m.name for m in ens.models})
        statuses = await exp.get_status(ens)
    assert statuses == [Status.COMPLETED] * MEMBERS, statuses
    return {
        "running_s": running,
        "started_s": last_task_start(outputs(ens), t0),
        "done_s": done,
        "squeue_calls": counter.calls() - before,
    }


RAW_STEPS = """
pids=""
for i in $(seq 1 {n}); do
  srun --jobid={alloc} --overlap -N1 -n1 --job-name={prefix}raw$i {task} > {out}/$i.out 2>&1 &
  pids="$pids $!"
done
date +%s.%N
fail=0
for p in $pids; do wait $p || fail=1; done
exit $fail
"""


async def steps_raw(root: Path, prefix: str, alloc: str) -> dict:
    root.mkdir(parents=True)  # noqa: ASYNC240 (set-up, before the clock)
    out = shlex.quote(str(root))
    script = RAW_STEPS.format(n=MEMBERS, alloc=alloc, prefix=prefix, out=out, task=raw_task())
    t0 = time.time()
    done = await anyio.run_process(["bash", "-c", script], check=False)
    elapsed = time.time() - t0
    assert done.returncode == 0, f"raw srun steps failed: {done.stderr.decode()[-500:]}"
    return {
        "running_s": float(done.stdout.split()[-1]) - t0,
        "started_s": last_task_start([root / f"{i}.out" for i in range(1, MEMBERS + 1)], t0),
        "done_s": elapsed,
    }


def raw_task() -> str:
    """TASK for a shell line, its executable resolved as smartflow resolves it."""
    return shlex.join([shutil.which(TASK[0]) or TASK[0], *TASK[1:]])


# -- 3. one batch job of 20 members ------------------------------------------------------------


async def batch_smartflow(root: Path, prefix: str, counter: SqueueCounter) -> dict:
    async with Experiment("batch", exp_path=root, launcher="slurm") as exp:
        rs = exp.create_run_settings(TASK[0], TASK[1:])
        batch = exp.create_batch_settings(nodes=1, time="00:05:00")
        ens = exp.create_ensemble(
            f"{prefix}ens", replicas=MEMBERS, run_settings=rs, batch_settings=batch
        )
        before = counter.calls()
        with counter:
            running, done, t0 = await run_watched(exp, ens, {m.name for m in ens.models})
        statuses = await exp.get_status(ens)
        records = exp.summary(format="records")
    assert statuses == [Status.COMPLETED] * MEMBERS, statuses
    assert len({r["job_id"] for r in records}) == 1  # one sbatch job
    return {
        "running_s": running,
        "started_s": last_task_start(outputs(ens), t0),
        "done_s": done,
        "squeue_calls": counter.calls() - before,
        "job_id": records[0]["job_id"],
    }


RAW_BATCH_DRIVER = """
id=$(sbatch --parsable {script}) || exit 1
id=${{id%%;*}}
running=""
calls=0
while :; do
  calls=$((calls + 1))
  state=$({squeue} -h -j "$id" -o %T 2>/dev/null)
  [ -z "$state" ] && break
  if [ -z "$running" ] && [ "$state" = RUNNING ]; then running=$(date +%s.%N); fi
  sleep 0.1
done
echo "$id $calls $running"
"""


async def batch_raw(root: Path, prefix: str, squeue: str) -> dict:
    root.mkdir(parents=True)  # noqa: ASYNC240 (set-up, before the clock)
    out = shlex.quote(str(root))
    lines = [
        "#!/bin/bash",
        f"#SBATCH --job-name={prefix}raw",
        f"#SBATCH --output={root}/raw.batch.out",
        f"#SBATCH --error={root}/raw.batch.err",
        "#SBATCH --nodes=1",
        "#SBATCH --time=00:05:00",
        "",
        *(f"srun --overlap -N1 -n1 {raw_task()} > {out}/{i}.out 2>&1 &" for i in range(MEMBERS)),
        "wait",
        "",
    ]
    script = root / "raw.sh"
    script.write_text("\n".join(lines))
    driver = RAW_BATCH_DRIVER.format(script=shlex.quote(str(script)), squeue=shlex.quote(squeue))
    t0 = time.time()
    done = await anyio.run_process(["bash", "-c", driver], check=False)
    elapsed = time.time() - t0
    assert done.returncode == 0, f"raw sbatch failed: {done.stderr.decode()[-500:]}"
    words = done.stdout.decode().split()
    return {
        "running_s": float(words[2]) - t0 if len(words) > 2 else None,
        "started_s": last_task_start([root / f"{i}.out" for i in range(MEMBERS)], t0),
        "done_s": elapsed,
        "squeue_calls": int(words[1]),
        "job_id": words[0],
    }


def start_delays() -> dict[str, float]:
    """Per batch job, how long Slurm took from accepting it to allocating its nodes, read from
    slurmctld's log when this user can read it (as on the one-host cluster); else ``{}``."""
    try:
        config = subprocess.run(
            ["scontrol", "show", "config"], capture_output=True, text=True, timeout=10
        ).stdout
        (path,) = [ln.split("=", 1)[1].strip() for ln in config.splitlines()
                   if ln.split("=", 1)[0].strip() == "SlurmctldLogFile"]  # fmt: skip
        text = Path(path).read_text(errors="replace")
    except (OSError, ValueError, subprocess.SubprocessError):
        return {}
    submitted: dict[str, datetime] = {}
    delays: dict[str, float] = {}
    for match in LOG_LINE.finditer(text):
        when, what, job = datetime.fromisoformat(match[1]), match[2], match[3]
        if what.endswith("submit_batch_job:"):
            submitted[job] = when
        elif job in submitted and job not in delays:
            delays[job] = (when - submitted[job]).total_seconds()
    return delays


# -- driver ------------------------------------------------------------------------------------


def median(values: list) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarize(runs: list[dict]) -> dict:
    """The median of each number the runs hold (a None, not measured, is left out)."""
    keys = dict.fromkeys(
        k
        for run in runs
        for k, v in run.items()
        if v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
    )
    return {k: median([r.get(k) for r in runs]) for k in keys}


def with_tail(run: dict) -> dict:
    """Add how long after the last task began the end was seen (the task's 1 s, plus the
    detection: srun's exit for steps, a poll for batch jobs)."""
    began = run.get("started_s")
    run["done_after_began_s"] = run["done_s"] - began if began is not None else None
    return run


_STARTED = time.monotonic()


def progress(what: str) -> None:
    print(f"measured {what} ({time.monotonic() - _STARTED:.0f} s)", file=sys.stderr)


async def measure(args: argparse.Namespace, squeue: str, root: Path, tag: str) -> dict:
    repeats = 1 if args.quick else 3
    results: dict = {"repeats": repeats, "prefix": tag}
    counter = SqueueCounter(root / "count", squeue)

    runs = []
    for r in range(repeats):
        with anyio.fail_after(STUCK_S):
            runs.append(await polling(root / f"poll-{r}", f"{tag}p{r}-", squeue))
        progress(f"polling {r + 1}/{repeats}")
    results["polling"] = {"median": summarize(runs), "runs": runs}

    sf, raw = [], []
    asked = time.monotonic()
    alloc = await allocate(tag)
    salloc_s = time.monotonic() - asked
    saved = os.environ.get("SLURM_JOB_ID")
    try:
        os.environ["SLURM_JOB_ID"] = alloc
        for r in range(repeats):
            with anyio.fail_after(STUCK_S):
                sf.append(
                    with_tail(await steps_smartflow(root / f"steps-sf-{r}", f"{tag}s{r}-", counter))
                )
                raw.append(
                    with_tail(await steps_raw(root / f"steps-raw-{r}", f"{tag}s{r}-", alloc))
                )
        progress("steps")
    finally:
        if saved is None:
            os.environ.pop("SLURM_JOB_ID", None)
        else:
            os.environ["SLURM_JOB_ID"] = saved
        await anyio.run_process(["scancel", alloc], check=False)
    results["steps"] = {
        "allocation": alloc,
        "salloc_s": salloc_s,
        "smartflow": summarize(sf),
        "raw": summarize(raw),
        "runs": {"smartflow": sf, "raw": raw},
    }

    sf, raw = [], []
    for r in range(repeats):
        # Slurm starts batch jobs on its own clock: alternate who goes first so that neither
        # side always submits at the same point of it.
        with anyio.fail_after(STUCK_S):
            if r % 2:
                raw.append(await batch_raw(root / f"batch-raw-{r}", f"{tag}b{r}-", squeue))
            sf.append(await batch_smartflow(root / f"batch-sf-{r}", f"{tag}b{r}-", counter))
            if not r % 2:
                raw.append(await batch_raw(root / f"batch-raw-{r}", f"{tag}b{r}-", squeue))
    delays = await anyio.to_thread.run_sync(start_delays)
    for run in sf + raw:
        with_tail(run)
        run["slurm_start_s"] = delays.get(run["job_id"])
    progress("batch")
    results["batch"] = {
        "smartflow": summarize(sf),
        "raw": summarize(raw),
        "runs": {"smartflow": sf, "raw": raw},
    }
    return results


def fmt(value: float | None, width: int = 9, digits: int = 3) -> str:
    return f"{value:{width}.{digits}f}" if value is not None else f"{'n/a':>{width}}"


def print_table(results: dict) -> dict:
    """Print the tables; returns which goals were met."""
    goals: dict[str, bool | None] = {}
    runs = results["polling"]["runs"]
    p, last, n = results["polling"]["median"], runs[-1], results["repeats"]
    per_round = p["calls_per_round"]
    goals["polling: 1 squeue call per poll round"] = all(r["calls_per_round"] == 1 for r in runs)
    goals["polling: nothing left in squeue after close"] = all(
        not r["left_in_squeue"] for r in runs
    )
    print(f"\n1. scheduler calls with {HELD_JOBS} held batch jobs (sbatch --hold), "
          f"{WINDOW_S:g} s window after start() (median of {n})")  # fmt: skip
    print(f"   squeue calls / poll round  {fmt(per_round, 6, 2)}   goal 1: "
          f"{'met' if goals['polling: 1 squeue call per poll round'] else 'MISS'} "
          f"({p['window_squeue_calls']:g} squeue calls in {p['window_poll_rounds']:g} rounds; "
          f"poller.queries +{p['window_poller_queries']:g})")  # fmt: skip
    print(f"   intervals, s (last run)    {' '.join(f'{i:.2f}' for i in last['intervals_s'])}")
    print(f"   submitting {HELD_JOBS} jobs        {fmt(p['submit_s'], 6, 2)} s   "
          f"({p['submit_phase_squeue_calls']:g} squeue calls meanwhile)")  # fmt: skip
    print(f"   whole run                  {p['squeue_calls_total']:6g} squeue calls, "
          f"{p['poll_rounds_total']:g} rounds, poller.queries {p['poller_queries_total']:g}, "
          f"{p['squeue_calls_outside_rounds']:g} squeue calls outside a round")  # fmt: skip
    print(
        f"   closing the experiment     {fmt(p['close_s'], 6, 2)} s   (left in squeue: "
        f"{sum(len(r['left_in_squeue']) for r in runs)}; statuses {last['final_statuses']})"
    )
    sacct = "works" if last["sacct_ok"] else f"fails here: {last['sacct_message']!r}"
    print(f"\n   {'design':<38} {'calls/interval':>14} {'interval s':>10} {'cost s/interval':>15}")
    rows = [
        ("smartflow (measured above)", "1 squeue", "0.1->2", p["one_call_100_ids_s"]),
        ("per-job polling (measured)", f"{HELD_JOBS} squeue", "-", p["per_job_100_calls_s"]),
        ("psij (design: squeue -t all -j ids)", "1 squeue", "30", p["one_call_100_ids_s"]),
        ("SmartSim (design: sacct -b --jobs ids)", "1 sacct", "10", p["sacct_s"]),
    ]
    for label, calls, interval, secs in rows:
        print(f"   {label:<38} {calls:>14} {interval:>10} {fmt(secs, 15)}")
    print(f"   SmartSim's sacct needs slurmdbd (accounting storage): {sacct}")

    print(f"\n2./3. {MEMBERS} x sleep 1, seconds from the start call (median of {n}); "
          f"goal: smartflow / raw <= {GOAL_RATIO:g}")  # fmt: skip
    print(f"   {'case':<43} {'smartflow':>9} {'raw':>9} {'sf/raw':>7} {'goal':>5} "
          f"{'squeue sf/raw':>13}")  # fmt: skip
    cases = (("steps", "steps in 1 allocation"), ("batch", "1 batch job"))
    fields = (
        ("running_s", "all RUNNING"),
        ("started_s", "all tasks began"),
        ("done_s", "all done"),
        ("done_after_began_s", "done after all began"),
        ("slurm_start_s", "Slurm's submit->allocate"),
    )
    breakdowns = {"done_after_began_s", "slurm_start_s"}
    for key, label in cases:
        sf, raw = results[key]["smartflow"], results[key]["raw"]
        for field, what in fields:
            a, b = sf.get(field), raw.get(field)
            if a is None and b is None and field in breakdowns:
                continue  # not measured (slurm_start_s: steps, or an unreadable log)
            ratio = a / b if a is not None and b else None
            met = None if ratio is None else ratio <= GOAL_RATIO
            if field in breakdowns:  # not a goal
                mark = "-"
            else:
                goals[f"{key}: {what}"] = met
                mark = "n/a" if met is None else ("met" if met else "MISS")
            calls = ""
            if field == "done_s":
                raw_calls = raw.get("squeue_calls")
                calls = f"{sf['squeue_calls']:g}/{'-' if raw_calls is None else f'{raw_calls:g}'}"
            print(f"   {label + ': ' + what:<43} {fmt(a)} {fmt(b)} {fmt(ratio, 7, 2)} "
                  f"{mark:>5} {calls:>13}")  # fmt: skip
    print(
        "   all RUNNING: smartflow's last member RUNNING event (watch()); raw steps: the shell "
        "had started\n     all 20 srun processes (a step is RUNNING once its srun runs: the same "
        "meaning),\n     raw batch: its 0.1 s squeue loop first saw RUNNING"
    )
    print(
        "   all tasks began: the latest stamp the members printed on their node as they began "
        "(both sides);\n     done after all began: all done minus that (the 1 s task plus "
        "seeing its end; no goal)\n     Slurm's submit->allocate: from slurmctld's log, when "
        "readable (Slurm's own batch start delay; no goal)"
    )
    print(
        "   squeue: scheduler calls in that run (smartflow steps: finding each step's Slurm id; "
        "batch: the poller / raw's loop)"
    )
    return goals


async def main(args: argparse.Namespace) -> None:
    squeue = check_slurm()
    tag = f"sfb{secrets.token_hex(2)}"
    results: dict | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="bench-slurm-", dir=args.workdir) as tmp:
            async with anyio.create_task_group() as tg:

                async def until_terminated() -> None:  # SIGTERM/SIGHUP: clean up, like Ctrl-C
                    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGHUP) as signals:
                        async for signum in signals:
                            print(f"bench_slurm: got signal {signum}, cleaning up", file=sys.stderr)
                            tg.cancel_scope.cancel()

                tg.start_soon(until_terminated)
                results = await measure(args, squeue, Path(tmp), tag)
                tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            left = await anyio.to_thread.run_sync(cancel_all, squeue, tag)
        if left:
            print(f"cancelled {len(left)} leftover job(s): {' '.join(left)}", file=sys.stderr)
    if results is None:
        sys.exit("bench_slurm: interrupted; nothing written")
    goals = print_table(results)
    info = (await anyio.run_process(["sinfo", "-V"], check=False)).stdout.decode().strip()
    result = {
        "benchmark": "slurm",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "slurm": info,
            "slurm_conf": os.environ.get("SLURM_CONF"),
        },
        "unit": "seconds",
        "goals_met": goals,
        "results": results,
    }
    path = args.json or Path(__file__).parent / "results" / f"slurm-{int(time.time())}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat per cell")
    parser.add_argument("--json", type=Path, default=None, help="where to write the JSON result")
    parser.add_argument(
        "--workdir", default=None, help="where the runs write (default: the system temp dir)"
    )
    try:
        anyio.run(main, parser.parse_args())
    except KeyboardInterrupt:
        sys.exit("bench_slurm: interrupted; its jobs were cancelled, nothing written")
