"""Wake-up latency: wait_for_key (keyspace notifications) vs poll_key (polling), same store.

    python benchmarks/bench_wait.py [--trials N] [--poll-ms MS] [--quick] [--json PATH]

Starts one smartflow store (single shard, loopback). Each trial: a waiter starts waiting for a
fresh key; 20-30 ms later (a random delay, so a poller is at a random point of its period) a
writer client puts a small tensor under that key. The latency is from just before the put to
the moment the waiter returns, so both methods include the put's own round trip. The two methods
alternate trial by trial. Reports median, p90, p99 and max in ms, and the ratio poll/wait.

Also measures what the notifications cost writers when nobody waits: bulk ``put_tensors`` of
new keys and of overwritten keys, as keys/s seen by the client and as the server's own time per
SET (INFO commandstats), with ``notify-keyspace-events`` off, ``Kn`` (what wait_for_key sets on
Redis 7+) and ``KA`` (what it sets on older servers). A setting the server refuses (``Kn`` on
the bundled 6.2) prints as n/a and the rest still runs. Prints tables and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
import numpy as np
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from smartflow import Client, Experiment

BULK_KEYS = 20_000
FLAG_SETTINGS = {"off": "", "Kn": "Kn", "KA": "KA"}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _trial(
    waiter: Client, writer: Client, method: str, key: str, poll_ms: int, rng: random.Random
) -> float:
    returned_at = 0.0

    async def wait() -> None:
        nonlocal returned_at
        if method == "wait_for_key":
            await waiter.wait_for_key(key, timeout=10)
        elif not await waiter.poll_key(key, poll_ms, 10_000 // poll_ms + 1):
            raise RuntimeError(f"poll_key never saw {key}")
        returned_at = time.perf_counter()

    async with anyio.create_task_group() as tg:
        tg.start_soon(wait)
        await anyio.sleep(rng.uniform(0.020, 0.030))  # the waiter is subscribed / polling
        started = time.perf_counter()
        await writer.put_tensor(key, np.zeros(4, np.float32))
    return returned_at - started


async def bench_latency(address: str, trials: int, poll_ms: int) -> dict[str, list[float]]:
    rng = random.Random(0)
    poll_label = f"poll_key ({poll_ms} ms)"
    samples: dict[str, list[float]] = {"wait_for_key": [], poll_label: []}
    async with (
        Client(address=address, cluster=False) as waiter,
        Client(address=address, cluster=False) as writer,
    ):
        await writer.put_tensor("warm-up", np.zeros(1))
        await waiter.wait_for_key("warm-up")  # both connections exist before the clock runs
        for i in range(trials):
            for method in ("wait_for_key", "poll") if i % 2 else ("poll", "wait_for_key"):
                label = "wait_for_key" if method == "wait_for_key" else poll_label
                key = f"{method}-{i}"
                samples[label].append(await _trial(waiter, writer, method, key, poll_ms, rng))
    return samples


async def _refused_settings(raw: aioredis.Redis) -> dict[str, str]:
    """The settings of FLAG_SETTINGS this server refuses, each with why: Redis 6.2 (the
    bundled server) has no ``n`` flag, so ``Kn`` is a Redis 7 cell."""
    version = (await raw.info("server"))["redis_version"]
    refused = {}
    for label, flags in FLAG_SETTINGS.items():
        try:
            await raw.config_set("notify-keyspace-events", flags)
        except ResponseError as exc:
            needs = "needs Redis 7" if "n" in flags else f"refused: {exc}"
            refused[label] = f"n/a ({needs}: this server is {version})"
    await raw.config_set("notify-keyspace-events", "")
    return refused


async def bench_write_cost(address: str, password: str, repeats: int) -> dict[str, dict]:
    """Per notification setting (nobody subscribed): bulk puts of small tensors, keys/s as the
    client sees them, and the server's own microseconds per SET (INFO commandstats, which
    counts the notification work done inside the command). Settings alternate each repeat.
    A setting the server refuses is reported as ``{"n/a": why}`` and not measured."""
    host, port = address.rsplit(":", 1)
    raw = aioredis.Redis(host=host, port=int(port), password=password)
    try:
        refused = await _refused_settings(raw)
        labels = [label for label in FLAG_SETTINGS if label not in refused]
        runs = await _measure_settings(address, raw, labels, repeats)
    finally:
        await raw.aclose()
    measured = {
        label: {
            "new_keys_per_s": statistics.median(row["new"]),
            "overwrites_per_s": statistics.median(row["overwrite"]),
            "server_us_per_new_set": statistics.median(row["new_us"]),
            "server_us_per_overwrite": statistics.median(row["overwrite_us"]),
        }
        for label, row in runs.items()
    }
    # In FLAG_SETTINGS order, so the table reads the same on every server.
    return {label: measured.get(label, {"n/a": refused.get(label)}) for label in FLAG_SETTINGS}


async def _measure_settings(
    address: str, raw: aioredis.Redis, labels: list[str], repeats: int
) -> dict[str, dict[str, list[float]]]:
    """The raw samples of bench_write_cost for the settings ``labels``."""
    tensor = np.zeros(16, np.float32)
    runs: dict[str, dict[str, list[float]]] = {
        label: {"new": [], "overwrite": [], "new_us": [], "overwrite_us": []} for label in labels
    }

    async def measure(batch: dict[str, np.ndarray]) -> tuple[float, float]:
        await raw.config_resetstat()
        start = time.perf_counter()
        await client.put_tensors(batch)
        elapsed = time.perf_counter() - start
        stats = (await raw.info("commandstats"))["cmdstat_set"]
        return BULK_KEYS / elapsed, float(stats["usec_per_call"])

    async with Client(address=address, cluster=False) as client:
        for r in range(-1, repeats):  # round -1 warms up and is not kept
            for label in labels[r % len(labels) :] + labels[: r % len(labels)]:
                await raw.config_set("notify-keyspace-events", FLAG_SETTINGS[label])
                await raw.flushall()
                batch = {f"new-{i}": tensor for i in range(BULK_KEYS)}
                new = await measure(batch)  # every key created
                overwrite = await measure(batch)  # every key overwritten
                if r >= 0:
                    row = runs[label]
                    row["new"].append(new[0])
                    row["new_us"].append(new[1])
                    row["overwrite"].append(overwrite[0])
                    row["overwrite_us"].append(overwrite[1])
        await raw.config_set("notify-keyspace-events", "")
    return runs


def _print_tables(latency: dict[str, list[float]], cost: dict[str, dict], trials: int) -> None:
    print(f"\nwake-up latency, put -> waiter returns, ms; {trials} trials each, alternated")
    print(f"{'method':>20} {'median':>8} {'p90':>8} {'p99':>8} {'max':>8}")
    medians = {}
    for label, values in latency.items():
        ms = [v * 1e3 for v in values]
        medians[label] = statistics.median(ms)
        print(
            f"{label:>20} {medians[label]:8.3f} {_percentile(ms, 0.9):8.3f} "
            f"{_percentile(ms, 0.99):8.3f} {max(ms):8.3f}"
        )
    wait, poll = medians["wait_for_key"], next(v for k, v in medians.items() if k != "wait_for_key")
    print(f"{'ratio poll/wait':>20} {poll / wait:8.1f}  (medians)")
    print(
        f"\ncost to writers: bulk put_tensors of {BULK_KEYS} x 64 B, nobody subscribed; "
        "client keys/s, and the server's own us per SET"
    )
    header = ("notify-keyspace", "new keys/s", "us/SET", "overwrites/s", "us/SET")
    print("{:>16} {:>12} {:>8} {:>13} {:>8}".format(*header))
    for label, row in cost.items():
        if "n/a" in row:
            print(f"{label:>16} {row['n/a']}")
            continue
        print(
            f"{label:>16} {row['new_keys_per_s']:12.0f} {row['server_us_per_new_set']:8.2f} "
            f"{row['overwrites_per_s']:13.0f} {row['server_us_per_overwrite']:8.2f}"
        )


async def main(trials: int, poll_ms: int, quick: bool, json_path: Path | None) -> None:
    repeats = 3 if quick else 7
    with tempfile.TemporaryDirectory() as tmp:
        async with Experiment("bench-wait", exp_path=tmp) as exp:
            db = exp.create_database()
            await exp.start(db)
            address = db.get_address()[0]
            latency = await bench_latency(address, trials, poll_ms)
            print("measured latency", file=sys.stderr)
            cost = await bench_write_cost(address, db.password, repeats)
            print("measured write cost", file=sys.stderr)
    _print_tables(latency, cost, trials)
    result = {
        "benchmark": "wait",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "unit": {"latency": "seconds", "cost": "keys/s"},
        "poll_ms": poll_ms,
        "latency": latency,
        "cost": cost,
    }
    path = json_path or Path(__file__).parent / "results" / f"wait-{int(time.time())}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200, help="trials per method")
    parser.add_argument("--poll-ms", type=int, default=10, help="poll_key's period")
    parser.add_argument("--quick", action="store_true", help="50 trials, fewer repeats")
    parser.add_argument("--json", type=Path, default=None, help="where to write the JSON result")
    args = parser.parse_args()
    if args.trials < 1 or args.poll_ms < 1:
        parser.error("--trials and --poll-ms must be >= 1")
    anyio.run(main, 50 if args.quick else args.trials, args.poll_ms, args.quick, args.json)
