"""The async Client against a real store (redis-server started by the ``store`` fixture).

A raw redis-py connection (the ``raw`` fixture) looks behind the client's back: what it stored,
and that a refused call changed nothing.
"""

from __future__ import annotations

import socket
import struct
import time

import anyio
import anyio.abc
import anyio.lowlevel
import numpy as np
import pytest
import redis.asyncio as aioredis
import redis.exceptions as rex
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from smartflow import (
    AuthenticationError,
    Client,
    ClientConfig,
    ClientError,
    ClientTimeoutError,
    ConnectionFailedError,
    InvalidArgumentError,
    KeyNotFoundError,
    Orchestrator,
    TensorFormatError,
    UnsupportedTypeError,
)
from tests.client._helpers import assert_fresh_array, host_port, sample, snapshot

KiB = 1024
MiB = 1024 * 1024


def hand_encoded(array: np.ndarray) -> bytes:
    """The documented wire format, built without the codec under test."""
    array = np.asarray(array, order="C")
    assert array.ndim <= 5  # the header below is 64 bytes: room for five dimensions
    fixed = struct.pack("<4sBBH8sII", b"\x93SFT", 1, 0, 64, array.dtype.str.encode(), array.ndim, 0)
    header = (fixed + struct.pack(f"<{array.ndim}Q", *array.shape)).ljust(64, b"\0")
    return header + array.tobytes()


# -- put / get -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype",
    ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16",
     ">i4", ">u8", ">f8", ">c16"],
)  # fmt: skip
async def test_put_get_round_trip(client: Client, dtype: str) -> None:
    original = sample((5, 7), dtype)
    await client.put_tensor("t", original)
    assert_fresh_array(await client.get_tensor("t"), original)


@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (1,), (2, 1, 1, 3)])
async def test_put_get_degenerate_shapes(client: Client, shape: tuple[int, ...]) -> None:
    original = sample(shape, "i4")
    await client.put_tensor("t", original)
    result = await client.get_tensor("t")
    assert result.shape == shape
    assert_fresh_array(result, original)


@pytest.mark.parametrize(
    "make",
    [lambda a: np.asfortranarray(a), lambda a: a[::2, 1::3], lambda a: a.T, lambda a: a[::-1]],
    ids=["fortran", "strided", "transposed", "reversed"],
)
async def test_put_non_contiguous_input(client: Client, make) -> None:  # type: ignore[no-untyped-def]
    original = make(sample((6, 9), "f4"))
    assert not original.flags.c_contiguous
    await client.put_tensor("t", original)
    assert_fresh_array(await client.get_tensor("t"), original)


async def test_get_returns_a_new_array_each_time(client: Client) -> None:
    original = sample((4, 4))
    await client.put_tensor("t", original)
    first = await client.get_tensor("t")
    first[:] = 0
    second = await client.get_tensor("t")
    np.testing.assert_array_equal(second, original)
    assert not np.shares_memory(first, second)


async def test_put_does_not_keep_a_reference_to_the_caller_array(client: Client) -> None:
    original = sample((10,))
    expected = original.copy()
    await client.put_tensor("t", original)
    original[:] = -1
    np.testing.assert_array_equal(await client.get_tensor("t"), expected)


async def test_put_replaces_the_existing_tensor(client: Client) -> None:
    await client.put_tensor("t", sample((100, 100)))
    replacement = np.arange(3, dtype="u1")
    await client.put_tensor("t", replacement)
    assert_fresh_array(await client.get_tensor("t"), replacement)


@pytest.mark.parametrize("name", ["tensør", "with space", "a:b:c", "{tag}x", "x" * 1000, "🙂"])
async def test_any_non_empty_str_name(client: Client, raw: aioredis.Redis, name: str) -> None:
    original = sample((2,))
    await client.put_tensor(name, original)
    assert await raw.exists(name.encode("utf-8")) == 1
    np.testing.assert_array_equal(await client.get_tensor(name), original)


