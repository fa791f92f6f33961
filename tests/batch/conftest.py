"""Fixtures of the batch inference tests: a store, a dispatcher, digits written as PNGs, the CNN."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smartflow import Dispatcher, Experiment, Orchestrator
from tests.batch.workloads import build_cnn, write_digit_pngs

PREPROCESS = "tests.batch.workloads:preprocess_png"


def exactly_once(results: list, n: int) -> None:
    """One record per input position, in input order."""
    assert [r.index for r in results] == list(range(n))


@pytest.fixture
def cnn() -> tuple[bytes, object]:
    return build_cnn()


@pytest.fixture
def pngs(tmp_path: Path) -> tuple[list[str], np.ndarray]:
    """200 digits as PNG files, and their labels."""
    paths, labels = write_digit_pngs(tmp_path / "pngs", 200)
    return [str(p) for p in paths], labels


@pytest.fixture
async def dispatcher(experiment: Experiment, store: Orchestrator) -> Dispatcher:
    return experiment.create_dispatcher(store, max_task_managers=4)
