"""The tensor wire format (smartflow/client/codec.py): pure, no store involved."""

from __future__ import annotations

import datetime
import struct

import numpy as np
import pytest

from smartflow.errors import InvalidArgumentError, TensorFormatError, UnsupportedTypeError
from smartflow.wire import codec

FIXED = struct.Struct("<4sBBH8sII")  # the layout the module docstring documents

NUMERIC_DTYPES = [
    "?",
    "i1",
    "i2",
    "i4",
    "i8",
    "u1",
    "u2",
    "u4",
    "u8",
    "f2",
    "f4",
    "f8",
    "c8",
    "c16",
]
BIG_ENDIAN_DTYPES = [">i2", ">i4", ">i8", ">u2", ">u4", ">u8", ">f2", ">f4", ">f8", ">c8", ">c16"]


def sample(dtype: str | np.dtype, shape: tuple[int, ...] = (3, 4)) -> np.ndarray:
    """Distinct, non-trivial values of ``dtype`` (negatives, fractions, imaginary parts)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    base = np.arange(n, dtype=np.float64) - n // 3
    if dtype.kind == "b":
        values = (np.arange(n) % 3) == 1
    elif dtype.kind == "u":
        values = np.arange(n) * 7 + 1
    elif dtype.kind == "i":
        values = base * 5
    elif dtype.kind == "f":
        values = base * 1.25
    else:
        values = base * 1.5 + 1j * (base - 0.5)
    return np.asarray(values).astype(dtype).reshape(shape)


def encode(array: np.ndarray) -> bytes:
    """What put_tensor stores: as_storable, then header + C-order payload."""
    stored = codec.as_storable(array)
    return codec.encode_header(stored) + bytes(codec.payload_view(stored))


def header_bytes(
    *,
    magic: bytes = codec.MAGIC,
    version: int = 1,
    flags: int = 0,
    header_len: int = 64,
    dtype: bytes = b"<f4",
    shape: tuple[int, ...] = (3,),
    ndim: int | None = None,
) -> bytes:
    """A header built by hand from the documented layout (not with the code under test)."""
    ndim = len(shape) if ndim is None else ndim
    fixed = FIXED.pack(magic, version, flags, header_len, dtype, ndim, 0)
    return (fixed + struct.pack(f"<{len(shape)}Q", *shape)).ljust(header_len, b"\0")


def assert_same(result: np.ndarray, original: np.ndarray) -> None:
    assert result.dtype == original.dtype
    assert result.shape == original.shape
    np.testing.assert_array_equal(result, original)


# -- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES + BIG_ENDIAN_DTYPES)
def test_round_trip_every_numeric_dtype(dtype: str) -> None:
    original = sample(dtype)
    result = codec.decode(encode(original), "k")
    assert_same(result, original)
    assert result.dtype.str == np.dtype(dtype).str  # byte order is kept, not normalised


@pytest.mark.parametrize("dtype", BIG_ENDIAN_DTYPES)
def test_big_endian_data_bytes_are_big_endian(dtype: str) -> None:
    original = sample(dtype, (5,))
    value = encode(original)
    header_len = struct.unpack_from("<H", value, 6)[0]
    assert value[8:16].rstrip(b"\0") == np.dtype(dtype).str.encode()
    assert value[header_len:] == original.tobytes()
    assert value[header_len:] != original.astype(np.dtype(dtype).newbyteorder("<")).tobytes()


def test_float_specials_round_trip_bit_exact() -> None:
    original = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, 5e-324], dtype="f8")
    result = codec.decode(encode(original), "k")
    assert result.tobytes() == original.tobytes()


def test_integer_extremes_round_trip() -> None:
    for dtype in ("i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"):
        info = np.iinfo(dtype)
        original = np.array([info.min, info.max, 0], dtype=dtype)
        assert_same(codec.decode(encode(original), "k"), original)


@pytest.mark.parametrize("dtype", ["f8", "?", "c16", ">i4"])
def test_zero_dimensional_array(dtype: str) -> None:
    original = np.array(sample(dtype, (1,))[0], dtype=dtype)
    assert original.ndim == 0
    value = encode(original)
    assert len(value) == 64 + original.itemsize
    result = codec.decode(value, "k")
    assert result.shape == ()
    assert_same(result, original)


@pytest.mark.parametrize("shape", [(0,), (3, 0, 2), (0, 0), (1, 0)])
def test_empty_arrays(shape: tuple[int, ...]) -> None:
    original = np.zeros(shape, dtype="i4")
    value = encode(original)
    assert len(value) == codec.decode_header(value, "k").header_len  # no data bytes
    result = codec.decode(value, "k")
    assert result.shape == shape
    assert result.dtype == original.dtype


def test_fortran_ordered_input() -> None:
    original = np.asfortranarray(sample("f8", (4, 5, 3)))
    assert not original.flags.c_contiguous
    value = encode(original)
    header_len = codec.decode_header(value, "k").header_len
    assert value[header_len:] == original.tobytes(order="C")  # stored in C order
    assert_same(codec.decode(value, "k"), original)


@pytest.mark.parametrize(
    "make",
    [
        lambda a: a[::2],
        lambda a: a[:, ::3],
        lambda a: a[::-1, 1::2],
        lambda a: a.T,
        lambda a: a.transpose(1, 0)[2:5],
        lambda a: a[:, 3],
        lambda a: np.broadcast_to(a[0], (4, *a[0].shape)),
    ],
    ids=["rows", "cols", "reversed", "transpose", "transpose-slice", "column", "broadcast"],
)
def test_non_contiguous_input(make) -> None:  # type: ignore[no-untyped-def]
    original = make(sample("i4", (8, 9)))
    assert not original.flags.c_contiguous
    assert_same(codec.decode(encode(original), "k"), original)


def test_as_storable_does_not_copy_contiguous_arrays() -> None:
    original = sample("f4")
    assert np.shares_memory(codec.as_storable(original), original)


def test_decode_returns_a_new_writeable_aligned_c_array() -> None:
    original = sample("c16", (7, 3))
    value = bytearray(encode(original))
    result = codec.decode(value, "k")
    assert result.flags.writeable
    assert result.flags.c_contiguous
    assert result.flags.aligned
    assert result.ctypes.data % 16 == 0
    result[0, 0] = 99
    value[-1] ^= 0xFF  # neither is a view of the other
    assert original[0, 0] != 99
    np.testing.assert_array_equal(result[1:], original[1:])


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_decode_accepts_any_bytes_like(kind) -> None:  # type: ignore[no-untyped-def]
    original = sample("u2", (2, 2))
    assert_same(codec.decode(kind(encode(original)), "k"), original)


# -- header layout -------------------------------------------------------------------------------


@pytest.mark.parametrize("ndim", range(9))
def test_header_length_is_a_multiple_of_64(ndim: int) -> None:
    array = np.zeros((1,) * ndim, dtype="f4")
    header = codec.encode_header(array)
    assert len(header) % 64 == 0
    assert len(header) >= 24 + 8 * ndim
    assert struct.unpack_from("<H", header, 6)[0] == len(header)


def test_header_fields_match_documented_layout() -> None:
    array = sample(">f8", (2, 3, 5))
    header = codec.encode_header(codec.as_storable(array))
    magic, version, flags, header_len, dtype, ndim, reserved = FIXED.unpack_from(header, 0)
    assert magic == b"\x93SFT"
    assert version == 1
    assert flags == 0
    assert header_len == len(header) == 64
    assert dtype == b">f8\0\0\0\0\0"
    assert ndim == 3
    assert reserved == 0
    assert struct.unpack_from("<3Q", header, 24) == (2, 3, 5)
    assert header[48:] == b"\0" * 16  # zero padding


def test_header_matches_the_documented_example() -> None:
    """docs/wire-format.md: numpy.arange(3, dtype='<f4') is stored as 76 bytes."""
    value = encode(np.arange(3, dtype="<f4"))
    assert len(value) == 76
    expected_header = (
        bytes.fromhex("93 53 46 54 01 00 40 00")
        + b"<f4"
        + b"\0" * 5
        + bytes.fromhex("01 00 00 00 00 00 00 00")
        + bytes.fromhex("03 00 00 00 00 00 00 00")
    ).ljust(64, b"\0")
    assert value[:64] == expected_header
    assert value[64:] == np.arange(3, dtype="<f4").tobytes()


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES + BIG_ENDIAN_DTYPES)
def test_header_dtype_is_the_array_interface_typestr(dtype: str) -> None:
    array = np.zeros(2, dtype=dtype)
    header = codec.encode_header(array)
    assert header[8:16].rstrip(b"\0").decode("ascii") == array.dtype.str
    assert header[8:16] == array.dtype.str.encode().ljust(8, b"\0")


def test_hand_built_value_decodes() -> None:
    """A value written by another client from the documentation alone is read correctly."""
    data = np.array([[1, -2], [3, -4], [5, -6]], dtype="<i2")
    value = header_bytes(dtype=b"<i2", shape=(3, 2)) + data.tobytes()
    assert_same(codec.decode(value, "k"), data)


def test_header_length_announced_by_prefix() -> None:
    value = encode(np.zeros((1,) * 7))  # 24 + 56 = 80 -> 128
    assert codec.header_length(value[: codec.PREFIX_LEN], "k") == 128


def test_decode_header_reports_shape_dtype_and_data_length() -> None:
    array = sample("c8", (4, 6))
    header = codec.decode_header(encode(array), "k")
    assert header.shape == (4, 6)
    assert header.dtype == np.dtype("c8")
    assert header.data_len == array.nbytes
    assert header.chunked is False


# -- refused values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        np.array(["a", "bc"]),
        np.array([b"a", b"bc"]),
        np.array([1, "x", None], dtype=object),
        np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]),
        np.zeros(3, dtype=np.dtype((np.int32, {"lo": (np.int16, 0), "hi": (np.int16, 2)}))),
        np.zeros(2, dtype="V8"),
        np.array(["2024-01-01"], dtype="datetime64[D]"),
        np.array([1, 2], dtype="timedelta64[s]"),
    ],
    ids=["str", "bytes", "object", "structured", "union", "void", "datetime", "timedelta"],
)
def test_unsupported_dtypes_are_refused(value: np.ndarray) -> None:
    with pytest.raises(UnsupportedTypeError) as info:
        codec.as_storable(value)
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, InvalidArgumentError)


@pytest.mark.parametrize(
    "value",
    [
        [1, 2, 3],
        (1.0, 2.0),
        np.float64(1.5),
        np.int32(3),
        np.bool_(True),
        None,
        3,
        2.5,
        b"\x00\x01",
        "tensor",
        memoryview(b"abcd"),
        datetime.date(2024, 1, 1),
    ],
    ids=lambda v: type(v).__name__,
)
def test_non_arrays_are_refused(value: object) -> None:
    with pytest.raises(UnsupportedTypeError) as info:
        codec.as_storable(value)
    assert isinstance(info.value, TypeError)


def test_error_message_names_the_tensor() -> None:
    with pytest.raises(UnsupportedTypeError, match="my_tensor"):
        codec.as_storable([1, 2], name="my_tensor")


# -- corrupt values ------------------------------------------------------------------------------


def valid_value() -> bytes:
    return encode(np.arange(6, dtype="<f4").reshape(2, 3))


def test_wrong_magic_is_refused() -> None:
    value = b"XXXX" + valid_value()[4:]
    with pytest.raises(TensorFormatError):
        codec.decode(value, "k")


@pytest.mark.parametrize("version", [0, 2, 255])
def test_wrong_version_is_refused(version: int) -> None:
    value = bytearray(valid_value())
    value[4] = version
    with pytest.raises(TensorFormatError, match="version"):
        codec.decode(value, "k")


@pytest.mark.parametrize("length", [0, 1, 3, 4, 7, 8, 23, 24, 40, 63])
def test_truncated_header_is_refused(length: int) -> None:
    with pytest.raises(TensorFormatError):
        codec.decode(valid_value()[:length], "k")


@pytest.mark.parametrize("delta", [-24, -4, -1, 1, 4, 64])
def test_data_length_mismatch_is_refused(delta: int) -> None:
    value = valid_value()
    value = value[:delta] if delta < 0 else value + b"\0" * delta
    with pytest.raises(TensorFormatError):
        codec.decode(value, "k")


@pytest.mark.parametrize("shape", [(2, 4), (3, 3), (24,), (2, 3, 1, 2), (2**40, 3)])
def test_changed_shape_bytes_are_refused(shape: tuple[int, ...]) -> None:
    data = np.arange(6, dtype="<f4").tobytes()
    with pytest.raises(TensorFormatError):
        codec.decode(header_bytes(shape=shape) + data, "k")


@pytest.mark.parametrize(
    "typestr",
    [b"<zz", b"<f3", b"", b"[", b"\xff\xfe", b"i0", b"<c8(", b"<f4\0junk"],
    ids=repr,
)
def test_unknown_dtype_string_is_refused(typestr: bytes) -> None:
    value = header_bytes(dtype=typestr.ljust(8, b"\0")[:8], shape=(1,)) + b"\0" * 4
    with pytest.raises(TensorFormatError):
        codec.decode(value, "k")


@pytest.mark.parametrize(
    "typestr", [b"|O8", b"<U1", b"|S4", b"|V4", b"<M8[s]", b"<m8", b"i4,i4"], ids=repr
)
def test_non_storable_dtype_string_is_refused(typestr: bytes) -> None:
    value = header_bytes(dtype=typestr.ljust(8, b"\0"), shape=(1,)) + b"\0" * 8
    with pytest.raises(TensorFormatError):
        codec.decode(value, "k")


def test_deprecated_numpy_alias_in_header_is_refused_without_a_warning() -> None:
    """``"a"`` is a numpy alias of ``"S"``; parsing it must neither warn nor accept it.

    pytest turns warnings into errors, so a DeprecationWarning escaping from numpy would surface
    here instead of the TensorFormatError a corrupt header gets.
    """
    value = header_bytes(dtype=b"a\0\0\0\0\0\0\0", shape=(1,)) + b"\0"
    with pytest.raises(TensorFormatError):
        codec.decode(value, "k")


@pytest.mark.parametrize("header_len", [0, 8, 16, 24, 65, 100])
def test_header_length_not_a_multiple_of_64_is_refused(header_len: int) -> None:
    value = bytearray(valid_value())
    struct.pack_into("<H", value, 6, header_len)
    with pytest.raises(TensorFormatError):
        codec.decode(value, "k")


def test_ndim_larger_than_the_header_is_refused() -> None:
    value = bytearray(valid_value())
    struct.pack_into("<I", value, 16, 6)  # 24 + 6*8 = 72 bytes > a 64-byte header
    with pytest.raises(TensorFormatError):
        codec.decode(value, "k")


def test_ndim_beyond_numpy_limit_is_refused() -> None:
    """65 dimensions of size 1 (numpy allows 64): data length matches, the shape is impossible."""
    value = header_bytes(dtype=b"|u1", shape=(1,) * 65, header_len=640) + b"\x07"
    with pytest.raises(TensorFormatError):
        codec.decode(value, "k")


@pytest.mark.parametrize("shape", [(2**63, 0), (2**64 - 1, 0), (0, 2**62, 2**62)])
def test_impossible_empty_shape_is_refused(shape: tuple[int, ...]) -> None:
    """A shape with a zero has no data bytes, but its other dimensions can still be absurd."""
    with pytest.raises(TensorFormatError):
        codec.decode(header_bytes(dtype=b"<f8", shape=shape), "k")


def test_manifest_is_not_inline_data() -> None:
    value = bytearray(valid_value())
    value[5] |= codec.FLAG_CHUNKED
    with pytest.raises(TensorFormatError):
        codec.decode(value, "k")


def test_error_message_names_the_key() -> None:
    with pytest.raises(TensorFormatError, match="some_key"):
        codec.decode(b"hello world, not a tensor", "some_key")


# -- chunk manifests -----------------------------------------------------------------------------


def test_manifest_round_trip() -> None:
    array = np.zeros((1000, 3), dtype="f8")  # 24_000 bytes
    manifest = codec.ChunkManifest(3, 10_000, 24_000, b"\x01" * 8)
    value = codec.encode_manifest(array, manifest)
    header = codec.decode_header(value, "t")
    assert header.chunked is True
    assert value[5] & codec.FLAG_CHUNKED
    assert header.shape == (1000, 3)
    assert header.dtype == np.dtype("f8")
    fields = struct.unpack_from("<3Q8s", value, header.header_len)
    assert fields == (3, 10_000, 24_000, b"\x01" * 8)
    assert len(value) == header.header_len + 32  # the documented layout, nothing after it
    assert codec.decode_manifest(value, "t") == (header, manifest)


@pytest.mark.parametrize(
    ("count", "chunk_bytes", "data_bytes"),
    [(2, 10_000, 24_000), (4, 10_000, 24_000), (3, 0, 24_000), (3, 10_000, 23_999)],
)
def test_inconsistent_manifest_is_refused(count: int, chunk_bytes: int, data_bytes: int) -> None:
    array = np.zeros((1000, 3), dtype="f8")
    value = codec.encode_header(array, chunked=True) + struct.pack(
        "<3Q8s", count, chunk_bytes, data_bytes, b"token..."
    )
    with pytest.raises(TensorFormatError):
        codec.decode_manifest(value, "t")


@pytest.mark.parametrize(
    "value",
    [
        codec.encode_header(np.zeros(10, dtype="u1"), chunked=True) + b"\x01\x00",  # truncated
        codec.encode_header(np.zeros(10, dtype="u1")) + struct.pack("<3Q8s", 1, 10, 10, b"t" * 8),
        b"an aggregation list's first entry",
    ],
    ids=["truncated", "not-flagged", "no-tensor"],
)
def test_what_is_no_manifest_is_refused(value: bytes) -> None:
    with pytest.raises(TensorFormatError):
        codec.decode_manifest(value, "t")
