"""Batch inference jobs end to end: real task-manager processes pulling splits from a real store."""

from __future__ import annotations

import io
import json
import logging
import shutil
from contextlib import aclosing
from pathlib import Path

import anyio
import numpy as np
import pytest

from smartflow import Experiment, InferenceJob, Orchestrator, Status
from smartflow.batch import Dispatcher, Progress
from tests._support import summary_rows
from tests.batch.conftest import PREPROCESS, exactly_once
from tests.batch.workloads import digits


def predictions(results: list) -> np.ndarray:
    return np.array([r.result[0].argmax() if r.status == "ok" else -1 for r in results])


async def test_run_job_answers_every_png_once_in_order_with_the_models_answer(
    experiment: Experiment, dispatcher: Dispatcher, pngs, cnn
) -> None:
    paths, labels = pngs
    model, reference = cnn
    job = InferenceJob(
        paths,
        "job-1",
        model=model,
        preprocess=PREPROCESS,
        split_size=16,
        num_task_managers=3,
        batch_size=8,
    )
    results = await dispatcher.run_job(job)
    exactly_once(results, len(paths))
    assert [r.input for r in results] == paths
    assert {r.status for r in results} == {"ok"} and all(r.error is None for r in results)
    images, _ = digits()
    as_written = np.round(images[: len(paths), None] * 255) / 255  # 8-bit PNGs
    expected = reference(as_written.astype(np.float32))
    got = np.stack([r.result[0] for r in results])
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert (predictions(results) == labels).mean() > 0.97
    summary = results.summary
    assert summary.splits == 13 and summary.split_size == 16
    assert sorted(t.split for t in summary.timings) == list(range(13))
    assert summary.task_managers == ["job-1.tm1", "job-1.tm2", "job-1.tm3"]
    rows = summary_rows(experiment)
    for name in summary.task_managers:  # visible like every entity, ended on their own
        assert rows[name]["entity_type"] == "TaskManager"
        assert rows[name]["status"] == str(Status.COMPLETED)
        assert int(rows[name]["job_id"]) > 0  # the pid
    assert dispatcher.task_managers_in_use == 0


async def test_array_inputs_and_duplicates_get_a_record_per_position(
    dispatcher: Dispatcher, cnn
) -> None:
    model, reference = cnn
    images, _ = digits()
    inputs = [images[0], images[1], images[0], images[2]]  # a duplicate is a second position
    job = InferenceJob(
        inputs,
        "arrays",
        model=model,
        preprocess="tests.batch.workloads:preprocess_array",
        split_size=3,
    )
    results = await dispatcher.run_job(job)
    exactly_once(results, 4)
    assert results[0].input is inputs[0]
    np.testing.assert_allclose(results[0].result[0], results[2].result[0])
    np.testing.assert_allclose(
        np.stack([r.result[0] for r in results]), reference(np.stack(inputs)[:, None]), atol=1e-4
    )


async def test_an_input_that_fails_to_load_or_preprocess_is_that_inputs_error(
    dispatcher: Dispatcher, pngs, cnn, tmp_path: Path
) -> None:
    paths, labels = pngs
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"BAD, not a PNG")
    inputs = [paths[0], str(tmp_path / "missing.png"), paths[1], str(bad), paths[2]]
    job = InferenceJob(
        inputs,
        "faulty",
        model=cnn[0],
        preprocess="tests.batch.workloads:preprocess_fail_on",
        split_size=5,
    )
    results = await dispatcher.run_job(job)
    exactly_once(results, 5)
    assert [r.status for r in results] == ["ok", "error", "ok", "error", "ok"]
    assert results[1].error.startswith("load:") and "missing.png" in results[1].error
    assert results[3].error.startswith("preprocess:") and "bad input" in results[3].error
    assert results[1].result is None
    assert list(predictions(results)[[0, 2, 4]]) == list(labels[:3])
    assert results.summary.errors == 2


