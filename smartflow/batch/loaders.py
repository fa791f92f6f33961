"""The default load stage of a batch job: turn one input (a path, a URL, an S3 object or an array)
into bytes, and name functions so that task managers in other processes can find them.

Everything here is blocking code, run in worker threads by task managers and through
``anyio.to_thread`` by the dispatcher.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from http.client import HTTPException
from typing import Any

import numpy as np

from smartflow._checks import positive
from smartflow.errors import InvalidArgumentError, SmartflowError, UnsupportedTypeError

#: Schemes :func:`load` reads; any other ``scheme://`` input is refused.
SCHEMES = ("file", "http", "https", "s3")

# Bytes asked for per read of an HTTP or S3 body: the deadline is checked between reads.
_CHUNK = 1 << 16

# The longest description of an input of an unexpected type (its repr may be huge).
_REPR_LIMIT = 80


class LoadError(SmartflowError):
    """An input could not be read: a missing file, an HTTP error status, a timeout, an unknown
    scheme, an S3 error. The message names the input and the cause (also kept as
    ``__cause__``); the job turns it into that input's error record."""


# -- describing inputs --------------------------------------------------------------------------


def describe(item: object) -> str:
    """A short, JSON-safe description of an input for records and logs: the path or URL as
    given, ``"array(shape=(8, 8), dtype=float32)"`` for an array, ``"bytes(len=12)"`` for raw
    bytes. :func:`describe` of a description is the description itself."""
    if isinstance(item, np.ndarray):
        return f"array(shape={item.shape}, dtype={item.dtype})"
    if isinstance(item, str):
        return item
    if isinstance(item, os.PathLike):
        return os.fsdecode(item)
    if isinstance(item, bytes | bytearray | memoryview):
        return f"bytes(len={memoryview(item).nbytes})"
    text = repr(item)
    if len(text) > _REPR_LIMIT:
        text = text[: _REPR_LIMIT - 3] + "..."
    return f"{type(item).__name__}({text})"


# -- URLs ---------------------------------------------------------------------------------------


def url_scheme(text: str) -> str | None:
    """The lower-case scheme of ``text`` when it is a URL (``scheme://...``), else None (a local
    path). Only a scheme followed by ``//`` counts, so a file named ``img:1.png`` stays a path.
    Raises ValueError for a malformed URL (``http://[::1``)."""
    parts = urllib.parse.urlsplit(text)
    if parts.scheme and text[len(parts.scheme) + 1 :].startswith("//"):
        return parts.scheme
    return None


def split_s3_url(url: str) -> tuple[str, str]:
    """``(bucket, key)`` of ``s3://bucket/key``. The key is taken literally (S3 keys may hold
    ``?``, ``#`` and ``%``, so no URL decoding); it may be empty."""
    rest = url.split("://", 1)[1]  # the scheme was checked by url_scheme()
    bucket, _, key = rest.partition("/")
    return bucket, key


def require_boto3(what: str) -> Any:
    """The boto3 module, or an InvalidArgumentError saying that ``what`` needs it."""
    try:
        # Imported here: boto3 is optional, needed only for s3:// inputs and outputs.
        import boto3
    except ImportError as exc:
        raise InvalidArgumentError(
            f"{what} needs boto3, which is not installed: pip install boto3"
        ) from exc
    return boto3


_clients: dict[float | None, Any] = {}
_clients_env: tuple[tuple[str, str], ...] = ()
_clients_lock = threading.Lock()


def s3_client(timeout: float | None = None) -> Any:
    """A boto3 S3 client, shared by all threads (clients are thread-safe; creating one costs
    tens of milliseconds). It follows the standard AWS environment (credentials, region,
    ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3``, which botocore reads itself): clients are
    made anew when any ``AWS_*`` variable changed. ``timeout`` is the connect and per-read
    timeout; requests are retried in botocore's standard mode (3 attempts in all)."""
    global _clients_env
    boto3 = require_boto3("s3://")
    from botocore.config import Config  # comes with boto3

    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))
    with _clients_lock:
        if env != _clients_env:
            # Stale (other credentials or endpoint): close their connection pools, which would
            # otherwise linger until collected.
            for stale in _clients.values():
                stale.close()
            _clients.clear()
            _clients_env = env
        client = _clients.get(timeout)
        if client is None:
            limits = (
                {} if timeout is None else {"connect_timeout": timeout, "read_timeout": timeout}
            )
            config = Config(retries={"mode": "standard"}, **limits)
            # A session of its own: boto3's default session is not safe to share across threads.
            client = boto3.session.Session().client("s3", config=config)
            _clients[timeout] = client
        return client


