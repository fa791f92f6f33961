"""DataSet (pure) and the client's dataset API against a real store."""

from __future__ import annotations

import anyio
import numpy as np
import pytest
import redis.asyncio as aioredis

from smartflow import Client, DataSet, MetaDataType
from smartflow.client._datasets import dataset_key
from smartflow.errors import (
    InvalidArgumentError,
    KeyNotFoundError,
    TensorFormatError,
    UnsupportedTypeError,
)
from tests.client._helpers import snapshot


def _sample(name: str = "ds") -> DataSet:
    ds = DataSet(name)
    ds.add_tensor("u", np.arange(12, dtype=np.float32).reshape(3, 4))
    ds.add_tensor("big_endian", np.arange(5, dtype=">i8"))
    ds.add_tensor("scalar", np.array(7, dtype=np.uint16))
    ds.add_tensor("empty", np.zeros((0, 3), dtype=np.complex64))
    ds.add_tensor("mask", np.array([True, False]))
    ds.add_meta_scalar("time", 0.1)
    ds.add_meta_scalar("time", 0.2)
    ds.add_meta_scalar("step", np.int32(3))
    ds.add_meta_scalar("big", np.uint64(2**64 - 1))
    ds.add_meta_scalar("odd", float("nan"))
    ds.add_meta_string("mesh", "coarse")
    ds.add_meta_string("mesh", "ünïcode")
    return ds


def _assert_same(a: DataSet, b: DataSet) -> None:
    assert a.get_tensor_names() == b.get_tensor_names()
    for name in a.get_tensor_names():
        x, y = a.get_tensor(name), b.get_tensor(name)
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)
    assert sorted(a.get_metadata_field_names()) == sorted(b.get_metadata_field_names())
    for field in a.get_metadata_field_names():
        assert a.get_metadata_field_type(field) == b.get_metadata_field_type(field)
        if a.get_metadata_field_type(field) is MetaDataType.STRING:
            assert a.get_meta_strings(field) == b.get_meta_strings(field)
        else:
            np.testing.assert_array_equal(a.get_meta_scalars(field), b.get_meta_scalars(field))


# -- DataSet, no store -----------------------------------------------------------------------


def test_metadata_fields_are_lists_typed_by_their_first_value() -> None:
    ds = _sample()
    np.testing.assert_array_equal(ds.get_meta_scalars("time"), [0.1, 0.2])
    assert ds.get_meta_scalars("time").dtype == np.float64
    assert ds.get_metadata_field_type("step") is MetaDataType.INT32
    assert ds.get_metadata_field_type("big") is MetaDataType.UINT64
    assert ds.get_meta_strings("mesh") == ["coarse", "ünïcode"]
    ds.add_meta_scalar("step", 4)  # a Python int joins an int32 field it fits in
    assert ds.get_meta_scalars("step").tolist() == [3, 4]
    assert ds.get_tensor_type("u") == np.float32 and ds.get_tensor_dims("u") == [3, 4]


def test_add_tensor_copies_the_array() -> None:
    data = np.ones(3)
    ds = DataSet("d")
    ds.add_tensor("x", data)
    data[:] = 5
    assert ds.get_tensor("x").tolist() == [1, 1, 1]


@pytest.mark.parametrize(
    ("action", "error"),
    [
        (lambda ds: ds.add_tensor("u", np.ones(2)), InvalidArgumentError),  # duplicate name
        (lambda ds: ds.add_tensor("s", np.array(["a"])), UnsupportedTypeError),
        (lambda ds: ds.add_tensor("", np.ones(2)), InvalidArgumentError),
        (lambda ds: ds.add_meta_scalar("flag", True), UnsupportedTypeError),
        (lambda ds: ds.add_meta_scalar("c", 1j), UnsupportedTypeError),
        (lambda ds: ds.add_meta_scalar("h", np.float16(1)), UnsupportedTypeError),
        (lambda ds: ds.add_meta_scalar("t", "text"), UnsupportedTypeError),
        (lambda ds: ds.add_meta_scalar("time", np.float32(1)), InvalidArgumentError),
        (lambda ds: ds.add_meta_scalar("time", 1), InvalidArgumentError),  # int into floats
        (lambda ds: ds.add_meta_scalar("step", 2**40), InvalidArgumentError),  # overflow
        (lambda ds: ds.add_meta_scalar("mesh", 1.0), InvalidArgumentError),
        (lambda ds: ds.add_meta_string("time", "x"), InvalidArgumentError),
        (lambda ds: ds.add_meta_string("m", 3), UnsupportedTypeError),
        (lambda ds: ds.get_tensor("nope"), KeyNotFoundError),
        (lambda ds: ds.get_meta_scalars("nope"), KeyNotFoundError),
        (lambda ds: ds.get_meta_scalars("mesh"), InvalidArgumentError),
        (lambda ds: ds.get_meta_strings("time"), InvalidArgumentError),
        (lambda ds: ds.get_metadata_field_type("nope"), KeyNotFoundError),
    ],
)
def test_bad_dataset_input_is_refused_and_changes_nothing(action, error) -> None:  # type: ignore[no-untyped-def]
    ds = _sample()
    before = DataSet._restore(ds.name, *[dict(part) for part in ds._contents()])
    with pytest.raises(error):
        action(ds)
    _assert_same(ds, before)


def test_dataset_names_are_checked() -> None:
    with pytest.raises(UnsupportedTypeError):
        DataSet(3)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        DataSet("")


