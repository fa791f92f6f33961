"""Inference speed: models run by the store's worker vs onnxruntime in this process, same run.

    python benchmarks/bench_inference.py [--quick] [--json PATH]

One single-shard store; its inference worker runs onnxruntime with one intra-op thread
(``SMARTFLOW_INFERENCE_THREADS=1``, set before the store starts). Two models, both from
``tests/inference/models.py``: the float32 MLP 128 -> 256 -> 10 and the scikit-learn random
forest (8 features -> 1).

1. Batch-64 throughput, rows/s, for each model:
   - ``put+run+get``: ``put_tensor(in)``, ``run_model(in -> out)``, ``get_tensor(out)``, timed
     together (three client calls; ``run_model`` itself is one round trip to the store plus the
     worker's fetch / run / write / answer);
   - ``run_model``: ``run_model`` alone, the input already stored;
   - each with 1 client and with 8 concurrent clients (8 asyncio tasks in this process, each
     with its own ``Client`` and its own keys);
   - the client ceiling: the same 8 clients calling ``key_exists`` (one round trip each, the
     cheapest call there is), times the batch: no design of run_model through the store can
     beat it, since a run is at least that one round trip;
   - the floor: an in-process ``onnxruntime.InferenceSession`` with the same options as the
     worker's (``intra_op_num_threads=1``, ``inter_op_num_threads=1``) on the same arrays, run
     from 1 thread and from 8 Python threads at once (one shared session). The goal: the store
     at 8 clients reaches >= 50% of the in-process rate at 8 threads.
2. 16 concurrent clients (own ``Client`` each) sending batch-1 ``run_model`` requests, the input
   already stored, requests/s: the model stored with batching on (``batch_size=32``,
   ``min_batch_size=8``, ``min_batch_timeout=2`` ms) vs off (stored without). Goal: >= 3x.
   The client ceiling (16 clients calling ``key_exists``) bounds both: batching cannot lift a
   rate above it. Also the median time of a lone request on the batching model (nobody to batch
   with: it waits ``min_batch_timeout`` for company that never comes).
3. Latency of one ``run_model`` round trip, the MLP at batch 1, input stored: median / p90 /
   p99 ms over 500 sequential calls, beside ``put+run+get``, ``infer``, a plain ``get_tensor``
   of the same input (the loopback floor of one round trip) and in-process ``session.run``.
   Goal: well under 5 ms.
A throughput cell runs its clients (or threads) in a loop for a fixed window and counts the
calls completed inside it (steady state: calls still in flight at the end finish uncounted).
Cells alternate between the contenders and each rate is the median of several repeats, so
machine noise hits every side alike (latency calls are interleaved one by one). The driver, the
store and its worker share this machine's cores; the in-process floor has them to itself.
Prints tables and writes JSON (``--json``, else ``benchmarks/results/inference-<time>.json``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import numpy as np
import onnxruntime as ort

from smartflow import Client, Experiment

THREADS = 1  # onnxruntime intra-op threads, in the worker and in-process alike
BATCH = 64
FEW, MANY, SWARM = 1, 8, 16  # clients (or threads) for 1., and for 2.
BATCHING = {"batch_size": 32, "min_batch_size": 8, "min_batch_timeout": 2}
LONE_CALLS = 5  # lone requests on the batching model (each may wait min_batch_timeout)
ROOT = Path(__file__).resolve().parent.parent


def _models_module():  # type: ignore[no-untyped-def]
    """tests/inference/models.py, loaded by path (benchmarks are run as scripts)."""
    spec = importlib.util.spec_from_file_location(
        "inference_models", ROOT / "tests/inference/models.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _session(model: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


async def _alternated(
    cells: dict[str, Callable[[float], Awaitable[int]]], repeats: int, window: float
) -> dict:
    """Each cell counts what it completes in ``window`` seconds; cells alternate, ``repeats``
    times; returns each cell's median completions per second."""
    rates: dict[str, list[float]] = {name: [] for name in cells}
    for _ in range(repeats):
        for name, cell in cells.items():
            rates[name].append(await cell(window) / window)
    return {name: statistics.median(r) for name, r in rates.items()}


