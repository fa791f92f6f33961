"""The dataset wire format: one Redis value holding an index, then whole tensors, aligned.

Pure functions, no I/O; documented in ``docs/wire-format.md``::

    offset  size  field
    0       4     magic  b"\\x93SFD"
    4       1     format version (1)
    5       3     reserved, zero
    8       8     index length N, uint64 little-endian
    16      N     index: UTF-8 JSON {"tensors": [{"name", "offset", "length"}...],
                                     "meta": {field: {"type": ..., "values": [...]}}}
    ...           zero padding up to a multiple of 64
    offset_i      tensor i: a complete smartflow tensor value (header + data), 64-aligned

One value means a dataset is written with one SET and read with one GET: a reader sees all of a
dataset or none of it, and an overwrite leaves nothing of the old one behind.
"""

from __future__ import annotations

import json
import struct

import attrs
import numpy as np

from smartflow.client.dataset import DataSet, MetaDataType
from smartflow.errors import TensorFormatError
from smartflow.wire import codec

MAGIC = b"\x93SFD"
VERSION = 1
_FIXED = struct.Struct("<4sB3xQ")
_ZEROS = bytes(codec.ALIGNMENT)


@attrs.frozen
class EncodedDataset:
    """A dataset ready to send: its key, total length and the parts of its value."""

    name: str
    key: bytes
    value_len: int
    parts: tuple[bytes | memoryview, ...]


def encode(dataset: DataSet, key: bytes) -> EncodedDataset:
    """The value of ``dataset`` as parts (tensor payloads are views, not copies)."""
    tensors, scalars, strings = dataset._contents()
    headers = {name: codec.encode_header(array) for name, array in tensors.items()}
    meta = {
        name: {"type": _type_name(values), "values": values.tolist()}
        for name, values in scalars.items()
    }
    meta.update({name: {"type": "string", "values": values} for name, values in strings.items()})
    # The index holds the tensors' offsets, which depend on the index's own length: lay the
    # tensors out after an index written with placeholder offsets of the final width.
    entries = [
        {"name": name, "offset": 0, "length": len(headers[name]) + array.nbytes}
        for name, array in tensors.items()
    ]
    index = _index_bytes(entries, meta)
    while True:  # offsets only grow in digits, so this settles after a pass or two
        offset = _aligned(_FIXED.size + len(index))
        for entry in entries:
            entry["offset"] = offset
            offset = _aligned(offset + entry["length"])
        settled = _index_bytes(entries, meta)
        if len(settled) == len(index):
            break
        index = settled
    index = settled
    parts: list[bytes | memoryview] = [_FIXED.pack(MAGIC, VERSION, len(index)), index]
    position = _FIXED.size + len(index)
    for entry, (name, array) in zip(entries, tensors.items(), strict=True):
        parts.append(_ZEROS[: entry["offset"] - position])
        parts += [headers[name], codec.payload_view(array)]
        position = entry["offset"] + entry["length"]
    return EncodedDataset(dataset.name, key, position, tuple(p for p in parts if len(p)))


def decode(buf: np.ndarray, name: str) -> DataSet:
    """The dataset in ``buf`` (a uint8 array holding one whole value). Its tensors are views
    into ``buf``: writeable, aligned, no copy."""
    view = memoryview(buf)
    if len(view) < _FIXED.size or bytes(view[:4]) != MAGIC:
        raise TensorFormatError(
            f"dataset {name!r}: the stored value is not a smartflow dataset "
            "(written by another client?)"
        )
    _, version, index_len = _FIXED.unpack_from(view)
    if version != VERSION:
        raise TensorFormatError(
            f"dataset {name!r} has format version {version}; this smartflow reads {VERSION}"
        )
    try:
        index = json.loads(bytes(view[_FIXED.size : _FIXED.size + index_len]))
        tensors = {
            e["name"]: _tensor_at(buf, e["offset"], e["length"], name, e["name"])
            for e in index["tensors"]
        }
        scalars, strings = _decode_meta(index["meta"])
    except (ValueError, KeyError, TypeError) as exc:
        raise TensorFormatError(f"dataset {name!r}: corrupt index ({exc})") from exc
    return DataSet._restore(name, tensors, scalars, strings)


def _tensor_at(buf: np.ndarray, offset: int, length: int, dataset: str, name: str) -> np.ndarray:
    what = f"dataset {dataset!r} tensor {name!r}"
    if offset % codec.ALIGNMENT or offset + length > len(buf):
        raise TensorFormatError(f"{what}: offset {offset} / length {length} out of bounds")
    region = buf[offset : offset + length]
    header = codec.decode_header(memoryview(region), what)
    codec.check_length(header, length - header.header_len, what)
    return region[header.header_len :].view(header.dtype).reshape(header.shape)


def _decode_meta(meta: dict) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    scalars: dict[str, np.ndarray] = {}
    strings: dict[str, list[str]] = {}
    for field, entry in meta.items():
        kind = MetaDataType(entry["type"])
        if kind is MetaDataType.STRING:
            strings[field] = [str(v) for v in entry["values"]]
        else:
            scalars[field] = np.array(entry["values"], dtype=kind.dtype)
    return scalars, strings


def _type_name(values: np.ndarray) -> str:
    return next(k.value for k in MetaDataType if k.dtype == values.dtype)


def _index_bytes(entries: list[dict], meta: dict) -> bytes:
    return json.dumps({"tensors": entries, "meta": meta}, separators=(",", ":")).encode()


def _aligned(n: int) -> int:
    return -(-n // codec.ALIGNMENT) * codec.ALIGNMENT
