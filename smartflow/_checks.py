"""Argument checks shared across layers: each returns the value or raises a typed error."""

from __future__ import annotations

import inspect
import os
import textwrap
import types

from smartflow.errors import InvalidArgumentError, UnsupportedTypeError


def integer(value: object, what: str, *, at_least: int | None = None) -> int:
    """An int (at least ``at_least``, if given). Not an int, a bool included (``True`` as a
    count is a mistake), is a type error; out of range, a bad value."""
    rule = "an int" if at_least is None else f"an int >= {at_least}"
    if not isinstance(value, int) or isinstance(value, bool):
        raise UnsupportedTypeError(f"{what} must be {rule}, got {type(value).__name__} {value!r}")
    if at_least is not None and value < at_least:
        raise InvalidArgumentError(f"{what} must be {rule}, got {value!r}")
    return value


def count(value: object, what: str) -> int:
    """An int >= 1 (a bool is not a count)."""
    return integer(value, what, at_least=1)


def port(value: object) -> int | None:
    """A TCP port in 1-65535, or None (one is picked at start)."""
    if value is None:
        return None
    rule = "must be an int in 1-65535 or None (pick one)"
    if not isinstance(value, int) or isinstance(value, bool):
        raise UnsupportedTypeError(f"port {value!r} {rule}")
    if not 1 <= value <= 65535:
        raise InvalidArgumentError(f"port {value!r} {rule}")
    return value


#: Settings smartflow owns: changing them would lock every client out, split the cluster, or
#: take the process or its log (which reports a taken port) out of smartflow's hands.
PROTECTED = (
    "requirepass", "masterauth", "bind", "port", "unixsocket", "dir", "cluster-", "daemonize",
    "supervised", "logfile", "pidfile", "include", "loadmodule", "dbfilename", "rename-command",
)  # fmt: skip


def check_setting(key: object, value: object) -> tuple[str, str]:
    """The CONFIG SET pair as strings; refuses protected keys and non-scalar values."""
    if not isinstance(key, str):
        raise UnsupportedTypeError(f"a store setting name is a str, got {type(key).__name__}")
    if not key.strip():
        raise InvalidArgumentError(f"a store setting name must be a non-empty str, got {key!r}")
    name = key.strip().lower()
    if any(c.isspace() for c in name):
        raise InvalidArgumentError(f"store setting name {key!r} must be one word")
    if any(name == p or (p.endswith("-") and name.startswith(p)) for p in PROTECTED):
        raise InvalidArgumentError(
            f"store setting {key!r} is managed by smartflow and cannot be changed at runtime"
        )
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise UnsupportedTypeError(
            f"store setting {key!r}: value {value!r} must be a str or number"
        )
    if any(ord(c) < 32 or c == '"' for c in f"{key}{value}"):
        raise InvalidArgumentError(
            f"store setting {key!r}: control characters and quotes are not allowed"
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


def positive(value: object, what: str, unit: str = "") -> float:
    """A number > 0 (``unit`` names it in the message: "seconds"); a bool is not one, and NaN
    is not > 0."""
    rule = f"a number of {unit} > 0" if unit else "a number > 0"
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise UnsupportedTypeError(f"{what} must be {rule}, got {type(value).__name__} {value!r}")
    if not value > 0:
        raise InvalidArgumentError(f"{what} must be {rule}, got {value!r}")
    return float(value)


def choice(value: object, what: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (a str of another value is a bad value, not a str a type error)."""
    if not isinstance(value, str):
        raise UnsupportedTypeError(f"{what} must be a str, got {type(value).__name__}")
    if value not in choices:
        raise InvalidArgumentError(f"{what} must be one of {', '.join(choices)}; got {value!r}")
    return value


def at_least_zero(value: object, what: str) -> int:
    """An int >= 0 (a bool is not one)."""
    return integer(value, what, at_least=0)


def checked_name(value: object, what: str) -> str:
    """A non-empty str: of another type it is a type error, empty it is a bad value."""
    if not isinstance(value, str):
        raise UnsupportedTypeError(f"{what} must be a str, got {type(value).__name__} {value!r}")
    if not value:
        raise InvalidArgumentError(f"{what} must not be empty")
    return value


def checked_text(value: object, what: str) -> str:
    """A str, possibly empty."""
    if not isinstance(value, str):
        raise UnsupportedTypeError(f"{what} must be a str, got {type(value).__name__}")
    return value


def file_path(value: object, what: str) -> str | os.PathLike:
    """A path argument (str or path-like), before anything is read from it."""
    if not isinstance(value, str | os.PathLike):
        raise UnsupportedTypeError(
            f"{what} must be a path (str or os.PathLike), got {type(value).__name__} {value!r}"
        )
    if not os.fspath(value):
        raise InvalidArgumentError(f"{what} must not be empty")
    return value


def name_list(names: object, what: str) -> tuple[str, ...]:
    """None, one name, or a list/tuple of non-empty names, as a tuple."""
    if names is None:
        return ()
    items = [names] if isinstance(names, str) else names
    if not isinstance(items, list | tuple) or not all(isinstance(n, str) for n in items):
        raise UnsupportedTypeError(f"{what} must be a list of names (str), got {names!r}")
    if not all(items):
        raise InvalidArgumentError(f"{what} must be a list of non-empty names, got {names!r}")
    return tuple(items)


def onnx_backend(backend: object, what: str) -> str:
    """The model backend: ONNX is the one smartflow runs (as "ONNX", whatever the case)."""
    if not isinstance(backend, str):
        raise UnsupportedTypeError(
            f"{what}: backend must be a str such as 'ONNX', got {type(backend).__name__}"
        )
    if backend.upper() != "ONNX":
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