def _together(clients: list[Client], op: Callable[[Client, int], Awaitable[None]]):  # type: ignore[no-untyped-def]
    """A cell: every client calls ``op(client, its index)`` in a loop, all at once; counts the
    calls that completed inside the window (those still in flight finish, uncounted)."""

    async def cell(window: float) -> int:
        done = 0
        deadline = time.perf_counter() + window

        async def loop(client: Client, i: int) -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                await op(client, i)
                done += time.perf_counter() < deadline

        async with anyio.create_task_group() as tg:
            for i, client in enumerate(clients):
                tg.start_soon(loop, client, i)
        return done

    return cell


def _exists(key: str) -> Callable[[Client, int], Awaitable[None]]:
    """Client ``i`` asks whether ``key.format(i)`` exists: the cheapest round trip there is,
    so the ceiling of any call through the store from these clients."""

    async def op(client: Client, i: int) -> None:
        await client.key_exists(key.format(i))

    return op


def _threaded(pool: ThreadPoolExecutor, threads: int, run: Callable[[], object]):  # type: ignore[no-untyped-def]
    """A cell: ``threads`` Python threads call ``run()`` in a loop, all at once; counts the calls
    that completed inside the window."""

    def loop(deadline: float) -> int:
        done = 0
        while time.perf_counter() < deadline:
            run()
            done += time.perf_counter() < deadline
        return done

    def all_threads(window: float) -> int:
        deadline = time.perf_counter() + window
        return sum(f.result() for f in [pool.submit(loop, deadline) for _ in range(threads)])

    async def cell(window: float) -> int:
        return await anyio.to_thread.run_sync(all_threads, window)

    return cell


async def bench_throughput(
    clients: list[Client], name: str, model: bytes, x: np.ndarray, repeats: int, window: float
) -> dict:
    """Rows/s of batch-``len(x)`` runs: the store (1 and 8 clients) vs in-process onnxruntime."""
    session = _session(model)
    feed = {session.get_inputs()[0].name: x}
    for i, client in enumerate(clients[:MANY]):
        await client.put_tensor(f"{name}.in{i}", x)

    async def round_trip(client: Client, i: int) -> None:
        await client.put_tensor(f"{name}.in{i}", x)
        await client.run_model(name, inputs=[f"{name}.in{i}"], outputs=[f"{name}.out{i}"])
        await client.get_tensor(f"{name}.out{i}")

    async def run_only(client: Client, i: int) -> None:
        await client.run_model(name, inputs=[f"{name}.in{i}"], outputs=[f"{name}.out{i}"])

    def run() -> None:
        session.run(None, feed)

    with ThreadPoolExecutor(MANY) as pool:
        cells = {
            "ceiling/8": _together(clients[:MANY], _exists(name + ".in{}")),
            "put+run+get/1": _together(clients[:FEW], round_trip),
            "put+run+get/8": _together(clients[:MANY], round_trip),
            "run_model/1": _together(clients[:FEW], run_only),
            "run_model/8": _together(clients[:MANY], run_only),
            "in-process/1": _threaded(pool, FEW, run),
            "in-process/8": _threaded(pool, MANY, run),
        }
        for cell in cells.values():  # warm up: connections, sessions, the worker's cache
            await cell(0.05)
        per_s = await _alternated(cells, repeats, window)
    return {cell: rate * len(x) for cell, rate in per_s.items()}


