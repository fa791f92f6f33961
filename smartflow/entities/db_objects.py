"""Models and scripts an entity puts into its store when it starts (SmartSim's DBModel/DBScript).

Declared with ``model.add_ml_model(...)``, ``add_script(...)`` or ``add_function(...)`` (the same
on an ``Ensemble``), checked when declared, and loaded by the experiment just before the
entity's process starts: into the model's co-located store if it has one, otherwise into every
running store of the experiment. These records are plain data: they hold bytes, a path or
source text, and do no I/O beyond checking that a given path exists.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import attrs

from smartflow._checks import (
    at_least_zero,
    batching,
    function_source,
    name_list,
    onnx_backend,
)
from smartflow.errors import InvalidArgumentError, UnsupportedTypeError

#: Backends the inference worker runs (SmartSim's TF, TORCH and TFLITE have no worker here).
DEVICES = ("CPU", "GPU")


@attrs.frozen(eq=False)
class DBModel:
    """An ML model to load into the store (see the module docstring)."""

    name: str
    backend: str
    model: bytes | None = attrs.field(default=None, repr=False)
    model_path: Path | None = None
    device: str = "CPU"
    devices_per_node: int = 1
    first_device: int = 0
    batch_size: int = 0
    min_batch_size: int = 0
    min_batch_timeout: int = 0
    tag: str = ""
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()

    kind = "model"

    @property
    def devices(self) -> list[str]:
        """The device of each copy: ``["CPU"]``, ``["GPU"]``, or ``GPU:<n>`` per GPU used."""
        return _devices(self.device, self.devices_per_node, self.first_device)


@attrs.frozen(eq=False)
class DBScript:
    """A script (Python source of functions over numpy arrays) to load into the store.

    ``function`` names the Python function whose source it is, for ``add_function``."""

    name: str
    script: str | None = attrs.field(default=None, repr=False)
    script_path: Path | None = None
    device: str = "CPU"
    devices_per_node: int = 1
    first_device: int = 0
    function: str | None = None

    kind = "script"

    @property
    def devices(self) -> list[str]:
        """The device of each copy, as :attr:`DBModel.devices`."""
        return _devices(self.device, self.devices_per_node, self.first_device)


DBObject = DBModel | DBScript


def db_model(
    name: object,
    backend: object,
    model: object,
    model_path: object,
    device: object,
    devices_per_node: object,
    first_device: object,
    batch_size: object,
    min_batch_size: object,
    min_batch_timeout: object,
    tag: object,
    inputs: object,
    outputs: object,
) -> DBModel:
    """A checked :class:`DBModel` (the arguments of ``add_ml_model``)."""
    name = _name(name)
    data, path = _one_source(name, "model", model, model_path, (bytes, bytearray, memoryview))
    device, per_node, first = _placement(name, device, devices_per_node, first_device)
    batch, min_batch = batching(batch_size, min_batch_size, f"model {name!r}")
    if not isinstance(tag, str):
        raise UnsupportedTypeError(f"model {name!r}: tag must be a str, got {tag!r}")
    return DBModel(
        name,
        onnx_backend(backend, f"model {name!r}"),
        bytes(data) if data is not None else None,  # type: ignore[arg-type]
        path,
        device,
        per_node,
        first,
        batch,
        min_batch,
        at_least_zero(min_batch_timeout, "min_batch_timeout"),
        tag,
        name_list(inputs, "inputs"),
        name_list(outputs, "outputs"),
    )


def db_script(
    name: object,
    script: object,
    script_path: object,
    device: object,
    devices_per_node: object,
    first_device: object,
) -> DBScript:
    """A checked :class:`DBScript` (the arguments of ``add_script``); inline source must
    compile."""
    name = _name(name)
    source, path = _one_source(name, "script", script, script_path, (str,))
    if source is not None:
        _compiles(name, source)  # type: ignore[arg-type]
    device, per_node, first = _placement(name, device, devices_per_node, first_device)
    return DBScript(name, source, path, device, per_node, first)  # type: ignore[arg-type]


def db_function(
    name: object, function: object, device: object, devices_per_node: object, first_device: object
) -> DBScript:
    """A :class:`DBScript` holding ``function``'s source (the arguments of ``add_function``)."""
    name = _name(name)
    source = function_source(function, f"add_function {name!r}")
    _compiles(name, source)
    device, per_node, first = _placement(name, device, devices_per_node, first_device)
    return DBScript(name, source, None, device, per_node, first, function=function.__name__)  # type: ignore[attr-defined]


def check_unique(owner: str, existing: Sequence[DBObject], new: DBObject) -> None:
    """Refuse a second model or script of one name (they share one namespace in the store)."""
    for obj in existing:
        if obj.name == new.name and obj is not new:
            raise InvalidArgumentError(
                f"{owner} already has a {obj.kind} named {new.name!r}; choose another name"
            )


# -- argument checks ----------------------------------------------------------------------------


def _name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidArgumentError(f"the name {name!r} must be a non-empty str")
    if "{" in name or "}" in name:
        raise InvalidArgumentError(f"the name {name!r} must not contain braces")
    return name


def _one_source(
    name: str, what: str, value: object, path: object, types_: tuple[type, ...]
) -> tuple[object, Path | None]:
    """Exactly one of the inline value and the path to a file that exists."""
    if (value is None) == (path is None):
        raise InvalidArgumentError(f"{what} {name!r}: give exactly one of {what}= and {what}_path=")
    if value is not None:
        if not isinstance(value, types_):
            wanted = " or ".join(t.__name__ for t in types_)
            raise UnsupportedTypeError(
                f"{what} {name!r}: {what}= must be {wanted}, got {type(value).__name__}"
            )
        if not value:
            raise InvalidArgumentError(f"{what} {name!r}: {what}= is empty")
        return value, None
    if not isinstance(path, str | os.PathLike):
        raise UnsupportedTypeError(f"{what} {name!r}: {what}_path must be a path, got {path!r}")
    absolute = Path(path).absolute()
    if not absolute.is_file():
        raise InvalidArgumentError(f"{what} {name!r}: {absolute} is not an existing file")
    return None, absolute


def _placement(
    name: str, device: object, devices_per_node: object, first_device: object
) -> tuple[str, int, int]:
    """(device, devices_per_node, first_device), as SmartSim checks them."""
    if not isinstance(device, str) or device.upper() not in DEVICES:
        raise InvalidArgumentError(f"{name!r}: device {device!r} must be 'CPU' or 'GPU'")
    device = device.upper()
    per_node = at_least_zero(devices_per_node, "devices_per_node")
    first = at_least_zero(first_device, "first_device")
    if per_node < 1:
        raise InvalidArgumentError(f"{name!r}: devices_per_node must be at least 1")
    if device == "CPU" and (per_node > 1 or first > 0):
        raise InvalidArgumentError(
            f"{name!r}: devices_per_node > 1 and first_device > 0 need device='GPU'"
        )
    return device, per_node, first


def _devices(device: str, per_node: int, first: int) -> list[str]:
    if device == "CPU":
        return ["CPU"]
    if per_node == 1 and first == 0:
        return ["GPU"]
    return [f"GPU:{gpu}" for gpu in range(first, first + per_node)]


def _compiles(name: str, source: str) -> None:
    try:
        compile(source, f"<script {name}>", "exec")
    except (SyntaxError, ValueError) as exc:
        raise InvalidArgumentError(f"script {name!r} does not compile: {exc}") from exc
