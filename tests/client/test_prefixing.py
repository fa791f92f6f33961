"""Ensemble key prefixing: SSKEYOUT for writes, SSKEYIN sources for reads, per-kind switches."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import redis.asyncio as aioredis

from smartflow import Client, DataSet, Experiment, Orchestrator, Status
from smartflow.client._prefix import KeyPrefixer, Kind
from smartflow.errors import InvalidArgumentError, UnsupportedTypeError

# -- the rules, no store ----------------------------------------------------------------------


def test_reads_come_from_the_first_source_and_writes_go_under_the_own_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSKEYOUT", "consumer")
    monkeypatch.setenv("SSKEYIN", "ens_0, ens_1,")
    prefixer = KeyPrefixer.from_env()
    assert prefixer.sources == ("ens_0", "ens_1")
    assert prefixer.for_write(Kind.TENSOR, "x") == "consumer.x"
    assert prefixer.for_read(Kind.TENSOR, "x") == "ens_0.x"
    prefixer.set_data_source("ens_1")
    assert prefixer.for_read(Kind.DATASET, "x") == "ens_1.x"
    assert prefixer.for_read(Kind.MODEL, "m") == "m", "models are not prefixed by default"
    prefixer.use(Kind.MODEL, True)
    assert prefixer.for_write(Kind.MODEL, "m") == "consumer.m"
    prefixer.use(Kind.LIST, False)
    assert prefixer.for_write(Kind.LIST, "l") == "l"


def test_without_sources_a_member_reads_its_own_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSKEYOUT", "ens_3")
    monkeypatch.delenv("SSKEYIN", raising=False)
    prefixer = KeyPrefixer.from_env()
    assert prefixer.for_read(Kind.TENSOR, "x") == prefixer.for_write(Kind.TENSOR, "x") == "ens_3.x"


def test_no_environment_means_no_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSKEYOUT", raising=False)
    monkeypatch.delenv("SSKEYIN", raising=False)
    prefixer = KeyPrefixer.from_env()
    assert prefixer.for_read(Kind.TENSOR, "x") == prefixer.for_write(Kind.LIST, "x") == "x"


def test_bad_data_source_and_switch_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSKEYIN", "a,b")
    prefixer = KeyPrefixer.from_env()
    with pytest.raises(InvalidArgumentError, match="'c' is not one of"):
        prefixer.set_data_source("c")
    with pytest.raises(UnsupportedTypeError):
        prefixer.set_data_source(None)
    with pytest.raises(UnsupportedTypeError):
        prefixer.use(Kind.TENSOR, "yes")
    assert prefixer.data_source == "a", "a refused source leaves the current one"


# -- through the client --------------------------------------------------------------------------


async def test_client_prefixes_every_kind(
    store: Orchestrator, raw: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSKEYOUT", "member")
    monkeypatch.delenv("SSKEYIN", raising=False)
    ds = DataSet("state")
    ds.add_tensor("u", np.ones(2))
    async with Client(address=store.get_address()[0]) as client:
        await client.put_tensor("x", np.arange(3))
        await client.put_dataset(ds)
        await client.append_to_list("all", ds)
        assert sorted(await raw.keys("*")) == [
            b"member.x",
            b"{member.all}.list",
            b"{member.state}.dataset",
        ]
        assert await raw.lrange("{member.all}.list", 0, -1) == [b"member.state"]
        assert (await client.get_tensor("x")).tolist() == [0, 1, 2]
        assert await client.tensor_exists("x") and not await client.key_exists("x")
        assert await client.key_exists("member.x"), "key_exists takes the key as stored"
        assert [d.name for d in await client.get_datasets_from_list("all")] == ["member.state"]
        client.use_tensor_ensemble_prefix(False)
        await client.put_tensor("plain", np.zeros(1))
        assert await raw.exists("plain")
        with pytest.raises(InvalidArgumentError):
            client.set_data_source("someone")


async def test_copy_reads_from_the_source_and_writes_under_the_own_name(
    store: Orchestrator, raw: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSKEYOUT", "me")
    monkeypatch.setenv("SSKEYIN", "producer")
    async with Client(address=store.get_address()[0]) as client:
        await raw.set("producer.x", await _tensor_bytes(store, np.arange(4)))
        await client.copy_tensor("x", "x")  # producer.x -> me.x: different keys
        assert await raw.exists("me.x")
        client.use_tensor_ensemble_prefix(False)
        np.testing.assert_array_equal(await client.get_tensor("me.x"), np.arange(4))


async def _tensor_bytes(store: Orchestrator, array: np.ndarray) -> bytes:
    from smartflow.wire import codec

    return codec.encode_header(array) + array.tobytes()


# -- a real ensemble and a consumer -----------------------------------------------------------

MEMBER = """
    import os, numpy as np
    from smartflow import DataSet, SyncClient
    rank = int(os.environ["SSKEYOUT"].rsplit("_", 1)[1])
    with SyncClient() as client:  # the same key names in every member
        client.put_tensor("result", np.full(4, rank))
        ds = DataSet("state")
        ds.add_tensor("field", np.arange(3) * rank)
        ds.add_meta_string("who", os.environ["SSKEYOUT"])
        client.put_dataset(ds)
        client.append_to_list("states", ds)
"""

CONSUMER = """
    import os, numpy as np
    from smartflow import SyncClient
    sources = os.environ["SSKEYIN"].split(",")
    rows = []
    with SyncClient() as client:
        for source in sources:
            client.set_data_source(source)
            result = client.get_tensor("result")
            state = client.get_dataset("state")
            (listed,) = client.get_datasets_from_list("states")
            assert state.get_meta_strings("who") == [source], state.get_meta_strings("who")
            assert listed.get_meta_strings("who") == [source]
            rows.append([result[0], state.get_tensor("field")[1], len(sources)])
        client.put_tensor("summary", np.array(rows))
"""


async def test_ensemble_members_write_the_same_names_without_collisions(
    experiment: Experiment, tmp_path: Path
) -> None:
    db = experiment.create_database()
    await experiment.start(db)
    member_py, consumer_py = tmp_path / "member.py", tmp_path / "consumer.py"
    member_py.write_text(textwrap.dedent(MEMBER))
    consumer_py.write_text(textwrap.dedent(CONSUMER))
    ens = experiment.create_ensemble(
        "ens",
        run_settings=experiment.create_run_settings(sys.executable, exe_args=[str(member_py)]),
        replicas=3,
    )
    consumer = experiment.create_model(
        "consumer",
        experiment.create_run_settings(sys.executable, exe_args=[str(consumer_py)]),
        enable_key_prefixing=True,
    )
    consumer.register_incoming_entity(ens)
    await experiment.start(ens, block=True)
    await experiment.start(consumer, block=True)
    statuses = await experiment.get_status(ens, consumer)
    assert statuses == [Status.COMPLETED] * 4, experiment.summary()
    async with Client(address=db.get_address()[0]) as client:  # the driver: no prefix
        summary = await client.get_tensor("consumer.summary")
        assert summary.tolist() == [[0, 0, 3], [1, 1, 3], [2, 2, 3]]
        for i in range(3):
            assert await client.dataset_exists(f"ens_{i}.state")
            assert (await client.get_tensor(f"ens_{i}.result")).tolist() == [i] * 4
