"""Clustered and co-located stores: ready time, bulk throughput over shards, unix socket vs TCP.

    python benchmarks/bench_stores.py [--quick] [--json PATH]

1. Ready time (start() until every shard reports cluster_state:ok) for 1, 3 and 8 shards; Redis's
   own floor for a new cluster is about 2 s, and SmartSim's design sleeps put it at >= 10 s.
2. put_tensors/get_tensors of 10,000 x 64 KiB, in batches of 1,000, over one shard and over a
   3-shard cluster, with raw redis-py (a pipeline; RedisCluster's pipeline for the cluster) as the
   baseline in the same run.
3. A co-located store over a unix socket vs over TCP: sequential put/get of 1 KiB and 1 MiB
   tensors from the model's side (the same Client code, only SSDB differs).
Prints tables and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
import numpy as np
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

from smartflow import Client, Experiment

COUNT, BATCH, NBYTES = 10_000, 1_000, 64 * 1024


async def ready_times(exp: Experiment, shards: int, repeats: int) -> float:
    times = []
    for i in range(repeats):
        db = exp.create_database(db_nodes=shards, db_identifier=f"ready{shards}_{i}")
        start = time.perf_counter()
        await exp.start(db)
        times.append(time.perf_counter() - start)
        await exp.stop(db)
    return statistics.median(times)


def _raw_client(address: str, password: str, clustered: bool) -> aioredis.Redis | RedisCluster:
    host, port = address.rsplit(":", 1)
    if clustered:
        return RedisCluster(host=host, port=int(port), password=password, protocol=2)
    return aioredis.Redis(host=host, port=int(port), password=password, protocol=2)


async def throughput(address: str, password: str, clustered: bool, repeats: int) -> dict:
    """MB/s of smartflow and raw redis-py, the four cells measured in turn each repeat (this
    VM's speed drifts: alternating keeps the comparison fair), medians kept."""
    value = np.ones(NBYTES // 4, np.float32)
    payload = value.tobytes()
    batches = [[f"t{b}_{i}" for i in range(BATCH)] for b in range(COUNT // BATCH)]
    raw = _raw_client(address, password, clustered)
    async with Client(address=address, cluster=clustered) as client:

        async def smartflow_put() -> None:
            for names in batches:
                await client.put_tensors(dict.fromkeys(names, value))

        async def smartflow_get() -> None:
            for names in batches:
                await client.get_tensors(names)

        async def redispy_put() -> None:
            for names in batches:
                async with raw.pipeline(transaction=False) as pipe:
                    for name in names:
                        pipe.set("r" + name, payload)
                    await pipe.execute()

        async def redispy_get() -> None:
            for names in batches:
                async with raw.pipeline(transaction=False) as pipe:
                    for name in names:
                        pipe.get("r" + name)
                    [np.frombuffer(v, np.float32) for v in await pipe.execute()]

        cells = [smartflow_put, redispy_put, smartflow_get, redispy_get]
        seconds: dict[str, list[float]] = {fn.__name__: [] for fn in cells}
        try:
            for _ in range(repeats):
                for fn in cells:
                    start = time.perf_counter()
                    await fn()
                    seconds[fn.__name__].append(time.perf_counter() - start)
        finally:
            await raw.aclose()
    return {name: COUNT * NBYTES / statistics.median(t) / 1e6 for name, t in seconds.items()}


COLO_SIZES = {"1KiB": (1024, 2000), "1MiB": (1024**2, 200)}


async def _put_get_rates(client: Client, nbytes: int, count: int) -> tuple[float, float]:
    value = np.ones(nbytes // 4, np.float32)
    start = time.perf_counter()
    for _ in range(count):
        await client.put_tensor("colo", value)
    put = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(count):
        await client.get_tensor("colo")
    get = time.perf_counter() - start
    return count * nbytes / put / 1e6, count * nbytes / get / 1e6


async def colocated(exp: Experiment, repeats: int) -> dict[str, dict[str, float]]:
    """Two models, one with a unix-socket store and one with a TCP store, running at once;
    the measurements alternate between them (this VM's speed drifts) and the medians are kept.
    Measured from the driver: on one host it is as close to the store as the model is."""
    models = {}
    for kind in ("uds", "tcp"):
        model = exp.create_model(f"colo_{kind}", exp.create_run_settings("sleep", ["600"]))
        model.colocate_db_uds() if kind == "uds" else model.colocate_db_tcp()
        models[kind] = model
    await exp.start(*models.values(), block=False)
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {k: {} for k in models}
    clients = {k: Client(address=m.colocated_db.get_address()[0]) for k, m in models.items()}
    try:
        for client in clients.values():
            await client.connect()
        for _ in range(max(repeats, 3)):
            for kind, client in clients.items():
                for label, (nbytes, count) in COLO_SIZES.items():
                    rates = await _put_get_rates(client, nbytes, count)
                    samples[kind].setdefault(label, []).append(rates)
    finally:
        for client in clients.values():
            await client.aclose()
        await exp.stop(*models.values())
    return {
        kind: {
            f"{op}_{label}": statistics.median(r[i] for r in runs)
            for label, runs in by_size.items()
            for i, op in enumerate(("put", "get"))
        }
        for kind, by_size in samples.items()
    }


async def main(quick: bool, json_path: Path | None) -> None:
    repeats = 1 if quick else 3
    result: dict = {"ready_s": {}, "throughput_MBps": {}}
    with tempfile.TemporaryDirectory() as tmp:
        async with Experiment("bench-cluster", exp_path=tmp) as exp:
            for shards in (1, 3, 8):
                result["ready_s"][shards] = await ready_times(exp, shards, repeats)
                print(f"ready time measured for {shards} shard(s)", file=sys.stderr)
            for shards in (1, 3):
                db = exp.create_database(db_nodes=shards, db_identifier=f"tp{shards}")
                await exp.start(db)
                result["throughput_MBps"][shards] = await throughput(
                    db.get_address()[0], db.password, shards > 1, repeats
                )
                await exp.stop(db)
                print(f"throughput measured for {shards} shard(s)", file=sys.stderr)
            result["colocated_MBps"] = await colocated(exp, repeats)
            print("co-located stores measured", file=sys.stderr)
    print("\nready time, s (start() until every shard says cluster_state:ok)")
    for shards, seconds in result["ready_s"].items():
        print(f"  {shards} shard(s): {seconds:6.2f}   (Redis floor ~2 s; SmartSim design >= 10 s)")
    print(f"\n{COUNT} x {NBYTES // 1024} KiB in batches of {BATCH}, MB/s")
    print(f"  {'shards':>6} {'sf put':>9} {'raw put':>9} {'sf get':>9} {'raw get':>9}")
    for shards, row in result["throughput_MBps"].items():
        keys = ("smartflow_put", "redispy_put", "smartflow_get", "redispy_get")
        cells = " ".join(f"{row[k]:9.0f}" for k in keys)
        print(f"  {shards:>6} {cells}")
    print("\nco-located store, one client, sequential, MB/s")
    for kind, row in result["colocated_MBps"].items():
        print("  " + kind + " " + "  ".join(f"{k} {v:8.1f}" for k, v in row.items()))
    result.update(
        benchmark="stores",
        when=time.strftime("%Y-%m-%dT%H:%M:%S"),
        machine={"cpus": os.cpu_count(), "python": platform.python_version()},
    )
    path = json_path or Path(__file__).parent / "results" / f"stores-{int(time.time())}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat per cell")
    parser.add_argument("--json", type=Path, default=None, help="where to write the JSON result")
    args = parser.parse_args()
    anyio.run(main, args.quick, args.json)