async def bench_batching(
    clients: list[Client], name: str, x1: np.ndarray, repeats: int, window: float
) -> dict:
    """Requests/s of ``len(clients)`` clients sending batch-1 runs: batching on vs off; and the
    latency of a lone request on the batching model (nobody else to batch with)."""
    for i, client in enumerate(clients):
        await client.put_tensor(f"{name}.one{i}", x1)

    def op(model_name: str) -> Callable[[Client, int], Awaitable[None]]:
        async def run(client: Client, i: int) -> None:
            await client.run_model(model_name, [f"{name}.one{i}"], [f"{name}.oneout{i}"])

        return run

    cells = {
        "batching on": _together(clients, op(f"{name}.batched")),
        "batching off": _together(clients, op(name)),
        "ceiling": _together(clients, _exists(name + ".one{}")),
    }
    for cell in cells.values():
        await cell(0.05)
    result = await _alternated(cells, repeats, window)
    lone = []
    for _ in range(LONE_CALLS):
        start = time.perf_counter()
        await op(f"{name}.batched")(clients[0], 0)
        lone.append((time.perf_counter() - start) * 1000)
    return {**result, "lone_request_median_ms": statistics.median(lone)}


async def bench_latency(client: Client, model: bytes, x1: np.ndarray, calls: int) -> dict:
    """Milliseconds per call, sequential, one client; contenders interleaved call by call."""
    session = _session(model)
    feed = {session.get_inputs()[0].name: x1}
    await client.put_tensor("lat.in", x1)

    async def run_only() -> None:
        await client.run_model("mlp", ["lat.in"], ["lat.out"])

    async def round_trip() -> None:
        await client.put_tensor("lat.in2", x1)
        await client.run_model("mlp", ["lat.in2"], ["lat.out2"])
        await client.get_tensor("lat.out2")

    async def infer() -> None:
        await client.infer("mlp", [x1])

    async def get_only() -> None:
        await client.get_tensor("lat.in")

    async def in_process() -> None:
        session.run(None, feed)

    contenders = {
        "run_model": run_only,
        "put+run+get": round_trip,
        "infer": infer,
        "get_tensor (floor)": get_only,
        "in-process": in_process,
    }
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for i in range(calls + 20):
        for name, fn in contenders.items():
            start = time.perf_counter()
            await fn()
            if i >= 20:  # the first 20 rounds warm up
                samples[name].append((time.perf_counter() - start) * 1000)
    return {name: _percentiles(ms) for name, ms in samples.items()}


def _percentiles(ms: list[float]) -> dict:
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return {"median_ms": float(p50), "p90_ms": float(p90), "p99_ms": float(p99), "calls": len(ms)}


async def _check(client: Client, name: str, x: np.ndarray, reference) -> None:  # type: ignore[no-untyped-def]
    """The store's answer matches the model's reference, so we time real work."""
    (got,) = await client.infer(name, [x])
    np.testing.assert_allclose(got, reference(x), rtol=1e-5, atol=1e-5)


def _print(throughput: dict[str, dict], batching: dict[str, dict], latency: dict) -> None:
    print(f"\nBatch-{BATCH} throughput, rows/s; floor = onnxruntime in this process, same options")
    print("(ceiling = the same 8 clients calling key_exists, one round trip each, x batch)")
    print(
        f"{'model':<14}{'what':<13}{'1 client':>10}{'8 clients':>11}{'floor 1thr':>12}"
        f"{'floor 8thr':>12}{'8cl/floor8':>12}{'8cl/floor1':>12}{'ceiling':>10}"
        f"{'ceil/floor8':>12}{'goal 50%':>10}"
    )
    for model, row in throughput.items():
        f1, f8, top = row["in-process/1"], row["in-process/8"], row["ceiling/8"]
        for what in ("put+run+get", "run_model"):
            one, many = row[f"{what}/1"], row[f"{what}/8"]
            met = "met" if many / f8 >= 0.5 else "missed"
            print(
                f"{model:<14}{what:<13}{one:>10.0f}{many:>11.0f}{f1:>12.0f}{f8:>12.0f}"
                f"{many / f8:>12.1%}{many / f1:>12.1%}{top:>10.0f}{top / f8:>12.1%}{met:>10}"
            )
    print(f"\n{SWARM} clients, batch-1 run_model, requests/s; batching on = {BATCHING}")
    print(
        f"{'model':<14}{'batching on':>12}{'batching off':>14}{'ratio':>8}{'goal 3x':>9}"
        f"{'ceiling':>9}{'ceiling/off':>13}{'lone request on batching model (ms)':>37}"
    )
    for model, row in batching.items():
        on, off, top = row["batching on"], row["batching off"], row["ceiling"]
        met = "met" if on / off >= 3 else "missed"
        print(
            f"{model:<14}{on:>12.0f}{off:>14.0f}{on / off:>8.2f}{met:>9}{top:>9.0f}"
            f"{top / off:>13.2f}{row['lone_request_median_ms']:>37.1f}"
        )
    calls = next(iter(latency.values()))["calls"]
    met = "met" if latency["run_model"]["median_ms"] < 5 else "missed"
    print(f"\nLatency, MLP 128->256->10 at batch 1, {calls} sequential calls, ms (goal < 5: {met})")
    print(f"{'call':<20}{'median':>9}{'p90':>9}{'p99':>9}")
    for call, row in latency.items():
        print(f"{call:<20}{row['median_ms']:>9.3f}{row['p90_ms']:>9.3f}{row['p99_ms']:>9.3f}")


