"""SmartRedis's C++ API (clients/include/client.h, dataset.h: header-only over libsmartflow)
against real stores: programs in programs/cpp/ built with ``g++ -std=c++17 -Wall -Wextra
-Werror`` against the installed prefix (so the headers must compile warning-free) and launched
as Models, on a single store and on a 3-shard cluster."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smartflow import DataSet, Experiment, MetaDataType, Orchestrator
from tests.inference import models
from tests.native.conftest import PROGRAMS, Native, last_json, python_client, run_program

CPP = PROGRAMS / "cpp"
STRICT = ("-Wextra", "-Werror")

DTYPES = ("double", "float", "int8", "int16", "int32", "int64", "uint8", "uint16")
SHAPES = {1: (5,), 2: (3, 4), 3: (2, 3, 4), 4: (2, 3, 2, 2)}


def value_at(dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """The tensor programs/cpp/tensors.cpp expects (its value_at, element by C-order index)."""
    i = np.arange(int(np.prod(shape)), dtype=np.int64)
    base = (i * 7) % 101
    values = {
        "double": i.astype(np.float64) * 0.1 - 2.0,
        "float": i.astype(np.float32) * np.float32(0.5) - np.float32(3.25),
        "int8": (base - 50).astype(np.int8),
        "int16": ((base - 50) * 300).astype(np.int16),
        "int32": ((base - 50) * 2**20).astype(np.int32),
        "int64": (base - 50) * 2**33,
        "uint8": (base + 150).astype(np.uint8),
        "uint16": (base * 600).astype(np.uint16),
    }[dtype]
    return values.reshape(shape)


#: Values over this many bytes are stored in chunks, by Python and (its environment) by C++.
CHUNK_BYTES = 4096


async def _tensors_both_ways(native: Native, experiment: Experiment, db: Orchestrator) -> None:
    exe = native.compile(CPP / "tensors.cpp", *STRICT)
    async with python_client(db, CHUNK_BYTES) as client:
        for dtype in DTYPES:
            for rank, shape in SHAPES.items():
                await client.put_tensor(f"py_{dtype}_{rank}", value_at(dtype, shape))
        big = value_at("double", (50, 100))  # 40,000 bytes: chunked
        await client.put_tensor("py_chunked", big)
        env = {"SMARTFLOW_CHUNK_BYTES": str(CHUNK_BYTES)}
        ran = await run_program(experiment, exe, name="tensors", env=env)
        result = last_json(ran.check())
        assert result["failures"] == []
        assert result["checked"] == len(DTYPES) * len(SHAPES) * 5 + 1
        np.testing.assert_array_equal(await client.get_tensor("cpp_chunked"), big)
        # Stored as a list of chunks (docs/wire-format.md), not as one value.
        assert await client.execute_command("TYPE", "cpp_chunked") in ("list", b"list")
        for dtype in DTYPES:
            for rank, shape in SHAPES.items():
                want = value_at(dtype, shape)
                for prefix in ("cpp", "cppf"):  # C order, and from a Fortran-order buffer
                    got = await client.get_tensor(f"{prefix}_{dtype}_{rank}")
                    assert got.dtype == want.dtype and got.shape == shape, (prefix, dtype, rank)
                    np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(
            await client.get_tensor("cppn_double_2"), value_at("double", (3, 4))
        )


async def test_every_dtype_and_rank_goes_python_to_cpp_and_back(
    native: Native, experiment: Experiment, db: Orchestrator
) -> None:
    await _tensors_both_ways(native, experiment, db)


def _expect_cpp_dataset(ds: DataSet) -> None:
    """What programs/cpp/datasets.cpp's make_dataset writes."""
    assert ds.get_tensor_names() == ["f64", "i16", "u8"]
    np.testing.assert_array_equal(ds.get_tensor("f64"), np.arange(6).reshape(2, 3) + 0.5)
    assert ds.get_tensor("i16").dtype == np.int16
    np.testing.assert_array_equal(ds.get_tensor("i16"), [-3, -1, 1, 3])
    u8 = ds.get_tensor("u8")
    assert u8.dtype == np.uint8 and u8.shape == (2, 2, 2)
    np.testing.assert_array_equal(u8.ravel(), [0, 1, 2, 3, 252, 253, 254, 255])
    expected = {
        "m_double": (MetaDataType.DOUBLE, [0.25, -1e300]),
        "m_float": (MetaDataType.FLOAT, [1.5, -2.5]),
        "m_int32": (MetaDataType.INT32, [-7, 2**31 - 1]),
        "m_int64": (MetaDataType.INT64, [-(2**53) - 1, 42]),
        "m_uint32": (MetaDataType.UINT32, [0, 2**32 - 1]),
        "m_uint64": (MetaDataType.UINT64, [1, 2**64 - 1]),
    }
    for field, (mtype, values) in expected.items():
        assert ds.get_metadata_field_type(field) is mtype, field
        got = ds.get_meta_scalars(field)
        assert got.dtype == mtype.dtype, field
        np.testing.assert_array_equal(got, np.array(values, dtype=mtype.dtype))
    assert ds.get_metadata_field_type("m_strings") is MetaDataType.STRING
    assert ds.get_meta_strings("m_strings") == ["coarse", "fine mesh"]


