"""Argument checks shared across layers: each returns the value or raises a typed error."""

from __future__ import annotations

import inspect
import textwrap
import types

from smartflow.errors import InvalidArgumentError, UnsupportedTypeError


def count(value: object, what: str) -> int:
    """An int >= 1 (a bool is not a count)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidArgumentError(f"{what} must be an int >= 1, got {value!r}")
    return value


def port(value: object) -> int | None:
    """A TCP port in 1-65535, or None (one is picked at start)."""
    if value is not None and (
        not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535
    ):
        raise InvalidArgumentError(f"port {value!r} must be an int in 1-65535 or None (pick one)")
    return value


#: Settings smartflow owns: changing them would lock every client out, split the cluster, or
#: take the process or its log (which reports a taken port) out of smartflow's hands.
PROTECTED = (
    "requirepass", "masterauth", "bind", "port", "unixsocket", "dir", "cluster-", "daemonize",
    "supervised", "logfile", "pidfile", "include", "loadmodule", "dbfilename", "rename-command",
)  # fmt: skip


def check_setting(key: object, value: object) -> tuple[str, str]:
    """The CONFIG SET pair as strings; refuses protected keys and non-scalar values."""
    if not isinstance(key, str) or not key.strip():
        raise InvalidArgumentError(f"a store setting name must be a non-empty str, got {key!r}")
    name = key.strip().lower()
    if any(c.isspace() for c in name):
        raise InvalidArgumentError(f"store setting name {key!r} must be one word")
    if any(name == p or (p.endswith("-") and name.startswith(p)) for p in PROTECTED):
        raise InvalidArgumentError(
            f"store setting {key!r} is managed by smartflow and cannot be changed at runtime"
        )
    if any(ord(c) < 32 or c == '"' for c in f"{key}{value}"):
        raise InvalidArgumentError(
            f"store setting {key!r}: control characters and quotes are not allowed"
        )
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidArgumentError(
            f"store setting {key!r}: value {value!r} must be a str or number"
        )
    return name, str(value)


def function_source(function: object, what: str) -> str:
    """The dedented source of a Python function defined with ``def`` (what ``set_function``
    and ``add_function`` send to the store)."""
    if not isinstance(function, types.FunctionType):
        raise UnsupportedTypeError(f"{what}: expected a Python function (def), got {function!r}")
    if function.__name__ == "<lambda>":
        raise InvalidArgumentError(f"{what}: a lambda has no name to run; define it with def")
    try:
        return textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError) as exc:
        raise InvalidArgumentError(
            f"{what}: the source of {function.__name__} cannot be read ({exc}); "
            "pass the source text as a script instead"
        ) from exc


def at_least_zero(value: object, what: str) -> int:
    """An int >= 0 (a bool is not one)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidArgumentError(f"{what} must be an int >= 0, got {value!r}")
    return value


def name_list(names: object, what: str) -> tuple[str, ...]:
    """None, one name, or a list/tuple of non-empty names, as a tuple."""
    if names is None:
        return ()
    items = [names] if isinstance(names, str) else names
    if not isinstance(items, list | tuple) or not all(isinstance(n, str) and n for n in items):
        raise UnsupportedTypeError(f"{what} must be a list of non-empty names, got {names!r}")
    return tuple(items)


def onnx_backend(backend: object, what: str) -> str:
    """The model backend: ONNX is the one smartflow runs (as "ONNX", whatever the case)."""
    if not isinstance(backend, str) or backend.upper() != "ONNX":
        raise InvalidArgumentError(
            f"{what}: backend {backend!r} is not supported; smartflow runs ONNX models with "
            "onnxruntime (export TensorFlow or PyTorch models to ONNX and use 'ONNX')"
        )
    return "ONNX"


def batching(batch_size: object, min_batch_size: object, what: str) -> tuple[int, int]:
    """(batch_size, min_batch_size), each >= 0, a minimum only with a batch at least as large."""
    batch = at_least_zero(batch_size, "batch_size")
    least = at_least_zero(min_batch_size, "min_batch_size")
    if least and least > batch:
        raise InvalidArgumentError(
            f"{what}: min_batch_size {least} needs a batch_size at least as large "
            f"(batch_size is {batch})"
        )
    return batch, least