async def main(quick: bool, json_path: Path | None) -> None:
    repeats = 3 if quick else 7
    window = 0.2 if quick else 0.5  # seconds per throughput cell
    latency_calls = 200 if quick else 500
    models = _models_module()
    rng = np.random.default_rng(0)
    mlp, mlp_ref = models.mlp()
    forest, forest_ref = models.sklearn_model()
    # A model whose compute outweighs the store's round trips (~5 ms per batch-64 run), to
    # show where running next to the data pays: the issue's two models are too small for it.
    big, big_ref = models.mlp(n_in=512, hidden=2048, n_out=512)
    cases = {
        "mlp": (mlp, mlp_ref, rng.random((BATCH, 128), dtype=np.float32)),
        "sklearn": (forest, forest_ref, rng.standard_normal((BATCH, 8)).astype(np.float32)),
        "mlp-512-2048": (big, big_ref, rng.random((BATCH, 512), dtype=np.float32)),
    }
    os.environ["SMARTFLOW_INFERENCE_THREADS"] = str(THREADS)  # the worker reads it at load
    throughput: dict[str, dict] = {}
    batching: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            Experiment("bench-inference", exp_path=Path(tmp) / "exp") as exp,
            AsyncExitStack() as stack,
        ):
            db = exp.create_database()
            await exp.start(db)
            address = db.get_address()[0]
            clients = [
                await stack.enter_async_context(Client(address=address)) for _ in range(SWARM)
            ]
            first = clients[0]
            for name, (model, reference, x) in cases.items():
                await first.set_model(name, model)
                await first.set_model(f"{name}.batched", model, **BATCHING)
                await _check(first, name, x, reference)
                await _check(first, f"{name}.batched", x[:1], reference)
            for name, (model, _, x) in cases.items():
                throughput[name] = await bench_throughput(clients, name, model, x, repeats, window)
                batching[name] = await bench_batching(clients, name, x[:1], repeats, window)
            latency = await bench_latency(first, mlp, cases["mlp"][2][:1], latency_calls)
    _print(throughput, batching, latency)
    result = {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "onnxruntime": ort.__version__,
        },
        "settings": {
            "intra_op_threads": THREADS,
            "batch": BATCH,
            "batching": BATCHING,
            "window_s": window,
            "repeats": repeats,
        },
        "throughput_rows_per_s": throughput,
        "batching_requests_per_s": batching,
        "latency_ms": latency,
    }
    path = json_path or ROOT / "benchmarks" / "results" / f"inference-{int(time.time())}.json"
    await anyio.Path(path.parent).mkdir(parents=True, exist_ok=True)
    await anyio.Path(path).write_text(json.dumps(result, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, smaller runs")
    parser.add_argument("--json", type=Path, default=None, help="where to write the JSON result")
    args = parser.parse_args()
    anyio.run(main, args.quick, args.json)
