"""Models and scripts declared on entities (add_ml_model, add_script, add_function): checked
when declared, loaded into the right store before the entity's process starts, and a model that
cannot be loaded fails the start with nothing left running."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from smartflow import (
    Client,
    DBModel,
    DBScript,
    Experiment,
    ExperimentError,
    InvalidArgumentError,
    InvalidModelError,
    Status,
    UnsupportedTypeError,
)
from tests.inference import models

# Runs the declared model and both scripts on one input; writes what came back to result.json.
APP = """
import json
import numpy as np
from smartflow import SyncClient

x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
with SyncClient() as client:  # the store of the environment contract
    client.put_tensor("x", x)
    client.run_model("mlp", inputs=["x"], outputs=["y"])
    client.run_script("prep", "centre", inputs=["x"], outputs=["c"])
    client.run_script("twice", "twice", inputs=["x"], outputs=["t"])
    result = {key: client.get_tensor(key).tolist() for key in ("y", "c", "t")}
json.dump(result, open("result.json", "w"))
"""
X = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
SCRIPT = "def centre(x):\n    return x - x.mean()\n"


def twice(x):  # type: ignore[no-untyped-def]
    """Loaded with add_function: its source is sent, so it may only use np and itself."""
    return x * 2


def _model(experiment: Experiment, name: str = "app"):  # type: ignore[no-untyped-def]
    settings = experiment.create_run_settings(sys.executable, ["-c", APP])
    return experiment.create_model(name, settings)


def _declare(entity, mlp: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The mlp from bytes, the script from a file, and ``twice`` as a function."""
    (tmp_path / "prep.py").write_text(SCRIPT)
    entity.add_ml_model("mlp", "ONNX", model=mlp)
    entity.add_script("prep", script_path=tmp_path / "prep.py")
    entity.add_function("twice", twice)


def _check(result: dict[str, np.ndarray], reference) -> None:  # type: ignore[no-untyped-def]
    np.testing.assert_allclose(result["y"], reference(X), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(result["c"], X - X.mean(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result["t"], X * 2)


def _result_file(model) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    raw = json.loads((Path(model.path) / "result.json").read_text())
    return {key: np.asarray(value, dtype=np.float32) for key, value in raw.items()}


# -- checked when declared -----------------------------------------------------------------------

MLP = models.mlp(n_in=4, hidden=8, n_out=2)[0]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, InvalidArgumentError, "exactly one of model= and model_path="),
        ({"model": MLP, "model_path": __file__}, InvalidArgumentError, "exactly one"),
        ({"model_path": "/no/such/model.onnx"}, InvalidArgumentError, "not an existing file"),
        ({"model_path": "/"}, InvalidArgumentError, "not an existing file"),
        ({"model": "not bytes"}, UnsupportedTypeError, "must be bytes"),
        ({"model": b""}, InvalidArgumentError, "is empty"),
        ({"model": MLP, "backend": "TF"}, InvalidArgumentError, "backend 'TF' is not supported"),
        ({"model": MLP, "backend": "TORCH"}, InvalidArgumentError, "export .* to ONNX"),
        ({"model": MLP, "device": "TPU"}, InvalidArgumentError, "'CPU' or 'GPU'"),
        ({"model": MLP, "device": "CPU", "devices_per_node": 2}, InvalidArgumentError, "'GPU'"),
        ({"model": MLP, "device": "CPU", "first_device": 1}, InvalidArgumentError, "'GPU'"),
        ({"model": MLP, "device": "GPU", "devices_per_node": 0}, InvalidArgumentError, "least 1"),
        ({"model": MLP, "first_device": -1}, InvalidArgumentError, "first_device must be"),
        ({"model": MLP, "batch_size": -1}, InvalidArgumentError, "batch_size must be"),
        ({"model": MLP, "batch_size": True}, InvalidArgumentError, "batch_size must be"),
        ({"model": MLP, "min_batch_size": -1}, InvalidArgumentError, "min_batch_size must"),
        ({"model": MLP, "min_batch_timeout": 1.5}, InvalidArgumentError, "min_batch_timeout"),
        ({"model": MLP, "batch_size": 2, "min_batch_size": 4}, InvalidArgumentError, "at least"),
        ({"model": MLP, "tag": 3}, UnsupportedTypeError, "tag must be a str"),
        ({"model": MLP, "inputs": [1]}, UnsupportedTypeError, "inputs must be"),
        ({"model": MLP, "outputs": [""]}, InvalidArgumentError, "outputs must be"),
        ({"model": MLP, "name": ""}, InvalidArgumentError, "non-empty str"),
        ({"model": MLP, "name": "a{b}"}, InvalidArgumentError, "braces"),
    ],
)
def test_add_ml_model_refuses_bad_arguments(
    experiment: Experiment, kwargs: dict, error: type[Exception], match: str
) -> None:
    model = _model(experiment)
    arguments = {"name": "m", "backend": "ONNX", **kwargs}
    with pytest.raises(error, match=match):
        model.add_ml_model(**arguments)
    assert model.db_models == [] and model.db_scripts == []


