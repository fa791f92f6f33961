"""An offline workload for the batch-inference tests: scikit-learn's digits and a small ONNX CNN.

Pure helpers: no store and no smartflow imports, nothing downloaded. The CNN is built in memory
with ``onnx.helper``: ``Conv(1->32, 3x3, pad 1)`` with fixed random weights, ``Relu``, a 2x2
``MaxPool``, ``Flatten``, a ``Gemm`` head fitted with ``LogisticRegression`` on the conv
features, and ``Softmax``. Input ``"x"`` float32 ``["N", 1, 8, 8]`` (pixels in 0..1); output
``"probs"`` float32 ``["N", 10]``. Default-domain opset 17, IR version 8.

The ``preprocess_*`` functions are module-level so that another process (cwd: the repository
root) can import them as ``"tests.batch.workloads:preprocess_png"`` and so on.
"""

from __future__ import annotations

import functools
import io
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

OPSET = 17
IR_VERSION = 8
CHANNELS = 32
TEST_FRACTION = 0.3
SLOW_ENV = "SMARTFLOW_TEST_SLOW_S"

Reference = Callable[[np.ndarray], np.ndarray]


@functools.lru_cache(maxsize=1)
def _digits_cached() -> tuple[np.ndarray, np.ndarray]:
    """Load the bundled digits once per process (read-only arrays)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = (data.images / 16.0).astype(np.float32)
    labels = data.target.astype(np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1797 digits: float32 images ``(N, 8, 8)`` in 0..1 and int64 labels ``(N,)``.

    Returns fresh copies, so callers may modify them.
    """
    images, labels = _digits_cached()
    return images.copy(), labels.copy()


