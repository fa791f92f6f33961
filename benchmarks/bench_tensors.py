"""Tensor put/get throughput: smartflow vs raw redis-py vs redis-benchmark, same server, same run.

    python benchmarks/bench_tensors.py [--quick] [--json PATH]

Starts one smartflow store (single shard, loopback), then for float32 tensors of 1 KiB, 64 KiB,
1 MiB and 16 MiB measures sequential put and get throughput of
  - smartflow ``Client`` (async),
  - raw ``redis.asyncio`` with ``arr.tobytes()`` / ``np.frombuffer`` (the baseline),
  - smartflow ``SyncClient`` (run in a worker thread: it refuses the event-loop thread),
  - ``redis-benchmark`` SET/GET of the same value size, when it is installed,
and bulk 10,000 x 1 KiB with ``put_tensors``/``get_tensors`` vs a raw redis-py pipeline.
Each cell is the median of several repeats. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import numpy as np
import redis
import redis.asyncio as aioredis

from smartflow import Client, Experiment, SyncClient

SIZES = {"1KiB": 1024, "64KiB": 64 * 1024, "1MiB": 1024**2, "16MiB": 16 * 1024**2}
BULK_COUNT, BULK_BYTES = 10_000, 1024


def _count_for(nbytes: int, quick: bool) -> int:
    budget = (32 if quick else 256) * 1024**2
    return max(16, min(5000 if not quick else 1000, budget // nbytes))


async def _timed(fn: Callable[[], Awaitable[None]], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _timed_sync(fn: Callable[[], None], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def bench_size(address: str, password: str, nbytes: int, n: int, repeats: int) -> dict:
    array = np.random.default_rng(0).random(nbytes // 4, dtype=np.float32)
    host, port = address.rsplit(":", 1)
    row: dict[str, float] = {}
    async with Client(address=address, cluster=False) as client:

        async def sf_put() -> None:
            for _ in range(n):
                await client.put_tensor("bench", array)

        async def sf_get() -> None:
            for _ in range(n):
                await client.get_tensor("bench")

        row["smartflow_put"] = n * nbytes / await _timed(sf_put, repeats)
        row["smartflow_get"] = n * nbytes / await _timed(sf_get, repeats)

    raw = aioredis.Redis(host=host, port=int(port), password=password, protocol=2)
    try:

        async def raw_put() -> None:
            for _ in range(n):
                await raw.set("raw", array.tobytes())

        async def raw_get() -> None:
            for _ in range(n):
                np.frombuffer(await raw.get("raw"), dtype=np.float32)

        row["redispy_put"] = n * nbytes / await _timed(raw_put, repeats)
        row["redispy_get"] = n * nbytes / await _timed(raw_get, repeats)
    finally:
        await raw.aclose()

    def sync_bench() -> tuple[float, float]:
        with SyncClient(address=address, cluster=False, password=password) as sync:
            put = _timed_sync(lambda: [sync.put_tensor("sync", array) for _ in range(n)], repeats)
            get = _timed_sync(lambda: [sync.get_tensor("sync") for _ in range(n)], repeats)
        return n * nbytes / put, n * nbytes / get

    row["sync_put"], row["sync_get"] = await anyio.to_thread.run_sync(sync_bench)
    row.update(await anyio.to_thread.run_sync(_redis_benchmark, host, port, password, nbytes, n))
    return row


def _redis_benchmark(
    host: str, port: str, password: str, nbytes: int, n: int, pipeline: int = 1
) -> dict:
    """redis-benchmark SET/GET of the same value size (``pipeline`` requests in flight). It takes
    a password only on its command line, where ``ps`` shows it: it gets a user of its own for the
    run, never the store's secret."""
    exe = shutil.which("redis-benchmark")
    if exe is None:
        return {}
    user, user_password = f"bench-{secrets.token_hex(4)}", secrets.token_hex(16)
    admin = redis.Redis(host=host, port=int(port), password=password)
    admin.acl_setuser(
        user, enabled=True, passwords=[f"+{user_password}"], keys="*", commands=["+@all"]
    )
    try:
        argv = [exe, "-h", host, "-p", port, "--user", user, "-a", user_password, "--csv"]
        argv += ["-t", "set,get", "-d", str(nbytes), "-n", str(n), "-c", "1", "-P", str(pipeline)]
        out = subprocess.run(argv, capture_output=True, text=True)
    finally:
        admin.acl_deluser(user)
        admin.close()
    rates = dict(re.findall(r'"(SET|GET)","([\d.]+)"', out.stdout))
    return {f"redis_benchmark_{op.lower()}": float(rate) * nbytes for op, rate in rates.items()}