def _unreadable_function():  # type: ignore[no-untyped-def]
    namespace: dict = {}
    exec("def hidden(x):\n    return x\n", namespace)  # no file holds its source
    return namespace["hidden"]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m: m.add_script("s"), InvalidArgumentError, "exactly one of script="),
        (lambda m: m.add_script("s", SCRIPT, __file__), InvalidArgumentError, "exactly one"),
        (lambda m: m.add_script("s", script_path="/no/such.py"), InvalidArgumentError, "file"),
        (lambda m: m.add_script("s", b"x = 1"), UnsupportedTypeError, "must be str"),
        (lambda m: m.add_script("s", "def f(:\n"), InvalidArgumentError, "does not compile"),
        (lambda m: m.add_script("s", SCRIPT, device="gpu:0"), InvalidArgumentError, "device"),
        (lambda m: m.add_function("f"), UnsupportedTypeError, "Python function"),
        (lambda m: m.add_function("f", len), UnsupportedTypeError, "Python function"),
        (lambda m: m.add_function("f", lambda x: x), InvalidArgumentError, "lambda"),
        (
            lambda m: m.add_function("f", _unreadable_function()),
            InvalidArgumentError,
            "source of hidden cannot be read",
        ),
        (
            lambda m: m.add_function("f", twice, devices_per_node=2),
            InvalidArgumentError,
            "'GPU'",
        ),
    ],
)
def test_add_script_and_add_function_refuse_bad_arguments(
    experiment: Experiment, call, error: type[Exception], match: str
) -> None:
    model = _model(experiment)
    with pytest.raises(error, match=match):
        call(model)
    assert model.db_models == [] and model.db_scripts == []


def test_names_are_unique_across_models_and_scripts(experiment: Experiment) -> None:
    model = _model(experiment)
    model.add_ml_model("m", "onnx", model=MLP)
    for again in (
        lambda: model.add_ml_model("m", "ONNX", model=MLP),
        lambda: model.add_script("m", SCRIPT),
        lambda: model.add_function("m", twice),
    ):
        with pytest.raises(InvalidArgumentError, match="already has a model named 'm'"):
            again()
    assert [m.name for m in model.db_models] == ["m"] and model.db_scripts == []


def test_records_hold_the_checked_arguments(experiment: Experiment, tmp_path: Path) -> None:
    model = _model(experiment)
    (tmp_path / "m.onnx").write_bytes(MLP)
    model.add_ml_model(
        "m", "onnx", model_path=tmp_path / "m.onnx", device="gpu", devices_per_node=2,
        first_device=1, batch_size=8, min_batch_size=2, inputs="x", outputs=["y"],
    )  # fmt: skip
    model.add_function("twice", twice)
    (record,) = model.db_models
    assert isinstance(record, DBModel) and record.model is None
    assert record.model_path == tmp_path / "m.onnx" and record.backend == "ONNX"
    assert record.devices == ["GPU:1", "GPU:2"]
    assert (record.batch_size, record.min_batch_size, record.inputs) == (8, 2, ("x",))
    (script,) = model.db_scripts
    assert isinstance(script, DBScript) and script.function == "twice"
    assert script.script.startswith("def twice(x):") and script.devices == ["CPU"]
    shown = experiment.preview(model)
    assert f"loads model 'm' on GPU:1, GPU:2 ({tmp_path / 'm.onnx'})" in shown
    assert "loads script 'twice' on CPU (inline)" in shown


def test_ensemble_objects_go_to_every_member_or_none(experiment: Experiment) -> None:
    ensemble = experiment.create_ensemble(
        "ens", run_settings=experiment.create_run_settings(sys.executable), replicas=2
    )
    ensemble.models[1].add_script("s", SCRIPT)
    with pytest.raises(InvalidArgumentError, match="member 'ens_1' already has a script"):
        ensemble.add_ml_model("s", "ONNX", model=MLP)
    assert ensemble.db_models == [] and all(m.db_models == [] for m in ensemble.models)
    ensemble.add_ml_model("m", "ONNX", model=MLP)
    assert all(m.db_models == ensemble.db_models for m in ensemble.models)
    late = experiment.create_model("late", experiment.create_run_settings(sys.executable))
    clash = experiment.create_model("clash", experiment.create_run_settings(sys.executable))
    clash.add_script("m", SCRIPT)
    with pytest.raises(InvalidArgumentError, match="already has a script named 'm'"):
        ensemble.add_model(clash)
    assert clash.ensemble is None and len(ensemble.models) == 2
    ensemble.add_model(late)
    assert late.db_models == ensemble.db_models


