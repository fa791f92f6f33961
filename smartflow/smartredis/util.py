"""SmartRedis's helpers: dtype names, argument checks, and the error translation every API
call goes through (``exception_handler``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from smartflow import errors as sf
from smartflow.smartredis import error

F = TypeVar("F", bound=Callable[..., Any])

_TENSOR_TYPES = {
    "float64": "DOUBLE",
    "float32": "FLOAT",
    "uint8": "UINT8",
    "uint16": "UINT16",
    "int8": "INT8",
    "int16": "INT16",
    "int32": "INT32",
    "int64": "INT64",
}
_METADATA_TYPES = {
    "float64": "DOUBLE",
    "float32": "FLOAT",
    "uint32": "UINT32",
    "uint64": "UINT64",
    "int32": "INT32",
    "int64": "INT64",
}
_NUMPY_TYPES: dict[str, Any] = {
    "DOUBLE": np.double,
    # SmartRedis 0.6.1 answers float64 for FLOAT fields and tensors too; kept, so code that
    # compares against it behaves the same.
    "FLOAT": np.float64,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "STRING": str,
}


class Dtypes:
    """SmartRedis's type names for numpy dtypes, and back."""

    @staticmethod
    def tensor_from_numpy(array: np.ndarray) -> str:
        """The SmartRedis tensor type of ``array``; TypeError for a dtype SmartRedis lacks."""
        name = str(array.dtype)
        if name not in _TENSOR_TYPES:
            raise TypeError(f"Incompatible tensor type provided {name}")
        return _TENSOR_TYPES[name]

    @staticmethod
    def metadata_from_numpy(array: np.ndarray) -> str:
        """The SmartRedis metadata type of ``array``'s dtype."""
        name = str(array.dtype)
        if name not in _METADATA_TYPES:
            raise TypeError(f"Incompatible metadata type provided {name}")
        return _METADATA_TYPES[name]

    @staticmethod
    def from_string(type_name: str) -> Any:
        """The numpy type (or ``str``) of a SmartRedis type name."""
        if type_name not in _NUMPY_TYPES:
            raise TypeError(f"Unrecognized type name {type_name}")
        return _NUMPY_TYPES[type_name]


def init_default(default: Any, init_value: Any, expected_type: Any = None) -> Any:
    """``default`` when ``init_value`` is None, else ``init_value`` checked against
    ``expected_type`` (TypeError)."""
    if init_value is None:
        return default
    if expected_type is not None and not isinstance(init_value, expected_type):
        raise TypeError(f"Argument was of type {type(init_value)}, not {expected_type}")
    return init_value


def typecheck(arg: Any, name: str, _type: Any) -> None:
    """TypeError unless ``arg`` is a ``_type`` (SmartRedis's rule: a bool passes as an int)."""
    if not isinstance(arg, _type):
        raise TypeError(f"Argument {name} is of type {type(arg)}, not {_type}")


def translate(exc: sf.SmartflowError, method: str) -> Exception:
    """The SmartRedis exception for a smartflow one. Type errors and missing files pass as
    they are (SmartRedis raises the built-ins there too); the rest become the Redis* type of
    the same meaning, with the smartflow message."""
    if isinstance(exc, TypeError | FileNotFoundError):
        return exc
    text = str(exc)
    if isinstance(exc, sf.ConnectionFailedError | sf.AuthenticationError):
        return error.RedisConnectionError(f"{method} execution failed\n{text}")
    kind: type[error.RedisReplyError]
    if isinstance(exc, sf.KeyNotFoundError):
        kind = error.RedisKeyError
    elif isinstance(exc, sf.ClientTimeoutError):
        kind = error.RedisTimeoutError
    elif isinstance(exc, sf.TensorFormatError):
        kind = error.RedisTypeError
    elif isinstance(exc, sf.InvalidArgumentError):
        kind = error.RedisParameterError
    elif isinstance(exc, sf.CommandError):
        kind = error.RedisDatabaseError
    else:
        kind = error.RedisRuntimeError
    return kind(text, method)


def _method_name(func: Callable, args: tuple) -> str:
    """``Class.method`` for a method (or classmethod), the bare name for a function."""
    if not args or isinstance(args[0], str):
        return func.__name__
    owner = args[0] if isinstance(args[0], type) else type(args[0])
    return f"{owner.__name__}.{func.__name__}"


def exception_handler(func: F) -> F:
    """Run an API call, turning smartflow's errors into SmartRedis's (the original kept as
    ``__cause__``)."""

    @functools.wraps(func)
    def smartredis_api_wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except sf.SmartflowError as exc:
            if isinstance(exc, error.RedisReplyError | error.RedisConnectionError):
                raise
            method = _method_name(func, args)
            translated = translate(exc, method)
            if translated is exc:
                raise
            raise translated from exc

    return smartredis_api_wrapper  # type: ignore[return-value]