async def bench_bulk(address: str, password: str, repeats: int) -> dict:
    tensors = {f"bulk{i}": np.full(BULK_BYTES // 4, i, np.float32) for i in range(BULK_COUNT)}
    names = list(tensors)
    host, port = address.rsplit(":", 1)
    row: dict[str, float] = {}
    async with Client(address=address, cluster=False) as client:
        row["smartflow_put"] = BULK_COUNT / await _timed(
            lambda: client.put_tensors(tensors), repeats
        )

        async def sf_get() -> None:
            await client.get_tensors(names)

        row["smartflow_get"] = BULK_COUNT / await _timed(sf_get, repeats)
    raw = aioredis.Redis(host=host, port=int(port), password=password, protocol=2)
    try:

        async def raw_put() -> None:
            async with raw.pipeline(transaction=False) as pipe:
                for name, value in tensors.items():
                    pipe.set("r" + name, value.tobytes())
                await pipe.execute()

        async def raw_get() -> None:
            async with raw.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.get("r" + name)
                values = await pipe.execute()
            [np.frombuffer(v, np.float32) for v in values]

        row["redispy_put"] = BULK_COUNT / await _timed(raw_put, repeats)
        row["redispy_get"] = BULK_COUNT / await _timed(raw_get, repeats)
    finally:
        await raw.aclose()
    return row


def _print_tables(sizes: dict[str, dict], bulk: dict) -> None:
    cols = [
        "smartflow_put", "redispy_put", "sync_put", "redis_benchmark_set",
        "smartflow_get", "redispy_get", "sync_get", "redis_benchmark_get",
    ]  # fmt: skip
    print(
        "\nthroughput, MB/s (1 MB = 1e6 bytes); one client, sequential; ratio = smartflow/redis-py"
    )
    print(
        f"{'size':>6} " + " ".join(f"{c:>20}" for c in cols) + f" {'put ratio':>9} {'get ratio':>9}"
    )
    for size, row in sizes.items():
        cells = " ".join(f"{row[c] / 1e6:20.1f}" if c in row else f"{'n/a':>20}" for c in cols)
        put_ratio = row["smartflow_put"] / row["redispy_put"]
        get_ratio = row["smartflow_get"] / row["redispy_get"]
        print(f"{size:>6} {cells} {put_ratio:9.2f} {get_ratio:9.2f}")
    print(f"\nbulk {BULK_COUNT} x {BULK_BYTES} B, tensors/s (one pipelined call)")
    for op in ("put", "get"):
        sf, rp = bulk[f"smartflow_{op}"], bulk[f"redispy_{op}"]
        print(f"  {op}: smartflow {sf:10.0f}   redis-py pipeline {rp:10.0f}   ratio {sf / rp:.2f}")


async def main(quick: bool, json_path: Path | None) -> None:
    repeats = 3 if quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        async with Experiment("bench-tensors", exp_path=tmp) as exp:
            db = exp.create_database()
            await exp.start(db)
            address = db.get_address()[0]
            sizes = {}
            for label, nbytes in SIZES.items():
                sizes[label] = await bench_size(
                    address, db.password, nbytes, _count_for(nbytes, quick), repeats
                )
                print(f"measured {label}", file=sys.stderr)
            bulk = await bench_bulk(address, db.password, repeats)
    _print_tables(sizes, bulk)
    result = {
        "benchmark": "tensors",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "unit": {"sizes": "bytes/s", "bulk": "tensors/s"},
        "sizes": sizes,
        "bulk": bulk,
    }
    path = json_path or Path(__file__).parent / "results" / f"tensors-{int(time.time())}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, smaller runs")
    parser.add_argument("--json", type=Path, default=None, help="where to write the JSON result")
    args = parser.parse_args()
    anyio.run(main, args.quick, args.json)
