"""Launch-to-all-done time of ensembles: smartflow vs raw subprocesses vs SmartSim, same run.

    python benchmarks/bench_launch.py [--quick] [--smartsim-python PATH] [--json PATH]

For ensembles of 1, 50 and 200 members running ``true`` and ``sleep 0.1``, measures the wall time
from the start call until every member has ended:
  - smartflow: ``exp.create_ensemble(replicas=N)`` + ``await exp.start(ens, block=True)``;
  - raw: ``anyio.open_process`` of the same command N times, all running at once, output to files
    like smartflow's, then wait for all (the floor);
  - SmartSim 0.8's local launcher with ``SMARTSIM_FLAG_TELEMETRY=0``, run by the Python given with
    ``--smartsim-python`` (a venv with ``pip install smartsim``), or skipped with a message.
Each cell is the median of several repeats. Prints a table and writes JSON.
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
import textwrap
import time
from pathlib import Path

import anyio

from smartflow import Experiment, Status

COMMANDS = {"true": ["true"], "sleep 0.1": ["sleep", "0.1"]}
SIZES = (1, 50, 200)

SMARTSIM_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    from smartsim import Experiment
    exe, args, n, path = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    os.makedirs(path, exist_ok=True)
    exp = Experiment("ss-bench", exp_path=path, launcher="local")
    rs = exp.create_run_settings(exe=exe, exe_args=args)
    ens = exp.create_ensemble("ens", run_settings=rs, replicas=n)
    exp.generate(ens, overwrite=True)
    start = time.perf_counter()
    exp.start(ens, block=True, summary=False)
    print(json.dumps(time.perf_counter() - start))
    """
)


async def smartflow_time(argv: list[str], n: int, workdir: Path) -> float:
    async with Experiment("bench", exp_path=workdir) as exp:
        rs = exp.create_run_settings(argv[0], argv[1:])
        ens = exp.create_ensemble("ens", replicas=n, run_settings=rs)
        start = time.perf_counter()
        await exp.start(ens, block=True)
        elapsed = time.perf_counter() - start
        assert await exp.get_status(ens) == [Status.COMPLETED] * n
    return elapsed


async def raw_time(argv: list[str], n: int, workdir: Path) -> float:
    exe = shutil.which(argv[0]) or argv[0]
    workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (set-up, before the clock)
    start = time.perf_counter()
    processes = []
    for i in range(n):
        # The floor opens its output files right on the loop: no worker-thread hop.
        out = open(workdir / f"{i}.out", "wb")  # noqa: ASYNC230
        err = open(workdir / f"{i}.err", "wb")  # noqa: ASYNC230
        with out, err:
            processes.append(await anyio.open_process([exe, *argv[1:]], stdout=out, stderr=err))
    for process in processes:
        await process.wait()
        await process.aclose()
    return time.perf_counter() - start


def smartsim_time(python: str | None, argv: list[str], n: int, workdir: Path) -> float | None:
    if python is None:
        return None
    env = {**os.environ, "SMARTSIM_FLAG_TELEMETRY": "0", "SMARTSIM_LOG_LEVEL": "quiet"}
    result = subprocess.run(
        [python, "-c", SMARTSIM_SCRIPT, shutil.which(argv[0]) or argv[0], json.dumps(argv[1:]),
         str(n), str(workdir)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    if result.returncode != 0:
        print(f"SmartSim run failed: {result.stderr[-500:]}", file=sys.stderr)
        return None
    return float(result.stdout.strip().splitlines()[-1])


async def measure(args: argparse.Namespace) -> dict:
    repeats = 1 if args.quick else 3
    ss_repeats = 1
    table: dict[str, dict[str, float | None]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for label, argv in COMMANDS.items():
            for n in SIZES:
                key = f"{n} x {label}"
                sf, raw = [], []
                for r in range(repeats):
                    sf.append(await smartflow_time(argv, n, root / f"sf-{n}-{r}"))
                    raw.append(await raw_time(argv, n, root / f"raw-{n}-{r}"))
                ss = [
                    smartsim_time(args.smartsim_python, argv, n, root / f"ss-{n}-{r}")
                    for r in range(ss_repeats)
                ]
                table[key] = {
                    "smartflow_s": statistics.median(sf),
                    "raw_s": statistics.median(raw),
                    "smartsim_s": None if None in ss else statistics.median(ss),
                }
                print(f"measured {key}", file=sys.stderr)
        if args.smartsim_python:
            table["20 x sleep 0.1"] = {
                "smartflow_s": await smartflow_time(["sleep", "0.1"], 20, root / "sf-20"),
                "raw_s": await raw_time(["sleep", "0.1"], 20, root / "raw-20"),
                "smartsim_s": smartsim_time(
                    args.smartsim_python, ["sleep", "0.1"], 20, root / "ss-20"
                ),
            }
    return table


def print_table(table: dict, smartsim_python: str | None) -> None:
    print("\nlaunch-to-all-done, seconds (median); ratio = smartflow / raw, SmartSim / smartflow")
    heads = ("smartflow", "raw", "SmartSim")
    print(
        f"{'ensemble':>18} " + " ".join(f"{h:>10}" for h in heads) + f" {'sf/raw':>7} {'SS/sf':>7}"
    )
    for key, row in table.items():
        sf, raw, ss = row["smartflow_s"], row["raw_s"], row["smartsim_s"]
        ss_cell = f"{ss:10.3f}" if ss is not None else f"{'n/a':>10}"
        ss_ratio = f"{ss / sf:7.1f}" if ss is not None else f"{'n/a':>7}"
        print(f"{key:>18} {sf:10.3f} {raw:10.3f} {ss_cell} {sf / raw:7.2f} {ss_ratio}")
    if smartsim_python is None:
        print(
            "SmartSim skipped: pass --smartsim-python, a venv where `pip install smartsim` worked"
        )


async def main(args: argparse.Namespace) -> None:
    table = await measure(args)
    print_table(table, args.smartsim_python)
    result = {
        "benchmark": "launch",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "unit": "seconds",
        "results": table,
    }
    path = args.json or Path(__file__).parent / "results" / f"launch-{int(time.time())}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat per cell")
    parser.add_argument("--smartsim-python", default=None, help="a Python that can import smartsim")
    parser.add_argument("--json", type=Path, default=None, help="where to write the JSON result")
    anyio.run(main, parser.parse_args())
