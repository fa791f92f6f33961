"""The tensor wire format: a small versioned header, then the raw C-order bytes.

Pure functions, no I/O. The format is documented in ``docs/wire-format.md`` so that any Redis
client in any language can read and write smartflow tensors::

    offset  size  field
    0       4     magic  b"\\x93SFT"
    4       1     format version (1)
    5       1     flags (bit 0: this value is a chunk manifest, see below)
    6       2     header length H, uint16 little-endian, a multiple of 64
    8       8     dtype, numpy array-interface typestr in ASCII, NUL padded ("<f4", "|b1", ">c16")
    16      4     ndim, uint32 little-endian
    20      4     reserved, zero
    24      8*n   shape, one uint64 little-endian per dimension
    ...           zero padding up to H
    H             data: prod(shape) * itemsize bytes in C order, byte order as the dtype says

Values larger than Redis's 512 MB bulk limit are stored chunked: the key then holds a Redis
*list* whose first element is a manifest (a header with flag bit 0 set, then ``chunk_count,
chunk_bytes, data_bytes`` as three uint64 LE and an 8-byte token unique to the write) and whose
other elements are the chunks, raw bytes in order.
"""

from __future__ import annotations

import functools
import math
import re
import struct

import attrs
import numpy as np

from smartflow.errors import TensorFormatError, UnsupportedTypeError

MAGIC = b"\x93SFT"
VERSION = 1
FLAG_CHUNKED = 0x01
ALIGNMENT = 64
#: Bytes that always suffice to learn a header's full length.
PREFIX_LEN = 8
_FIXED = struct.Struct("<4sBBH8sII")
_MANIFEST = struct.Struct("<QQQ8s")
_STORABLE_KINDS = frozenset("biufc")
_TYPESTR = re.compile(r"[<>|=][biufc]\d{1,2}")
#: numpy's own limit on dimensions.
MAX_NDIM = 64


@attrs.frozen
class TensorHeader:
    """A decoded header: what the data that follows it is."""

    dtype: np.dtype
    shape: tuple[int, ...]
    header_len: int
    chunked: bool = False

    @property
    def data_len(self) -> int:
        """Bytes of array data that follow the header (for a manifest: of the whole tensor)."""
        return math.prod(self.shape) * self.dtype.itemsize


@attrs.frozen
class ChunkManifest:
    """How a tensor too large for one Redis value is cut into the elements of its list."""

    chunk_count: int
    chunk_bytes: int
    data_bytes: int
    #: Unique to one write: a reader that sees the same token before and after reading the
    #: chunks read them all from that write.
    token: bytes


def as_storable(value: object, name: str = "tensor") -> np.ndarray:
    """Check that ``value`` can be stored and return it as a C-contiguous array.

    Only the copy that C order needs is made (Fortran-ordered and strided inputs).
    """
    if not isinstance(value, np.ndarray):
        raise UnsupportedTypeError(
            f"{name}: expected a numpy.ndarray, got {type(value).__name__}; "
            "wrap the value with numpy.asarray(...) first"
        )
    if value.dtype.kind not in _STORABLE_KINDS or value.dtype.fields is not None:
        raise UnsupportedTypeError(
            f"{name}: dtype {value.dtype} cannot be stored; use a fixed-size numeric or bool "
            "dtype (int*, uint*, float16/32/64, complex64/128, bool)"
        )
    # np.ascontiguousarray would turn a 0-d array into shape (1,); asarray keeps the shape.
    return np.asarray(value, order="C")


def encode_header(array: np.ndarray, *, chunked: bool = False) -> bytes:
    """The header for ``array`` (already checked by :func:`as_storable`)."""
    return _header_for(array.dtype.str, array.shape, chunked)


@functools.lru_cache(maxsize=1024)
def _header_for(typestr: str, shape: tuple[int, ...], chunked: bool) -> bytes:
    # Cached: a workflow writes the same dtypes and shapes over and over.
    header_len = _aligned(_FIXED.size + 8 * len(shape))
    flags = FLAG_CHUNKED if chunked else 0
    fixed = _FIXED.pack(MAGIC, VERSION, flags, header_len, typestr.encode(), len(shape), 0)
    return (fixed + struct.pack(f"<{len(shape)}Q", *shape)).ljust(header_len, b"\0")


def payload_view(array: np.ndarray) -> memoryview:
    """The array's bytes in C order, without a copy (``array`` must be C-contiguous)."""
    return memoryview(array.reshape(-1).view(np.uint8))


