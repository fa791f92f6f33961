"""Batch inference: smartflow's dispatcher and task managers vs a ProcessPoolExecutor, same run.

    python benchmarks/bench_batch_inference.py [--quick] [--json PATH] [--pool-start METHOD]

The workload (``benchmarks/ocr_workload.py``): the text-orientation classifier shipped in the
``rapidocr-onnxruntime`` wheel (PaddleOCR's mobile direction classifier, 0 / 180 degrees, found
through the wheel's metadata, never imported) on N text crops drawn with Pillow, saved as PNG,
half of them turned by 180 degrees (N = 2000; ``--quick``: 400; or ``--inputs N``). Per input:
read the file, preprocess it as rapidocr does (height 48, width <= 192, scaled to [-1, 1],
zero-padded to 3 x 48 x 192), predict in batches of 32 with onnxruntime at one intra-op thread.

1. Throughput, inputs/s end to end, at parallelism p = 1, 2, 4 on this host:
   - pool: ``ProcessPoolExecutor(p)`` (``--pool-start``, default: the platform's start method),
     splits of 64 paths, every split submitted at once, results gathered in order; one
     onnxruntime session per worker process, made on its first split. Timed from creating the
     pool to its shutdown, so its start is included. Forked workers (Linux's default) inherit
     this process's imports, so they start in milliseconds; ``--pool-start spawn`` makes them
     pay a fresh interpreter as task managers do (and more: spawned workers re-import this
     script, smartflow included);
   - smartflow: one experiment and one store for the whole benchmark, one dispatcher
     (``max_task_managers=4``), one ``InferenceJob`` per cell: ``num_task_managers=p``,
     ``split_size=64``, ``batch_size=32``, ``intra_op_threads=1``, ``load_concurrency=2``.
     Timed from ``enqueue_job`` to the records (what ``run_job`` does): publishing the job,
     starting the task-manager processes, the splits, and the task managers' exit.
   Both sides' answers are checked: accuracy against the labels > 0.95, and smartflow returns
   exactly one ``ok`` record per input, in input order. Goal: smartflow >= 0.9x the pool at the
   same p. Also, per side, the time to the first answered split (process start + one split),
   the rate in between (inputs after the first answer / (last - first answer): the steady
   state, starts left out), the time from the last answer to the return (smartflow: closing
   the job, the task managers' exit, deleting its keys), the CPU seconds of this process (for
   smartflow: the dispatcher) and of the worker processes (task managers: imports included),
   the median seconds of one split inside a worker (pool: timed in the worker; smartflow: the
   summary's per-split seconds) and how busy the workers were (those summed / (p x wall)).
   A task manager loads and preprocesses in ``load_concurrency`` threads while its model runs,
   so one task manager can keep more than one core busy; a pool worker runs the stages in turn.
2. Overhead per split: a job of K tiny splits (``split_size=1``; K = 1000, ``--quick``: 200),
   one task manager, each input a float32 (4,) array, no preprocess, a one-node ONNX model
   (``ReduceMean``): the work vanishes, what is left is the machinery. The wall time per split
   in steady state is (last answer - first answer) / (K - 1), stamped as progress updates
   arrive, so the task manager's start and the job's teardown are left out (both reported);
   the overhead per split is that minus the same work done inline (one ``session.run`` of the
   stacked input). Goal: <= 2 ms. Beside it, the summary's per-split ``seconds`` (the time
   inside the task manager: decoding the split, the pipeline), the CPU per split of the driver
   (the dispatcher) and of the task manager (its CPU less a fresh interpreter's imports), and,
   measured here in the driver with nothing else running, the parts a split is made of: one
   store round trip (a busy task manager makes one per split, finish and the next take in one
   script; a dispatcher that keeps up two: the BLPOP that wakes it, one collecting script), the
   split and result codecs, the pipeline run inline, one hop to a worker thread; and what starting a
   task manager costs: a fresh interpreter importing the task manager's modules.
Cells alternate who goes first across repeats (and across p); every number is the median of the
repeats (3; ``--quick``: 1). The driver, the store and every worker share this host's cores: at
p = 4 on a 2-core machine both sides are oversubscribed (the table says so). Prints tables and
writes JSON (``--json``, else ``benchmarks/results/batch-inference-<time>.json``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import anyio
import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:  # task managers import "ocr_workload:preprocess" from here too
    sys.path.insert(0, str(HERE))

import ocr_workload  # noqa: E402

from smartflow import Client, Experiment, InferenceJob  # noqa: E402
from smartflow.batch import Dispatcher, JobResults, codec  # noqa: E402
from smartflow.batch.pipeline import Stages, run_split  # noqa: E402
from smartflow.batch.task_manager import onnx_predict  # noqa: E402

PARALLELISM = (1, 2, 4)
SPLIT = 64
BATCH = ocr_workload.BATCH
THREADS = ocr_workload.THREADS
LOAD_CONCURRENCY = 2
MAX_TASK_MANAGERS = 4
GOAL_RATIO = 0.9
GOAL_OVERHEAD_MS = 2.0
TINY_FEATURES = 4
MICRO_REPS = 300  # calls per part of the per-split breakdown


# -- 1. throughput ------------------------------------------------------------------------------


class Clock:
    """Wall time from its start, and the CPU seconds spent meanwhile by this process (all its
    threads: the driver) and by the child processes that ended and were reaped meanwhile (pool
    workers, task managers; not the store, which runs on)."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.cpu0 = time.process_time()
        self.children0 = children_cpu()

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def stop(self) -> dict[str, float]:
        return {
            "wall_s": self.now(),
            "driver_cpu_s": time.process_time() - self.cpu0,
            "children_cpu_s": children_cpu() - self.children0,
        }


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timeline(n: int, clock: dict[str, float], answers: list[float]) -> dict[str, float]:
    """Rates and times of a cell from its clock and when each split's answer arrived."""
    first, last = min(answers), max(answers)
    return {
        **clock,
        "inputs_per_s": n / clock["wall_s"],
        "first_answer_s": first,
        # Inputs answered after the first answer (a full split), over the time they took.
        "steady_inputs_per_s": (n - SPLIT) / (last - first) if last > first else 0.0,
        "after_last_answer_s": clock["wall_s"] - last,
    }


