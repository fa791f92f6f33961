"""InferenceJob: what a batch inference job runs, checked where it is given.

A job is a list of inputs (paths, ``file://`` or ``http(s)://`` URLs, ``s3://`` keys, or numpy
arrays), cut into splits that task managers pull from the job's queue in the store and push
through load -> preprocess -> predict. Everything a task manager needs travels as JSON (the
stage functions by ``"module:function"`` name: task managers are other processes) plus the
model's bytes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import attrs
import numpy as np

from smartflow._checks import at_least_zero, choice, positive
from smartflow._checks import count as _count
from smartflow.batch.loaders import function_name, resolve_function
from smartflow.batch.outputs import FORMATS, OutputTarget, parse_output
from smartflow.errors import InvalidArgumentError, MissingFileError, UnsupportedTypeError

#: Job names become task-manager names (``<job>.tm3``), directories and key tags.
_JOB_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
VIAS = ("onnxruntime", "store")


def _job_name(value: object) -> str:
    if not isinstance(value, str):
        raise UnsupportedTypeError(f"job name must be a str, not {type(value).__name__}")
    if not _JOB_NAME.match(value):
        raise InvalidArgumentError(
            f"job name {value!r} must be letters, digits, '_' or '-' (it names its task "
            "managers, e.g. job-1.tm3)"
        )
    return value


def _inputs(value: object) -> list[object]:
    if isinstance(value, str | bytes | os.PathLike | np.ndarray) or not isinstance(value, Iterable):
        raise UnsupportedTypeError(
            "inputs must be a list (or any iterable) of paths, URLs or numpy arrays, "
            f"not a single {type(value).__name__}"
        )
    items = list(value)
    for position, item in enumerate(items):
        if not isinstance(item, str | os.PathLike | np.ndarray):
            raise UnsupportedTypeError(
                f"inputs[{position}] is a {type(item).__name__}; inputs are paths, URLs "
                "(str) or numpy arrays"
            )
        if isinstance(item, np.ndarray) and item.dtype.hasobject:
            raise UnsupportedTypeError(f"inputs[{position}] is an object array")
    return [os.fspath(i) if isinstance(i, os.PathLike) else i for i in items]


def _model(value: object) -> bytes | Path:
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        if not data:
            raise InvalidArgumentError("model bytes are empty")
        return data
    if isinstance(value, str | os.PathLike):
        path = Path(value).absolute()
        if not path.is_file():
            raise MissingFileError(f"model file {path} does not exist")
        return path
    raise UnsupportedTypeError(
        f"model must be ONNX bytes or a path to an .onnx file, not {type(value).__name__}"
    )


def _stage(value: object, what: str) -> str | None:
    """A stage function as a ``"module:function"`` name a task manager can import."""
    if value is None:
        return None
    if isinstance(value, str):
        resolve_function(value)  # importable here, so a typo fails now, not in every TM
        return value
    if callable(value):
        return function_name(value)
    raise UnsupportedTypeError(
        f"{what} must be a 'module:function' name or a module-level function, "
        f"not {type(value).__name__}"
    )


def _optional_count(value: object, what: str) -> int | None:
    return None if value is None else _count(value, what)


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise UnsupportedTypeError(f"{what} must be True or False, not {value!r}")
    return value


def _json_dict(value: object, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise UnsupportedTypeError(f"{what} must be a dict with str keys")
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise UnsupportedTypeError(
            f"{what} must be JSON data (lists, numbers, strings): task managers get it as "
            f"JSON ({exc})"
        ) from exc
    return dict(value)


class InferenceJob:
    """A batch inference job: ``inputs`` through ``preprocess`` and ``model``, in splits.

    Arguments are checked here, before anything runs: a bad one raises a ``TypeError`` or
    ``ValueError`` (both also :class:`~smartflow.SmartflowError`). ``model`` is ONNX bytes or a
    path; ``load`` and ``preprocess`` are ``"module:function"`` names or module-level functions
    (``load(input) -> bytes | ndarray``, default: a file's or URL's bytes, arrays as they are;
    ``preprocess(data, **preprocess_args) -> ndarray``, default: none). A model batch is
    ``np.stack`` of the preprocessed samples. ``split_size``/``num_task_managers`` left ``None``
    are chosen by the dispatcher's policy. ``via="store"`` runs the model in the store's
    inference worker (``run_model``) instead of in each task manager. ``output`` (a directory or
    ``s3://bucket/prefix``) receives one file per split.
    """

    def __init__(
        self,
        inputs: Iterable[object],
        name: str,
        model: bytes | str | os.PathLike[str],
        preprocess: str | Callable[..., Any] | None = None,
        split_size: int | None = None,
        num_task_managers: int | None = None,
        batch_size: int = 32,
        speculation: bool = False,
        keep_alive: bool = True,
        keep_alive_interval: float = 2.0,
        max_split_retries: int = 2,
        output: str | os.PathLike[str] | None = None,
        *,
        load: str | Callable[..., Any] | None = None,
        preprocess_args: dict[str, Any] | None = None,
        via: Literal["onnxruntime", "store"] = "onnxruntime",
        output_format: Literal["jsonl", "npy"] = "jsonl",
        load_concurrency: int = 4,
        load_timeout: float = 30.0,
        preprocess_processes: int = 0,
        intra_op_threads: int = 1,
        speculation_quantile: float = 0.75,
        speculation_multiplier: float = 2.0,
        speculation_min_runtime: float = 0.1,
    ) -> None:
        self.name = _job_name(name)
        self.inputs = _inputs(inputs)
        self.model = _model(model)
        self.preprocess = _stage(preprocess, "preprocess")
        self.load = _stage(load, "load")
        self.preprocess_args = _json_dict(preprocess_args, "preprocess_args")
        self.split_size = _optional_count(split_size, "split_size")
        self.num_task_managers = _optional_count(num_task_managers, "num_task_managers")
        self.batch_size = _count(batch_size, "batch_size")
        self.speculation = _flag(speculation, "speculation")
        self.keep_alive = _flag(keep_alive, "keep_alive")
        self.keep_alive_interval = positive(keep_alive_interval, "keep_alive_interval", "seconds")
        self.max_split_retries = at_least_zero(max_split_retries, "max_split_retries")
        self.output: OutputTarget | None = parse_output(output)
        self.via = choice(via, "via", VIAS)
        self.output_format = choice(output_format, "output_format", FORMATS)
        self.load_concurrency = _count(load_concurrency, "load_concurrency")
        self.load_timeout = positive(load_timeout, "load_timeout", "seconds")
        self.preprocess_processes = at_least_zero(preprocess_processes, "preprocess_processes")
        self.intra_op_threads = _count(intra_op_threads, "intra_op_threads")
        quantile = positive(speculation_quantile, "speculation_quantile")
        if quantile > 1:
            raise InvalidArgumentError("speculation_quantile is a fraction in (0, 1]")
        self.speculation_quantile = quantile
        self.speculation_multiplier = positive(speculation_multiplier, "speculation_multiplier")
        self.speculation_min_runtime = positive(
            speculation_min_runtime, "speculation_min_runtime", "seconds"
        )

    def __repr__(self) -> str:
        return f"InferenceJob({self.name!r}, {len(self.inputs)} inputs)"

    def stage_spec(self) -> dict[str, Any]:
        """What every task manager of this job needs, as JSON data (no model bytes)."""
        return {
            "name": self.name,
            "load": self.load,
            "preprocess": self.preprocess,
            "preprocess_args": self.preprocess_args,
            "batch_size": self.batch_size,
            "via": self.via,
            "load_concurrency": self.load_concurrency,
            "load_timeout": self.load_timeout,
            "preprocess_processes": self.preprocess_processes,
            "intra_op_threads": self.intra_op_threads,
            "keep_alive": self.keep_alive,
            "keep_alive_interval": self.keep_alive_interval,
        }


@attrs.define
class SplitTiming:
    """How one split went: which task manager answered it, after how many attempts."""

    split: int
    inputs: int
    seconds: float
    task_manager: str
    attempts: int
    speculated: bool
    errors: int


@attrs.define
class JobSummary:
    """What a finished job did: per-split timings, task managers, retries, speculation."""

    job: str
    inputs: int
    splits: int
    split_size: int
    seconds: float = 0.0
    task_managers: list[str] = attrs.field(factory=list)
    retries: int = 0
    speculated: list[int] = attrs.field(factory=list)
    failed_splits: list[int] = attrs.field(factory=list)
    errors: int = 0
    timings: list[SplitTiming] = attrs.field(factory=list)
    outputs: list[str] = attrs.field(factory=list)

    @property
    def inputs_per_s(self) -> float:
        return self.inputs / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["inputs_per_s"] = round(self.inputs_per_s, 3)
        return data


@attrs.frozen
class Progress:
    """Where a job stands: splits and inputs done, rate and estimated time left."""

    job: str
    splits_done: int
    splits: int
    inputs_done: int
    inputs: int
    seconds: float
    retries: int = 0
    speculated: int = 0

    @property
    def inputs_per_s(self) -> float:
        return self.inputs_done / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        rate = self.inputs_per_s
        return (self.inputs - self.inputs_done) / rate if rate > 0 else None

    @property
    def finished(self) -> bool:
        return self.splits_done == self.splits

    def __str__(self) -> str:
        eta = "?" if self.eta_s is None else f"{self.eta_s:.1f} s"
        return (
            f"{self.job}: {self.splits_done}/{self.splits} splits, {self.inputs_done}/"
            f"{self.inputs} inputs, {self.inputs_per_s:.1f} inputs/s, ETA {eta}"
        )


class JobResults(list):  # type: ignore[type-arg]
    """The records of a job, one per input position, in input order; ``summary`` says how
    the job went."""

    def __init__(self, records: Iterable[object], summary: JobSummary) -> None:
        super().__init__(records)
        self.summary = summary