def header_length(prefix: bytes | bytearray | memoryview, key: str) -> int:
    """The full header length announced by the first :data:`PREFIX_LEN` bytes of a value."""
    if len(prefix) < PREFIX_LEN or bytes(prefix[:4]) != MAGIC:
        raise TensorFormatError(
            f"key {key!r} holds a value that is not a smartflow tensor "
            "(written by another client?); read it with a plain Redis GET instead"
        )
    if prefix[4] != VERSION:
        raise TensorFormatError(
            f"key {key!r} holds a tensor of format version {prefix[4]}; this smartflow reads "
            f"version {VERSION}"
        )
    (header_len,) = struct.unpack_from("<H", prefix, 6)
    if header_len < _FIXED.size or header_len % ALIGNMENT:
        raise TensorFormatError(f"key {key!r}: corrupt tensor header (length {header_len})")
    return header_len


def decode_header(buf: bytes | bytearray | memoryview, key: str) -> TensorHeader:
    """Parse a whole header (``buf`` holds at least its announced length)."""
    header_len = header_length(buf, key)
    if len(buf) < header_len:
        raise TensorFormatError(f"key {key!r}: tensor header truncated")
    _, _, flags, _, typestr, ndim, _ = _FIXED.unpack_from(buf, 0)
    if _FIXED.size + 8 * ndim > header_len:
        raise TensorFormatError(f"key {key!r}: corrupt tensor header (ndim {ndim})")
    shape = struct.unpack_from(f"<{ndim}Q", buf, _FIXED.size)
    dtype = _parse_dtype(typestr, key)
    if ndim > MAX_NDIM or math.prod(d for d in shape if d) * dtype.itemsize >= 2**63:
        raise TensorFormatError(f"key {key!r}: corrupt tensor header (shape {shape})")
    return TensorHeader(dtype, shape, header_len, bool(flags & FLAG_CHUNKED))


def decode(value: bytes | bytearray | memoryview, key: str) -> np.ndarray:
    """Decode a whole stored value into a new writeable array (the non-streaming path)."""
    header = decode_header(value, key)
    if header.chunked:
        raise TensorFormatError(f"key {key!r} holds a chunk manifest, not inline data")
    check_length(header, len(value) - header.header_len, key)
    array = np.empty(header.shape, header.dtype)
    payload_view(array)[:] = memoryview(value)[header.header_len :]
    return array


def check_length(header: TensorHeader, data_len: int, key: str) -> None:
    """Refuse a value whose data length disagrees with its header (truncated or padded)."""
    if data_len != header.data_len:
        raise TensorFormatError(
            f"key {key!r}: tensor data is {data_len} bytes but its header announces "
            f"{header.data_len} ({header.dtype}, shape {header.shape}); the value is corrupt"
        )


def encode_manifest(array: np.ndarray, manifest: ChunkManifest) -> bytes:
    """The first element of a chunked tensor's list."""
    body = _MANIFEST.pack(
        manifest.chunk_count, manifest.chunk_bytes, manifest.data_bytes, manifest.token
    )
    return encode_header(array, chunked=True) + body


def decode_manifest(value: bytes, key: str) -> tuple[TensorHeader, ChunkManifest]:
    """The header and chunk layout held by a manifest; a value that is no manifest (the first
    element of some other list, say) is a :class:`TensorFormatError`."""
    header = decode_header(value, key)
    body = memoryview(value)[header.header_len :]
    if not header.chunked or len(body) != _MANIFEST.size:
        raise TensorFormatError(f"key {key!r} holds a Redis list that is not a chunked tensor")
    count, chunk_bytes, data_bytes, token = _MANIFEST.unpack_from(body, 0)
    if data_bytes != header.data_len or chunk_bytes == 0 or count != -(-data_bytes // chunk_bytes):
        raise TensorFormatError(f"key {key!r}: chunk manifest is inconsistent")
    return header, ChunkManifest(count, chunk_bytes, data_bytes, token)


def _aligned(n: int) -> int:
    return -(-n // ALIGNMENT) * ALIGNMENT


def _parse_dtype(typestr: bytes, key: str) -> np.dtype:
    dtype = _storable_dtype(typestr)
    if dtype is None:
        text = typestr.rstrip(b"\0").decode("ascii", errors="replace")
        raise TensorFormatError(f"key {key!r}: dtype {text!r} in tensor header is not storable")
    return dtype


@functools.lru_cache(maxsize=256)
def _storable_dtype(typestr: bytes) -> np.dtype | None:
    text = typestr.rstrip(b"\0").decode("ascii", errors="replace")
    if not _TYPESTR.fullmatch(text):
        return None  # also keeps numpy's deprecated aliases (and their warnings) out
    try:
        dtype = np.dtype(text)
    except (TypeError, ValueError):
        return None
    if dtype.kind not in _STORABLE_KINDS or dtype.fields is not None:
        return None
    return dtype