def close_s3_clients() -> None:
    """Close the shared S3 clients' connection pools (when a process winds down, or after the
    endpoint went away); the next :func:`s3_client` makes new ones."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


# -- loading ------------------------------------------------------------------------------------


def load(item: object, timeout: float = 30.0) -> bytes | np.ndarray:
    """The bytes (or array) of one input.

    * a numpy array, or raw ``bytes``, passes through unchanged;
    * a ``str`` or ``os.PathLike`` local path, or a ``file:///abs/path`` URL (percent-decoded):
      the file's bytes;
    * ``http://`` / ``https://``: the response body; a status outside 2xx is an error;
    * ``s3://bucket/key``: the object's body (needs boto3; follows the AWS environment).

    A download must end within ``timeout`` seconds in all: the body is read in chunks and the
    deadline is checked between them, while each socket operation also has ``timeout`` as its
    own limit (so a server that answers nothing fails after ``timeout``, one that trickles its
    body after at most about twice that; response headers have the per-operation limit only).
    Raises :class:`LoadError` naming the input and the
    cause; a bad ``timeout`` is an :class:`~smartflow.errors.InvalidArgumentError`."""
    timeout = positive(timeout, "timeout", "seconds")
    if isinstance(item, np.ndarray):
        return item
    if isinstance(item, bytes):
        return item
    if isinstance(item, os.PathLike):
        return _read_file(item, os.fsdecode(item))
    if not isinstance(item, str):
        raise LoadError(
            f"cannot load {describe(item)}: an input is a path, a file://, http(s):// or s3:// "
            f"URL, or a numpy array, not {type(item).__name__}"
        )
    try:
        scheme = url_scheme(item)
    except ValueError as exc:
        raise LoadError(f"cannot load {item!r}: not a valid URL ({exc})") from exc
    if scheme is None:
        return _read_file(item, item)
    if scheme == "file":
        return _read_file(item, _file_url_path(item))
    if scheme in ("http", "https"):
        return _read_http(item, timeout)
    if scheme == "s3":
        return _read_s3(item, timeout)
    raise LoadError(
        f"cannot load {item!r}: unsupported scheme {scheme!r} (supported: "
        f"{', '.join(SCHEMES)}, or a local path)"
    )


def _read_file(item: object, path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError as exc:
        raise LoadError(f"cannot load {describe(item)!r}: no such file") from exc
    except IsADirectoryError as exc:
        raise LoadError(f"cannot load {describe(item)!r}: is a directory") from exc
    except OSError as exc:
        raise LoadError(f"cannot load {describe(item)!r}: {exc.strerror or exc}") from exc
    except ValueError as exc:  # a NUL in the path
        raise LoadError(f"cannot load {describe(item)!r}: {exc}") from exc


def _file_url_path(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    # file://localhost/x is the same file as file:///x; any other host is not on this machine.
    if parts.netloc not in ("", "localhost"):
        raise LoadError(f"cannot load {url!r}: file URL names host {parts.netloc!r}, not local")
    return urllib.parse.unquote(parts.path)


def _read_http(url: str, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = _read_until(response.read1, deadline, url, timeout)
            expected = response.headers.get("Content-Length")
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the connection open
        raise LoadError(f"cannot load {url!r}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise LoadError(f"cannot load {url!r}: timed out after {timeout:g} s") from exc
        raise LoadError(f"cannot load {url!r}: {exc.reason}") from exc
    except TimeoutError as exc:
        raise LoadError(f"cannot load {url!r}: timed out after {timeout:g} s") from exc
    except (HTTPException, OSError, ValueError) as exc:
        raise LoadError(f"cannot load {url!r}: {type(exc).__name__}: {exc}") from exc
    # read1() returns b"" when the server closes early, without http.client's IncompleteRead.
    if expected is not None and expected.isdigit() and int(expected) != len(body):
        raise LoadError(
            f"cannot load {url!r}: the body ended after {len(body)} of {expected} bytes"
        )
    return body


def _read_until(read1: Callable[[int], bytes], deadline: float, what: str, timeout: float) -> bytes:
    """Read chunks until EOF; a TimeoutError once ``deadline`` has passed."""
    chunks = []
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: timed out after {timeout:g} s")
        chunk = read1(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _read_s3(url: str, timeout: float) -> bytes:
    bucket, key = split_s3_url(url)
    if not bucket or not key:
        raise LoadError(f"cannot load {url!r}: an S3 input is s3://bucket/key")
    try:
        client = s3_client(timeout)
    except InvalidArgumentError as exc:
        raise LoadError(f"cannot load {url!r}: {exc}") from exc
    from botocore.exceptions import BotoCoreError, ClientError  # comes with boto3

    deadline = time.monotonic() + timeout
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            return _read_until(body.read, deadline, url, timeout)
        finally:
            body.close()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        cause = f"{error.get('Code', '?')}: {error.get('Message', exc)}"
        raise LoadError(f"cannot load {url!r}: S3 said {cause}") from exc
    except TimeoutError as exc:
        raise LoadError(f"cannot load {url!r}: timed out after {timeout:g} s") from exc
    except (BotoCoreError, OSError) as exc:
        raise LoadError(f"cannot load {url!r}: {exc}") from exc


# -- naming functions ---------------------------------------------------------------------------


def resolve_function(spec: object) -> Callable[..., Any]:
    """The function named ``"package.module:function"`` (a dotted attribute after the colon,
    ``"module:Class.method"``, is allowed). A callable is returned as it is.

    Raises :class:`~smartflow.errors.InvalidArgumentError` for a malformed spec or a module or
    attribute that cannot be found (or whose import failed), and
    :class:`~smartflow.errors.UnsupportedTypeError` for a spec that is neither a str nor a
    callable, or that names something not callable."""
    if callable(spec):
        return spec
    module_name, attrs = _parse_spec(spec)
    module = _import(module_name, spec)
    target: object = module
    for i, name in enumerate(attrs):
        try:
            target = getattr(target, name)
        except AttributeError as exc:
            where = ".".join([module_name, *attrs[:i]])
            raise InvalidArgumentError(f"function {spec!r}: {where} has no {name!r}") from exc
    if not callable(target):
        raise UnsupportedTypeError(
            f"function {spec!r} names a {type(target).__name__}, which is not callable"
        )
    return target


def _parse_spec(spec: object) -> tuple[str, list[str]]:
    if not isinstance(spec, str):
        raise UnsupportedTypeError(
            f"a function is a callable or a 'package.module:function' str, "
            f"got {type(spec).__name__} {spec!r}"
        )
    module_name, colon, attr = spec.partition(":")
    names = module_name.split(".") + attr.split(".")
    if not colon or not all(n.isidentifier() for n in names):
        raise InvalidArgumentError(
            f"function {spec!r} must read 'package.module:function' (dotted names, one colon)"
        )
    return module_name, attr.split(".")


def _import(module_name: str, spec: str) -> object:
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidArgumentError(
            f"function {spec!r}: cannot import {module_name!r} ({exc})"
        ) from exc
    except Exception as exc:
        # The module itself is broken (a SyntaxError, an error at import time): say so as a
        # bad argument rather than let a task manager die of it.
        raise InvalidArgumentError(
            f"function {spec!r}: importing {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc


def function_name(fn: object) -> str:
    """The ``"package.module:function"`` name of a module-level function (or class, static or
    class method), which :func:`resolve_function` turns back into ``fn`` in another process.
    A str is checked for form (not imported) and returned as it is.

    Refuses (:class:`~smartflow.errors.InvalidArgumentError`) what another process cannot find
    by name: lambdas, functions defined inside functions, functions of ``__main__`` (a script
    or notebook: task managers run in other processes, so move the function into an importable
    module), methods of instances, partials. A non-callable is an
    :class:`~smartflow.errors.UnsupportedTypeError`."""
    if isinstance(fn, str):
        _parse_spec(fn)
        return fn
    if not callable(fn):
        raise UnsupportedTypeError(
            f"a function is a callable or a 'package.module:function' str, "
            f"got {type(fn).__name__} {fn!r}"
        )
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        raise InvalidArgumentError(
            f"{fn!r} has no module-level name; give a function defined at module level"
        )
    if "<lambda>" in qualname or "<locals>" in qualname:
        raise InvalidArgumentError(
            f"{module}.{qualname} is a lambda or defined inside a function, which task managers "
            f"(other processes) cannot import; define it at module level"
        )
    if module == "__main__":
        raise InvalidArgumentError(
            f"{qualname} is defined in __main__ (a script or notebook), which task managers "
            f"(other processes) cannot import; move it into an importable module"
        )
    name = f"{module}:{qualname}"
    _check_round_trip(fn, name)
    return name


def _check_round_trip(fn: object, name: str) -> None:
    """The name must lead back to ``fn`` itself (a decorator may have left a wrong name; a
    method of an instance is not found by name)."""
    try:
        found = resolve_function(name)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{fn!r} cannot be found again by its name: {exc}") from exc
    # Bound class methods are made anew on each lookup: equal, not identical.
    if found is not fn and found != fn:
        raise InvalidArgumentError(
            f"{name!r} does not lead back to {fn!r}; give a function defined at module level"
        )


__all__ = [
    "SCHEMES",
    "LoadError",
    "close_s3_clients",
    "describe",
    "function_name",
    "load",
    "require_boto3",
    "resolve_function",
    "s3_client",
    "split_s3_url",
    "url_scheme",
]
