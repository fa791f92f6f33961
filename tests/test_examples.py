"""The examples run as written (the README's main job among them)."""

from __future__ import annotations

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
