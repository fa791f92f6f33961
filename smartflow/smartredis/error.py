"""SmartRedis's exception types, as ``smartredis.error`` names them.

Each is also a :class:`~smartflow.errors.ClientError` (so smartflow's own ``except`` clauses
catch them) and keeps the smartflow error it stands for as ``__cause__``::

    RuntimeError + ClientError
    ├── RedisConnectionError (ConnectionError)  no store at SSDB, or it refused the secret
    └── RedisReplyError                         the store (or smartflow) could not do it
        ├── RedisRuntimeError
        │   └── RedisParameterError (ValueError) smartflow refused an argument's value
        ├── RedisBadAllocError
        ├── RedisDatabaseError
        ├── RedisInternalError
        ├── RedisTimeoutError (TimeoutError)
        ├── RedisKeyError (LookupError)          no such tensor, dataset, model or field
        └── RedisTypeError                       the key holds another kind of value
"""

from __future__ import annotations

import os

from smartflow.errors import ClientError

__all__ = [
    "RedisBadAllocError",
    "RedisConnectionError",
    "RedisDatabaseError",
    "RedisInternalError",
    "RedisKeyError",
    "RedisParameterError",
    "RedisReplyError",
    "RedisRuntimeError",
    "RedisTimeoutError",
    "RedisTypeError",
]


class RedisConnectionError(RuntimeError, ClientError, ConnectionError):
    """The client could not reach (or log in to) its store; the message names SSDB's value,
    never the secret."""

    def __init__(self, cpp_error: str = "") -> None:
        message = f"{cpp_error}\n" if cpp_error else ""
        if "SSDB" in os.environ:
            message += f"Could not connect to Orchestrator at {os.environ['SSDB']}"
        super().__init__(message)


class RedisReplyError(RuntimeError, ClientError):
    """A call failed; ``method`` (``"Client.get_tensor"``) heads the message, as in SmartRedis."""

    def __init__(self, cpp_error: str, method: str = "") -> None:
        head = f"{method} execution failed\n" if method else ""
        super().__init__(head + cpp_error)


class RedisRuntimeError(RedisReplyError):
    """The call could not be done (a model that does not run, a feature only RedisAI has)."""


class RedisParameterError(RedisRuntimeError, ValueError):
    """smartflow refused the value of an argument (SmartRedis passes these as ValueError or as
    a reply error: this is both)."""


class RedisBadAllocError(RedisReplyError):
    """Memory could not be allocated."""


class RedisDatabaseError(RedisReplyError):
    """The store answered with an error."""


class RedisInternalError(RedisReplyError):
    """An internal inconsistency."""


class RedisTimeoutError(RedisReplyError, TimeoutError):
    """The store did not answer in time."""


class RedisKeyError(RedisReplyError, LookupError):
    """No such key (tensor, dataset, model, script) or no such field in a dataset."""


class RedisTypeError(RedisReplyError):
    """The key holds a value of another kind than the call reads."""
