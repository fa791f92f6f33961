"""smartflow.smartredis against real stores: SmartRedis's names, argument shapes and errors.

Tests are plain functions: the drop-in is a blocking client, which refuses to run inside a
running event loop."""

from __future__ import annotations

import numpy as np
import pytest

from smartflow.errors import ClientError
from smartflow.smartredis import Client, ConfigOptions, Dataset, LLInfo, LogContext, log_data
from smartflow.smartredis.dataset_utils import DatasetConverter
from smartflow.smartredis.error import (
    RedisConnectionError,
    RedisKeyError,
    RedisReplyError,
    RedisRuntimeError,
)


@pytest.fixture
def env(store, monkeypatch):
    """The environment contract SmartRedis applications read."""
    monkeypatch.setenv("SSDB", store.get_address()[0])
    monkeypatch.setenv("SR_DB_TYPE", "Standalone")
    monkeypatch.setenv("SSDB_PASSWORD", store.password)
    monkeypatch.delenv("SSKEYIN", raising=False)
    monkeypatch.delenv("SSKEYOUT", raising=False)
    return store


@pytest.fixture
def sr(env):
    with Client(None, logger_name="dropin") as client:
        yield client


def test_tensor_round_trip_and_ops(sr):
    data = np.arange(12, dtype=np.int16).reshape(3, 4)
    sr.put_tensor("t", data)
    np.testing.assert_array_equal(sr.get_tensor("t"), data)
    sr.copy_tensor("t", "t2")
    sr.rename_tensor("t2", "t3")
    assert sr.tensor_exists("t3") and not sr.tensor_exists("t2")
    assert sr.poll_tensor("t3", 10, 2) and sr.key_exists("t3")
    sr.delete_tensor("t3")
    assert not sr.poll_key("t3", 10, 2)


def test_bad_inputs_raise_smartredis_types(sr):
    with pytest.raises(TypeError):
        sr.put_tensor(42, np.zeros(2))
    with pytest.raises(TypeError):
        sr.put_tensor("k", [1, 2])
    with pytest.raises(TypeError):  # uint64 is no SmartRedis tensor type
        sr.put_tensor("k", np.zeros(2, dtype=np.uint64))
    with pytest.raises(TypeError):
        sr.poll_tensor("k", "often", 3)
    with pytest.raises(ValueError):
        sr.delete_model_multigpu("m", -1, 1)
    with pytest.raises(RedisReplyError) as missing:
        sr.get_tensor("nope")
    assert "Client.get_tensor execution failed" in str(missing.value)
    assert isinstance(missing.value, ClientError)  # also a smartflow error
    with pytest.raises(RedisKeyError):
        sr.get_dataset("nope")
    with pytest.raises(FileNotFoundError):
        sr.set_script_from_file("s", "/no/such/file.py")


def test_dataset_and_list(sr):
    ds = Dataset("ds")
    ds.add_tensor("u", np.ones((2, 2), dtype=np.float32))
    ds.add_meta_scalar("step", 7)
    ds.add_meta_string("mesh", "coarse")
    sr.put_dataset(ds)
    back = sr.get_dataset("ds")
    assert back.get_meta_scalars("step")[0] == 7
    assert back.get_metadata_field_type("step") is np.int64
    assert back.get_metadata_field_type("mesh") is str
    assert back.get_tensor_type("u") is np.float64  # SmartRedis 0.6.1's answer for FLOAT
    assert back.get_tensor_dims("u") == [2, 2]
    sr.append_to_list("lst", ds)
    assert sr.get_list_length("lst") == 1
    assert sr.poll_list_length_gte("lst", 1, 10, 2)
    assert [d.get_name() for d in sr.get_datasets_from_list("lst")] == ["ds"]
    with pytest.raises(TypeError):
        Dataset(3)
    with pytest.raises(TypeError):
        ds.add_meta_scalar("many", np.arange(3))


def test_python_script_runs_and_redisai_backends_refused(sr):
    def double(x):
        return x * 2

    sr.set_function("dbl", double)
    sr.put_tensor("x", np.arange(3.0))
    sr.run_script("dbl", "double", "x", "y")
    np.testing.assert_array_equal(sr.get_tensor("y"), np.arange(3.0) * 2)
    with pytest.raises(RedisRuntimeError, match="RedisAI"):
        sr.set_model("m", b"not a model", "TORCH")
    with pytest.raises(TypeError):
        sr.set_model("m", b"x", "CAFFE")
    with pytest.raises(RedisRuntimeError, match="RedisAI"):
        sr.get_ai_info([sr._client.address], "m")

    def forgets_its_array(x):
        return False

    # TorchScript fails on a function returning no tensor; smartflow's worker refuses it too,
    # and the drop-in reports it as SmartRedis does.
    sr.set_function("bad", forgets_its_array)
    with pytest.raises(RedisReplyError, match="returned bool"):
        sr.run_script("bad", "forgets_its_array", "x", "z")
    assert not sr.tensor_exists("z")


