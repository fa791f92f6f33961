"""The workload of ``bench_batch_inference.py``: a real pretrained text-orientation classifier on
text crops drawn with Pillow, and the same load -> preprocess -> predict as a plain function.

The model is PaddleOCR's mobile direction classifier as shipped in the ``rapidocr-onnxruntime``
wheel (``rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx``, 0.6 MB): input
``"x"`` float32 ``[N, 3, H, W]`` (rapidocr feeds 48 x 192), output ``[N, 2]`` softmax over
(0 degrees, 180 degrees). The wheel is installed ``--no-deps`` and never imported (importing it
imports OpenCV): :func:`model_path` finds the file through the distribution's metadata.

Preprocessing is rapidocr's (``resize_norm_img`` of its classifier), with Pillow for OpenCV:
resize to height 48 keeping the aspect ratio (width at most 192), scale to ``[-1, 1]``
(``(x / 255 - 0.5) / 0.5``), channels first, right-pad with zeros to width 192.

Module-level functions only, so other processes import them by name: task managers as
``"ocr_workload:preprocess"`` (the dispatcher puts this directory on their ``PYTHONPATH``), and
``ProcessPoolExecutor`` workers as ``ocr_workload.run_split`` (or ``run_split_timed``).
"""

from __future__ import annotations

import importlib.metadata
import io
import math
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

DISTRIBUTION = "rapidocr-onnxruntime"
MODEL_FILE = "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx"
HEIGHT, WIDTH = 48, 192
BATCH = 32  # samples per model run, in the pool worker as in smartflow's task managers
THREADS = 1  # onnxruntime intra-op threads, both sides
#: Label 0: upright text; 1: turned by 180 degrees (the model's classes, in its order).
UPRIGHT, TURNED = 0, 1
WORDS = (
    "invoice", "total", "amount", "date", "customer", "shipping", "address", "payment", "order",
    "receipt", "balance", "account", "number", "quantity", "price", "discount", "tax", "Berlin",
    "Paris", "station", "platform", "departure", "arrival", "meeting", "Monday", "weather",
    "smartflow", "pipeline", "inference", "orientation", "classifier", "2024-05-17", "No. 4471",
    "EUR 19.99", "Tel 555 0199", "page 3 of 12", "confidential", "draft", "approved", "signature",
)  # fmt: skip


def model_path() -> Path:
    """The classifier's ``.onnx`` file inside the installed wheel (the package is not imported)."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as exc:
        raise SystemExit(
            f"{DISTRIBUTION} is not installed: pip install --no-deps {DISTRIBUTION}"
        ) from exc
    for file in dist.files or ():
        if str(file).replace("\\", "/") == MODEL_FILE:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    raise SystemExit(f"{MODEL_FILE} is not in the installed {DISTRIBUTION} wheel")


def _crop(text: str, size: int, rng: np.random.Generator) -> Image.Image:
    """Dark ``text`` on a light background, in the default font at ``size`` px, a few px of
    margin around it."""
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = font.getbbox(text)
    pad_x, pad_y = (int(v) for v in rng.integers(4, 12, size=2))
    width, height = right - left + 2 * pad_x, bottom - top + 2 * pad_y
    paper = tuple(int(v) for v in rng.integers(225, 256, size=3))
    ink = tuple(int(v) for v in rng.integers(0, 70, size=3))
    image = Image.new("RGB", (width, height), paper)  # type: ignore[arg-type]
    ImageDraw.Draw(image).text((pad_x - left, pad_y - top), text, font=font, fill=ink)  # type: ignore[arg-type]
    return image


def render_crops(directory: Path, count: int, seed: int = 0) -> tuple[list[str], list[int]]:
    """``count`` PNG text crops in ``directory`` (one or two words each, font 20..32 px), half of
    them (chosen at random) turned by 180 degrees; returns their paths and labels (0 upright,
    1 turned), in file order."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    turned = np.zeros(count, dtype=bool)
    turned[rng.permutation(count)[: count // 2]] = True
    paths, labels = [], []
    for i in range(count):
        words = rng.choice(len(WORDS), size=int(rng.integers(1, 3)), replace=False)
        image = _crop(" ".join(WORDS[w] for w in words), int(rng.integers(20, 33)), rng)
        if turned[i]:
            image = image.rotate(180)
        path = directory / f"crop-{i:05d}.png"
        image.save(path)
        paths.append(str(path))
        labels.append(TURNED if turned[i] else UPRIGHT)
    return paths, labels


def preprocess(data: bytes) -> np.ndarray:
    """One encoded image -> the model's float32 ``(3, 48, 192)`` sample (see the module
    docstring)."""
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
    width, height = rgb.size
    resized_w = min(WIDTH, math.ceil(HEIGHT * width / height))
    pixels = np.asarray(rgb.resize((resized_w, HEIGHT), Image.Resampling.BILINEAR), np.float32)
    sample = np.zeros((3, HEIGHT, WIDTH), dtype=np.float32)
    sample[:, :, :resized_w] = (pixels.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
    return sample


_session = None


def session():  # type: ignore[no-untyped-def]
    """This process's onnxruntime session of the classifier, made on first use, with the
    options smartflow's task managers use (``intra_op_num_threads=1``, one inter-op thread)."""
    global _session
    if _session is None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = 1
        _session = ort.InferenceSession(
            str(model_path()), options, providers=["CPUExecutionProvider"]
        )
    return _session


def run_split(paths: list[str]) -> list[int]:
    """The baseline's worker: read each file, preprocess it, predict in batches of
    :data:`BATCH`; returns each input's class (0 upright, 1 turned), in order."""
    sess = session()
    name = sess.get_inputs()[0].name
    predictions: list[int] = []
    for start in range(0, len(paths), BATCH):
        batch = np.stack([preprocess(Path(p).read_bytes()) for p in paths[start : start + BATCH]])
        (probs,) = sess.run(None, {name: batch})
        predictions += [int(k) for k in probs.argmax(axis=1)]
    return predictions


def run_split_timed(paths: list[str]) -> tuple[list[int], float]:
    """:func:`run_split` and the seconds it took in the worker (the pool's counterpart of the
    per-split ``seconds`` smartflow's task managers report)."""
    began = time.perf_counter()
    predictions = run_split(paths)
    return predictions, time.perf_counter() - began


def tiny_model(features: int = 4) -> bytes:
    """An ONNX model that costs next to nothing: ``ReduceMean`` of float32 ``[N, features]``
    over axis 1 -> ``[N]`` (for measuring the per-split overhead, where the work must vanish)."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["x"], ["y"], axes=[1], keepdims=0)],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", features])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()