def pool_cell(paths: list[str], p: int, start_method: str) -> dict:
    """Load -> preprocess -> predict over ``paths`` in a ``ProcessPoolExecutor(p)``, splits of
    :data:`SPLIT`; timed from the pool's creation to its shutdown (blocking: run in a thread)."""
    answered: list[float] = []
    context = multiprocessing.get_context(start_method)
    clock = Clock()
    with ProcessPoolExecutor(p, mp_context=context) as pool:
        futures = [
            pool.submit(ocr_workload.run_split_timed, paths[i : i + SPLIT])
            for i in range(0, len(paths), SPLIT)
        ]
        for future in futures:
            future.add_done_callback(lambda _: answered.append(clock.now()))
        answers = [future.result() for future in futures]
    took = clock.stop()
    seconds = [s for _, s in answers]
    return timeline(len(paths), took, answered) | {
        "split_seconds_median": statistics.median(seconds),
        "busy": sum(seconds) / (p * took["wall_s"]),
        "predictions": [k for predictions, _ in answers for k in predictions],
    }


async def followed(
    dispatcher: Dispatcher, job: InferenceJob
) -> tuple[JobResults, dict[str, float], list[float]]:
    """Run ``job`` (``enqueue_job`` + ``wait``, which is ``run_job``); returns its records, its
    :class:`Clock` and when each progress update (one per answered split) arrived."""
    answered: list[float] = []
    clock = Clock()
    handle = dispatcher.enqueue_job(job)

    async def follow() -> None:
        async for _ in handle.progress():
            answered.append(clock.now())

    async with anyio.create_task_group() as tg:
        tg.start_soon(follow)
        results = await handle.wait()
    return results, clock.stop(), answered


