"""Batch inference, as seed 004's orchestrator does it: a job over many image files, cut into
splits that task managers (processes the experiment launches) pull, run through load ->
preprocess -> predict, and answer exactly once; then several jobs enqueued under the caps.

    python examples/batch_inference.py

Needs the ``dev`` extra (onnx to build the model in code, Pillow for the images). The model tells
bright images from dark ones (the mean of the pixels, through a softmax), so every answer can be
checked against the file it came from.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper
from PIL import Image

from smartflow import Experiment, InferenceJob

PREPROCESS = "smartflow.batch.images:preprocess"  # decode, resize, normalise: built in


def brightness_model() -> bytes:
    """x [N, 1, 16, 16] in 0..1 -> probs [N, 2]: (dark, bright) by the mean pixel."""
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Unsqueeze", ["mean", "axis"], ["m"]),
        helper.make_node("Sub", ["m", "half"], ["centred"]),
        helper.make_node("Mul", ["centred", "scale"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "brightness",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 16, 16])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 2])],
        initializer=[
            helper.make_tensor("axis", TensorProto.INT64, [1], [1]),
            helper.make_tensor("half", TensorProto.FLOAT, [1], [0.5]),
            helper.make_tensor("scale", TensorProto.FLOAT, [2], [-20.0, 20.0]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def write_images(directory: Path, count: int) -> tuple[list[str], list[int]]:
    """``count`` 32x32 grey PNGs, half bright and half dark (random noise around a level)."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths, labels = [], []
    for i in range(count):
        bright = i % 2
        level = 190 if bright else 60
        pixels = np.clip(rng.normal(level, 30, (32, 32)), 0, 255).astype(np.uint8)
        path = directory / f"img_{i:04d}.png"
        Image.fromarray(pixels, mode="L").save(path)
        paths.append(str(path))
        labels.append(bright)
    return paths, labels


async def main(workdir: Path) -> None:
    model = brightness_model()
    paths, labels = write_images(workdir / "images", 400)
    prep = {"size": [16, 16], "mode": "L"}  # resize to 16x16, one channel, scaled to 0..1

    async with Experiment("batch-inference", exp_path=workdir / "exp") as exp:
        db = exp.create_database()
        await exp.start(db)
        dispatcher = exp.create_dispatcher(db, max_job_managers=2, max_task_managers=4)

        # 1. One job, waited for: records come back in input order.
        job = InferenceJob(
            paths,
            "job-1",
            model=model,
            preprocess=PREPROCESS,
            preprocess_args=prep,
            split_size=50,
            num_task_managers=2,
            batch_size=25,
        )
        results = await dispatcher.run_job(job)
        predicted = [int(r.result[0].argmax()) for r in results]
        right = sum(p == label for p, label in zip(predicted, labels, strict=True))
        print(
            f"job-1: {len(results)} records, {right}/{len(labels)} right, "
            f"statuses={sorted({r.status for r in results})}"
        )
        summary = results.summary
        print(
            f"job-1: {summary.splits} splits of {summary.split_size} on "
            f"{len(summary.task_managers)} task managers, {summary.inputs_per_s:.0f} inputs/s"
        )

        # 2. Several jobs enqueued: FIFO under max_job_managers/max_task_managers, each
        #    writing one JSON-lines file per split under its output directory.
        out = workdir / "outputs"
        handles = [
            dispatcher.enqueue_job(
                InferenceJob(
                    paths[i * 100 : (i + 1) * 100],
                    f"job-{i + 2}",
                    model=model,
                    preprocess=PREPROCESS,
                    preprocess_args=prep,
                    split_size=20,
                    output=out,
                )
            )
            for i in range(3)
        ]
        async for progress in handles[0].progress():
            last = progress
        print(f"followed: {last}")
        for handle in handles:
            records = await handle.wait()
            files = sorted(p.name for p in (out / handle.job.name).glob("split-*.jsonl"))
            print(
                f"{handle.job.name}: {handle.state}, {len(records)} records, "
                f"{len(files)} split files"
            )
        print(exp.summary())


if __name__ == "__main__":
    given = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory() as scratch:
        asyncio.run(main(given or Path(scratch)))