async def test_model_from_a_path_run_through_the_store(
    dispatcher: Dispatcher, pngs, cnn, tmp_path: Path
) -> None:
    paths, labels = pngs
    model_file = tmp_path / "cnn.onnx"
    model_file.write_bytes(cnn[0])
    job = InferenceJob(
        paths[:40], "via-store", model=model_file, preprocess=PREPROCESS, split_size=10, via="store"
    )
    results = await dispatcher.run_job(job)
    exactly_once(results, 40)
    assert (predictions(results) == labels[:40]).mean() > 0.95


async def test_outputs_one_file_per_split_and_a_summary(
    dispatcher: Dispatcher, pngs, cnn, tmp_path: Path
) -> None:
    paths, _ = pngs
    out = tmp_path / "out"
    job = InferenceJob(
        paths[:25], "written", model=cnn[0], preprocess=PREPROCESS, split_size=10, output=out
    )
    results = await dispatcher.run_job(job)
    files = sorted(p.name for p in (out / "written").iterdir())
    assert files == ["split-00000.jsonl", "split-00001.jsonl", "split-00002.jsonl", "summary.json"]
    lines = [
        json.loads(line)
        for name in files[:3]
        for line in (out / "written" / name).read_text().splitlines()
    ]
    assert [line["index"] for line in lines] == list(range(25))
    np.testing.assert_allclose(lines[7]["result"][0], results[7].result[0], rtol=1e-6)
    summary = json.loads((out / "written" / "summary.json").read_text())
    assert summary["inputs"] == 25 and summary["splits"] == 3


async def test_enqueued_jobs_run_fifo_under_the_caps(
    experiment: Experiment, store: Orchestrator, pngs, cnn
) -> None:
    paths, _ = pngs
    dispatcher = experiment.create_dispatcher(store, max_job_managers=1, max_task_managers=2)
    jobs = [
        InferenceJob(
            paths[:30],
            f"queued-{i}",
            model=cnn[0],
            preprocess=PREPROCESS,
            split_size=5,
            num_task_managers=2,
        )
        for i in range(3)
    ]
    most_running = 0

    async def count_running() -> None:
        nonlocal most_running
        async with aclosing(experiment.watch()) as events:
            async for _ in events:
                rows = experiment.summary(format="records")
                running = [
                    r
                    for r in rows
                    if r["entity_type"] == "TaskManager" and r["status"] == "Running"
                ]
                most_running = max(most_running, len(running))

    async with anyio.create_task_group() as tg:
        tg.start_soon(count_running)
        handles = [dispatcher.enqueue_job(job) for job in jobs]
        assert [h.state for h in handles] == ["queued"] * 3
        results = [await h.wait() for h in handles]
        tg.cancel_scope.cancel()
    for result in results:
        exactly_once(result, 30)
    assert [h.state for h in handles] == ["done"] * 3
    assert most_running <= 2
    starts = [h.summary.task_managers[0] for h in handles]
    assert starts == ["queued-0.tm1", "queued-1.tm1", "queued-2.tm1"]
    # One job at a time: each began after the one before had ended.
    rows = summary_rows(experiment)
    assert all(rows[n]["status"] == "Completed" for h in handles for n in h.summary.task_managers)


async def test_progress_stream_and_log_line(
    dispatcher: Dispatcher, pngs, cnn, caplog: pytest.LogCaptureFixture
) -> None:
    paths, _ = pngs
    job = InferenceJob(paths[:60], "followed", model=cnn[0], preprocess=PREPROCESS, split_size=6)
    caplog.set_level(logging.INFO, logger="smartflow.batch")
    handle = dispatcher.enqueue_job(job)
    seen: list[Progress] = [p async for p in handle.progress()]
    await handle.wait()
    assert seen and seen[-1].finished and seen[-1].inputs_done == 60
    done = [p.splits_done for p in seen]
    assert done == sorted(done) and done[-1] == 10
    assert "10/10 splits" in str(seen[-1])
    assert any("job progress" in r.getMessage() for r in caplog.records)


async def test_an_empty_job_returns_no_records_and_starts_nothing(
    experiment: Experiment, dispatcher: Dispatcher, cnn
) -> None:
    results = await dispatcher.run_job(InferenceJob([], "empty", model=cnn[0]))
    assert list(results) == [] and results.summary.inputs == 0
    assert not any(r["entity_type"] == "TaskManager" for r in experiment.summary("records"))