async def _datasets_both_ways(native: Native, experiment: Experiment, db: Orchestrator) -> None:
    exe = native.compile(CPP / "datasets.cpp", *STRICT)
    async with python_client(db, CHUNK_BYTES) as client:
        py_ds = DataSet("py_ds")
        py_ds.add_tensor("t", np.arange(6, dtype=np.float64).reshape(2, 3))
        for step in (1, 2, 3):
            py_ds.add_meta_scalar("steps", np.int64(step))
        py_ds.add_meta_string("labels", "a")
        py_ds.add_meta_string("labels", "b")
        await client.put_dataset(py_ds)

        result = last_json((await run_program(experiment, exe, name="datasets")).check())
        assert result["failures"] == []
        assert result["checked"] > 40
        assert result["list_names"] == ["cpp_ds", "cpp_ds_b"]

        _expect_cpp_dataset(await client.get_dataset("cpp_ds"))
        listed = await client.get_datasets_from_list("cpp_list")
        assert [ds.get_name() for ds in listed] == ["cpp_ds", "cpp_ds_b"]
        for ds in listed:
            _expect_cpp_dataset(ds)
        assert not await client.dataset_exists("cpp_ds_d")  # the program deleted it
        records = [
            (r.get("level"), r.get("message"))
            for r in await client.get_log_records(10)
            if r.get("name") == "cpp-datasets"
        ]
        assert records == [
            ("info", "cpp datasets done"),
            ("warning", "cpp datasets warning"),
            ("error", "cpp datasets error"),
        ]


async def test_datasets_and_lists_go_both_ways(
    native: Native, experiment: Experiment, db: Orchestrator
) -> None:
    await _datasets_both_ways(native, experiment, db)


SCRIPT = "import numpy as np\n\n\ndef twice(x):\n    return x * np.float32(2)\n"


async def _models(native: Native, experiment: Experiment, db: Orchestrator, tmp_path: Path) -> None:
    exe = native.compile(CPP / "models.cpp", *STRICT)
    model_file, script_file = tmp_path / "add.onnx", tmp_path / "scale.py"
    model_file.write_bytes(models.add_model())
    script_file.write_text(SCRIPT)
    async with python_client(db, CHUNK_BYTES) as client:
        await client.set_model("add", models.add_model())
        ran = await run_program(experiment, exe, model_file, script_file, name="models")
        result = last_json(ran.check())
        assert result["failures"] == []
        assert result["checked"] == 11
        a, b = await client.get_tensor("a"), await client.get_tensor("b")
        for suffix in ("", "_py", "_buf"):
            np.testing.assert_array_equal(await client.get_tensor(f"sum{suffix}"), a + b)
            np.testing.assert_array_equal(await client.get_tensor(f"diff{suffix}"), a - b)
        np.testing.assert_array_equal(await client.get_tensor("a2"), a * 2)
        np.testing.assert_array_equal(await client.get_tensor("neg_b"), -b)
        assert await client.model_exists("add_cpp")  # stored from C++, seen from Python
        assert not await client.model_exists("add_buf")


async def test_models_and_scripts_run_from_cpp(
    native: Native, experiment: Experiment, db: Orchestrator, tmp_path: Path
) -> None:
    await _models(native, experiment, db, tmp_path)


