"""Checks on the offline batch-inference workload (tests/batch/workloads.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from onnxruntime.capi.onnxruntime_pybind11_state import InvalidProtobuf

from tests.batch import workloads


def _session(model: bytes) -> ort.InferenceSession:
    """A CPU onnxruntime session on ``model``."""
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def _test_split() -> tuple[np.ndarray, np.ndarray]:
    """The held-out 30 % of the digits as ``(N, 1, 8, 8)`` float32 images and labels."""
    images, labels = workloads.digits()
    _, test = workloads.split_indices()
    return images[test][:, None], labels[test]


def test_digits_shape_and_range() -> None:
    """Images are float32 (N, 8, 8) in 0..1, with one label each."""
    images, labels = workloads.digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.float32
    assert labels.shape == (1797,)
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(np.unique(labels)) == set(range(10))


def test_model_io_signature() -> None:
    """Input "x" [N, 1, 8, 8] float and output "probs" [N, 10], with a dynamic batch dim."""
    session = _session(workloads.build_cnn()[0])
    (inp,) = session.get_inputs()
    (out,) = session.get_outputs()
    assert (inp.name, inp.shape, inp.type) == ("x", ["N", 1, 8, 8], "tensor(float)")
    assert (out.name, out.shape) == ("probs", ["N", 10])


def test_onnxruntime_matches_reference() -> None:
    """onnxruntime's probabilities equal the numpy reference on the test images."""
    model, reference = workloads.build_cnn()
    x, _ = _test_split()
    probs = _session(model).run(None, {"x": x})[0]
    assert probs.shape == (len(x), 10)
    np.testing.assert_allclose(probs, reference(x), atol=1e-4, rtol=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_held_out_accuracy() -> None:
    """The model classifies at least 97 % of the held-out digits correctly."""
    x, labels = _test_split()
    probs = _session(workloads.build_cnn()[0]).run(None, {"x": x})[0]
    assert (probs.argmax(axis=1) == labels).mean() >= 0.97


def test_build_is_cached_and_deterministic() -> None:
    """Repeated calls return the cached object; a fresh build gives the same bytes."""
    assert workloads.build_cnn() is workloads.build_cnn()
    assert workloads.build_cnn.__wrapped__(0)[0] == workloads.build_cnn(0)[0]
    assert workloads.build_cnn.__wrapped__(1)[0] != workloads.build_cnn(0)[0]


def test_pngs_round_trip(tmp_path: Path) -> None:
    """PNGs written from the digits decode back to the original pixels within 1/255."""
    images, labels = workloads.digits()
    paths, written = workloads.write_digit_pngs(tmp_path, 20, start=5)
    assert len(paths) == 20 and len({p.name for p in paths}) == 20
    np.testing.assert_array_equal(written, labels[5:25])
    for path, original in zip(paths, images[5:25], strict=True):
        decoded = workloads.preprocess_png(path.read_bytes())
        assert decoded.shape == (1, 8, 8) and decoded.dtype == np.float32
        np.testing.assert_allclose(decoded[0], original, atol=1 / 255 + 1e-7)


def test_pngs_wrap_around(tmp_path: Path) -> None:
    """Counts past the end of the data set wrap to the first digits."""
    _, labels = workloads.digits()
    paths, written = workloads.write_digit_pngs(tmp_path, 4, start=1795)
    np.testing.assert_array_equal(written, labels[[1795, 1796, 0, 1]])
    assert workloads.preprocess_png(paths[2].read_bytes()).shape == (1, 8, 8)


def test_png_predictions_match_labels(tmp_path: Path) -> None:
    """The load stage (PNG -> preprocess_png) feeds the model what it expects."""
    model, reference = workloads.build_cnn()
    _, test = workloads.split_indices()
    paths, labels = workloads.write_digit_pngs(tmp_path, 64, start=int(test[0]))
    batch = np.stack([workloads.preprocess_png(p.read_bytes()) for p in paths])
    probs = _session(model).run(None, {"x": batch})[0]
    np.testing.assert_allclose(probs, reference(batch), atol=1e-4, rtol=0)
    assert (probs.argmax(axis=1) == labels).mean() >= 0.9


def test_preprocess_array() -> None:
    """(8, 8) arrays become float32 (1, 8, 8); other shapes are refused."""
    images, _ = workloads.digits()
    out = workloads.preprocess_array(images[0].astype(np.float64))
    assert out.shape == (1, 8, 8) and out.dtype == np.float32
    np.testing.assert_array_equal(out[0], images[0])
    with pytest.raises(ValueError):
        workloads.preprocess_array(np.zeros((4, 4)))


def test_preprocess_slow_and_fail_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """preprocess_slow honours the env delay; preprocess_fail_on refuses b"BAD..." inputs."""
    (path,), _ = workloads.write_digit_pngs(tmp_path, 1)
    data = path.read_bytes()
    expected = workloads.preprocess_png(data)
    monkeypatch.setenv(workloads.SLOW_ENV, "0.01")
    np.testing.assert_array_equal(workloads.preprocess_slow(data), expected)
    np.testing.assert_array_equal(workloads.preprocess_fail_on(data), expected)
    with pytest.raises(ValueError, match="bad input"):
        workloads.preprocess_fail_on(b"BAD" + data)


def test_corrupt_model_is_refused() -> None:
    """onnxruntime cannot load the truncated model."""
    corrupt = workloads.corrupt_model()
    assert 0 < len(corrupt) < len(workloads.build_cnn()[0])
    with pytest.raises(InvalidProtobuf):
        _session(corrupt)