@pytest.mark.parametrize("nbytes", [KiB, MiB, 16 * MiB], ids=["1KiB", "1MiB", "16MiB"])
async def test_sizes_round_trip(client: Client, raw: aioredis.Redis, nbytes: int) -> None:
    original = sample((nbytes // 4,), "f4", seed=nbytes)
    await client.put_tensor("t", original)
    assert await raw.strlen("t") == 64 + nbytes
    assert_fresh_array(await client.get_tensor("t"), original)


async def test_stored_value_follows_the_wire_format(client: Client, raw: aioredis.Redis) -> None:
    """Any Redis client can read a smartflow tensor with the documented recipe."""
    original = sample((3, 5), ">i8")
    await client.put_tensor("t", original)
    value = await raw.get("t")
    assert value[:4] == b"\x93SFT" and value[4] == 1 and value[5] == 0
    (header_len,) = struct.unpack_from("<H", value, 6)
    assert header_len == 64
    dtype = np.dtype(value[8:16].rstrip(b"\0").decode())
    (ndim,) = struct.unpack_from("<I", value, 16)
    shape = struct.unpack_from(f"<{ndim}Q", value, 24)
    assert (dtype, shape) == (np.dtype(">i8"), (3, 5))
    np.testing.assert_array_equal(
        np.frombuffer(value, dtype, offset=header_len).reshape(shape), original
    )


async def test_reads_a_tensor_written_by_another_client(
    client: Client, raw: aioredis.Redis
) -> None:
    original = sample((4, 2, 3), "<c8")
    await raw.set("t", hand_encoded(original))
    assert_fresh_array(await client.get_tensor("t"), original)


# -- bulk ----------------------------------------------------------------------------------------


async def test_put_tensors_get_tensors_many_keys(client: Client, raw: aioredis.Redis) -> None:
    tensors = {f"t{i}": sample((i % 7, 3), "i4", seed=i) for i in range(300)}
    await client.put_tensors(tensors)
    assert await raw.dbsize() == 300
    names = list(reversed(tensors))
    result = await client.get_tensors(names)
    assert type(result) is dict
    assert list(result) == names
    for name in names:
        assert_fresh_array(result[name], tensors[name])


async def test_get_tensors_takes_any_iterable(client: Client) -> None:
    tensors = {"a": sample((2,), seed=1), "b": sample((3,), seed=2)}
    await client.put_tensors(tensors)
    result = await client.get_tensors(name for name in ("b", "a"))
    assert set(result) == {"a", "b"}
    np.testing.assert_array_equal(result["a"], tensors["a"])
    np.testing.assert_array_equal(result["b"], tensors["b"])


async def test_bulk_with_nothing_to_do(client: Client, raw: aioredis.Redis) -> None:
    await client.put_tensors({})
    assert await client.get_tensors([]) == {}
    assert await raw.dbsize() == 0


async def test_get_tensors_with_a_missing_name(client: Client) -> None:
    await client.put_tensors({"a": sample((2,)), "c": sample((3,))})
    with pytest.raises(KeyNotFoundError, match="'b'"):
        await client.get_tensors(["a", "b", "c"])
    result = await client.get_tensors(["c", "a"])  # the client is still usable
    assert result["c"].shape == (3,)


async def test_get_tensors_refuses_a_single_string(client: Client) -> None:
    await client.put_tensor("ab", sample((2,)))
    with pytest.raises(UnsupportedTypeError):
        await client.get_tensors("ab")


async def test_put_tensors_refuses_a_non_mapping(client: Client, raw: aioredis.Redis) -> None:
    with pytest.raises(UnsupportedTypeError):
        await client.put_tensors([("a", sample((2,)))])  # type: ignore[arg-type]
    assert await raw.dbsize() == 0


# -- delete --------------------------------------------------------------------------------------


async def test_delete_tensor(client: Client, raw: aioredis.Redis) -> None:
    await client.put_tensors({"a": sample((2,)), "b": sample((2,))})
    await client.delete_tensor("a")
    assert await raw.keys("*") == [b"b"]
    assert await client.tensor_exists("a") is False


async def test_delete_missing_tensor_is_not_an_error(client: Client, raw: aioredis.Redis) -> None:
    await client.put_tensor("other", sample((2,)))
    before = await snapshot(raw)
    await client.delete_tensor("missing")
    assert await snapshot(raw) == before


@pytest.mark.parametrize(
    "setup",
    [
        ("set", "k", "hello"),
        ("set", "k", "ab"),
        ("set", "k", ""),
        ("set", "k", "a longer plain string that is not a tensor"),
        ("rpush", "k", "x", "y"),
        ("hset", "k", "f", "v"),
    ],
    ids=["short-string", "2-byte-string", "empty-string", "long-string", "list", "hash"],
)
async def test_delete_refuses_a_key_that_is_not_a_tensor(
    client: Client, raw: aioredis.Redis, setup: tuple[str, ...]
) -> None:
    await raw.execute_command(*setup)
    before = await snapshot(raw)
    with pytest.raises(TensorFormatError):
        await client.delete_tensor("k")
    assert await snapshot(raw) == before


# -- copy / rename -------------------------------------------------------------------------------


async def test_copy_tensor(client: Client, raw: aioredis.Redis) -> None:
    original = sample((3, 3), "u2")
    await client.put_tensor("src", original)
    await client.copy_tensor("src", "dest")
    assert sorted(await raw.keys("*")) == [b"dest", b"src"]
    assert_fresh_array(await client.get_tensor("dest"), original)
    await client.put_tensor("src", np.zeros(1))  # the copy is independent of its source
    np.testing.assert_array_equal(await client.get_tensor("dest"), original)


async def test_copy_replaces_the_destination(client: Client) -> None:
    original = sample((3,))
    await client.put_tensors({"src": original, "dest": sample((50,), "i8")})
    await client.copy_tensor("src", "dest")
    assert_fresh_array(await client.get_tensor("dest"), original)


async def test_rename_tensor(client: Client, raw: aioredis.Redis) -> None:
    original = sample((2, 2))
    await client.put_tensor("old", original)
    await client.rename_tensor("old", "new")
    assert await raw.keys("*") == [b"new"]
    assert_fresh_array(await client.get_tensor("new"), original)


async def test_rename_replaces_the_destination(client: Client, raw: aioredis.Redis) -> None:
    original = sample((2, 2))
    await client.put_tensors({"old": original, "new": sample((9,), "i1")})
    await client.rename_tensor("old", "new")
    assert await raw.keys("*") == [b"new"]
    assert_fresh_array(await client.get_tensor("new"), original)


@pytest.mark.parametrize("method", ["copy_tensor", "rename_tensor"])
async def test_copy_rename_of_a_missing_tensor(
    client: Client, raw: aioredis.Redis, method: str
) -> None:
    await client.put_tensor("dest", sample((2,)))
    before = await snapshot(raw)
    with pytest.raises(KeyNotFoundError) as info:
        await getattr(client, method)("missing", "dest")
    assert isinstance(info.value, LookupError)
    assert await snapshot(raw) == before


@pytest.mark.parametrize("method", ["copy_tensor", "rename_tensor"])
@pytest.mark.parametrize("setup", [("set", "k", "hello"), ("rpush", "k", "x")], ids=["str", "list"])
async def test_copy_rename_refuse_a_key_that_is_not_a_tensor(
    client: Client, raw: aioredis.Redis, method: str, setup: tuple[str, ...]
) -> None:
    await raw.execute_command(*setup)
    before = await snapshot(raw)
    with pytest.raises(TensorFormatError):
        await getattr(client, method)("k", "dest")
    assert await snapshot(raw) == before


@pytest.mark.parametrize("method", ["copy_tensor", "rename_tensor"])
async def test_copy_rename_onto_itself_is_refused(
    client: Client, raw: aioredis.Redis, method: str
) -> None:
    await client.put_tensor("t", sample((2,)))
    before = await snapshot(raw)
    with pytest.raises(InvalidArgumentError):
        await getattr(client, method)("t", "t")
    assert await snapshot(raw) == before


# -- exists / poll -------------------------------------------------------------------------------


async def test_exists_returns_bool(client: Client, raw: aioredis.Redis) -> None:
    assert type(await client.tensor_exists("t")) is bool
    assert await client.tensor_exists("t") is False
    assert await client.key_exists("t") is False
    await client.put_tensor("t", sample((2,)))
    assert await client.tensor_exists("t") is True
    assert await client.key_exists("t") is True
    await raw.rpush("plain-list", "x")
    assert await client.key_exists("plain-list") is True


async def test_poll_finds_a_present_tensor_at_once(client: Client) -> None:
    await client.put_tensor("t", sample((2,)))
    start = time.monotonic()
    assert await client.poll_tensor("t", 30_000, 5) is True
    assert await client.poll_key("t", poll_frequency_ms=30_000, num_tries=5) is True
    assert time.monotonic() - start < 10  # no sleep before the first try: one would be 30 s


async def test_poll_gives_up_after_the_tries(client: Client) -> None:
    start = time.monotonic()
    assert await client.poll_tensor("missing", 20, 5) is False
    elapsed = time.monotonic() - start
    # Four sleeps of 20 ms between five tries (less timer slack); 10 s is loose for a loaded
    # runner yet catches the period read as seconds (80 s).
    assert 0.075 <= elapsed < 10
    assert await client.poll_key("missing", 20, 1) is False


async def test_poll_finds_a_tensor_put_later_by_another_task(client: Client) -> None:
    original = sample((4,))
    found: list[bool] = []

    async def poller() -> None:
        found.append(await client.poll_tensor("late", 10, 200))

    async def writer() -> None:
        await anyio.sleep(0.2)
        await client.put_tensor("late", original)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(poller)
            tg.start_soon(writer)
    assert found == [True]
    np.testing.assert_array_equal(await client.get_tensor("late"), original)


@pytest.mark.parametrize(("frequency", "tries"), [(-1, 3), (10, 0), (10, -1), (1.5, 3), (10, 2.0)])
async def test_poll_refuses_bad_arguments(client: Client, frequency: object, tries: object) -> None:
    with pytest.raises(InvalidArgumentError):
        await client.poll_key("t", frequency, tries)  # type: ignore[arg-type]


# -- concurrency, cancellation, timeouts ---------------------------------------------------------


@pytest.mark.parametrize("max_connections", [64, 3])
async def test_one_client_shared_by_50_tasks(store: Orchestrator, max_connections: int) -> None:
    config = ClientConfig(max_connections=max_connections)
    results: dict[int, bool] = {}

    async def worker(i: int, c: Client) -> None:
        for round_ in range(3):
            original = sample((100 + i, 3), "f8", seed=i * 10 + round_)
            await c.put_tensor(f"t{i}", original)
            await anyio.lowlevel.checkpoint()
            result = await c.get_tensor(f"t{i}")
            results[i] = np.array_equal(result, original) and result.shape == original.shape
            if not results[i]:
                return

    with anyio.fail_after(20):
        async with Client(address=store.get_address()[0], config=config) as c:
            async with anyio.create_task_group() as tg:
                for i in range(50):
                    tg.start_soon(worker, i, c)
    assert results == dict.fromkeys(range(50), True)


async def test_concurrent_mixed_operations(client: Client, raw: aioredis.Redis) -> None:
    tensors = {f"t{i}": sample((i + 1,), "i8", seed=i) for i in range(40)}
    await client.put_tensors(tensors)
    seen: dict[str, bool] = {}

    async def bulk_reader(i: int) -> None:
        result = await client.get_tensors(list(tensors))
        seen[f"bulk{i}"] = all(np.array_equal(result[k], v) for k, v in tensors.items())

    async def checker(i: int) -> None:
        seen[f"exists{i}"] = await client.tensor_exists(f"t{i}")

    async def copier(i: int) -> None:
        await client.copy_tensor(f"t{i}", f"copy{i}")

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            for i in range(10):
                tg.start_soon(bulk_reader, i)
                tg.start_soon(checker, i)
                tg.start_soon(copier, i)
    assert all(seen.values()) and len(seen) == 20
    for i in range(10):
        np.testing.assert_array_equal(await client.get_tensor(f"copy{i}"), tensors[f"t{i}"])
    assert await raw.dbsize() == 50


async def test_cancelled_calls_leave_the_client_consistent(client: Client) -> None:
    """A get or put cancelled mid-transfer must not leave a stale reply for the next call."""
    big = sample((4 * MiB,), "f4", seed=1)  # 16 MiB
    small = sample((5,), "i8", seed=2)
    await client.put_tensors({"big": big, "small": small})
    for delay in (0.0, 0.0005, 0.002, 0.005, 0.01):
        with anyio.move_on_after(delay):
            await client.get_tensor("big")
        np.testing.assert_array_equal(await client.get_tensor("small"), small)
        with anyio.move_on_after(delay):
            await client.put_tensor("other", big)
        np.testing.assert_array_equal(await client.get_tensor("small"), small)
    np.testing.assert_array_equal(await client.get_tensor("big"), big)


# -- bad input: a typed error, and the store unchanged -------------------------------------------


UNSUPPORTED_VALUES = {
    "str": np.array(["a", "b"]),
    "bytes": np.array([b"a"]),
    "object": np.array([1, None], dtype=object),
    "structured": np.zeros(2, dtype=[("a", "i4"), ("b", "f8")]),
    "datetime": np.array(["2024-01-01"], dtype="datetime64[D]"),
    "list": [1.0, 2.0],
    "tuple": (1, 2),
    "np-scalar": np.float32(1.0),
    "None": None,
    "bytes-value": b"bytes",
    "str-value": "string",
    "int": 7,
}


async def test_put_refuses_unsupported_values(client: Client, raw: aioredis.Redis) -> None:
    await client.put_tensor("t", sample((2,)))
    before = await snapshot(raw)
    for kind, value in UNSUPPORTED_VALUES.items():
        with pytest.raises(UnsupportedTypeError) as info:
            await client.put_tensor("t", value)  # type: ignore[arg-type]
        assert isinstance(info.value, TypeError), kind
        with pytest.raises(UnsupportedTypeError):
            await client.put_tensors({"u": sample((2,)), "t": value})  # type: ignore[dict-item]
        assert await snapshot(raw) == before, f"{kind} changed the store"


CALLS_WITH_NAME = {
    "put_tensor": lambda c, n: c.put_tensor(n, np.zeros(2)),
    "get_tensor": lambda c, n: c.get_tensor(n),
    "put_tensors": lambda c, n: c.put_tensors({"ok": np.zeros(2), n: np.zeros(2)}),
    "get_tensors": lambda c, n: c.get_tensors(["t", n]),
    "delete_tensor": lambda c, n: c.delete_tensor(n),
    "copy_tensor-src": lambda c, n: c.copy_tensor(n, "dest"),
    "copy_tensor-dest": lambda c, n: c.copy_tensor("t", n),
    "rename_tensor-old": lambda c, n: c.rename_tensor(n, "dest"),
    "rename_tensor-new": lambda c, n: c.rename_tensor("t", n),
    "tensor_exists": lambda c, n: c.tensor_exists(n),
    "key_exists": lambda c, n: c.key_exists(n),
    "poll_tensor": lambda c, n: c.poll_tensor(n, 1, 1),
    "poll_key": lambda c, n: c.poll_key(n, 1, 1),
}


BAD_NAMES = [("", InvalidArgumentError), (5, UnsupportedTypeError), (b"t", UnsupportedTypeError),
             (None, UnsupportedTypeError)]  # fmt: skip


@pytest.mark.parametrize("call", list(CALLS_WITH_NAME.values()), ids=list(CALLS_WITH_NAME))
async def test_bad_names_are_refused(client: Client, raw: aioredis.Redis, call) -> None:  # type: ignore[no-untyped-def]
    await client.put_tensor("t", sample((2,)))
    before = await snapshot(raw)
    for name, error in BAD_NAMES:
        with pytest.raises(error):
            await call(client, name)
        assert await snapshot(raw) == before, f"name {name!r} changed the store"


async def test_get_of_a_missing_tensor(client: Client, raw: aioredis.Redis) -> None:
    with pytest.raises(KeyNotFoundError, match="missing") as info:
        await client.get_tensor("missing")
    assert isinstance(info.value, LookupError)
    assert await raw.dbsize() == 0


@pytest.mark.parametrize(
    "setup",
    [
        ("set", "k", "hello"),
        ("set", "k", "ab"),
        ("set", "k", ""),
        ("set", "k", "a longer plain string that is not a tensor at all"),
        ("rpush", "k", "x", "y"),
        ("hset", "k", "f", "v"),
        ("sadd", "k", "m"),
    ],
    ids=["short-string", "2-byte-string", "empty-string", "long-string", "list", "hash", "set"],
)
async def test_get_of_a_key_that_is_not_a_tensor(
    client: Client, raw: aioredis.Redis, setup: tuple[str, ...]
) -> None:
    await raw.execute_command(*setup)
    before = await snapshot(raw)
    with pytest.raises(TensorFormatError):
        await client.get_tensor("k")
    with pytest.raises(TensorFormatError):
        await client.get_tensors(["k"])
    assert await snapshot(raw) == before
    original = sample((3,))
    await client.put_tensor("t", original)  # the client is still usable
    np.testing.assert_array_equal(await client.get_tensor("t"), original)


def _corruptions() -> dict[str, bytes]:
    valid = hand_encoded(np.arange(12, dtype="<f4").reshape(3, 4))
    bigger_shape = bytearray(valid)
    struct.pack_into("<Q", bigger_shape, 24, 4)
    smaller_shape = bytearray(valid)
    struct.pack_into("<Q", smaller_shape, 32, 3)
    bad_magic = bytearray(valid)
    bad_magic[0:4] = b"\x93SFX"
    bad_version = bytearray(valid)
    bad_version[4] = 2
    bad_dtype = bytearray(valid)
    bad_dtype[8:16] = b"<q9\0\0\0\0\0"
    object_dtype = bytearray(valid)
    object_dtype[8:16] = b"|O8\0\0\0\0\0"
    bad_header_len = bytearray(valid)
    struct.pack_into("<H", bad_header_len, 6, 40)
    huge_header_len = bytearray(valid)
    struct.pack_into("<H", huge_header_len, 6, 0xFFC0)
    huge_ndim = bytearray(valid)
    struct.pack_into("<I", huge_ndim, 16, 1000)
    return {
        "data-truncated": valid[:-1],
        "data-padded": valid + b"\0",
        "header-truncated": valid[:40],
        "prefix-only": valid[:6],
        "magic": bytes(bad_magic),
        "version": bytes(bad_version),
        "shape-bigger": bytes(bigger_shape),
        "shape-smaller": bytes(smaller_shape),
        "dtype-unknown": bytes(bad_dtype),
        "dtype-object": bytes(object_dtype),
        "header-length": bytes(bad_header_len),
        "header-length-huge": bytes(huge_header_len),
        "ndim-huge": bytes(huge_ndim),
    }


CORRUPTIONS = _corruptions()


@pytest.mark.parametrize("value", list(CORRUPTIONS.values()), ids=list(CORRUPTIONS))
async def test_get_of_a_corrupt_tensor(client: Client, raw: aioredis.Redis, value: bytes) -> None:
    await raw.set("k", value)
    before = await snapshot(raw)
    with pytest.raises(TensorFormatError):
        await client.get_tensor("k")
    with pytest.raises(TensorFormatError):
        await client.get_tensors(["k"])
    assert await snapshot(raw) == before
    original = sample((3,))
    await client.put_tensor("t", original)  # the client is still usable
    np.testing.assert_array_equal(await client.get_tensor("t"), original)


BAD_PREFIXES = ["prefix-only", "magic", "version", "header-length"]


@pytest.mark.parametrize("method", ["copy_tensor", "rename_tensor", "delete_tensor"])
@pytest.mark.parametrize("corruption", BAD_PREFIXES)
async def test_copy_rename_delete_refuse_a_corrupt_prefix(
    client: Client, raw: aioredis.Redis, method: str, corruption: str
) -> None:
    await raw.set("k", CORRUPTIONS[corruption])
    before = await snapshot(raw)
    args = ("k",) if method == "delete_tensor" else ("k", "dest")
    with pytest.raises(TensorFormatError):
        await getattr(client, method)(*args)
    assert await snapshot(raw) == before


async def test_client_keeps_working_after_errors(store: Orchestrator, raw: aioredis.Redis) -> None:
    """With one connection, every error must hand its connection back in a clean state."""
    config = ClientConfig(max_connections=1)
    await raw.set("plain", "hello")
    await raw.rpush("list", "x")
    await raw.set("corrupt", hand_encoded(np.arange(4.0))[:-3])
    original = sample((6,))
    with anyio.fail_after(10):
        async with Client(address=store.get_address()[0], config=config) as c:
            await c.put_tensor("good", original)
            for _ in range(3):
                with pytest.raises(KeyNotFoundError):
                    await c.get_tensor("missing")
                with pytest.raises(TensorFormatError):
                    await c.get_tensor("plain")
                with pytest.raises(TensorFormatError):
                    await c.get_tensor("list")
                with pytest.raises(TensorFormatError):
                    await c.get_tensor("corrupt")
                with pytest.raises(KeyNotFoundError):
                    await c.get_tensors(["good", "missing", "good"])
                with pytest.raises(TensorFormatError):
                    await c.get_tensors(["plain", "good"])
                with pytest.raises(UnsupportedTypeError):
                    await c.put_tensor("x", np.array(["s"]))
                with pytest.raises(KeyNotFoundError):
                    await c.copy_tensor("missing", "x")
                with pytest.raises(TensorFormatError):
                    await c.delete_tensor("list")
                assert_fresh_array(await c.get_tensor("good"), original)
                result = await c.get_tensors(["good", "good"])
                np.testing.assert_array_equal(result["good"], original)


async def test_put_tensors_with_one_bad_value_stores_none(
    client: Client, raw: aioredis.Redis
) -> None:
    await client.put_tensor("keep", sample((2,)))
    before = await snapshot(raw)
    good = {f"g{i}": sample((10,), seed=i) for i in range(5)}
    for bad in ({"bad": np.array(["s"])}, {"bad": [1, 2]}, {"": np.zeros(1)}, {3: np.zeros(1)}):
        with pytest.raises(InvalidArgumentError):
            await client.put_tensors({**good, **bad, "g9": sample((10,))})  # type: ignore[dict-item]
        assert await snapshot(raw) == before


# -- connecting ----------------------------------------------------------------------------------


async def test_wrong_password(store: Orchestrator) -> None:
    c = Client(address=store.get_address()[0], password="not-the-secret")
    with anyio.fail_after(5), pytest.raises(AuthenticationError):
        async with c:
            pytest.fail("the body must not run")


async def test_no_password_against_an_authenticated_store(store: Orchestrator) -> None:
    with anyio.fail_after(5), pytest.raises(AuthenticationError):
        async with Client(address=store.get_address()[0], password=None):
            pytest.fail("the body must not run")


async def test_nothing_listening(free_port: int) -> None:
    config = ClientConfig(connect_timeout=1.0)
    start = time.monotonic()
    with anyio.fail_after(3), pytest.raises(ConnectionFailedError) as info:
        async with Client(address=f"127.0.0.1:{free_port}", password="x", config=config):
            pytest.fail("the body must not run")
    assert isinstance(info.value, ConnectionError)
    assert time.monotonic() - start < 3


async def test_unix_socket_that_does_not_exist(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = ClientConfig(connect_timeout=1.0)
    with anyio.fail_after(3), pytest.raises(ConnectionFailedError):
        async with Client(address=f"unix://{tmp_path}/no.sock", password="x", config=config):
            pytest.fail("the body must not run")


@pytest.mark.parametrize("password", ["x", None])
async def test_server_that_never_answers_fails_within_the_connect_timeout(
    password: str | None,
) -> None:
    """A port where something accepts connections but never speaks RESP (a hung server, or
    another service): ``__aenter__`` must fail fast, bounded by connect_timeout, whether its
    first command is AUTH or PING."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # the kernel completes handshakes; nothing is ever read or answered
        port = silent.getsockname()[1]
        config = ClientConfig(connect_timeout=1.0)
        start = time.monotonic()
        with anyio.fail_after(3), pytest.raises((ConnectionFailedError, ClientTimeoutError)):
            async with Client(address=f"127.0.0.1:{port}", password=password, config=config):
                pytest.fail("the body must not run")
        assert time.monotonic() - start < 3


async def test_server_that_does_not_speak_resp() -> None:
    async def answer_http(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await stream.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, answer_http)
        with anyio.fail_after(5), pytest.raises(ConnectionFailedError):
            async with Client(address=f"127.0.0.1:{port}", password="x"):
                pytest.fail("the body must not run")
        tg.cancel_scope.cancel()


@pytest.mark.parametrize(
    "address",
    ["", "localhost", "localhost:", ":6379", "localhost:port", "localhost:0", "localhost:65536",
     "localhost:-1", "localhost:6379 ", "unix://", 6379, b"localhost:6379"],
    ids=repr,
)  # fmt: skip
def test_malformed_address_is_refused_where_given(address: object) -> None:
    with pytest.raises(InvalidArgumentError):
        Client(address=address, password="x")  # type: ignore[arg-type]


async def test_authentication_is_on_by_default(store: Orchestrator) -> None:
    host, port = host_port(store)
    bare = aioredis.Redis(host=host, port=port, retry=Retry(NoBackoff(), 0))
    try:
        with pytest.raises(rex.AuthenticationError, match=r"(?i)auth"):
            await bare.get("anything")
    finally:
        await bare.aclose()


# -- lifecycle -----------------------------------------------------------------------------------

CALLS = {
    "put_tensor": lambda c: c.put_tensor("new", np.zeros(2)),
    "get_tensor": lambda c: c.get_tensor("t"),
    "put_tensors": lambda c: c.put_tensors({"new": np.zeros(2)}),
    "get_tensors": lambda c: c.get_tensors(["t"]),
    "delete_tensor": lambda c: c.delete_tensor("t"),
    "copy_tensor": lambda c: c.copy_tensor("t", "new"),
    "rename_tensor": lambda c: c.rename_tensor("t", "new"),
    "tensor_exists": lambda c: c.tensor_exists("t"),
    "key_exists": lambda c: c.key_exists("t"),
    "poll_tensor": lambda c: c.poll_tensor("t", 1, 1),
    "poll_key": lambda c: c.poll_key("t", 1, 1),
    "connect": lambda c: c.connect(),
}


@pytest.mark.parametrize("call", list(CALLS.values()), ids=list(CALLS))
async def test_closed_client_refuses_reuse(store: Orchestrator, raw: aioredis.Redis, call) -> None:  # type: ignore[no-untyped-def]
    async with Client(address=store.get_address()[0]) as c:
        await c.put_tensor("t", np.ones(2))
    before = await snapshot(raw)
    try:
        with pytest.raises(ClientError, match="closed"):
            await call(c)
        assert await snapshot(raw) == before
    finally:
        await c.aclose()  # were the call to reconnect, close that again (no leak into other tests)


async def test_aclose_twice_and_reentering(store: Orchestrator) -> None:
    c = Client(address=store.get_address()[0])
    async with c:
        await c.put_tensor("t", np.ones(2))
    await c.aclose()
    with pytest.raises(ClientError):
        async with c:
            pytest.fail("the body must not run")


async def test_failed_connect_leaves_a_closed_client(free_port: int) -> None:
    c = Client(address=f"127.0.0.1:{free_port}", password="x")
    with pytest.raises(ConnectionFailedError):
        await c.connect()
    with pytest.raises(ClientError):
        await c.get_tensor("t")


@pytest.mark.parametrize("first", ["get", "put"])
async def test_client_recovers_after_the_server_dropped_its_connection(
    client: Client, raw: aioredis.Redis, first: str
) -> None:
    original = sample((1000,))
    await client.put_tensor("t", original)
    assert await client.key_exists("t") is True
    killed = await raw.client_kill_filter(_type="normal")  # every client but `raw` itself
    assert killed >= 2  # the tensor link and the redis-py link
    try:
        if first == "get":
            np.testing.assert_array_equal(await client.get_tensor("t"), original)
        else:
            await client.put_tensor("u", original)
    except ConnectionFailedError:
        pass  # allowed once: the connection was dead when the call was made
    np.testing.assert_array_equal(await client.get_tensor("t"), original)
    await client.put_tensor("v", original)
    np.testing.assert_array_equal(await client.get_tensor("v"), original)
    assert await client.key_exists("v") is True


async def test_commands_recover_after_the_server_dropped_the_connection(
    client: Client, raw: aioredis.Redis
) -> None:
    await client.put_tensor("t", sample((3,)))
    assert await client.key_exists("t") is True
    await raw.client_kill_filter(_type="normal")
    try:
        assert await client.key_exists("t") is True
    except ConnectionFailedError:
        pass  # allowed once
    assert await client.key_exists("t") is True
    await client.copy_tensor("t", "u")
    await client.delete_tensor("t")
    assert await raw.keys("*") == [b"u"]


async def test_client_recovers_after_the_server_dropped_many_pooled_connections(
    client: Client, raw: aioredis.Redis
) -> None:
    """After a server restart or CLIENT KILL every idle pooled connection is dead; the client
    may fail the call that discovers this, but not one call per dead connection."""
    original = sample((512 * KiB,))  # 4 MiB: concurrent gets overlap, so each opens a connection
    await client.put_tensor("t", original)
    async with anyio.create_task_group() as tg:  # open several pooled connections
        for _ in range(8):
            tg.start_soon(client.get_tensor, "t")
    killed = await raw.client_kill_filter(_type="normal")
    assert killed >= 5
    failures = 0
    for _ in range(4):
        try:
            np.testing.assert_array_equal(await client.get_tensor("t"), original)
        except ConnectionFailedError:
            failures += 1
    assert failures <= 1


async def test_unopened_client_is_not_connected(store: Orchestrator, raw: aioredis.Redis) -> None:
    clients_before = len(await raw.client_list())
    c = Client(address=store.get_address()[0])
    assert len(await raw.client_list()) == clients_before  # __init__ does no I/O
    async with c:
        assert len(await raw.client_list()) > clients_before  # __aenter__ connects eagerly
    await anyio.sleep(0.05)
    assert len(await raw.client_list()) == clients_before  # aclose closes every connection