async def test_ensemble_prefixes_apply_to_cpp_keys(
    native: Native, experiment: Experiment, store: Orchestrator
) -> None:
    exe = native.compile(CPP / "prefix.cpp", *STRICT)
    async with python_client(store, CHUNK_BYTES) as client:
        await client.put_tensor("member_b.shared", np.array([7], dtype=np.int32))
        env = {"SSKEYOUT": "member_a", "SSKEYIN": "member_a,member_b"}
        result = last_json((await run_program(experiment, exe, name="prefix", env=env)).check())
        assert result == {"checked": 5, "failures": []}
        np.testing.assert_array_equal(await client.get_tensor("member_a.mine"), [1, 2])
        np.testing.assert_array_equal(await client.get_tensor("plain"), [3])
        assert not await client.tensor_exists("mine")


#: Each case of programs/cpp/errors.cpp: the exception class it must throw, and words its
#: message must hold.
ERRORS = {
    "unpack_missing": ("KeyException", "no_such_tensor"),
    "get_missing": ("KeyException", "no_such_tensor"),
    "unpack_wrong_dims": ("ParameterException", "py_err"),
    "unpack_wrong_rank": ("ParameterException", "py_err"),
    "unpack_wrong_type": ("TypeException", "py_err"),
    "put_empty_name": ("ParameterException", "name"),
    "put_invalid_type": ("TypeException", "type"),
    "get_dataset_missing": ("KeyException", "no_such_dataset"),
    "set_model_torch": ("RuntimeException", "TORCH"),
    "set_model_from_missing_file": ("ParameterException", "/no/such/model.onnx"),
    "run_missing_model": ("KeyException", "no_such_model"),
    "get_ai_info": ("RuntimeException", ""),
    "dataset_missing_tensor": ("KeyException", "no_such_tensor"),
    "dataset_missing_field": ("KeyException", "no_such_field"),
    "dataset_invalid_type": ("TypeException", "type"),
    "moved_client": ("RuntimeException", "moved"),
}

CODES = {
    "BadAllocException": 1,
    "DatabaseException": 2,
    "InternalException": 3,
    "RuntimeException": 4,
    "ParameterException": 5,
    "TimeoutException": 6,
    "KeyException": 7,
    "TypeException": 9,
}


async def _bad_input(native: Native, experiment: Experiment, db: Orchestrator) -> None:
    exe = native.compile(CPP / "errors.cpp", *STRICT)
    async with python_client(db, CHUNK_BYTES) as client:
        await client.put_tensor("py_err", np.zeros((2, 3)))
        result = last_json((await run_program(experiment, exe, name="errors")).check())
        assert set(result) == set(ERRORS)
        for case, (cls, words) in ERRORS.items():
            got = result[case]
            assert got["class"] == cls, (case, got)
            assert got["code"] == CODES[cls], (case, got)
            assert words in got["message"] and got["message"].strip(), (case, got)
        # Nothing was written by the failed calls.
        assert not await client.tensor_exists("bad_type")
        np.testing.assert_array_equal(await client.get_tensor("py_err"), np.zeros((2, 3)))


async def test_bad_input_throws_the_matching_exception_with_a_message(
    native: Native, experiment: Experiment, db: Orchestrator
) -> None:
    await _bad_input(native, experiment, db)


@pytest.mark.parametrize("where", ["wrong password", "dead store"])
async def test_a_client_that_cannot_connect_throws_database_exception(
    native: Native, experiment: Experiment, store: Orchestrator, free_port: int, where: str
) -> None:
    exe = native.compile(CPP / "connect.cpp", *STRICT)
    secret = "not-the-secret-0123456789"
    env = (
        {"SSDB_PASSWORD": secret}
        if where == "wrong password"
        else {"SSDB": f"127.0.0.1:{free_port}", "SR_DB_TYPE": "Standalone"}
    )
    result = last_json((await run_program(experiment, exe, name="connect", env=env)).check())
    assert result["class"] == "DatabaseException" and result["code"] == CODES[result["class"]]
    assert ("password" if where == "wrong password" else str(free_port)) in result["message"]
    assert secret not in result["message"] and store.password not in result["message"]


@pytest.mark.parametrize("program", sorted(p.name for p in CPP.glob("*.cpp")))
def test_programs_compile_without_a_warning(native: Native, program: str) -> None:
    # -Wall -Wextra -Werror: the headers (every inline function in them) are warning-free.
    assert native.compile(CPP / program, *STRICT).is_file()
