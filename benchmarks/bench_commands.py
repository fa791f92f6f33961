"""Small commands that left redis-py: smartflow's transport vs redis-py, same store, same run.

    python benchmarks/bench_commands.py [--quick] [--json PATH]

Until issue 16 the client sent its small commands (EXISTS, DEL, COPY, RENAME, RPUSH, LLEN, LRANGE,
GETRANGE, GET) through redis-py, beside its own transport for payloads. They now go through the
transport too. This measures whether that costs anything: sequential calls per second of each
call below through the ``Client``, beside the same Redis commands sent by ``redis.asyncio``
(``Redis`` on a single store, ``RedisCluster`` on a 3-shard cluster), cells alternated, each the
median of several repeats:

- ``tensor_exists`` (one ``EXISTS``), ``get_list_length`` (one ``LLEN``), ``copy_tensor`` (a
  ``GETRANGE`` probe and a ``COPY``; redis-py: the same two commands).

Prints a table and writes JSON (``--json``, else ``benchmarks/results/commands-<time>.json``).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import numpy as np
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster

from smartflow import Client, Experiment

ROOT = Path(__file__).resolve().parent.parent
Op = Callable[[], Awaitable[object]]


async def _rate(op: Op, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        await op()
    return calls / (time.perf_counter() - start)


async def _cells(ours: Op, theirs: Op, calls: int, repeats: int) -> dict[str, float]:
    """Calls/s of both, alternated repeat by repeat; medians."""
    a, b = [], []
    for _ in range(repeats):
        a.append(await _rate(ours, calls))
        b.append(await _rate(theirs, calls))
    return {"smartflow": statistics.median(a), "redis_py": statistics.median(b)}


def _redis_py(addresses: list[str], password: str, cluster: bool):  # type: ignore[no-untyped-def]
    host, port = addresses[0].rsplit(":", 1)
    if cluster:
        nodes = [ClusterNode(*a.rsplit(":", 1)) for a in addresses]
        return RedisCluster(startup_nodes=nodes, password=password, protocol=2)
    return aioredis.Redis(host=host, port=int(port), password=password, protocol=2)


async def bench_store(addresses: list[str], password: str, cluster: bool, calls: int, repeats: int):  # type: ignore[no-untyped-def]
    raw = _redis_py(addresses, password, cluster)
    try:
        async with Client(address=",".join(addresses), cluster=cluster) as client:
            await client.put_tensor("t", np.arange(16, dtype=np.float32))
            await raw.rpush("{l}.list", b"a", b"b")  # the key get_list_length("l") reads
            return {
                "tensor_exists": await _cells(
                    lambda: client.tensor_exists("t"), lambda: raw.exists("t"), calls, repeats
                ),
                "get_list_length": await _cells(
                    lambda: client.get_list_length("l"),
                    lambda: raw.llen("{l}.list"),
                    calls,
                    repeats,
                ),
                "copy_tensor": await _cells(
                    lambda: client.copy_tensor("t", "{t}.copy"),
                    lambda: _raw_copy(raw),
                    calls,
                    repeats,
                ),
            }
    finally:
        await raw.aclose()


async def _raw_copy(raw) -> None:  # type: ignore[no-untyped-def]
    await raw.getrange("t", 0, 7)
    await raw.copy("t", "{t}.copy", replace=True)


async def main(quick: bool, json_path: Path | None) -> None:
    calls, repeats = (500, 3) if quick else (3000, 7)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with Experiment("bench-commands", exp_path=Path(tmp) / "exp") as exp:
            single = exp.create_database(db_identifier="single")
            cluster = exp.create_database(db_nodes=3, db_identifier="cluster")
            await exp.start(single, cluster)
            for label, db, clustered in (("single", single, False), ("cluster", cluster, True)):
                results[label] = await bench_store(
                    db.get_address(), db.password, clustered, calls, repeats
                )
    print("\nSequential calls/s, smartflow's transport vs redis-py (same commands, alternated)")
    print(f"{'store':<9}{'call':<17}{'smartflow':>11}{'redis-py':>11}{'ratio':>8}")
    for label, rows in results.items():
        for call, row in rows.items():
            ratio = row["smartflow"] / row["redis_py"]
            print(
                f"{label:<9}{call:<17}{row['smartflow']:>11.0f}{row['redis_py']:>11.0f}"
                f"{ratio:>8.2f}"
            )
    result = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
        "settings": {"calls": calls, "repeats": repeats},
        "calls_per_s": results,
    }
    path = json_path or ROOT / "benchmarks" / "results" / f"commands-{int(time.time())}.json"
    await anyio.Path(path.parent).mkdir(parents=True, exist_ok=True)
    await anyio.Path(path).write_text(json.dumps(result, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats")
    parser.add_argument("--json", type=Path, default=None, help="where to write the JSON result")
    args = parser.parse_args()
    anyio.run(main, args.quick, args.json)
