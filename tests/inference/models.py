"""Small real ONNX models, built in memory, for the inference tests.

Pure helpers: no store and no smartflow imports. Each builder returns the serialized model
(``bytes``, ready for ``onnxruntime.InferenceSession`` or the store) and, where useful, a numpy
reference implementation to compare outputs against (``rtol=1e-5, atol=1e-5``).

Hand-built models use default-domain opset 17 and IR version 8, which onnxruntime >= 1.18
accepts; every model has a dynamic leading ``"batch"`` dimension.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8

Reference = Callable[[np.ndarray], np.ndarray]


def _serialize(graph: onnx.GraphProto) -> bytes:
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION
    )
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _tensor(name: str, elem_type: int, width: int) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem_type, ["batch", width])


def mlp(
    n_in: int = 128, hidden: int = 256, n_out: int = 10, seed: int = 0
) -> tuple[bytes, Reference]:
    """A float32 two-layer perceptron: ``y = relu(x @ W1 + b1) @ W2 + b2``.

    Input ``"x"`` float32 ``["batch", n_in]``; output ``"y"`` float32 ``["batch", n_out]``.
    Nodes: Gemm, Relu, Gemm, with weights drawn from ``seed``. Returns the model bytes and a
    numpy function computing the same thing (float32 in, float32 out).
    """
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((n_in, hidden)) / np.sqrt(n_in)).astype(np.float32)
    b1 = (0.1 * rng.standard_normal(hidden)).astype(np.float32)
    w2 = (rng.standard_normal((hidden, n_out)) / np.sqrt(hidden)).astype(np.float32)
    b2 = (0.1 * rng.standard_normal(n_out)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["x", "w1", "b1"], ["h"]),
            helper.make_node("Relu", ["h"], ["r"]),
            helper.make_node("Gemm", ["r", "w2", "b2"], ["y"]),
        ],
        "mlp",
        [_tensor("x", TensorProto.FLOAT, n_in)],
        [_tensor("y", TensorProto.FLOAT, n_out)],
        initializer=[
            numpy_helper.from_array(w1, "w1"),
            numpy_helper.from_array(b1, "b1"),
            numpy_helper.from_array(w2, "w2"),
            numpy_helper.from_array(b2, "b2"),
        ],
    )

    def reference(x: np.ndarray) -> np.ndarray:
        h = np.maximum(x.astype(np.float32) @ w1 + b1, np.float32(0))
        return (h @ w2 + b2).astype(np.float32)

    return _serialize(graph), reference


def add_model() -> bytes:
    """Two inputs, two outputs: ``sum = a + b`` and ``diff = a - b``.

    Inputs ``"a"`` and ``"b"`` float32 ``["batch", 3]``; outputs ``"sum"`` and ``"diff"``
    float32 ``["batch", 3]``, in that order. For multi-input / multi-output tests.
    """
    graph = helper.make_graph(
        [
            helper.make_node("Add", ["a", "b"], ["sum"]),
            helper.make_node("Sub", ["a", "b"], ["diff"]),
        ],
        "add",
        [_tensor("a", TensorProto.FLOAT, 3), _tensor("b", TensorProto.FLOAT, 3)],
        [_tensor("sum", TensorProto.FLOAT, 3), _tensor("diff", TensorProto.FLOAT, 3)],
    )
    return _serialize(graph)


def identity_int64() -> bytes:
    """Identity on int64, for dtype-mismatch tests (feeding it float32 must fail).

    Input ``"x"`` int64 ``["batch", 4]``; output ``"y"`` int64 ``["batch", 4]``, equal to ``x``.
    """
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "identity_int64",
        [_tensor("x", TensorProto.INT64, 4)],
        [_tensor("y", TensorProto.INT64, 4)],
    )
    return _serialize(graph)


def sklearn_model(seed: int = 0) -> tuple[bytes, Reference]:
    """A scikit-learn ``RandomForestRegressor`` (10 trees, depth 4) converted with skl2onnx.

    Fit on 256 synthetic samples of 8 float32 features drawn from ``seed``. Input ``"x"``
    float32 ``["batch", 8]``; single output ``"y"`` float32 ``["batch", 1]`` (note the trailing
    1: sklearn's ``predict`` returns shape ``(batch,)``). The graph is an ``ai.onnx.ml``
    TreeEnsembleRegressor, so it also exercises onnxruntime's ML domain. The reference is the
    fitted model's ``predict``, reshaped to ``(batch, 1)`` float32.
    """
    # Imported here: scikit-learn and skl2onnx are slow to import and only this model needs them.
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((256, 8)).astype(np.float32)
    y = x @ rng.standard_normal(8) + np.sin(3 * x[:, 0]) + 0.1 * rng.standard_normal(256)
    model = RandomForestRegressor(n_estimators=10, max_depth=4, random_state=seed).fit(x, y)
    onx = convert_sklearn(
        model,
        initial_types=[("x", FloatTensorType([None, 8]))],
        final_types=[("y", FloatTensorType([None, 1]))],
        target_opset={"": OPSET, "ai.onnx.ml": 3},
    )
    # skl2onnx cannot take a named dim; name the dynamic batch dim like the hand-built models.
    for value in [*onx.graph.input, *onx.graph.output]:
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    onx.ir_version = min(onx.ir_version, IR_VERSION)
    onx.graph.name = "sklearn_random_forest"  # skl2onnx names it with a random uuid
    onnx.checker.check_model(onx)

    def reference(x: np.ndarray) -> np.ndarray:
        return model.predict(x.astype(np.float32)).astype(np.float32).reshape(-1, 1)

    return onx.SerializeToString(), reference


def batch_centering() -> bytes:
    """``y = x - mean(x, axis=0)`` over float32 ``x`` of shape ``["batch", 2]``.

    Its output depends on which rows run together: each row alone gives zeros, while rows
    joined into one batch give their offsets from the batch mean. That makes server-side
    batching observable from outside.
    """
    mean = helper.make_node("ReduceMean", ["x"], ["m"], axes=[0], keepdims=1)
    sub = helper.make_node("Sub", ["x", "m"], ["y"])
    graph = helper.make_graph(
        [mean, sub],
        "batch_centering",
        [_tensor("x", TensorProto.FLOAT, 2)],
        [_tensor("y", TensorProto.FLOAT, 2)],
    )
    return _serialize(graph)
