"""Fixtures of the batch inference tests: a store, a dispatcher, digits written as PNGs, the CNN."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from smartflow import Dispatcher, Experiment, Orchestrator
from smartflow.batch import loaders
from tests.batch import _servers
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


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server over a fresh directory: (base URL, directory)."""
    root = tmp_path / "www"
    root.mkdir()
    with _servers.http_server(root) as url:
        yield url, root


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with _servers.moto_s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest):
    """A fresh bucket on the moto server, reached through the standard AWS environment only."""
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    # Nothing from this machine's ~/.aws may take part.
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    bucket = "test-" + request.node.name.lower().replace("_", "-")[:40]
    client = loaders.s3_client()
    client.create_bucket(Bucket=bucket)
    yield client, bucket
    loaders.close_s3_clients()
