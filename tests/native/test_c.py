"""SmartRedis's C API (clients/include/c_client.h, c_dataset.h over libsmartflow) against real
stores: programs/c/sf_check.c, compiled with ``gcc -std=c99 -Wall -Wextra -Werror`` against the
installed prefix and launched as Models, on a single store and on a 3-shard cluster. Each
subcommand prints one JSON line last (after any log lines)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from smartflow import Client, DataSet, Experiment, Orchestrator
from tests.native.conftest import PROGRAMS, Native, last_json, python_client, run_program

PROGRAM = PROGRAMS / "c" / "sf_check.c"
STRICT = ("-Wextra", "-Werror")
DTYPES = ("float64", "float32", "int8", "int16", "int32", "int64", "uint8", "uint16")
FULL_SHAPE = (2, 3, 4, 5)
#: Values over this many bytes are chunked, by Python (its config) and by C (its environment).
CHUNK_BYTES = 100_000
ENV = {"SMARTFLOW_CHUNK_BYTES": str(CHUNK_BYTES)}


def c_values(dtype: str, rank: int) -> np.ndarray:
    """What sf_check.c's put writes: element i (C order) is set_at(i)."""
    shape = FULL_SHAPE[:rank]
    i = np.arange(int(np.prod(shape)), dtype=np.int64)
    values = {
        "float64": i + 0.5,
        "float32": i.astype(np.float32) + np.float32(0.25),
        "int8": i % 100,
        "int16": i,
        "int32": i,
        "int64": i * 1_000_000_007,
        "uint8": i % 200,
        "uint16": i,
    }[dtype]
    return np.asarray(values).astype(dtype).reshape(shape)


def c_client_of(db: Orchestrator) -> Client:
    return python_client(db, CHUNK_BYTES)


async def test_python_put_c_get_every_dtype_and_rank(
    native: Native, experiment: Experiment, db: Orchestrator
) -> None:
    exe = native.compile(PROGRAM, *STRICT)
    rng = np.random.default_rng(0)
    names, wanted = [], {}
    async with c_client_of(db) as client:
        for dtype in DTYPES:
            for rank in range(1, 5):
                shape = FULL_SHAPE[:rank]
                value = (rng.standard_normal(shape) * 50).astype(dtype)
                name = f"py_{dtype}_{rank}"
                await client.put_tensor(name, value)
                names.append(name)
                wanted[name] = value
        chunked = rng.standard_normal((200, 100))  # 160,000 bytes: a list of chunks
        await client.put_tensor("py_chunked", chunked)
        assert await client.execute_command("TYPE", "py_chunked") in ("list", b"list")
    names.append("py_chunked")
    wanted["py_chunked"] = chunked
    result = last_json((await run_program(experiment, exe, "get", *names, env=ENV)).check())
    for name, value in wanted.items():
        got = result[name]
        assert tuple(got["shape"]) == value.shape, name
        np.testing.assert_array_equal(np.array(got["values"], dtype=value.dtype), value.ravel())
    assert result["py_float64_1"]["type"] == 1 and result["py_uint16_4"]["type"] == 8


async def test_c_put_python_get(native: Native, experiment: Experiment, db: Orchestrator) -> None:
    exe = native.compile(PROGRAM, *STRICT)
    assert last_json((await run_program(experiment, exe, "put", env=ENV)).check()) == {"ok": True}
    async with c_client_of(db) as client:
        for dtype in DTYPES:
            for rank in range(1, 5):
                got = await client.get_tensor(f"c_{dtype}_{rank}")
                want = c_values(dtype, rank)
                assert got.dtype == want.dtype and got.shape == want.shape, (dtype, rank)
                np.testing.assert_array_equal(got, want)
        rows = np.array([[1.0, 2, 3], [4, 5, 6]])
        # Nested pointers, and a column-major buffer: a(i,j) is x[i-1, j-1], same shape.
        np.testing.assert_array_equal(await client.get_tensor("c_nested"), rows)
        np.testing.assert_array_equal(await client.get_tensor("c_fortran"), rows)


async def test_chunked_tensors_both_ways(
    native: Native, experiment: Experiment, db: Orchestrator
) -> None:
    exe = native.compile(PROGRAM, *STRICT)
    env = {"SMARTFLOW_CHUNK_BYTES": "512"}  # rank-4 tensors of 8-byte types (1,024 bytes) chunk
    (await run_program(experiment, exe, "put", name="put_chunked", env=env)).check()
    async with c_client_of(db) as client:
        assert await client.execute_command("TYPE", "c_float64_4") in ("list", b"list")
        np.testing.assert_array_equal(
            await client.get_tensor("c_float64_4"), c_values("float64", 4)
        )
        np.testing.assert_array_equal(await client.get_tensor("c_int64_4"), c_values("int64", 4))
        await client.put_tensor("py_big", np.arange(30_000, dtype=np.float64))  # 240 kB: chunked
        assert await client.execute_command("TYPE", "py_big") in ("list", b"list")
    ran = await run_program(
        experiment, exe, "get", "py_big", "c_int64_4", name="get_chunked", env=env
    )
    result = last_json(ran.check())
    assert result["py_big"]["values"] == list(range(30_000))
    assert result["c_int64_4"]["values"] == c_values("int64", 4).ravel().tolist()


