"""Aggregation lists against a real store: SmartRedis semantics, LRANGE bounds, bad input."""

from __future__ import annotations

import anyio
import numpy as np
import pytest
import redis.asyncio as aioredis

from smartflow import Client, DataSet
from smartflow.errors import (
    InvalidArgumentError,
    KeyNotFoundError,
    TensorFormatError,
    UnsupportedTypeError,
)
from tests.client._helpers import snapshot


def _dataset(i: int) -> DataSet:
    ds = DataSet(f"ds{i}")
    ds.add_tensor("x", np.full(3, i))
    ds.add_meta_scalar("i", i)
    return ds


async def _filled(client: Client, name: str = "agg", n: int = 5) -> list[DataSet]:
    datasets = [_dataset(i) for i in range(n)]
    for ds in datasets:
        await client.put_dataset(ds)
        await client.append_to_list(name, ds)
    return datasets


def _indices(datasets: list[DataSet]) -> list[int]:
    return [int(ds.get_meta_scalars("i")[0]) for ds in datasets]


async def test_append_length_and_fetch_in_order(client: Client) -> None:
    assert await client.get_list_length("agg") == 0
    await _filled(client)
    assert await client.get_list_length("agg") == 5
    fetched = await client.get_datasets_from_list("agg")
    assert _indices(fetched) == [0, 1, 2, 3, 4]
    assert [ds.name for ds in fetched] == [f"ds{i}" for i in range(5)]
    np.testing.assert_array_equal(fetched[3].get_tensor("x"), [3, 3, 3])


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, -1, [0, 1, 2, 3, 4]),
        (1, 3, [1, 2, 3]),  # both ends included
        (-2, -1, [3, 4]),  # negative positions count from the end
        (3, 100, [3, 4]),  # past the end: clipped
        (-100, 1, [0, 1]),
        (3, 1, []),  # reversed: nothing, as LRANGE
        (7, 9, []),  # wholly outside
    ],
)
async def test_list_range_follows_lrange(client: Client, start, end, expected) -> None:  # type: ignore[no-untyped-def]
    await _filled(client)
    assert _indices(await client.get_dataset_list_range("agg", start, end)) == expected


async def test_copy_rename_delete(client: Client) -> None:
    await _filled(client, n=3)
    await client.copy_list("agg", "copy")
    assert _indices(await client.get_datasets_from_list("copy")) == [0, 1, 2]
    await client.rename_list("copy", "moved")
    assert await client.get_list_length("copy") == 0
    assert await client.get_list_length("moved") == 3
    await client.delete_list("moved")
    assert await client.get_list_length("moved") == 0
    assert await client.dataset_exists("ds0")  # deleting a list keeps its datasets


async def test_poll_list_length_variants(client: Client) -> None:
    await _filled(client, n=2)
    assert await client.poll_list_length("agg", 2, 5, 2)
    assert not await client.poll_list_length("agg", 3, 5, 2)
    assert await client.poll_list_length_gte("agg", 1, 5, 1)
    assert not await client.poll_list_length_gte("agg", 3, 5, 2)
    assert await client.poll_list_length_lte("agg", 2, 5, 1)
    assert not await client.poll_list_length_lte("agg", 1, 5, 2)


async def test_poll_sees_a_list_growing(client: Client) -> None:
    async def grow() -> None:
        await anyio.sleep(0.05)
        await _filled(client, n=3)

    async with anyio.create_task_group() as tg:
        tg.start_soon(grow)
        assert await client.poll_list_length("agg", 3, 10, 200)


async def test_a_deleted_dataset_in_a_list_is_named(client: Client) -> None:
    await _filled(client, n=3)
    await client.delete_dataset("ds1")
    with pytest.raises(KeyNotFoundError, match=r"list 'agg'.*'ds1'"):
        await client.get_datasets_from_list("agg")
    assert _indices(await client.get_dataset_list_range("agg", 2, 2)) == [2]
    # the client still works after the failed pipeline
    assert await client.get_list_length("agg") == 3


async def test_bad_list_input_changes_nothing(client: Client, raw: aioredis.Redis) -> None:
    await _filled(client, n=2)
    await raw.set("{plain}.list", b"a string where a list should be")
    before = await snapshot(raw)
    with pytest.raises(KeyNotFoundError, match="put_dataset it first"):
        await client.append_to_list("agg", DataSet("never-put"))
    with pytest.raises(UnsupportedTypeError):
        await client.append_to_list("agg", "ds0")  # type: ignore[arg-type]
    with pytest.raises(UnsupportedTypeError):
        await client.get_dataset_list_range("agg", "0", 1)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        await client.poll_list_length("agg", -1, 5, 1)
    with pytest.raises(InvalidArgumentError):
        await client.poll_list_length_gte("agg", 1, 5, 0)
    with pytest.raises(KeyNotFoundError):
        await client.copy_list("missing", "x")
    with pytest.raises(KeyNotFoundError):
        await client.rename_list("missing", "x")
    with pytest.raises(InvalidArgumentError):
        await client.copy_list("agg", "agg")
    with pytest.raises(TensorFormatError):
        await client.get_list_length("plain")
    assert await snapshot(raw) == before
