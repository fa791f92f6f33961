"""Writing a batch job's outputs: one file per split, under a local directory or an S3 prefix.

Layout under a target (several jobs can share one)::

    {job_name}/split-00003.jsonl        one JSON object per record, in record order
    {job_name}/split-00003.out0.npy     fmt="npy" only: model output 0, one row per record
    {job_name}/summary.json

Every file is written whole or not at all: a local file is written under a temporary name in
the same directory, synced, then renamed over the final name; an S3 object is one
``put_object``. A split that is executed again therefore replaces its files, never leaving a
duplicate or a half-written one.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import re
import urllib.parse
import uuid
from collections.abc import Callable, Sequence
from typing import IO, Any, Literal

import attrs
import numpy as np

from smartflow import _checks
from smartflow._log import get_logger
from smartflow.batch.loaders import describe, require_boto3, s3_client, split_s3_url, url_scheme
from smartflow.batch.records import Result
from smartflow.errors import InvalidArgumentError, SmartflowError, UnsupportedTypeError

FORMATS = ("jsonl", "npy")

# Writes the bytes of one file into the file object it is given.
Writer = Callable[[IO[bytes]], None]

_log = get_logger("batch.outputs")


class OutputError(SmartflowError):
    """An output file could not be written (a full disk, a refused permission, an S3 error);
    the message names the file and the cause, also kept as ``__cause__``."""


@attrs.frozen
class OutputTarget:
    """Where a job's outputs go: a local directory (``kind="local"``, ``path`` absolute) or an
    S3 prefix (``kind="s3"``, ``bucket``, and ``path`` the key prefix without slashes at its
    ends, possibly empty). ``url`` gives it back in the form :func:`parse_output` reads."""

    kind: Literal["local", "s3"]
    path: str
    bucket: str | None = None

    @property
    def url(self) -> str:
        if self.kind == "s3":
            return f"s3://{self.bucket}/{self.path}"
        return self.path


def parse_output(output: str | os.PathLike[str] | None) -> OutputTarget | None:
    """The target named by ``output``: None for None, an S3 prefix for ``s3://bucket/prefix``,
    else a local directory (``file://`` URLs and ``~`` included; made absolute now, since
    task managers may run elsewhere; created, parents too, on the first write).

    Only the argument is checked (no I/O): another URL scheme (``http://``) or an empty string
    is an :class:`~smartflow.errors.InvalidArgumentError`, as is an S3 target when boto3 is not
    installed; a value that is not a str or path an :class:`~smartflow.errors.UnsupportedTypeError`.
    """
    if output is None:
        return None
    if isinstance(output, os.PathLike):
        return _local(os.fsdecode(output), output)
    if not isinstance(output, str):
        raise UnsupportedTypeError(
            f"output must be a directory, an s3:// URL or None, got {type(output).__name__}"
        )
    if not output.strip():
        raise InvalidArgumentError("output must not be empty")
    try:
        scheme = url_scheme(output)
    except ValueError as exc:
        raise InvalidArgumentError(f"output {output!r} is not a valid URL ({exc})") from exc
    if scheme is None:
        return _local(output, output)
    if scheme == "file":
        return _local(_file_url_path(output), output)
    if scheme == "s3":
        return _s3(output)
    raise InvalidArgumentError(
        f"output {output!r}: unsupported scheme {scheme!r} (give a directory or s3://bucket/prefix)"
    )


def _local(path: str, given: object) -> OutputTarget:
    if "\0" in path:
        raise InvalidArgumentError(f"output {given!r} holds a NUL character")
    return OutputTarget("local", os.path.abspath(os.path.expanduser(path)))


def _file_url_path(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise InvalidArgumentError(f"output {url!r} names host {parts.netloc!r}, not local")
    return urllib.parse.unquote(parts.path)


def _s3(url: str) -> OutputTarget:
    bucket, prefix = split_s3_url(url)
    # Bucket names are 3-63 lower-case letters, digits, dots and hyphens.
    if not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]", bucket):
        raise InvalidArgumentError(f"output {url!r} does not name a valid S3 bucket")
    # Checked now, not at the first write: a job should not run to its end for nothing.
    require_boto3(f"output {url!r}")
    return OutputTarget("s3", prefix.strip("/"), bucket)


# -- writing ------------------------------------------------------------------------------------


def write_split(
    target: OutputTarget | str | os.PathLike[str],
    job_name: str,
    split: int,
    records: Sequence[Result],
    fmt: str = "jsonl",
) -> str:
    """Write the records of one split; returns where the ``.jsonl`` went (a path or s3 URL).

    ``fmt="jsonl"``: ``{job_name}/split-{split:05d}.jsonl`` holds one JSON object per record, in
    the order given: ``{"index", "input", "status", "error", "result"}``, with ``input`` as
    :func:`~smartflow.batch.loaders.describe` gives it and ``result`` the list of the record's
    output rows as nested lists (null for an error record). Non-finite floats are written as
    ``NaN`` / ``Infinity``, as Python's json module reads them.

    ``fmt="npy"``: the ``.jsonl`` holds the same objects without ``result``, and
    ``split-{split:05d}.out{i}.npy`` beside it holds model output ``i``: one row per record,
    so that row ``r`` of every ``.npy`` belongs to line ``r`` of the ``.jsonl``. The row of an
    error record is NaN for a float output, zero (``False``, ``""``) otherwise. A split
    without any ok record has no ``.npy`` file (nothing tells the outputs' shapes). Rows of
    one output must share a shape and must not be Python objects; use ``"jsonl"`` for those.

    Writing a split again replaces its files (and removes ``.npy`` files the new write does
    not have). Raises :class:`OutputError` when a file cannot be written, and
    :class:`~smartflow.errors.InvalidArgumentError` /
    :class:`~smartflow.errors.UnsupportedTypeError` for bad arguments."""
    target = _target(target)
    base = f"{_job_dir(job_name)}/split-{_checks.integer(split, 'split', at_least=0):05d}"
    records = _records(records)
    if fmt not in FORMATS:
        raise InvalidArgumentError(f"fmt must be one of {', '.join(FORMATS)}; got {fmt!r}")
    kept = []
    if fmt == "npy":
        for i, array in enumerate(_stacked_outputs(records)):
            kept.append(f"{base}.out{i}.npy")
            _put(target, kept[-1], functools.partial(_write_npy, array))
    _remove_stale_npy(target, base, kept)
    # The .jsonl goes last: once it is there, the .npy files it indexes are too.
    return _put(target, f"{base}.jsonl", functools.partial(_write_jsonl, records, fmt == "jsonl"))


def write_summary(
    target: OutputTarget | str | os.PathLike[str], job_name: str, summary: dict[str, Any]
) -> str:
    """Write ``{job_name}/summary.json`` (indented JSON; numpy values become plain ones) the
    same way as :func:`write_split`; returns where it went."""
    target = _target(target)
    job = _job_dir(job_name)
    if not isinstance(summary, dict):
        raise UnsupportedTypeError(f"summary must be a dict, got {type(summary).__name__}")
    text = _dumps(summary, indent=2) + "\n"
    return _put(target, f"{job}/summary.json", lambda f: f.write(text.encode()))


def _target(target: object) -> OutputTarget:
    if isinstance(target, OutputTarget):
        return target
    if target is None:
        raise InvalidArgumentError("no output target to write to (output is None)")
    parsed = parse_output(target)  # type: ignore[arg-type]
    assert parsed is not None
    return parsed


def _job_dir(job_name: object) -> str:
    if not isinstance(job_name, str):
        raise UnsupportedTypeError(f"job_name must be a str, got {type(job_name).__name__}")
    # It becomes one directory (or key segment) under the target.
    if job_name in ("", ".", "..") or any(c in job_name for c in "/\\\0"):
        raise InvalidArgumentError(
            f"job_name must be one non-empty path component (no slashes), got {job_name!r}"
        )
    return job_name


def _records(records: object) -> list[Result]:
    if not isinstance(records, list | tuple):
        raise UnsupportedTypeError(
            f"records must be a list of Result, got {type(records).__name__}"
        )
    for record in records:
        if not isinstance(record, Result):
            raise UnsupportedTypeError(f"records must be Result records, got {record!r}")
        if record.ok and record.result is None:
            raise InvalidArgumentError(f"record {record.index} is ok but has no result")
    return list(records)


# -- formats ------------------------------------------------------------------------------------


def _json_default(value: object) -> object:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _dumps(value: object, **kwargs: Any) -> str:
    try:
        return json.dumps(value, default=_json_default, **kwargs)
    except (TypeError, ValueError) as exc:
        raise UnsupportedTypeError(f"cannot write as JSON: {exc}") from exc


def _write_jsonl(records: list[Result], with_results: bool, f: IO[bytes]) -> None:
    for record in records:
        line: dict[str, object] = {
            "index": record.index,
            "input": describe(record.input),
            "status": record.status,
            "error": record.error,
        }
        if with_results:
            result = record.result
            line["result"] = None if result is None else [np.asarray(a).tolist() for a in result]
        f.write(_dumps(line).encode() + b"\n")


def _write_npy(array: np.ndarray, f: IO[bytes]) -> None:
    np.save(f, array, allow_pickle=False)


def _stacked_outputs(records: list[Result]) -> list[np.ndarray]:
    """Each model output as one array with a row per record (see :func:`write_split`)."""
    ok = [r for r in records if r.ok]
    if not ok:
        return []
    count = len(ok[0].result)  # type: ignore[arg-type]
    if any(len(r.result) != count for r in ok):  # type: ignore[arg-type]
        raise InvalidArgumentError("the ok records of a split have different numbers of outputs")
    return [_stack(records, i) for i in range(count)]


def _stack(records: list[Result], i: int) -> np.ndarray:
    rows = {n: np.asarray(r.result[i]) for n, r in enumerate(records) if r.ok}  # type: ignore[index]
    shapes = {row.shape for row in rows.values()}
    if len(shapes) > 1:
        raise InvalidArgumentError(
            f"output {i} has rows of different shapes {sorted(shapes)}; use fmt='jsonl'"
        )
    dtype = functools.reduce(np.promote_types, (row.dtype for row in rows.values()))
    if dtype.hasobject:
        raise UnsupportedTypeError(f"output {i} holds Python objects; use fmt='jsonl'")
    shape = (len(records), *shapes.pop())
    stacked = np.full(shape, np.nan, dtype) if dtype.kind in "fc" else np.zeros(shape, dtype)
    for n, row in rows.items():
        stacked[n] = row
    return stacked


# -- storage ------------------------------------------------------------------------------------


def _put(target: OutputTarget, relpath: str, writer: Writer) -> str:
    """Write one file whole (see the module's docstring); returns its path or URL."""
    if target.kind == "s3":
        return _put_s3(target, relpath, writer)
    return _put_local(os.path.join(target.path, *relpath.split("/")), writer)


def _put_local(path: str, writer: Writer) -> str:
    directory, name = os.path.split(path)
    # Hidden, unique per writer: two attempts at one split never write into the same file.
    temp = os.path.join(directory, f".{name}.tmp-{uuid.uuid4().hex}")
    try:
        os.makedirs(directory, exist_ok=True)
        # os.open with 0o666 (not tempfile, which makes 0o600 files) so the umask decides.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            with os.fdopen(fd, "wb") as f:
                writer(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        _fsync_directory(directory)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (a crash right after could otherwise undo it)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _s3_key(target: OutputTarget, relpath: str) -> str:
    return f"{target.path}/{relpath}" if target.path else relpath


def _put_s3(target: OutputTarget, relpath: str, writer: Writer) -> str:
    key = _s3_key(target, relpath)
    url = f"s3://{target.bucket}/{key}"
    buffer = io.BytesIO()
    writer(buffer)
    from botocore.exceptions import BotoCoreError, ClientError  # comes with boto3

    try:
        s3_client().put_object(Bucket=target.bucket, Key=key, Body=buffer.getvalue())
    except (ClientError, BotoCoreError) as exc:
        raise OutputError(f"cannot write {url}: {exc}") from exc
    return url


def _remove_stale_npy(target: OutputTarget, base: str, kept: list[str]) -> None:
    """Remove ``{base}.out{i}.npy`` files that an earlier write of the split left and this one
    did not write (it had fewer outputs, no ok record, or another format)."""
    pattern = re.compile(re.escape(base.rsplit("/", 1)[1]) + r"\.out\d+\.npy")
    if target.kind == "s3":
        _remove_stale_s3(target, base, pattern, kept)
        return
    directory = os.path.join(target.path, *base.split("/")[:-1])
    keep = {relpath.rsplit("/", 1)[1] for relpath in kept}
    try:
        names = os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing written yet (or nothing writable: the write itself will say so)
    except OSError as exc:
        raise OutputError(f"cannot list {directory}: {exc.strerror or exc}") from exc
    for name in names:
        if pattern.fullmatch(name) and name not in keep:
            try:
                os.unlink(os.path.join(directory, name))
            except FileNotFoundError:
                pass  # another attempt at the split removed it first
            except OSError as exc:
                raise OutputError(f"cannot remove stale {name}: {exc.strerror or exc}") from exc


def _remove_stale_s3(
    target: OutputTarget, base: str, pattern: re.Pattern[str], kept: list[str]
) -> None:
    from botocore.exceptions import BotoCoreError, ClientError  # comes with boto3

    client = s3_client()
    prefix = _s3_key(target, f"{base}.out")
    keep = {_s3_key(target, relpath) for relpath in kept}
    try:
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=target.bucket, Prefix=prefix
        )
        stale = [
            obj["Key"]
            for page in pages
            for obj in page.get("Contents", ())
            if obj["Key"] not in keep and pattern.fullmatch(obj["Key"].rsplit("/", 1)[-1])
        ]
        for key in stale:
            client.delete_object(Bucket=target.bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "AccessDenied":
            raise OutputError(f"cannot clean up s3://{target.bucket}/{prefix}*: {exc}") from exc
        # A writer allowed to put but not to list or delete still writes its split.
        _log.warning("stale outputs not checked", prefix=f"s3://{target.bucket}/{prefix}")
    except BotoCoreError as exc:
        raise OutputError(f"cannot clean up s3://{target.bucket}/{prefix}*: {exc}") from exc


__all__ = ["FORMATS", "OutputError", "OutputTarget", "parse_output", "write_split", "write_summary"]