async def test_layouts_and_the_flat_unpack_rule(
    native: Native, experiment: Experiment, store: Orchestrator, client: Client
) -> None:
    exe = native.compile(PROGRAM, *STRICT)
    await client.put_tensor("py_layout", np.array([[1.0, 2, 3], [4, 5, 6]]))
    result = last_json((await run_program(experiment, exe, "layouts")).check())
    assert result["flat"] == [1, 2, 3, 4, 5, 6]
    assert result["nested"] == [1, 2, 3, 4, 5, 6]
    assert result["fortran"] == [1, 4, 2, 5, 3, 6]  # column-major: a(1,1), a(2,1), a(1,2)...
    assert result["get_nested"] == [3, 4]


async def test_dataset_and_list_written_in_c_read_in_python(
    native: Native, experiment: Experiment, db: Orchestrator
) -> None:
    exe = native.compile(PROGRAM, *STRICT)
    async with c_client_of(db) as client:
        py = DataSet("py_ds")
        py.add_tensor("x", np.array([1.0, 2.0, 3.0]))
        for v in (0.5, float("inf"), float("nan")):
            py.add_meta_scalar("vals", v)
        await client.put_dataset(py)
        result = last_json((await run_program(experiment, exe, "dataset")).check())
        assert result == {
            "step": 12345678902,
            "mesh": "coarse",
            "list_length": 2,
            "range": 1,
            "range_name_ok": True,
        }
        ds = await client.get_dataset("c_ds_1")
        np.testing.assert_array_equal(
            ds.get_tensor("u"), np.array([[1.5, 2.5], [3.5, 1.0]], np.float32)
        )
        assert list(ds.get_meta_scalars("time")) == [0.125]
        assert list(ds.get_meta_scalars("step")) == [12345678902]
        assert ds.get_meta_strings("mesh") == ['coarse "q"']
        listed = await client.get_datasets_from_list("c_list")
        assert [d.name for d in listed] == ["c_ds_0", "c_ds_1"]
        records = await client.get_log_records(10)
        assert any(
            r.get("message") == "sf_check done" and r.get("name") == "sf_check" for r in records
        )