async def smartflow_cell(dispatcher: Dispatcher, paths: list[str], p: int, name: str) -> dict:
    job = InferenceJob(
        paths, name, model=ocr_workload.model_path(), preprocess="ocr_workload:preprocess",
        split_size=SPLIT, num_task_managers=p, batch_size=BATCH, intra_op_threads=THREADS,
        load_concurrency=LOAD_CONCURRENCY,
    )  # fmt: skip
    results, clock, answered = await followed(dispatcher, job)
    summary = results.summary
    if [r.index for r in results] != list(range(len(paths))) or not all(r.ok for r in results):
        bad = [r for r in results if not r.ok][:3]
        raise SystemExit(f"smartflow {name}: not one ok record per input (e.g. {bad})")
    busy = sum(t.seconds for t in summary.timings)
    return timeline(len(paths), clock, answered) | {
        "split_seconds_median": statistics.median(t.seconds for t in summary.timings),
        "busy": busy / (p * clock["wall_s"]),
        "task_managers": len(summary.task_managers),
        "retries": summary.retries,
        "predictions": [int(np.argmax(r.result[0])) for r in results],
    }


def accuracy(predictions: list[int], labels: list[int]) -> float:
    assert len(predictions) == len(labels)
    return sum(a == b for a, b in zip(predictions, labels, strict=True)) / len(labels)


async def bench_throughput(
    dispatcher: Dispatcher, paths: list[str], labels: list[int], repeats: int, start_method: str
) -> dict:
    runs: dict[int, dict[str, list[dict]]] = {p: {"pool": [], "smartflow": []} for p in PARALLELISM}
    for r in range(repeats):
        for i, p in enumerate(PARALLELISM):
            name = f"ocr-p{p}-r{r}"
            sides: list[tuple[str, Callable[[], Awaitable[dict]]]] = [
                ("pool", lambda p=p: anyio.to_thread.run_sync(pool_cell, paths, p, start_method)),
                ("smartflow", lambda p=p, name=name: smartflow_cell(dispatcher, paths, p, name)),
            ]
            if (r + i) % 2:
                sides.reverse()
            for side, cell in sides:
                run = await cell()
                run["accuracy"] = accuracy(run.pop("predictions"), labels)
                if run["accuracy"] <= 0.95:
                    raise SystemExit(f"{side} at p={p}: accuracy {run['accuracy']:.3f} <= 0.95")
                runs[p][side].append(run)
                progress(f"p={p} {side}: {run['inputs_per_s']:.0f} inputs/s")
    return {
        p: {side: medians(rs) | {"runs": rs} for side, rs in by_side.items()}
        for p, by_side in runs.items()
    }


