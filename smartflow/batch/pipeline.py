"""A task manager's pipeline for one split: load -> preprocess -> predict, each input on its own.

Loading and preprocessing run in a pool of ``load_concurrency`` threads (or preprocessing in
``preprocess_processes`` processes), in input order; as soon as ``batch_size`` samples are
ready, the model runs on them while the next ones load. One input's failure (an unreadable
file, a URL that times out, a bad image) becomes that input's error; the split goes on. A batch
the model refuses is run again one sample at a time, so one bad sample fails alone.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from smartflow.batch.loaders import load as default_load
from smartflow.batch.loaders import resolve_function
from smartflow.batch.records import ERROR, OK

#: Runs the model on a batch: one array per model input (or a dict by name) -> outputs.
Predict = Callable[[Any], list[np.ndarray]]


def _error_text(stage: str, exc: BaseException) -> str:
    return f"{stage}: {type(exc).__name__}: {exc}"


class Stages:
    """The load and preprocess functions of a job, resolved in this process."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.load: Callable[..., Any] = (
            resolve_function(spec["load"]) if spec.get("load") else default_load
        )
        self.custom_load = bool(spec.get("load"))
        self.preprocess = resolve_function(spec["preprocess"]) if spec.get("preprocess") else None
        self.preprocess_args: dict[str, Any] = dict(spec.get("preprocess_args") or {})
        self.timeout = float(spec.get("load_timeout", 30.0))
        self.batch_size = int(spec["batch_size"])
        self.threads = cf.ThreadPoolExecutor(int(spec.get("load_concurrency", 4)))
        workers = int(spec.get("preprocess_processes", 0))
        self.processes = cf.ProcessPoolExecutor(workers) if workers else None

    def close(self) -> None:
        self.threads.shutdown(wait=False, cancel_futures=True)
        if self.processes is not None:
            self.processes.shutdown(wait=False, cancel_futures=True)

    def _loaded(self, item: object) -> Any:
        if self.custom_load:
            return self.load(item)
        return self.load(item, timeout=self.timeout)

    def load_one(self, item: object) -> tuple[str, Any]:
        """``("ok", sample)`` or ``("error", message)`` for one input (in a pool thread)."""
        try:
            data = self._loaded(item)
        except Exception as exc:
            return ERROR, _error_text("load", exc)
        if self.processes is not None:
            return OK, data  # preprocessed in a process, next
        return self._preprocessed(data)

    def _preprocessed(self, data: Any) -> tuple[str, Any]:
        if self.preprocess is None:
            return OK, data
        try:
            return OK, self.preprocess(data, **self.preprocess_args)
        except Exception as exc:
            return ERROR, _error_text("preprocess", exc)

    def samples(self, items: list[object]) -> Iterator[tuple[str, Any]]:
        """Each input's outcome, in order, loading ahead of the caller."""
        loaded = [self.threads.submit(self.load_one, item) for item in items]
        if self.processes is None:
            for future in loaded:
                yield future.result()
            return
        pending: list[cf.Future[Any] | tuple[str, Any]] = []
        for future in loaded:
            status, data = future.result()
            if status == OK and self.preprocess is not None:
                pending.append(self.processes.submit(self.preprocess, data, **self.preprocess_args))
            else:
                pending.append((status, data))
        for entry in pending:
            if isinstance(entry, tuple):
                yield entry
                continue
            try:
                yield OK, entry.result()
            except Exception as exc:
                yield ERROR, _error_text("preprocess", exc)


def run_split(
    stages: Stages, predict: Predict, items: list[object]
) -> tuple[list[str], list[str | None], list[np.ndarray]]:
    """One split through the pipeline: per input its status and error, and each model
    output's rows for the inputs that are ok, stacked in order."""
    statuses: list[str] = []
    errors: list[str | None] = []
    rows: list[list[np.ndarray]] = []
    batch: list[tuple[int, Any]] = []

    def flush() -> None:
        for position, outcome in _predicted(predict, batch):
            if isinstance(outcome, str):
                statuses[position], errors[position] = ERROR, outcome
            else:
                rows.append(outcome)
        batch.clear()

    for status, value in stages.samples(items):
        statuses.append(status)
        errors.append(None if status == OK else value)
        if status == OK:
            batch.append((len(statuses) - 1, value))
            if len(batch) == stages.batch_size:
                flush()
    flush()
    outputs = [np.stack(parts) for parts in zip(*rows, strict=True)] if rows else []
    return statuses, errors, outputs


def _predicted(
    predict: Predict, batch: list[tuple[int, Any]]
) -> Iterator[tuple[int, list[np.ndarray] | str]]:
    """Each sample's output rows, or its error; a refused batch is retried sample by sample."""
    if not batch:
        return
    try:
        outputs = predict(_stacked([sample for _, sample in batch]))
    except Exception as exc:
        if len(batch) == 1:
            yield batch[0][0], _error_text("predict", exc)
            return
        for one in batch:
            yield from _predicted(predict, [one])
        return
    for row, (position, _) in enumerate(batch):
        yield position, [np.asarray(out[row]) for out in outputs]


def _stacked(samples: list[Any]) -> Any:
    """A model batch: ``np.stack`` of the samples (per input name, for dict samples)."""
    if isinstance(samples[0], dict):
        return {name: np.stack([s[name] for s in samples]) for name in samples[0]}
    return np.stack(samples)