async def test_more_task_managers_than_allowed_are_capped_with_a_log_line(
    experiment: Experiment, store: Orchestrator, pngs, cnn, caplog: pytest.LogCaptureFixture
) -> None:
    paths, _ = pngs
    dispatcher = experiment.create_dispatcher(store, max_task_managers=2)
    caplog.set_level(logging.WARNING, logger="smartflow.batch")
    job = InferenceJob(
        paths[:40],
        "greedy",
        model=cnn[0],
        preprocess=PREPROCESS,
        split_size=4,
        num_task_managers=10,
    )
    results = await dispatcher.run_job(job)
    exactly_once(results, 40)
    assert len(results.summary.task_managers) == 2
    assert any("task managers capped" in r.getMessage() for r in caplog.records)


async def test_the_job_leaves_no_keys_in_the_store(dispatcher: Dispatcher, pngs, cnn, raw) -> None:
    paths, _ = pngs
    await dispatcher.run_job(InferenceJob(paths[:10], "tidy", model=cnn[0], preprocess=PREPROCESS))
    assert [k for k in await raw.keys("*") if b"sfjob" in k] == []


async def test_a_job_on_a_clustered_store_keeps_its_keys_in_one_slot(
    experiment: Experiment, cluster: Orchestrator, pngs, cnn
) -> None:
    paths, labels = pngs
    dispatcher = experiment.create_dispatcher(cluster, max_task_managers=2)
    job = InferenceJob(
        paths[:50],
        "clustered",
        model=cnn[0],
        preprocess=PREPROCESS,
        split_size=10,
        speculation=True,
    )
    results = await dispatcher.run_job(job)
    exactly_once(results, 50)
    assert (predictions(results) == labels[:50]).mean() > 0.95


def test_a_notebook_gets_a_progress_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a kernel (ipykernel imported) with tqdm installed, a job draws a bar of its splits;
    elsewhere there is none (the log line and the progress stream remain)."""
    import sys

    from smartflow.batch._run import progress_bar

    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    assert progress_bar("plain", 7) is None
    monkeypatch.setitem(sys.modules, "ipykernel", object())
    bar = progress_bar("bar", 7)
    try:
        assert bar is not None and bar.total == 7 and bar.desc == "bar"
    finally:
        bar.close()


async def test_inputs_by_url_outputs_to_s3_as_npy(
    dispatcher: Dispatcher, pngs, cnn, served, s3
) -> None:
    """http:// inputs loaded with a timeout (one of them missing: its error record), and each
    split written to S3 (moto's server on 127.0.0.1, reached by the task managers' inherited
    AWS environment) as records plus one .npy per model output."""
    paths, labels = pngs
    base, root = served
    for path in paths[:12]:
        await anyio.to_thread.run_sync(shutil.copy, path, root)
    urls = [f"{base}/{Path(p).name}" for p in paths[:12]] + [f"{base}/missing.png"]
    client, bucket = s3
    job = InferenceJob(
        urls,
        "s3job",
        model=cnn[0],
        preprocess=PREPROCESS,
        split_size=5,
        output=f"s3://{bucket}/runs",
        output_format="npy",
        load_timeout=5,
    )
    results = await dispatcher.run_job(job)
    exactly_once(results, 13)
    assert results[12].status == "error" and "404" in results[12].error
    assert (predictions(results)[:12] == labels[:12]).mean() > 0.9
    listed = await anyio.to_thread.run_sync(
        lambda: client.list_objects_v2(Bucket=bucket, Prefix="runs/s3job/")
    )
    names = sorted(o["Key"].rsplit("/", 1)[1] for o in listed["Contents"])
    assert "split-00002.jsonl" in names and "split-00002.out0.npy" in names
    assert "summary.json" in names
    key = "runs/s3job/split-00000.out0.npy"
    body = await anyio.to_thread.run_sync(
        lambda: client.get_object(Bucket=bucket, Key=key)["Body"].read()
    )
    rows = np.load(io.BytesIO(body))
    np.testing.assert_allclose(rows, np.stack([r.result[0] for r in results[:5]]), rtol=1e-6)
