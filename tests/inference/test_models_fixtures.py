"""The in-memory ONNX test models load in onnxruntime and match their numpy references."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from . import models

TOL = {"rtol": 1e-5, "atol": 1e-5}


def _session(blob: bytes) -> ort.InferenceSession:
    return ort.InferenceSession(blob, providers=["CPUExecutionProvider"])


def _signature(args: list[ort.NodeArg]) -> list[tuple[str, list[object], str]]:
    return [(arg.name, list(arg.shape), arg.type) for arg in args]


@pytest.mark.parametrize(
    ("build", "n_in", "n_out"),
    [
        (lambda: models.mlp(), 128, 10),
        (lambda: models.mlp(n_in=16, hidden=32, n_out=3, seed=7), 16, 3),
        (lambda: models.sklearn_model(), 8, 1),
    ],
    ids=["mlp-default", "mlp-small", "sklearn"],
)
@pytest.mark.parametrize("batch", [1, 64])
def test_single_input_models_match_reference(
    build: Callable[[], tuple[bytes, Callable[[np.ndarray], np.ndarray]]],
    n_in: int,
    n_out: int,
    batch: int,
) -> None:
    blob, reference = build()
    sess = _session(blob)
    assert _signature(sess.get_inputs()) == [("x", ["batch", n_in], "tensor(float)")]
    assert _signature(sess.get_outputs()) == [("y", ["batch", n_out], "tensor(float)")]

    x = np.random.default_rng(batch).standard_normal((batch, n_in)).astype(np.float32)
    (y,) = sess.run(None, {"x": x})
    expected = reference(x)
    assert y.dtype == np.float32 and expected.dtype == np.float32
    assert y.shape == expected.shape == (batch, n_out)
    np.testing.assert_allclose(y, expected, **TOL)


def test_builders_are_deterministic_and_seeded() -> None:
    assert models.mlp()[0] == models.mlp()[0]
    assert models.mlp(seed=1)[0] != models.mlp()[0]
    assert models.sklearn_model()[0] == models.sklearn_model()[0]


@pytest.mark.parametrize(
    "blob",
    [models.mlp()[0], models.add_model(), models.identity_int64(), models.sklearn_model()[0]],
    ids=["mlp", "add", "identity_int64", "sklearn"],
)
def test_ir_and_opset_are_within_runtime_limits(blob: bytes) -> None:
    model = onnx.load_from_string(blob)
    onnx.checker.check_model(model)
    assert model.ir_version <= 8
    default = [op.version for op in model.opset_import if op.domain in ("", "ai.onnx")]
    assert default and max(default) <= 17


@pytest.mark.parametrize("batch", [1, 64])
def test_add_model_two_inputs_two_outputs(batch: int) -> None:
    sess = _session(models.add_model())
    float3 = ["batch", 3], "tensor(float)"
    assert _signature(sess.get_inputs()) == [("a", *float3), ("b", *float3)]
    assert _signature(sess.get_outputs()) == [("sum", *float3), ("diff", *float3)]

    rng = np.random.default_rng(batch)
    a, b = (rng.standard_normal((batch, 3)).astype(np.float32) for _ in range(2))
    total, diff = sess.run(None, {"a": a, "b": b})
    np.testing.assert_allclose(total, a + b, **TOL)
    np.testing.assert_allclose(diff, a - b, **TOL)
    (only_diff,) = sess.run(["diff"], {"a": a, "b": b})
    np.testing.assert_allclose(only_diff, a - b, **TOL)


@pytest.mark.parametrize("batch", [1, 64])
def test_identity_int64_round_trips_and_rejects_float(batch: int) -> None:
    sess = _session(models.identity_int64())
    assert _signature(sess.get_inputs()) == [("x", ["batch", 4], "tensor(int64)")]
    assert _signature(sess.get_outputs()) == [("y", ["batch", 4], "tensor(int64)")]

    x = np.random.default_rng(batch).integers(-(2**40), 2**40, size=(batch, 4), dtype=np.int64)
    (y,) = sess.run(None, {"x": x})
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, x)
    with pytest.raises(Exception, match=r"(?i)type"):
        sess.run(None, {"x": x.astype(np.float32)})