def split_indices(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train / test indices into :func:`digits` (30 % test), the split ``build_cnn``
    fits its head on for the same ``seed``."""
    from sklearn.model_selection import train_test_split

    _, labels = _digits_cached()
    train, test = train_test_split(
        np.arange(len(labels)), test_size=TEST_FRACTION, random_state=seed, stratify=labels
    )
    return np.sort(train), np.sort(test)


def _conv_weights(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed random conv kernels ``(32, 1, 3, 3)`` (He-scaled) and biases ``(32,)``."""
    rng = np.random.default_rng(seed)
    w = (rng.standard_normal((CHANNELS, 1, 3, 3)) * np.sqrt(2.0 / 9.0)).astype(np.float32)
    b = (0.1 * rng.standard_normal(CHANNELS)).astype(np.float32)
    return w, b


def _features(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Conv (3x3, pad 1) -> relu -> 2x2 maxpool -> flatten (C, H, W order), in float32 numpy.

    ``x`` is ``(N, 1, 8, 8)``; the result is ``(N, 32 * 4 * 4)``.
    """
    x = np.asarray(x, dtype=np.float32)
    n = x.shape[0]
    padded = np.pad(x[:, 0], ((0, 0), (1, 1), (1, 1)))
    conv = np.zeros((n, CHANNELS, 8, 8), dtype=np.float32)
    for dy in range(3):
        for dx in range(3):
            patch = padded[:, None, dy : dy + 8, dx : dx + 8]
            conv += w[None, :, 0, dy, dx, None, None] * patch
    conv += b[None, :, None, None]
    relu = np.maximum(conv, np.float32(0))
    pooled = relu.reshape(n, CHANNELS, 4, 2, 4, 2).max(axis=(3, 5))
    return pooled.reshape(n, -1)


def _softmax(z: np.ndarray) -> np.ndarray:
    """Numerically stable softmax over the last axis, float32."""
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def _fit_head(features: np.ndarray, labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Fit a multinomial logistic-regression head; return ``(B (512, 10), C (10,))`` float32.

    Fitted on one thread: that is ~10x faster here than oversubscribed OpenMP/BLAS pools, and
    keeps the fitted head independent of the machine's core count.
    """
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    clf = LogisticRegression(max_iter=10_000, random_state=seed)
    with threadpool_limits(limits=1):
        clf.fit(features, labels)
    return clf.coef_.T.astype(np.float32), clf.intercept_.astype(np.float32)


def _graph(w: np.ndarray, b: np.ndarray, gw: np.ndarray, gb: np.ndarray) -> onnx.GraphProto:
    """The ONNX graph: Conv -> Relu -> MaxPool -> Flatten -> Gemm -> Softmax."""
    nodes = [
        helper.make_node(
            "Conv", ["x", "conv_w", "conv_b"], ["conv"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]
        ),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("MaxPool", ["relu"], ["pool"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "head_w", "head_b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
    ]
    return helper.make_graph(
        nodes,
        "digits_cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 10])],
        initializer=[
            numpy_helper.from_array(w, "conv_w"),
            numpy_helper.from_array(b, "conv_b"),
            numpy_helper.from_array(gw, "head_w"),
            numpy_helper.from_array(gb, "head_b"),
        ],
    )


@functools.lru_cache(maxsize=4)
def build_cnn(seed: int = 0) -> tuple[bytes, Reference]:
    """The digits CNN as ONNX bytes, and a numpy reference computing the same probabilities.

    Conv weights come from ``seed``; the head is fitted on the train part of
    ``split_indices(seed)``. ``reference(x)`` takes float32 ``(N, 1, 8, 8)`` and returns float32
    ``(N, 10)``, matching onnxruntime to ``atol=1e-4``. Cached per process.
    """
    images, labels = _digits_cached()
    train, _ = split_indices(seed)
    w, b = _conv_weights(seed)
    gw, gb = _fit_head(_features(images[train][:, None], w, b), labels[train], seed)
    model = helper.make_model(
        _graph(w, b, gw, gb),
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(model)

    def reference(x: np.ndarray) -> np.ndarray:
        """Numpy forward pass: ``(N, 1, 8, 8)`` float32 -> probabilities ``(N, 10)``."""
        return _softmax(_features(x, w, b) @ gw + gb)

    return model.SerializeToString(), reference


def write_digit_pngs(directory: Path, count: int, start: int = 0) -> tuple[list[Path], np.ndarray]:
    """Write digits ``start .. start + count - 1`` (wrapping past 1797) as 8-bit grayscale PNGs.

    Pixels are ``round(x * 255)``. Files are ``directory / f"digit_{k:06d}.png"`` with ``k`` the
    unwrapped position, so names are unique. Returns the paths and their int64 labels.
    """
    images, labels = _digits_cached()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    positions = np.arange(start, start + count)
    indices = positions % len(labels)
    paths = []
    for k, i in zip(positions, indices, strict=True):
        path = directory / f"digit_{k:06d}.png"
        pixels = np.round(images[i] * 255).astype(np.uint8)
        Image.fromarray(pixels, mode="L").save(path, format="PNG")
        paths.append(path)
    return paths, labels[indices].copy()


def preprocess_png(data: bytes) -> np.ndarray:
    """Decode 8x8 grayscale PNG bytes into float32 ``(1, 8, 8)`` in 0..1 (``/ 255``)."""
    with Image.open(io.BytesIO(data)) as image:
        pixels = np.asarray(image.convert("L"), dtype=np.float32)
    if pixels.shape != (8, 8):
        raise ValueError(f"expected an 8x8 image, got {pixels.shape}")
    return (pixels / np.float32(255))[None]


def preprocess_array(x: np.ndarray) -> np.ndarray:
    """An ``(8, 8)`` (or ``(1, 8, 8)``) array in 0..1 as float32 ``(1, 8, 8)``."""
    x = np.asarray(x, dtype=np.float32)
    if x.shape not in ((8, 8), (1, 8, 8)):
        raise ValueError(f"expected an (8, 8) array, got {x.shape}")
    return x.reshape(1, 8, 8)


def preprocess_slow(data: bytes) -> np.ndarray:
    """:func:`preprocess_png`, after sleeping ``$SMARTFLOW_TEST_SLOW_S`` seconds (default 0)."""
    delay = float(os.environ.get(SLOW_ENV, "0") or 0)
    if delay > 0:
        time.sleep(delay)
    return preprocess_png(data)


def preprocess_slow_array(x: np.ndarray) -> np.ndarray:
    """:func:`preprocess_array`, after sleeping ``$SMARTFLOW_TEST_SLOW_S`` seconds (default 0)."""
    delay = float(os.environ.get(SLOW_ENV, "0") or 0)
    if delay > 0:
        time.sleep(delay)
    return preprocess_array(x)


def preprocess_fail_on(data: bytes) -> np.ndarray:
    """:func:`preprocess_png`, but ``ValueError("bad input")`` for bytes starting ``b"BAD"``."""
    if bytes(data[:3]) == b"BAD":
        raise ValueError("bad input")
    return preprocess_png(data)


def corrupt_model() -> bytes:
    """The CNN's bytes truncated to half: onnxruntime refuses to load them."""
    model, _ = build_cnn()
    return model[: len(model) // 2]
