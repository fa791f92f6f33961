"""A task manager: the program ``python -m smartflow.batch.task_manager`` that the dispatcher
launches as an experiment entity (a local process, or a Slurm step).

It reads its job from the store it is pointed at (the environment contract, plus
``SMARTFLOW_BATCH_JOB``, ``SMARTFLOW_BATCH_TM`` and ``SMARTFLOW_BATCH_DB``), then takes splits
until the job is over: each through load -> preprocess -> predict, its answer written first
writer wins. A heartbeat thread keeps its liveness key fresh, so a long model call never looks
like death. Exit codes: 0 when the job is over (or it was declared dead and stood down), 1 on an
error (the dispatcher puts its split back and may start a replacement).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

import anyio
import numpy as np

from smartflow._log import get_logger
from smartflow.batch import codec
from smartflow.batch.pipeline import Predict, Stages, run_split
from smartflow.batch.queue import Fenced, JobOver, SplitQueue, Taken, heartbeat_command
from smartflow.client import Client, SyncClient
from smartflow.errors import InvalidModelError

JOB_VAR, TM_VAR, DB_VAR = "SMARTFLOW_BATCH_JOB", "SMARTFLOW_BATCH_TM", "SMARTFLOW_BATCH_DB"
#: A heartbeat lives this many intervals: two may be missed before the TM is declared dead.
HEARTBEAT_TTL_INTERVALS = 3
#: How long one blocking take waits for a split before looking again.
TAKE_WAIT_S = 1.0


class Heartbeat:
    """Refreshes the task manager's liveness key from a thread of its own."""

    def __init__(self, queue: SplitQueue, tm: str, interval: float, db_identifier: str) -> None:
        self._command = lambda: heartbeat_command(queue, tm, interval * HEARTBEAT_TTL_INTERVALS)
        self._interval = interval
        self._db = db_identifier
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{tm}", daemon=True)
        self._log = get_logger("batch.heartbeat", entity=tm)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval + 5)

    def _run(self) -> None:
        client: SyncClient | None = None
        last = time.monotonic()
        while not self._stop.is_set():
            try:
                if client is None:
                    client = SyncClient(db_identifier=self._db)
                client.execute_command(*self._command())  # type: ignore[arg-type]
            except Exception as exc:  # the main loop fails on its own if the store is gone
                self._log.warning("heartbeat failed", error=str(exc))
                if client is not None:
                    client.close()
                client = None
            now = time.monotonic()
            if now - last > self._interval * HEARTBEAT_TTL_INTERVALS:  # evidence for a false death
                self._log.warning("heartbeat late", gap_s=round(now - last, 3))
            last = now
            self._stop.wait(self._interval)
        if client is not None:
            client.close()


def onnx_predict(model: bytes, threads: int) -> Predict:
    """An in-process onnxruntime session, as the function that runs it on a batch."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise InvalidModelError(f"onnxruntime cannot load the job's model: {exc}") from exc
    names = [i.name for i in session.get_inputs()]

    def predict(batch: Any) -> list[np.ndarray]:
        feed = batch if isinstance(batch, dict) else {names[0]: batch}
        return session.run(None, feed)

    return predict


def store_predict(client: Client, model_key: str) -> Predict:
    """Run the model in the store's inference worker (``via="store"``); called from the worker
    thread the split runs in, it hands the call back to the event loop that owns the client."""

    def predict(batch: Any) -> list[np.ndarray]:
        inputs = batch if isinstance(batch, dict) else [batch]
        return anyio.from_thread.run(client.infer, model_key, inputs)

    return predict


async def serve(client: Client, job_id: str, tm: str, db_identifier: str) -> None:
    """Take and answer splits of ``job_id`` until it is over."""
    log = get_logger("batch.task_manager", entity=tm, job_id=job_id)
    queue = SplitQueue(client, job_id)
    raw_spec, model = await queue.read_spec()
    spec = json.loads(raw_spec)
    stages = Stages(spec)
    heartbeat = None
    try:
        if spec["via"] == "store":
            predict = store_predict(client, spec["model_key"])
        else:
            predict = await anyio.to_thread.run_sync(
                onnx_predict, model, int(spec["intra_op_threads"])
            )
        # Beating starts once the imports and the session are done: an import holds the
        # import lock, which would stall the thread's first beat past its time to live. Until
        # then the TM holds no split, and the dispatcher waits for a first beat.
        if spec["keep_alive"]:
            interval = float(spec["keep_alive_interval"])
            # The first beat is in the store before the first take: a TM holding a split
            # without a heartbeat key has let it expire, and is dead.
            await client.execute_command(
                *heartbeat_command(queue, tm, interval * HEARTBEAT_TTL_INTERVALS)
            )  # type: ignore[arg-type]
            heartbeat = Heartbeat(queue, tm, interval, db_identifier)
            heartbeat.start()
        await _take_splits(queue, tm, stages, predict, log)
    except Fenced:
        log.warning("declared dead by the dispatcher; standing down")
    except JobOver:
        log.info("job over")
    finally:
        stages.close()
        if heartbeat is not None:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(heartbeat.stop)  # joins its thread


async def _take_splits(queue: SplitQueue, tm: str, stages: Stages, predict: Predict, log) -> None:  # type: ignore[no-untyped-def]
    taken = None
    while True:
        if taken is None:
            taken = await queue.take(tm, TAKE_WAIT_S)
            continue
        answer = await anyio.to_thread.run_sync(_answer, stages, predict, taken, tm)
        split = taken.split
        won, taken = await queue.finish_and_take(tm, split, answer, TAKE_WAIT_S)
        log.debug("split answered", split=split, won=won)


def _answer(stages: Stages, predict: Predict, taken: Taken, tm: str) -> bytes:
    """One split, decoded, run through the pipeline and encoded, in a worker thread (all of it
    CPU work the event loop must not do)."""
    began = time.monotonic()
    _, items = codec.decode_split(taken.payload)
    statuses, errors, outputs = run_split(stages, predict, items)
    meta = {"tm": tm, "attempt": taken.attempt, "seconds": time.monotonic() - began}
    return codec.encode_result(statuses, errors, outputs, meta)


async def main() -> int:
    job_id, tm = os.environ[JOB_VAR], os.environ[TM_VAR]
    db_identifier = os.environ.get(DB_VAR, "")
    async with Client(db_identifier=db_identifier) as client:
        await serve(client, job_id, tm, db_identifier)
    return 0


if __name__ == "__main__":
    sys.exit(anyio.run(main))
