"""The C client beside redis-benchmark and the Python client: same server, same run.

    python benchmarks/bench_native.py [--quick] [--prefix DIR] [--json PATH]

Builds ``clients/`` with CMake into a temporary directory (or uses an installed tree, ``--prefix``),
compiles ``benchmarks/native/bench_client.c`` against it with pkg-config, starts one smartflow
store (single shard, loopback), then measures, for uint8 tensors of 1 KiB, 1 MiB and 16 MiB,
sequential put and get throughput of
  - the C client (``put_tensor`` / ``unpack_tensor`` into the caller's buffer),
  - ``redis-benchmark`` SET/GET of the same value size, one connection (the floor),
  - smartflow's Python ``SyncClient`` (``put_tensor`` / ``get_tensor``),
and a pipelined bulk of 10,000 x 1 KiB: the C client's ``put_tensors`` / ``unpack_tensors``,
``redis-benchmark -P 10000`` and the Python client's ``put_tensors`` / ``get_tensors``. Each cell
is the median of several repeats. The C program gets the store from the environment contract
(``SSDB``, ``SSDB_PASSWORD``), never from its command line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
import numpy as np

from smartflow import Experiment, SyncClient

sys.path.insert(0, str(Path(__file__).parent))
from bench_tensors import _redis_benchmark  # a sibling script, not a package

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"1KiB": 1024, "1MiB": 1024**2, "16MiB": 16 * 1024**2}
BULK_COUNT, BULK_BYTES = 10_000, 1024


def _ops_for(nbytes: int, quick: bool) -> int:
    budget = (64 if quick else 512) * 1024**2
    return max(8, min(2000 if quick else 10000, budget // nbytes))


def build(prefix: Path | None, work: Path) -> Path:
    """The compiled C benchmark, against ``prefix`` or a fresh build of ``clients/``."""
    if prefix is None:
        prefix, build_dir = work / "prefix", work / "build"
        for args in (
            ["cmake", "-S", str(ROOT / "clients"), "-B", str(build_dir)],  # Release by default
            ["cmake", "--build", str(build_dir), "-j", str(os.cpu_count() or 2)],
            ["cmake", "--install", str(build_dir), "--prefix", str(prefix)],
        ):
            subprocess.run(args, check=True, capture_output=True)
    env = {**os.environ, "PKG_CONFIG_PATH": str(prefix / "lib" / "pkgconfig")}
    flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "smartflow"],
        check=True, capture_output=True, text=True, env=env,
    ).stdout.split()  # fmt: skip
    exe = work / "bench_client"
    source = ROOT / "benchmarks" / "native" / "bench_client.c"
    rpath = f"-Wl,-rpath,{prefix / 'lib'}"
    argv = ["gcc", "-std=c99", "-O2", "-o", str(exe), str(source), *flags, rpath]
    subprocess.run(argv, check=True)
    return exe


def c_client(exe: Path, env: dict[str, str], *args: object) -> dict[str, float]:
    """One run of the C benchmark: seconds per op by case."""
    out = subprocess.run(
        [str(exe), *map(str, args)], check=True, capture_output=True, text=True, env=env
    ).stdout
    return {row["case"]: row["seconds_per_op"] for row in map(json.loads, out.splitlines())}


def _median_of(repeats: int, fn) -> dict[str, float]:
    runs = [fn() for _ in range(repeats)]
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def _timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def python_client(address: str, password: str, nbytes: int, n: int, repeats: int) -> dict:
    array = np.full(nbytes, 7, np.uint8)
    with SyncClient(address=address, cluster=False, password=password) as client:
        put = _timed(lambda: [client.put_tensor("pybench", array) for _ in range(n)], repeats)
        get = _timed(lambda: [client.get_tensor("pybench") for _ in range(n)], repeats)
    return {"python_put": n * nbytes / put, "python_get": n * nbytes / get}


def python_bulk(address: str, password: str, repeats: int) -> dict:
    tensors = {f"pybulk{i}": np.full(BULK_BYTES, i % 256, np.uint8) for i in range(BULK_COUNT)}
    names = list(tensors)
    with SyncClient(address=address, cluster=False, password=password) as client:
        put = _timed(lambda: client.put_tensors(tensors), repeats)
        get = _timed(lambda: client.get_tensors(names), repeats)
    return {"python_put": BULK_COUNT / put, "python_get": BULK_COUNT / get}


def measure(exe: Path, address: str, password: str, quick: bool) -> tuple[dict, dict]:
    repeats = 3 if quick else 5
    env = {**os.environ, "SSDB": address, "SR_DB_TYPE": "Standalone", "SSDB_PASSWORD": password}
    host, port = address.rsplit(":", 1)
    sizes: dict[str, dict[str, float]] = {}
    for label, nbytes in SIZES.items():
        n = _ops_for(nbytes, quick)
        row: dict[str, float] = {}
        for op in ("put", "get"):
            per_op = _median_of(
                repeats, lambda op=op, nbytes=nbytes, n=n: c_client(exe, env, op, nbytes, n)
            )
            row[f"c_{op}"] = nbytes / per_op[f"{op} {nbytes}"]
        row.update(python_client(address, password, nbytes, n, repeats))
        row.update(_redis_benchmark(host, port, password, nbytes, n))
        sizes[label] = row
        print(f"measured {label}", file=sys.stderr)
    per_op = _median_of(repeats, lambda: c_client(exe, env, "bulk", BULK_COUNT, BULK_BYTES))
    case = f"{BULK_COUNT} x {BULK_BYTES}"
    bulk = {f"c_{op}": 1 / per_op[f"bulk {op} {case}"] for op in ("put", "get")}
    bulk.update(python_bulk(address, password, repeats))
    rb = _redis_benchmark(host, port, password, BULK_BYTES, BULK_COUNT, pipeline=BULK_COUNT)
    bulk.update({k: v / BULK_BYTES for k, v in rb.items()})  # bytes/s -> values/s
    return sizes, bulk


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:6.2f}" if a and b else f"{'n/a':>6}"


def print_tables(sizes: dict, bulk: dict) -> None:
    print("\nthroughput, MB/s (1 MB = 1e6 bytes); one connection, sequential")
    head = f"{'size':>6} {'op':>4} {'C client':>10} {'redis-benchmark':>16} {'Python':>10}"
    print(head + f" {'C/redis-bench':>14} {'C/Python':>9}")
    for label, row in sizes.items():
        for op, rb in (("put", "redis_benchmark_set"), ("get", "redis_benchmark_get")):
            c, r, p = row[f"c_{op}"], row.get(rb), row[f"python_{op}"]
            rtext = f"{r / 1e6:16.1f}" if r else f"{'n/a':>16}"
            print(
                f"{label:>6} {op:>4} {c / 1e6:10.1f} {rtext} {p / 1e6:10.1f} "
                f"{_ratio(c, r):>14} {_ratio(c, p):>9}"
            )
    print(f"\nbulk {BULK_COUNT} x {BULK_BYTES} B, values/s, pipelined")
    for op, rb in (("put", "redis_benchmark_set"), ("get", "redis_benchmark_get")):
        c, r, p = bulk[f"c_{op}"], bulk.get(rb), bulk[f"python_{op}"]
        rtext = f"{r:12.0f}" if r else f"{'n/a':>12}"
        print(
            f"  {op}: C {c:10.0f}   redis-benchmark -P {BULK_COUNT} {rtext}   Python {p:10.0f}"
            f"   C/redis-bench {_ratio(c, r)}   C/Python {_ratio(c, p)}"
        )


async def main(quick: bool, prefix: Path | None, json_path: Path | None) -> None:
    if shutil.which("redis-benchmark") is None:
        print("note: no redis-benchmark (apt-get install redis-tools): its cells are n/a",
              file=sys.stderr)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        exe = await anyio.to_thread.run_sync(build, prefix, Path(tmp))
        async with Experiment("bench-native", exp_path=Path(tmp) / "exp") as exp:
            db = exp.create_database()
            await exp.start(db)
            sizes, bulk = await anyio.to_thread.run_sync(
                measure, exe, db.get_address()[0], db.password, quick
            )
    print_tables(sizes, bulk)
    result = {
        "benchmark": "native",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "unit": {"sizes": "bytes/s", "bulk": "values/s"},
        "sizes": sizes,
        "bulk": bulk,
    }
    path = json_path or Path(__file__).parent / "results" / f"native-{int(time.time())}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, smaller runs")
    parser.add_argument("--prefix", type=Path, default=None, help="an installed clients/ tree")
    parser.add_argument("--json", type=Path, default=None, help="where to write the JSON result")
    args = parser.parse_args()
    anyio.run(main, args.quick, args.prefix, args.json)
