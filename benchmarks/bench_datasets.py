"""Dataset and aggregation-list speed: smartflow vs raw redis-py, same server, same run.

    python benchmarks/bench_datasets.py [--quick] [--json PATH]

1. put/get of a dataset of 10 float32 tensors x 64 KiB + 10 metadata fields:
   - smartflow ``put_dataset`` / ``get_dataset`` (one value, one round trip each);
   - the baseline: raw ``redis.asyncio`` in SmartRedis's layout (a key per tensor and a metadata
     hash, written in one pipeline; read as the hash, then the tensors in a second pipeline).
2. ``get_datasets_from_list`` over a list of 1,000 small datasets (one 16-float tensor, two
   metadata fields) vs naive one-by-one ``get_dataset`` calls, on one shard and on a 3-shard
   cluster.
Cells alternate between the contenders and each is the median of several repeats, so machine
noise hits both sides alike. Prints tables and writes JSON.
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

from smartflow import Client, DataSet, Experiment

TENSORS, TENSOR_BYTES, FIELDS = 10, 64 * 1024, 10
LIST_LEN = 1000


def _big_dataset() -> DataSet:
    rng = np.random.default_rng(0)
    ds = DataSet("bench")
    for i in range(TENSORS):
        ds.add_tensor(f"t{i}", rng.random(TENSOR_BYTES // 4, dtype=np.float32))
    for i in range(FIELDS):
        ds.add_meta_scalar(f"m{i}", float(i))
    return ds


async def _alternated(contenders: dict[str, Callable[[], Awaitable[None]]], repeats: int) -> dict:
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            start = time.perf_counter()
            await fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


async def bench_dataset_put_get(address: str, password: str, n: int, repeats: int) -> dict:
    ds = _big_dataset()
    tensors = {name: ds.get_tensor(name) for name in ds.get_tensor_names()}
    meta = {f: ds.get_meta_scalars(f).tobytes() for f in ds.get_metadata_field_names()}
    host, port = address.rsplit(":", 1)
    async with (
        Client(address=address) as client,
        aioredis.Redis(host=host, port=int(port), password=password) as raw,
    ):

        async def sf_put() -> None:
            for _ in range(n):
                await client.put_dataset(ds)

        async def sf_get() -> None:
            for _ in range(n):
                await client.get_dataset("bench")

        async def raw_put() -> None:
            for _ in range(n):
                pipe = raw.pipeline(transaction=False)
                for name, array in tensors.items():
                    pipe.set(f"{{raw}}.{name}", array.tobytes())
                pipe.hset("{raw}.meta", mapping={**meta, ".tensor_names": ",".join(tensors)})
                await pipe.execute()

        async def raw_get() -> None:
            for _ in range(n):
                fields = await raw.hgetall("{raw}.meta")
                names = fields[b".tensor_names"].decode().split(",")
                pipe = raw.pipeline(transaction=False)
                for name in names:
                    pipe.get(f"{{raw}}.{name}")
                values = await pipe.execute()
                [np.frombuffer(v, np.float32).copy() for v in values]

        await raw_put()
        await sf_put()
        t = await _alternated(
            {"sf_put": sf_put, "raw_put": raw_put, "sf_get": sf_get, "raw_get": raw_get}, repeats
        )
    return {name: n / seconds for name, seconds in t.items()}  # datasets per second


async def bench_list_fetch(address: str, cluster: bool, repeats: int) -> dict:
    async with Client(address=address, cluster=cluster) as client:
        for i in range(LIST_LEN):
            ds = DataSet(f"small{i}")
            ds.add_tensor("x", np.full(16, i, dtype=np.float32))
            ds.add_meta_scalar("step", i)
            ds.add_meta_string("who", "bench")
            await client.put_dataset(ds)
            await client.append_to_list("agg", ds)

        async def pipelined() -> None:
            assert len(await client.get_datasets_from_list("agg")) == LIST_LEN

        async def naive() -> None:
            for i in range(LIST_LEN):
                await client.get_dataset(f"small{i}")

        t = await _alternated({"pipelined": pipelined, "naive": naive}, repeats)
    return {name: LIST_LEN / seconds for name, seconds in t.items()}


def _print(put_get: dict, lists: dict[str, dict]) -> None:
    mib = TENSORS * TENSOR_BYTES / 1024**2
    print(f"\nDataset of {TENSORS} x {TENSOR_BYTES // 1024} KiB tensors + {FIELDS} metadata fields")
    print(
        f"{'op':<6}{'smartflow ds/s':>16}{'raw redis-py ds/s':>19}{'ratio':>8}"
        f"{'smartflow MiB/s':>17}"
    )
    for op in ("put", "get"):
        sf, raw = put_get[f"sf_{op}"], put_get[f"raw_{op}"]
        print(f"{op:<6}{sf:>16.0f}{raw:>19.0f}{sf / raw:>8.2f}{sf * mib:>17.0f}")
    print(f"\nget_datasets_from_list, {LIST_LEN} small datasets (datasets/s)")
    print(f"{'store':<10}{'pipelined':>12}{'naive one-by-one':>18}{'ratio':>8}")
    for store, row in lists.items():
        print(
            f"{store:<10}{row['pipelined']:>12.0f}{row['naive']:>18.0f}"
            f"{row['pipelined'] / row['naive']:>8.1f}"
        )


async def main(quick: bool, json_path: Path | None) -> None:
    repeats = 3 if quick else 7
    n = 20 if quick else 100
    with tempfile.TemporaryDirectory() as tmp:
        async with Experiment("bench-datasets", exp_path=Path(tmp) / "exp") as exp:
            db = exp.create_database()
            cluster = exp.create_database(db_nodes=3, db_identifier="cluster")
            await exp.start(db, cluster)
            address = db.get_address()[0]
            put_get = await bench_dataset_put_get(address, db.password, n, repeats)
            lists = {
                "1 shard": await bench_list_fetch(address, False, repeats),
                "3 shards": await bench_list_fetch(",".join(cluster.get_address()), True, repeats),
            }
    _print(put_get, lists)
    result = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
        "dataset_put_get_per_s": put_get,
        "list_fetch_per_s": lists,
    }
    if json_path:
        await anyio.Path(json_path).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, smaller runs")
    parser.add_argument("--json", type=Path, default=None, help="where to write the JSON result")
    args = parser.parse_args()
    anyio.run(main, args.quick, args.json)
