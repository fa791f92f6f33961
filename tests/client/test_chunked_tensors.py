"""Tensors larger than one Redis value: one Redis list at the tensor's key (manifest, chunks).

The ``chunky`` client chunks anything over 100 kB, so the tests move megabytes, not gigabytes; a
raw redis-py connection looks at what the store holds. Every test also proves what matters most
about the layout: no write, overwrite, copy, rename or delete leaves a key behind.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator

import anyio
import numpy as np
import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot

from smartflow import Client, ClientConfig, Orchestrator, TensorFormatError
from smartflow.wire import codec
from smartflow.wire import tensors as tio
from tests.client._helpers import assert_fresh_array, sample, snapshot

MiB = 1024 * 1024
CHUNK_LIMIT = 100_000


@pytest.fixture
async def chunky(store: Orchestrator) -> AsyncIterator[Client]:
    """A client that chunks any stored value over CHUNK_LIMIT bytes."""
    config = ClientConfig(max_value_bytes=CHUNK_LIMIT)
    async with Client(address=store.get_address()[0], config=config) as c:
        yield c


async def chunk_lengths(raw: aioredis.Redis, name: str) -> list[int]:
    """The lengths of the chunks of the tensor at ``name``, checked to be the documented list:
    a manifest (the header, chunk count, chunk size, data size, an 8-byte token), then chunks."""
    assert await raw.type(name) == b"list"
    manifest, *chunks = await raw.lrange(name, 0, -1)
    header = codec.decode_header(manifest, name)
    assert header.chunked and manifest[5] & codec.FLAG_CHUNKED
    count, chunk_bytes, data_bytes, _token = struct.unpack_from(
        "<QQQ8s", manifest, header.header_len
    )
    assert len(manifest) == header.header_len + 32
    assert count == len(chunks) and data_bytes == header.data_len
    assert all(len(chunk) == chunk_bytes for chunk in chunks[:-1])
    return [len(chunk) for chunk in chunks]


@pytest.mark.parametrize("name", ["big", "{sim}big", "pre{tag}post", "a}b", "{}x", "x}{y"])
async def test_chunked_round_trip(chunky: Client, raw: aioredis.Redis, name: str) -> None:
    original = sample((125_000,), "f8")  # 1_000_000 bytes -> 10 chunks of 100_000
    await chunky.put_tensor(name, original)
    assert await raw.keys("*") == [name.encode()]  # one key, nothing else
    assert await chunk_lengths(raw, name) == [CHUNK_LIMIT] * 10
    assert_fresh_array(await chunky.get_tensor(name), original)
    assert await chunky.tensor_exists(name) is True
    await chunky.delete_tensor(name)
    assert await raw.dbsize() == 0
    assert await chunky.tensor_exists(name) is False


@pytest.mark.parametrize("name", [b"big", b"{sim}big", b"a}b", b"{}x", b"x}{y", b"\xff{"])
def test_the_list_is_built_in_the_slot_of_its_key(name: bytes) -> None:
    """A cluster renames only within a slot: the temporary list must hash like its key."""
    temporary = tio.temporary_key(name)
    assert key_slot(temporary) == key_slot(name)
    assert temporary != tio.temporary_key(name)  # fresh per write


async def test_chunked_multidimensional_uneven_chunks(chunky: Client, raw: aioredis.Redis) -> None:
    original = sample((7, 31, 97), ">c8")  # 168_392 bytes -> chunks of 100_000 and 68_392
    await chunky.put_tensor("t", original)
    assert await chunk_lengths(raw, "t") == [CHUNK_LIMIT, original.nbytes - CHUNK_LIMIT]
    assert_fresh_array(await chunky.get_tensor("t"), original)


async def test_chunking_threshold(chunky: Client, raw: aioredis.Redis) -> None:
    fits = np.ones(CHUNK_LIMIT - 64, dtype="u1")  # header + data == the limit: one value
    over = np.ones(CHUNK_LIMIT - 63, dtype="u1")  # one byte more: a manifest and one chunk
    await chunky.put_tensor("fits", fits)
    await chunky.put_tensor("over", over)
    assert sorted(await raw.keys("*")) == [b"fits", b"over"]
    assert await raw.strlen("fits") == CHUNK_LIMIT
    assert await chunk_lengths(raw, "over") == [over.nbytes]
    np.testing.assert_array_equal(await chunky.get_tensor("over"), over)


async def test_chunked_read_by_a_client_with_the_default_limit(
    chunky: Client, client: Client
) -> None:
    original = sample((300, 100), "f4")
    await chunky.put_tensor("t", original)
    assert_fresh_array(await client.get_tensor("t"), original)


@pytest.mark.parametrize("dest", ["dest", "{tag}dest"])
async def test_chunked_copy(chunky: Client, raw: aioredis.Redis, dest: str) -> None:
    original = sample((50_000,), "f8")  # 400_000 bytes -> 4 chunks
    await chunky.put_tensor("src", original)
    await chunky.copy_tensor("src", dest)
    assert set(await raw.keys("*")) == {b"src", dest.encode()}
    assert await chunk_lengths(raw, dest) == [CHUNK_LIMIT] * 4
    await chunky.delete_tensor("src")
    assert_fresh_array(await chunky.get_tensor(dest), original)
    assert await raw.keys("*") == [dest.encode()]


@pytest.mark.parametrize(("old", "new"), [("old", "new"), ("{a}old", "{b}new")])
async def test_chunked_rename(chunky: Client, raw: aioredis.Redis, old: str, new: str) -> None:
    original = sample((50_000,), "i8")
    await chunky.put_tensor(old, original)
    await chunky.rename_tensor(old, new)
    assert await raw.keys("*") == [new.encode()]
    assert_fresh_array(await chunky.get_tensor(new), original)


async def test_put_tensors_mixing_chunked_and_inline(chunky: Client, raw: aioredis.Redis) -> None:
    tensors = {
        "small": sample((10,), "i4"),
        "big": sample((30_000,), "f8"),  # 240_000 bytes -> 3 chunks
        "{t}big": sample((20_000,), "f8"),  # 160_000 bytes -> 2 chunks
        "medium": sample((1000,), "f4"),
    }
    await chunky.put_tensors(tensors)
    assert set(await raw.keys("*")) == {b"small", b"big", b"{t}big", b"medium"}
    assert len(await chunk_lengths(raw, "big")) == 3
    assert len(await chunk_lengths(raw, "{t}big")) == 2
    result = await chunky.get_tensors(["big", "small", "{t}big", "medium"])
    for name, original in tensors.items():
        assert_fresh_array(result[name], original)


async def test_overwriting_a_chunked_tensor_with_a_small_one_leaves_no_chunks(
    chunky: Client, raw: aioredis.Redis
) -> None:
    """The ordinary put (one SET, the hot path) replaces the whole list, at once."""
    await chunky.put_tensor("t", sample((50_000,)))
    small = sample((3,))
    await chunky.put_tensor("t", small)
    assert await raw.keys("*") == [b"t"] and await raw.type("t") == b"string"
    np.testing.assert_array_equal(await chunky.get_tensor("t"), small)


async def test_overwriting_a_chunked_tensor_with_fewer_chunks_leaves_no_chunks(
    chunky: Client, raw: aioredis.Redis
) -> None:
    await chunky.put_tensor("t", sample((50_000,)))  # 4 chunks
    smaller = sample((20_000,))  # 2 chunks
    await chunky.put_tensor("t", smaller)
    assert await raw.keys("*") == [b"t"]
    assert len(await chunk_lengths(raw, "t")) == 2
    np.testing.assert_array_equal(await chunky.get_tensor("t"), smaller)


@pytest.mark.parametrize("operation", ["copy_tensor", "rename_tensor"])
async def test_copy_or_rename_onto_a_chunked_tensor_leaves_no_chunks(
    chunky: Client, raw: aioredis.Redis, operation: str
) -> None:
    await chunky.put_tensor("dest", sample((50_000,)))  # 4 chunks
    small = sample((3,))
    await chunky.put_tensor("src", small)
    await getattr(chunky, operation)("src", "dest")
    np.testing.assert_array_equal(await chunky.get_tensor("dest"), small)
    expected = {b"src", b"dest"} if operation == "copy_tensor" else {b"dest"}
    assert set(await raw.keys("*")) == expected


async def test_a_put_cancelled_midway_leaves_nothing_and_changes_nothing(
    chunky: Client, raw: aioredis.Redis
) -> None:
    previous = sample((50_000,), seed=1)
    await chunky.put_tensor("t", previous)
    before = await snapshot(raw)
    for delay in (0.0, 0.001, 0.003, 0.01):
        with anyio.move_on_after(delay):
            await chunky.put_tensor("t", sample((200_000,), seed=2))  # 16 chunks
        current = await chunky.get_tensor("t")  # the old tensor or the new one, whole
        assert current.shape in ((50_000,), (200_000,))
        keys = await raw.keys("*")
        assert keys == [b"t"], keys  # the temporary list went with the cancelled put
        if current.shape == (50_000,):
            assert await snapshot(raw) == before


async def test_a_reader_never_sees_a_chunked_tensor_half_overwritten(
    chunky: Client, store: Orchestrator
) -> None:
    """Each write holds one value everywhere; a concurrent reader must only ever see one. The
    writer goes on until the reader has seen several writes (bounded), so they did overlap."""
    config = ClientConfig(max_value_bytes=CHUNK_LIMIT)
    await chunky.put_tensor("t", np.zeros(50_000))  # 4 chunks
    seen: set[float] = set()
    async with Client(address=store.get_address()[0], config=config) as reader:

        async def keep_reading(done: anyio.Event) -> None:
            while not done.is_set():
                array = await reader.get_tensor("t")
                assert array.min() == array.max(), "a torn read mixed two writes"
                seen.add(float(array[0]))

        done = anyio.Event()
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(keep_reading, done)
                value = 0
                while len(seen) < 5 or value < 40:
                    value += 1
                    # Every other write is small: the list and a plain value replace each other.
                    size = 50_000 if value % 2 else 3
                    await chunky.put_tensor("t", np.full(size, float(value)))
                done.set()


@pytest.mark.parametrize(
    ("damage", "what"),
    [
        (lambda raw: raw.rpop("t"), "chunk 3 is missing"),
        (lambda raw: raw.lset("t", 2, b"\0" * 10), "chunk 1 has 10 bytes"),
    ],
    ids=["lost-chunk", "short-chunk"],
)
async def test_a_damaged_chunked_tensor_is_reported_as_corrupt(
    chunky: Client, raw: aioredis.Redis, damage, what: str
) -> None:  # type: ignore[no-untyped-def]
    await chunky.put_tensor("t", sample((50_000,)))  # a manifest and 4 chunks
    await damage(raw)
    with pytest.raises(TensorFormatError) as info:
        await chunky.get_tensor("t")
    assert what in str(info.value) and "corrupt" in str(info.value)
    assert await chunky.tensor_exists("t") is True
    small = sample((2,))
    await chunky.put_tensor("ok", small)  # the client is still usable
    np.testing.assert_array_equal(await chunky.get_tensor("ok"), small)


@pytest.mark.parametrize("method", ["get_tensor", "delete_tensor", "copy_tensor"])
async def test_a_list_that_is_no_tensor_is_refused(
    chunky: Client, raw: aioredis.Redis, method: str
) -> None:
    await raw.rpush("l", b"not a manifest", b"x")
    before = await snapshot(raw)
    args = ("l", "elsewhere") if method == "copy_tensor" else ("l",)
    with pytest.raises(TensorFormatError):
        await getattr(chunky, method)(*args)
    assert await snapshot(raw) == before


@pytest.mark.slow
async def test_tensor_over_512_mib(client: Client, raw: aioredis.Redis) -> None:
    """Over Redis's bulk limit with the default config: chunked transparently, and back."""
    nbytes = 600 * MiB
    pattern = np.arange(251, dtype=np.uint8)  # a prime period: misplaced chunks would show
    original = np.tile(pattern, nbytes // 251 + 1)[:nbytes]
    try:
        await client.put_tensor("huge", original)
        assert await raw.keys("*") == [b"huge"]
        assert await raw.type("huge") == b"list" and await raw.llen("huge") == 3  # 512 + 88 MiB
        result = await client.get_tensor("huge")
        assert result.shape == (nbytes,) and result.dtype == np.uint8
        assert result.flags.writeable and result.ctypes.data % 16 == 0
        for start in range(0, nbytes, 64 * MiB):  # compare in slices: no 600 MiB bool temporary
            assert np.array_equal(
                result[start : start + 64 * MiB], original[start : start + 64 * MiB]
            )
        del result
        await client.delete_tensor("huge")
        assert await raw.dbsize() == 0
    finally:
        del original