def test_constructions(env, monkeypatch):
    address = env.get_address()[0]
    with Client(False, address, "addr") as c:
        assert c.get_db_node_info([address])[0]["Server"]
    with Client(address=address, cluster=False) as c:  # keyword spelling
        assert c.config_get("maxmemory*", address)
    with Client(None, False, logger_name="legacy") as c:  # before SmartRedis 0.5
        assert not c.dataset_exists("none")
    options = ConfigOptions.create_from_environment("")
    assert options.get_string_option("SR_DB_TYPE") == "Standalone"
    with Client(options, "opts") as c:
        assert not c.key_exists("none")
    with pytest.raises(TypeError):
        Client(42)
    with pytest.raises(RedisRuntimeError):
        ConfigOptions().get_integer_option("x")
    with pytest.raises(RedisKeyError):
        options.get_integer_option("SMARTFLOW_NOT_SET_ANYWHERE")
    with pytest.raises(RedisRuntimeError, match="not an integer") as refused:
        options.get_integer_option("SSDB_PASSWORD")
    assert env.password not in str(refused.value)  # a secret's value is never in a message
    with Client(address=address + ";", logger_name="sr-docs") as c:  # SmartRedis's SSDB form
        c.put_bytes("raw", b"\x00\x01\xff")
        assert c.bytes_exists("raw") and c.get_bytes("raw").getvalue() == b"\x00\x01\xff"
        assert c.poll_bytes("raw", 10, 1)
        c.delete_bytes("raw")
        assert not c.bytes_exists("raw")


def test_dead_store_bad_address_and_missing_ssdb(env, monkeypatch):
    # (A wrong SSDB_PASSWORD cannot be tried here: this process started the store, and
    # smartflow's driver-side clients use the secret it remembers.)
    monkeypatch.setenv("SSDB", "127.0.0.1:1")
    with pytest.raises(RedisConnectionError, match=r"127\.0\.0\.1:1"):
        Client(None)
    monkeypatch.setenv("SSDB", "not-an-address:6379;")
    with pytest.raises(RedisConnectionError):
        Client(None)
    monkeypatch.delenv("SSDB")
    with pytest.raises(RedisConnectionError):
        Client(False)


def test_logging_names(env, tmp_path, monkeypatch):
    log = tmp_path / "sr.log"
    monkeypatch.setenv("SR_LOG_FILE", str(log))
    log_data("ctx", LLInfo, "module record")
    LogContext("lc").log_warning(LLInfo, "context record")
    with pytest.raises(TypeError):
        log_data("ctx", "INFO", "not a level")
    text = log.read_text()
    assert "module record" in text and "context record" in text


def test_xarray_missing_is_a_clear_error():
    ds = Dataset("x")
    ds.add_tensor("a", np.zeros(2))
    ds.add_meta_string("dim", "x")
    DatasetConverter.add_metadata_for_xarray(ds, "a", "dim")
    assert ds.get_meta_strings("_xarray_a_dim_names") == ["dim"]
    try:
        import xarray  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install xarray"):
            DatasetConverter.transform_to_xarray(ds)
    else:
        arrays = DatasetConverter.transform_to_xarray(ds)
        assert arrays["a"].dims == ("x",)


def test_cluster_round_trip(cluster, monkeypatch):
    monkeypatch.setenv("SSDB", ",".join(cluster.get_address()))
    monkeypatch.setenv("SR_DB_TYPE", "Clustered")
    monkeypatch.setenv("SSDB_PASSWORD", cluster.password)
    with Client(None, logger_name="cl") as c:
        for i in range(5):
            c.put_tensor(f"k{i}", np.full(3, i, dtype=np.int32))
        assert [int(c.get_tensor(f"k{i}")[0]) for i in range(5)] == list(range(5))
    # The keyword form without ``cluster`` (SmartRedis before 0.5, still in its tests) follows
    # SR_DB_TYPE: a standalone client here would fail on the first key of another shard.
    with Client(address=None, logger_name="cl-kw") as c:
        for i in range(5):
            ds = Dataset(f"ds{i}")
            ds.add_tensor("u", np.full(2, i, dtype=np.int16))
            c.put_dataset(ds)
        assert all(c.dataset_exists(f"ds{i}") for i in range(5))
    with pytest.raises(TypeError):
        Client(address=None, cluster="yes")