def medians(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


# -- 2. overhead per split ----------------------------------------------------------------------


def inline_seconds(model: bytes, x: np.ndarray, reps: int) -> float:
    """The per-split work done inline: one run of the tiny model on the stacked input."""
    predict = onnx_predict(model, THREADS)
    for _ in range(20):
        predict(np.stack([x]))
    return median_of(lambda: predict(np.stack([x])), reps)


def median_of(fn: Callable[[], object], reps: int) -> float:
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def amedian_of(fn: Callable[[], Awaitable[object]], reps: int) -> float:
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def overhead_cell(
    dispatcher: Dispatcher, model: bytes, inputs: list[np.ndarray], name: str
) -> dict:
    job = InferenceJob(
        inputs, name, model=model, split_size=1, num_task_managers=1, batch_size=BATCH,
        intra_op_threads=THREADS, load_concurrency=LOAD_CONCURRENCY,
    )  # fmt: skip
    results, clock, answered = await followed(dispatcher, job)
    if len(results) != len(inputs) or not all(r.ok for r in results):
        raise SystemExit(f"smartflow {name}: not one ok record per input")
    for r in results[:5]:
        np.testing.assert_allclose(r.result[0], inputs[r.index].mean(), rtol=1e-6)
    splits = len(inputs)
    return {
        **clock,
        "first_answer_s": answered[0],
        "after_last_answer_s": clock["wall_s"] - answered[-1],
        "per_split_s": (answered[-1] - answered[0]) / (splits - 1),
        "end_to_end_per_split_s": clock["wall_s"] / splits,
        "in_tm_per_split_s": statistics.median(t.seconds for t in results.summary.timings),
    }


async def breakdown(client: Client, model: bytes, x: np.ndarray) -> dict[str, float]:
    """Seconds (medians) of the parts one tiny split is made of, measured here in the driver."""
    job = InferenceJob([x], "probe", model=model, load_concurrency=LOAD_CONCURRENCY)
    stages = Stages(job.stage_spec())
    predict = onnx_predict(model, THREADS)
    statuses, errors, outputs = run_split(stages, predict, [x])
    meta = {"tm": "probe.tm1", "attempt": 1, "seconds": 0.001}
    result = codec.encode_result(statuses, errors, outputs, meta)
    parts = {
        "store round trip": await amedian_of(
            lambda: client.execute_command("EXISTS", "bench:nothing"), MICRO_REPS
        ),
        "split codec (encode + decode)": median_of(
            lambda: codec.decode_split(codec.encode_split(0, [x])), MICRO_REPS
        ),
        "result encode (TM)": median_of(
            lambda: codec.encode_result(statuses, errors, outputs, meta), MICRO_REPS
        ),
        "result decode (dispatcher)": median_of(lambda: codec.decode_result(result), MICRO_REPS),
        "pipeline run_split, inline": median_of(
            lambda: run_split(stages, predict, [x]), MICRO_REPS
        ),
        "hop to a worker thread": await amedian_of(
            lambda: anyio.to_thread.run_sync(int), MICRO_REPS
        ),
    }
    stages.close()
    return parts


#: What a task manager's start costs before it reads its job: a fresh interpreter, then
#: smartflow's task-manager modules, then onnxruntime (each command imports the ones above).
STARTS = {
    "interpreter alone": "pass",
    "+ import smartflow.batch.task_manager": "import smartflow.batch.task_manager",
    "+ import onnxruntime": "import smartflow.batch.task_manager, onnxruntime",
}


def interpreter_start(reps: int) -> dict[str, dict[str, float]]:
    """Median wall and CPU seconds of a fresh interpreter running each of :data:`STARTS`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)])}
    walls: dict[str, list[float]] = {what: [] for what in STARTS}
    cpus: dict[str, list[float]] = {what: [] for what in STARTS}
    for _ in range(reps):
        for what, code in STARTS.items():
            clock = Clock()
            subprocess.run([sys.executable, "-c", code], env=env, check=True)
            took = clock.stop()
            walls[what].append(took["wall_s"])
            cpus[what].append(took["children_cpu_s"])
    return {
        what: {"wall_s": statistics.median(walls[what]), "cpu_s": statistics.median(cpus[what])}
        for what in STARTS
    }


async def bench_overhead(dispatcher: Dispatcher, client: Client, splits: int, repeats: int) -> dict:
    model = ocr_workload.tiny_model(TINY_FEATURES)
    rng = np.random.default_rng(1)
    inputs = [rng.random(TINY_FEATURES, dtype=np.float32) for _ in range(splits)]
    runs = []
    inline = []
    for r in range(repeats):
        if r % 2:
            inline.append(inline_seconds(model, inputs[0], splits))
        runs.append(await overhead_cell(dispatcher, model, inputs, f"tiny-r{r}"))
        if not r % 2:
            inline.append(inline_seconds(model, inputs[0], splits))
        progress(f"overhead: {runs[-1]['per_split_s'] * 1000:.2f} ms per split")
    result = medians(runs)
    result["inline_per_split_s"] = statistics.median(inline)
    result["overhead_per_split_s"] = result["per_split_s"] - result["inline_per_split_s"]
    result["splits"] = splits
    result["parts_s"] = await breakdown(client, model, inputs[0])
    result["interpreter_start"] = starts = interpreter_start(max(3, repeats))
    start = starts[list(STARTS)[-1]]
    # CPU per split in steady state: the driver's (the dispatcher), the task manager's (its
    # CPU less a fresh interpreter's imports); the store's is not counted.
    result["driver_cpu_per_split_s"] = result["driver_cpu_s"] / splits
    result["tm_cpu_per_split_s"] = (result["children_cpu_s"] - start["cpu_s"]) / splits
    result["runs"] = runs
    return result


# -- output -------------------------------------------------------------------------------------


def progress(what: str) -> None:
    print(f"  {what}", file=sys.stderr, flush=True)


def print_tables(throughput: dict, overhead: dict, n: int, start_method: str) -> None:
    cpus = os.cpu_count() or 1
    print(
        f"\n1. Text-orientation classifier (rapidocr's ch_ppocr_mobile_v2.0_cls) on {n} PNG crops;"
        f" splits of {SPLIT}, batch {BATCH}, {THREADS} intra-op thread; {cpus} CPUs here"
    )
    print(
        f"   pool = ProcessPoolExecutor(p) ({start_method}), pool start included; smartflow = "
        "run_job, task-manager start included"
    )
    print(
        f"{'p':>3}  {'side':<10}{'in/s':>7}{'sf/pool':>9}{'goal 0.9':>10}{'1st answer s':>14}"
        f"{'steady in/s':>13}{'sf/pool':>9}{'split s':>9}{'busy':>6}{'after last s':>14}"
        f"{'CPU s driver':>14}{'CPU s workers':>15}{'accuracy':>10}"
    )
    for p, row in throughput.items():
        pool, sf = row["pool"], row["smartflow"]
        ratio = sf["inputs_per_s"] / pool["inputs_per_s"]
        steady = sf["steady_inputs_per_s"] / pool["steady_inputs_per_s"]
        for side, r in (("pool", pool), ("smartflow", sf)):
            is_sf = side == "smartflow"
            met = ("met" if ratio >= GOAL_RATIO else "missed") if is_sf else ""
            note = f"  {p} processes on {cpus} CPUs: oversubscribed" if p > cpus and is_sf else ""
            print(
                f"{p if not is_sf else '':>3}  {side:<10}{r['inputs_per_s']:>7.0f}"
                f"{f'{ratio:.2f}' if is_sf else '':>9}{met:>10}{r['first_answer_s']:>14.2f}"
                f"{r['steady_inputs_per_s']:>13.0f}{f'{steady:.2f}' if is_sf else '':>9}"
                f"{r['split_seconds_median']:>9.3f}{r['busy']:>6.0%}"
                f"{r['after_last_answer_s']:>14.2f}{r['driver_cpu_s']:>14.2f}"
                f"{r['children_cpu_s']:>15.2f}{r['accuracy']:>10.1%}{note}"
            )
    print(
        "   1st answer = start -> first answered split (process start + one split); steady = "
        "inputs after the first answer\n   / (last - first answer); split s = median seconds "
        f"of a split of {SPLIT} inside a worker / task manager;\n   busy = those seconds "
        "summed / (p x wall); after last = last answer -> return (smartflow: close the job,\n"
        "   task managers exit, keys deleted); CPU s: this process (smartflow: the dispatcher), "
        "the workers\n   (task managers, their imports included); the store's CPU is not counted"
    )
    ms = 1000.0
    o = overhead
    met = "met" if o["overhead_per_split_s"] * ms <= GOAL_OVERHEAD_MS else "missed"
    print(
        f"\n2. Overhead per split: {o['splits']} splits of 1 input (float32 ({TINY_FEATURES},), "
        "ReduceMean), 1 task manager, ms"
    )
    rows = [
        ("wall per split, steady state (first -> last answer)", o["per_split_s"]),
        ("  the same work inline (session.run of the stacked input)", o["inline_per_split_s"]),
        (f"  overhead per split (goal <= {GOAL_OVERHEAD_MS:g} ms: {met})",
         o["overhead_per_split_s"]),
        ("  inside the task manager per split (summary seconds, median)", o["in_tm_per_split_s"]),
        ("  CPU per split, driver (dispatcher)", o["driver_cpu_per_split_s"]),
        ("  CPU per split, task manager (less its imports; store not counted)",
         o["tm_cpu_per_split_s"]),
        ("wall per split, end to end (wall / splits)", o["end_to_end_per_split_s"]),
        ("job start -> first answer (publish, task-manager start, 1 split)", o["first_answer_s"]),
        ("last answer -> run_job returns (close, task manager exits, keys deleted)",
         o["after_last_answer_s"]),
    ]  # fmt: skip
    for what, seconds in rows:
        print(f"   {what:<74}{seconds * ms:>9.3f}")
    print(f"   a task manager's imports: fresh interpreters, cumulative{'wall':>23}{'CPU':>9}")
    for what, took in o["interpreter_start"].items():
        print(f"     {what:<67}{took['wall_s'] * ms:>9.1f}{took['cpu_s'] * ms:>9.1f}")
    print("   parts of one split, measured in the driver, idle (per split a busy TM makes 1 round "
          "trip, the dispatcher 2):")  # fmt: skip
    for what, seconds in o["parts_s"].items():
        print(f"     {what:<72}{seconds * ms:>9.3f}")


async def main(quick: bool, json_path: Path | None, start_method: str, inputs: int | None) -> None:
    n = inputs or (400 if quick else 2000)
    splits = 200 if quick else 1000
    repeats = 1 if quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        progress(f"rendering {n} crops")
        paths, labels = await anyio.to_thread.run_sync(
            ocr_workload.render_crops, Path(tmp) / "crops", n, 0
        )
        async with Experiment("bench-batch", exp_path=Path(tmp) / "exp", launcher="local") as exp:
            db = exp.create_database()
            await exp.start(db)
            dispatcher = exp.create_dispatcher(db, max_task_managers=MAX_TASK_MANAGERS)
            async with Client(address=db.get_address()[0]) as client:
                throughput = await bench_throughput(
                    dispatcher, paths, labels, repeats, start_method
                )
                overhead = await bench_overhead(dispatcher, client, splits, repeats)
    print_tables(throughput, overhead, n, start_method)
    result = {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "onnxruntime": ort.__version__,
        },
        "settings": {
            "inputs": n,
            "split_size": SPLIT,
            "batch_size": BATCH,
            "intra_op_threads": THREADS,
            "load_concurrency": LOAD_CONCURRENCY,
            "max_task_managers": MAX_TASK_MANAGERS,
            "parallelism": list(PARALLELISM),
            "pool_start_method": start_method,
            "repeats": repeats,
            "overhead_splits": splits,
            "model": ocr_workload.MODEL_FILE,
        },
        "throughput": {
            str(p): {
                **row,
                "ratio": row["smartflow"]["inputs_per_s"] / row["pool"]["inputs_per_s"],
            }
            for p, row in throughput.items()
        },
        "overhead": overhead,
    }
    path = json_path or HERE / "results" / f"batch-inference-{int(time.time())}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, smaller runs")
    parser.add_argument("--json", type=Path, default=None, help="where to write the JSON result")
    parser.add_argument(
        "--pool-start",
        choices=multiprocessing.get_all_start_methods(),
        default=multiprocessing.get_context().get_start_method(),
        help="the baseline pool's start method (default: this platform's)",
    )
    parser.add_argument(
        "--inputs", type=int, default=None,
        help="crops per job (default 2000; --quick 400): task-manager start is a fixed cost "
        "per job, so bigger jobs amortise it",
    )  # fmt: skip
    args = parser.parse_args()
    anyio.run(main, args.quick, args.json, args.pool_start, args.inputs)
