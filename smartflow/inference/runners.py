"""What the worker runs: ONNX models on onnxruntime, and Python scripts over numpy arrays.

Both are built from a stored :class:`~smartflow.wire.protocol.ModelRecord` and cached by name and
version, so a model is loaded once per version, not once per run. Inputs are checked against
the model before onnxruntime sees them, so a mismatch names the input and what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from smartflow.errors import (
    InferenceError,
    InvalidArgumentError,
    InvalidModelError,
    ModelInputError,
)
from smartflow.wire.protocol import MAX_OUTPUTS, ModelRecord

THREADS_VARIABLE = "SMARTFLOW_INFERENCE_THREADS"

#: onnxruntime's element type names -> numpy dtypes, for the input checks.
_ORT_TYPES = {
    "tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
    "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(int16)": np.int16,
    "tensor(int8)": np.int8, "tensor(uint8)": np.uint8, "tensor(uint16)": np.uint16,
    "tensor(uint32)": np.uint32, "tensor(uint64)": np.uint64, "tensor(bool)": np.bool_,
}  # fmt: skip


def providers_for(device: str) -> list:
    """The onnxruntime execution providers for ``device``; a GPU that this onnxruntime cannot
    use is refused (onnxruntime itself would only warn and run on the CPU)."""
    import onnxruntime as ort

    if device == "CPU":
        return ["CPUExecutionProvider"]
    available = ort.get_available_providers()
    if "CUDAExecutionProvider" not in available:
        raise InvalidModelError(
            f"device {device!r}: this onnxruntime has no GPU support (providers: "
            f"{', '.join(available)}); install onnxruntime-gpu on the store's hosts"
        )
    device_id = int(device.partition(":")[2] or 0)
    return [("CUDAExecutionProvider", {"device_id": device_id}), "CPUExecutionProvider"]


class OnnxModel:
    """One loaded ONNX model and the shapes and types its inputs must have."""

    def __init__(self, name: str, record: ModelRecord, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: bad bytes are reported by us, typed
        providers = providers_for(record.device)
        try:
            self.session = ort.InferenceSession(record.data, options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad bytes
            raise InvalidModelError(f"model {name!r} cannot be loaded: {exc}") from exc
        self.name = name
        self.record = record
        self.inputs = self.session.get_inputs()
        #: (name, dtype or None, shape) per input, read once: NodeArg's properties build new
        #: objects on every access.
        self._expected = [(i.name, _ORT_TYPES.get(i.type), list(i.shape)) for i in self.inputs]
        self.output_names = [o.name for o in self.session.get_outputs()]
        if len(self.output_names) > MAX_OUTPUTS:
            raise InvalidModelError(f"model {name!r} has more than {MAX_OUTPUTS} outputs")
        _check_declared(name, "inputs", record.inputs, [i.name for i in self.inputs])
        _check_declared(name, "outputs", record.outputs, self.output_names)

    def check(self, arrays: Sequence[np.ndarray]) -> None:
        """Refuse inputs of the wrong count, dtype or shape, naming the input."""
        if len(arrays) != len(self.inputs):
            names = [i.name for i in self.inputs]
            raise ModelInputError(
                f"model {self.name!r} takes {len(self.inputs)} inputs {names}, got {len(arrays)}"
            )
        for (name, expected, shape), array in zip(self._expected, arrays, strict=True):
            if expected is not None and array.dtype != expected:
                raise ModelInputError(
                    f"model {self.name!r} input {name!r} must be {np.dtype(expected)}, "
                    f"got {array.dtype}"
                )
            fits = len(shape) == array.ndim and all(
                not isinstance(d, int) or d == n for d, n in zip(shape, array.shape, strict=True)
            )
            if not fits:
                raise ModelInputError(
                    f"model {self.name!r} input {name!r} must have shape {shape} "
                    f"(names are free dimensions), got {list(array.shape)}"
                )

    def run(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        self.check(arrays)
        feed = {name: array for (name, _, _), array in zip(self._expected, arrays, strict=True)}
        try:
            return list(self.session.run(self.output_names, feed))
        except Exception as exc:
            raise InferenceError(f"model {self.name!r} failed: {exc}") from exc


class Script:
    """A stored Python script: functions over numpy arrays (TorchScript's role in SmartSim).

    Only clients holding the store's secret can store one; it runs with the worker's rights.
    """

    def __init__(self, name: str, record: ModelRecord) -> None:
        self.name = name
        self.record = record
        self.namespace: dict = {"np": np, "numpy": np, "__name__": f"smartflow_script_{name}"}
        try:
            exec(compile(record.data.decode(), f"<script {name}>", "exec"), self.namespace)
        except (Exception, SystemExit) as exc:  # a script's sys.exit() must not end the worker
            raise InvalidModelError(f"script {name!r} does not run: {exc!r}") from exc

    def run(self, function: str, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        fn = self.namespace.get(function)
        if not callable(fn):
            raise ModelInputError(f"script {self.name!r} has no function {function!r}")
        try:
            result = fn(*arrays)
        except (Exception, SystemExit) as exc:
            raise InferenceError(f"script {self.name!r} {function}() raised {exc!r}") from exc
        results = list(result) if isinstance(result, list | tuple) else [result]
        return [self._output(function, r) for r in results]

    def _output(self, function: str, value: object) -> np.ndarray:
        """A returned value as an array: arrays and numbers are; a bool, None, a string or an
        object (a function that forgot to return its array) is an error, as RedisAI's is."""
        array = (
            None if isinstance(value, bool | str | bytes) or value is None else np.asarray(value)
        )
        if array is None or array.dtype == object:
            raise InferenceError(
                f"script {self.name!r} {function}() returned {type(value).__name__}, "
                "not an array or a number"
            )
        return array


def build(name: str, record: ModelRecord, threads: int) -> OnnxModel | Script:
    """The runner of a record: a script, or an ONNX model on ``threads`` onnxruntime threads."""
    if record.backend == "PYTHON":
        return Script(name, record)
    return OnnxModel(name, record, threads)


def inference_threads(environ: Mapping[str, str]) -> int:
    """``SMARTFLOW_INFERENCE_THREADS`` (onnxruntime threads per model, 1 when unset), parsed
    once: by the experiment before it starts a worker, and by the worker when it starts."""
    raw = environ.get(THREADS_VARIABLE, "").strip()
    if not raw:
        return 1
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidArgumentError(f"{THREADS_VARIABLE}={raw!r} must be a whole number >= 1")
    return int(raw)


def _check_declared(name: str, what: str, declared: tuple[str, ...], actual: list[str]) -> None:
    if declared and list(declared) != actual:
        raise InvalidModelError(f"model {name!r} declares {what} {list(declared)}, has {actual}")