# -- through the store ------------------------------------------------------------------------


async def test_put_get_round_trip_keeps_every_type(client: Client) -> None:
    ds = _sample()
    await client.put_dataset(ds)
    back = await client.get_dataset("ds")
    assert back.name == "ds"
    _assert_same(ds, back)
    assert np.isnan(back.get_meta_scalars("odd")[0])
    for name in back.get_tensor_names():
        tensor = back.get_tensor(name)
        assert tensor.flags.writeable
        assert tensor.ctypes.data % max(tensor.dtype.alignment, 1) == 0


async def test_a_dataset_is_one_value_written_in_one_round_trip(
    client: Client, raw: aioredis.Redis
) -> None:
    before = (await raw.info("commandstats")).get("cmdstat_set", {}).get("calls", 0)
    await client.put_dataset(_sample())
    after = (await raw.info("commandstats"))["cmdstat_set"]["calls"]
    assert after - before == 1
    assert await raw.keys("*") == [dataset_key("ds")]


async def test_metadata_only_and_tensor_only_datasets(client: Client) -> None:
    meta = DataSet("meta")
    meta.add_meta_string("k", "v")
    tensors = DataSet("tensors")
    tensors.add_tensor("x", np.ones(2))
    await client.put_dataset(meta)
    await client.put_dataset(tensors)
    assert (await client.get_dataset("meta")).get_meta_strings("k") == ["v"]
    assert (await client.get_dataset("tensors")).get_tensor_names() == ["x"]


async def test_overwrite_replaces_the_whole_dataset(client: Client, raw: aioredis.Redis) -> None:
    await client.put_dataset(_sample())
    smaller = DataSet("ds")
    smaller.add_tensor("only", np.zeros(1))
    await client.put_dataset(smaller)
    back = await client.get_dataset("ds")
    assert back.get_tensor_names() == ["only"] and back.get_metadata_field_names() == []
    assert await raw.dbsize() == 1


async def test_exists_delete_copy_rename_poll(client: Client) -> None:
    await client.put_dataset(_sample())
    assert await client.dataset_exists("ds")
    assert not await client.dataset_exists("other")
    assert not await client.tensor_exists("ds")  # datasets and tensors do not share names
    await client.copy_dataset("ds", "copy")
    _assert_same(_sample(), await client.get_dataset("copy"))
    await client.rename_dataset("copy", "moved")
    assert not await client.dataset_exists("copy")
    assert (await client.get_dataset("moved")).name == "moved"
    assert await client.poll_dataset("moved", 10, 2)
    await client.delete_dataset("moved")
    await client.delete_dataset("moved")  # deleting a missing dataset is no error
    assert not await client.poll_dataset("moved", 1, 2)


async def test_readers_never_see_half_a_dataset(client: Client) -> None:
    """A writer alternates two versions; every read is wholly one or the other."""
    versions = []
    for v in (1, 2):
        ds = DataSet("racy")
        for i in range(8):
            ds.add_tensor(f"t{i}", np.full(20_000, v, dtype=np.int32))
        ds.add_meta_scalar("version", v)
        versions.append(ds)
    await client.put_dataset(versions[0])
    seen = set()

    async def writer() -> None:
        for i in range(60):
            await client.put_dataset(versions[i % 2])

    async with anyio.create_task_group() as tg:
        tg.start_soon(writer)
        for _ in range(60):
            back = await client.get_dataset("racy")
            (version,) = back.get_meta_scalars("version").tolist()
            for name in back.get_tensor_names():
                assert set(np.unique(back.get_tensor(name)).tolist()) == {version}
            seen.add(version)
    assert seen <= {1, 2}


async def test_bad_store_input_is_refused_and_changes_nothing(
    client: Client, raw: aioredis.Redis
) -> None:
    await client.put_dataset(_sample())
    await raw.set("plain", b"not a dataset")
    await raw.set(dataset_key("forged"), b"\x93SFD garbage")
    before = await snapshot(raw)
    with pytest.raises(InvalidArgumentError, match="no tensors and no metadata"):
        await client.put_dataset(DataSet("empty"))
    with pytest.raises(UnsupportedTypeError):
        await client.put_dataset({"u": np.ones(2)})  # type: ignore[arg-type]
    with pytest.raises(KeyNotFoundError, match="dataset 'missing'"):
        await client.get_dataset("missing")
    with pytest.raises(TensorFormatError):
        await client.get_dataset("forged")
    with pytest.raises(KeyNotFoundError):
        await client.copy_dataset("missing", "x")
    with pytest.raises(KeyNotFoundError):
        await client.rename_dataset("missing", "x")
    with pytest.raises(InvalidArgumentError):
        await client.copy_dataset("ds", "ds")
    with pytest.raises(InvalidArgumentError):
        await client.poll_dataset("ds", -1, 1)
    assert await snapshot(raw) == before


async def test_a_dataset_over_the_value_limit_is_refused(store, raw: aioredis.Redis) -> None:  # type: ignore[no-untyped-def]
    from smartflow import ClientConfig

    config = ClientConfig(max_value_bytes=4096)
    async with Client(address=store.get_address()[0], config=config) as client:
        ds = DataSet("large")
        ds.add_tensor("x", np.zeros(1024))
        with pytest.raises(InvalidArgumentError, match="value limit"):
            await client.put_dataset(ds)
    assert await raw.dbsize() == 0
