"""How splits and their results travel through the store: a JSON header, then an ``.npz``.

No pickle anywhere (``allow_pickle=False`` both ways): a task manager's answer is data, never
code (the seed ``eval()``'d what its task managers sent).
"""

from __future__ import annotations

import io
import json
import struct
from typing import Any

import numpy as np

from smartflow.batch.records import ERROR, OK

_MAGIC = b"SFB1"
_HEADER = struct.Struct("<4sI")


def _pack(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    head = json.dumps(header, separators=(",", ":")).encode()
    body = b""
    if arrays:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        body = buffer.getvalue()
    return _HEADER.pack(_MAGIC, len(head)) + head + body


def _unpack(payload: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    magic, size = _HEADER.unpack_from(payload)
    if magic != _MAGIC:
        raise ValueError("not a smartflow batch payload")
    start = _HEADER.size
    header = json.loads(payload[start : start + size])
    body = payload[start + size :]
    if not body:
        return header, {}
    with np.load(io.BytesIO(body), allow_pickle=False) as archive:
        return header, {name: archive[name] for name in archive.files}


def encode_split(first: int, items: list[object]) -> bytes:
    """A split: the position of its first input, then each input (str inline, arrays in the
    archive as ``a<j>``)."""
    names: list[str | None] = []
    arrays: dict[str, np.ndarray] = {}
    for j, item in enumerate(items):
        if isinstance(item, np.ndarray):
            names.append(None)
            arrays[f"a{j}"] = item
        else:
            names.append(str(item))
    return _pack({"first": first, "items": names}, arrays)


def decode_split(payload: bytes) -> tuple[int, list[object]]:
    header, arrays = _unpack(payload)
    items = [arrays[f"a{j}"] if name is None else name for j, name in enumerate(header["items"])]
    return int(header["first"]), items


def encode_result(
    statuses: list[str],
    errors: list[str | None],
    outputs: list[np.ndarray],
    meta: dict[str, Any],
) -> bytes:
    """A split's answer: per input its status and error, and each model output's rows for the
    inputs that are ok (stacked, in order), with ``meta`` (who, how long)."""
    header = {"status": statuses, "errors": errors, "outputs": len(outputs), **meta}
    return _pack(header, {f"o{i}": out for i, out in enumerate(outputs)})


def decode_result(
    payload: bytes,
) -> tuple[list[str], list[str | None], list[list[np.ndarray] | None], dict[str, Any]]:
    """Statuses, errors, each input's rows (None for an error) and the meta of an answer."""
    header, arrays = _unpack(payload)
    statuses: list[str] = header.pop("status")
    errors: list[str | None] = header.pop("errors")
    outputs = [arrays[f"o{i}"] for i in range(header.pop("outputs"))]
    rows: list[list[np.ndarray] | None] = []
    ok = 0
    for status in statuses:
        if status == OK:
            rows.append([out[ok] for out in outputs])
            ok += 1
        else:
            rows.append(None)
    return statuses, errors, rows, header


def failed_result(count: int, error: str, meta: dict[str, Any]) -> bytes:
    """The answer of a split none of whose inputs could be run (it ran out of retries)."""
    return encode_result([ERROR] * count, [error] * count, [], meta)