def double_model() -> bytes:
    """y = 2 * x, float32 [batch, 3]."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "x"], ["y"])],
        "double",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    return model.SerializeToString()


async def test_c_runs_an_onnx_model_stored_from_python(
    native: Native, experiment: Experiment, db: Orchestrator, tmp_path: Path
) -> None:
    exe = native.compile(PROGRAM, *STRICT)
    async with c_client_of(db) as client:
        await client.set_model("py_model", double_model(), "ONNX")
    model_file = tmp_path / "double.onnx"
    model_file.write_bytes(double_model())
    # SmartSim puts host names in SSDB: every shard must still get the model, once.
    env = {"SSDB": ",".join(a.replace("127.0.0.1", "localhost") for a in db.get_address())}
    ran = await run_program(experiment, exe, "model", str(model_file), env=env)
    result = last_json(ran.check())
    assert result["y"] == [2, 4, 6, 8, 10, 12]
    assert result["torch"] == 4 and result["torch_msg"] == "RedisAI"  # SRRuntimeError
    assert result["z"] == [2, 4, 6, 8, 10, 12] and result["left"] is False
    shards = len(db.get_address())
    assert f"with {shards} shard" in result["client"]
    if shards > 1:  # the map's addresses replaced the seeds
        assert "localhost" not in result["client"]


async def test_ensemble_prefixing(
    native: Native, experiment: Experiment, store: Orchestrator, client: Client
) -> None:
    exe = native.compile(PROGRAM, *STRICT)
    env = {"SSKEYOUT": "member_0", "SSKEYIN": "member_0"}
    (await run_program(experiment, exe, "put", name="member_put", env=env)).check()
    np.testing.assert_array_equal(
        await client.get_tensor("member_0.c_int32_2"), c_values("int32", 2)
    )
    assert not await client.tensor_exists("c_int32_2")
    ran = await run_program(experiment, exe, "get", "c_int32_2", name="member_get", env=env)
    result = last_json(ran.check())
    assert result["c_int32_2"]["values"] == list(range(6))


async def test_bad_input_gives_a_code_and_a_message(
    native: Native, experiment: Experiment, store: Orchestrator, client: Client
) -> None:
    exe = native.compile(PROGRAM, *STRICT)
    await client.put_tensor("py_layout", np.array([[1.0, 2, 3], [4, 5, 6]]))
    result = last_json((await run_program(experiment, exe, "bad")).check())
    assert result == {"missing": 7, "missing_msg": 1, "dtype": 9, "dims": 5, "dims_msg": 1}


def dataset_value(index: dict) -> bytes:
    """A dataset value with no tensors (docs/wire-format.md): magic, index length, JSON index."""
    text = json.dumps(index).encode()
    return b"\x93SFD\x01\0\0\0" + struct.pack("<Q", len(text)) + text


def lying_manifest() -> bytes:
    """A chunk manifest (docs/wire-format.md) that claims 10**6 chunks of 8 bytes."""
    header = bytearray(64)
    struct.pack_into("<4sBBH8sII", header, 0, b"\x93SFT", 1, 1, 64, b"<f8", 1, 0)
    struct.pack_into("<Q", header, 24, 1_000_000)
    return bytes(header) + struct.pack("<QQQ8s", 1_000_000, 8, 8_000_000, b"token123")


async def test_hostile_values_are_errors_not_crashes(
    native: Native, experiment: Experiment, db: Orchestrator
) -> None:
    exe = native.compile(PROGRAM, *STRICT)
    clustered = len(db.get_address()) > 1
    async with c_client_of(db) as client:
        await client.execute_command("HSET", "h_hash", "a", "b", key="h_hash")
        await client.put_tensor("zero_dim", np.zeros((10**9, 0)))  # no data, a huge leading dim
        await client.execute_command("RPUSH", "lying", lying_manifest(), b"x" * 8, key="lying")
        ds = DataSet("f16_ds")
        ds.add_tensor("half", np.arange(4, dtype=np.float16))
        await client.put_dataset(ds)
        meta = {"tensors": [], "meta": {"n": {"type": "int64", "values": [1e300]}}}
        key = "{huge_meta}.dataset"
        await client.execute_command("SET", key, dataset_value(meta), key=key)
        # SmartSim writes host names into SSDB; on a cluster they must not count as extra shards.
        env = {"SSDB": ",".join(a.replace("127.0.0.1", "localhost") for a in db.get_address())}
        result = last_json((await run_program(experiment, exe, "hostile", env=env)).check())
        # A dtype the C API has no name for survives get_dataset + put_dataset.
        half = (await client.get_dataset("f16_ds")).get_tensor("half")
        assert half.dtype == np.float16 and half.tolist() == [0, 1, 2, 3]
    assert result["hash"] == 9 and result["hash_msg"]  # SRTypeError naming the Redis type
    assert result["zero_nested"] == 5 and result["zero_plain"] == 0  # SRParameterError
    assert result["lying"] == 4 and result["lying_msg"]  # SRRuntimeError, nothing allocated
    assert result["f16_get"] == 0 and result["f16_put"] == 0
    assert result["meta"] == 4 and result["meta_msg"]  # int64 1e300: a corrupt index
    assert result["secret"] == 5 and not result["secret_shown"]
    # SmartRedis's answers: no tries is "not found", deleting no client and "tf" are fine.
    assert result["poll0"] == 0 and not result["poll0_found"]
    assert result["delete_null"] == 0 and result["tf"]
    assert result["add_huge"] == 5 and result["put_huge"] == 5 and result["unpack_null"] == 5
    assert ("cluster with 3 shards" if clustered else "single store") in result["client"]


async def test_a_store_that_needs_a_password_says_so(
    native: Native, experiment: Experiment, store: Orchestrator
) -> None:
    exe = native.compile(PROGRAM, *STRICT)
    ran = await run_program(experiment, exe, "connect_error", env={"SSDB_PASSWORD": ""})
    assert last_json(ran.check())["code"] == 2  # SRDatabaseError at creation, not later
    assert "SSDB_PASSWORD" in ran.stderr and store.password not in ran.stdout + ran.stderr


@pytest.mark.parametrize("problem", ["dead store", "wrong password"])
async def test_connecting_badly_gives_a_code_and_a_message(
    native: Native, experiment: Experiment, store: Orchestrator, free_port: int, problem: str
) -> None:
    exe = native.compile(PROGRAM, *STRICT)
    env = (
        {"SSDB": f"127.0.0.1:{free_port}"}
        if problem == "dead store"
        else {"SSDB_PASSWORD": "not-the-password"}
    )
    ran = await run_program(experiment, exe, "connect_error", name="connect", env=env)
    result = last_json(ran.check())
    assert result["code"] == 2 and result["null"] and result["msg_len"] > 0  # SRDatabaseError
    assert ran.stderr.strip()
    assert "not-the-password" not in ran.stdout + ran.stderr
    assert store.password not in ran.stdout + ran.stderr
