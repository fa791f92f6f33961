"""The examples run as written (the README's main job among them)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_runs_and_reports(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "equal=True" in result.stdout
    assert "KeyNotFoundError" in result.stdout
    assert "after stop: [<Status.CANCELLED" in result.stdout
    assert "ensemble of 4 ran" in result.stdout and "'Completed', 'Completed'" in result.stdout
    # Each member wrote its own tensor, computed from its own parameter (steps = 1..4).
    lines = result.stdout.splitlines()
    sums = [float(line.split("sum=")[1]) for line in lines if ".field:" in line]
    assert sums == [4.0, 12.0, 24.0, 40.0]
    assert "gathered 4 datasets from the shared list: steps=[1, 2, 3, 4]" in result.stdout


def _run_example(name: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_hello_world(tmp_path: Path) -> None:
    out = _run_example("hello_world.py", tmp_path)
    assert "Database status: [<Status.RUNNING" in out
    assert "Model status: [<Status.COMPLETED" in out
    assert "Model said: Hello World" in out
    assert re.search(r"orchestrator_0 +Orchestrator", out) and "Cancelled" in out


def test_colocated_model(tmp_path: Path) -> None:
    out = _run_example("colocated.py", tmp_path)
    assert "The colocated db tensor is: [1 2 3 4]" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("colo")}
    assert rows["colo_model"][5] == "Completed" and rows["colo_model.db"][5] == "Cancelled"


def test_multiple_stores(tmp_path: Path) -> None:
    out = _run_example("multi_store.py", tmp_path)
    assert "The clustered db tensor is: [1 2 3 4]" in out
    assert "The single-shard db tensor is: [9 9]" in out
    assert "The colocated db tensor is: [10 20 30 40]" in out
    assert "The tensor is [5 6 7 8] (found: True)" in out
    assert out.count("Orchestrator") == 5  # one single shard, three clustered, one co-located


def test_batch_inference(tmp_path: Path) -> None:
    out = _run_example("batch_inference.py", tmp_path)
    assert "job-1: 400 records, 400/400 right, statuses=['ok']" in out
    assert "job-1: 8 splits of 50 on 2 task managers" in out
    assert "followed: job-2: 5/5 splits, 100/100 inputs" in out
    for name in ("job-2", "job-3", "job-4"):
        assert f"{name}: done, 100 records, 5 split files" in out
    assert out.count("TaskManager") >= 4 and "Failed" not in out