async def test_a_model_with_objects_needs_a_store(experiment: Experiment) -> None:
    model = _model(experiment)
    model.add_ml_model("mlp", "ONNX", model=MLP)
    with pytest.raises(ExperimentError, match="need a store"):
        await experiment.start(model)
    assert await experiment.get_status(model) == [Status.NEW]


# -- loaded at start --------------------------------------------------------------------------


async def test_objects_are_loaded_into_the_store_before_the_model_runs(
    experiment: Experiment, tmp_path: Path
) -> None:
    mlp, reference = models.mlp(n_in=4, hidden=8, n_out=2)
    db = experiment.create_database()
    model = _model(experiment)
    (tmp_path / "mlp.onnx").write_bytes(mlp)
    model.add_ml_model("mlp", "ONNX", model_path=tmp_path / "mlp.onnx")
    model.add_script("prep", SCRIPT)
    model.add_function("twice", twice)
    await experiment.start(db)
    await experiment.start(model)
    assert await experiment.get_status(model) == [Status.COMPLETED]
    async with Client(address=db.get_address()[0], cluster=False) as client:
        assert await client.get_model("mlp") == mlp
        assert await client.get_script("prep") == SCRIPT
        _check(await client.get_tensors(["y", "c", "t"]), reference)
    await experiment.stop(db)


async def test_a_colocated_model_finds_its_objects_in_its_own_store(
    experiment: Experiment, tmp_path: Path
) -> None:
    mlp, reference = models.mlp(n_in=4, hidden=8, n_out=2)
    model = _model(experiment)
    model.colocate_db_tcp()
    _declare(model, mlp, tmp_path)
    await experiment.start(model)
    assert await experiment.get_status(model) == [Status.COMPLETED]
    _check(_result_file(model), reference)


async def test_an_ensemble_loads_its_objects_once_into_a_cluster(
    experiment: Experiment, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mlp, reference = models.mlp(n_in=4, hidden=8, n_out=2)
    db = experiment.create_database(db_nodes=3)
    settings = experiment.create_run_settings(sys.executable, ["-c", APP])
    ensemble = experiment.create_ensemble("ens", run_settings=settings, replicas=2)
    _declare(ensemble, mlp, tmp_path)
    ensemble.models[0].add_script("own", SCRIPT)  # a member's own, loaded as well
    await experiment.start(db)
    with caplog.at_level("INFO", logger="smartflow"):
        await experiment.start(ensemble)
    assert "models and scripts loaded" in caplog.text and "count=4" in caplog.text
    assert await experiment.get_status(ensemble) == [Status.COMPLETED] * 2
    async with Client(address=",".join(db.get_address()), cluster=True) as client:
        assert await client.model_exists("own")
        for member in ensemble.models:  # members prefix their keys with their names
            _check(_result_file(member), reference)
            names = [f"{member.name}.{key}" for key in ("y", "c", "t")]
            stored = await client.get_tensors(names)
            _check({key[-1]: value for key, value in stored.items()}, reference)
    await experiment.stop(db)


@pytest.mark.parametrize("colocated", [True, False], ids=["colocated", "shared-store"])
async def test_a_bad_model_file_fails_the_start_and_leaves_nothing_running(
    experiment: Experiment, tmp_path: Path, colocated: bool
) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"these bytes are not an ONNX model")
    model = _model(experiment)
    model.add_function("twice", twice)
    model.add_ml_model("bad", "ONNX", model_path=bad)
    if colocated:
        model.colocate_db_tcp()
    else:
        db = experiment.create_database()
        await experiment.start(db)
    with pytest.raises(InvalidModelError, match=r"app: model 'bad' could not be loaded into"):
        await experiment.start(model)
    assert await experiment.get_status(model) == [Status.NEW]  # never launched
    assert not (Path(model.path) / "result.json").exists()
    records = {r["name"]: r for r in experiment.summary(format="records")}
    if colocated:  # its store was started for it, and stopped
        assert Status(records["app.db"]["status"]).is_terminal
    else:
        await experiment.stop(db)
