"""SmartRedis's Fortran API (clients/src/fortran: modules smartredis_client, smartredis_dataset,
smartredis_errors ... over libsmartflow) against real stores: programs in programs/fortran/
built with ``gfortran -cpp`` against the installed prefix and launched as Models, on a single
store and on a 3-shard cluster. The layout rule throughout: a(i,j) put from Fortran is
x[i-1, j-1] read in Python, and the other way round."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from smartflow import DataSet, Experiment, MetaDataType, Orchestrator, Status
from tests.inference import models
from tests.native.conftest import PROGRAMS, Native, python_client, ran, run_program

FORTRAN = PROGRAMS / "fortran"

DTYPES = ("int8", "int16", "int32", "int64", "float", "double")
SHAPES = {1: (5,), 2: (3, 4), 3: (2, 3, 4), 4: (2, 3, 2, 2)}


def value_at(dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """The tensor programs/fortran/tensors.F90 builds (its VALUE, element by C-order index)."""
    i = np.arange(int(np.prod(shape)), dtype=np.int64)
    base = (i * 7) % 101 - 50
    values = {
        "int8": base.astype(np.int8),
        "int16": (base * 300).astype(np.int16),
        "int32": (base * 2**20).astype(np.int32),
        "int64": base * 2**33,
        "float": i.astype(np.float32) * np.float32(0.5) - np.float32(3.25),
        "double": i.astype(np.float64) * 0.1 - 2.0,
    }[dtype]
    return values.reshape(shape)


def report(out: str) -> dict:
    """A program's JSON report, having checked it found no failures."""
    result = json.loads(out)
    assert result["failures"] == [], result["failures"]
    assert result["checked"] > 0
    return result


# --- tensors ---------------------------------------------------------------------------------


async def _tensors_both_ways(native: Native, experiment: Experiment, db: Orchestrator) -> None:
    exe = native.compile(FORTRAN / "tensors.F90")
    async with python_client(db) as client:
        for dtype in DTYPES:
            for rank, shape in SHAPES.items():
                await client.put_tensor(f"py_{dtype}_{rank}", value_at(dtype, shape))
        result = report((await run_program(experiment, exe, name="tensors")).check())
        # 13 checks per kind and 9 of the program's own
        assert result["checked"] == len(DTYPES) * 13 + 9
        for dtype in DTYPES:
            for rank, shape in SHAPES.items():
                got = await client.get_tensor(f"f_{dtype}_{rank}")
                want = value_at(dtype, shape)
                assert got.dtype == want.dtype and got.shape == shape, (dtype, rank)
                np.testing.assert_array_equal(got, want)
        # grid(i, j) = 10 i + j; the section grid(1:4:2, 2:6:2) is rows 1, 3 and columns 2, 4, 6
        np.testing.assert_array_equal(
            await client.get_tensor("f_section"), [[12, 14, 16], [32, 34, 36]]
        )
        rank7 = await client.get_tensor("f_rank7")
        assert rank7.shape == (2, 1, 2, 1, 3, 1, 2)
        # Fortran filled it in column-major order with 1, 2, 3, ...
        np.testing.assert_array_equal(rank7, np.arange(1, 25).reshape(rank7.shape, order="F"))
        np.testing.assert_array_equal(await client.get_tensor("f_scalar"), [2.5])


async def test_every_kind_and_rank_goes_fortran_to_python_and_back(
    native: Native, experiment: Experiment, db: Orchestrator
) -> None:
    await _tensors_both_ways(native, experiment, db)


# --- models ----------------------------------------------------------------------------------


async def _run_model(
    native: Native, experiment: Experiment, db: Orchestrator, tmp_path: Path
) -> None:
    exe = native.compile(FORTRAN / "run_model.F90")
    model = models.add_model()
    model_file = tmp_path / "add.onnx"
    model_file.write_bytes(model)
    async with python_client(db) as client:
        await client.set_model("add", model)
        report((await run_program(experiment, exe, str(model_file), name="run_model")).check())
        a, b = await client.get_tensor("a"), await client.get_tensor("b")
        # a(i, j) = 10 i + j in Fortran is a[i-1, j-1] here
        np.testing.assert_array_equal(a, [[11, 12, 13], [21, 22, 23]])
        np.testing.assert_array_equal(await client.get_tensor("sum"), a + b)
        np.testing.assert_array_equal(await client.get_tensor("sum_f"), b + a)
        np.testing.assert_array_equal(await client.get_tensor("doubled"), 2 * a)


async def test_fortran_runs_an_onnx_model(
    native: Native, experiment: Experiment, db: Orchestrator, tmp_path: Path
) -> None:
    await _run_model(native, experiment, db, tmp_path)


# --- datasets and lists ----------------------------------------------------------------------


async def _datasets(native: Native, experiment: Experiment, db: Orchestrator) -> None:
    exe = native.compile(FORTRAN / "datasets.F90")
    async with python_client(db) as client:
        py_ds = DataSet("py_ds")
        py_ds.add_tensor("t", np.arange(6, dtype=np.float64).reshape(2, 3))
        for step in (1, 2, 3):
            py_ds.add_meta_scalar("steps", np.int64(step))
        py_ds.add_meta_string("labels", "a")
        py_ds.add_meta_string("labels", "b")
        await client.put_dataset(py_ds)

        report((await run_program(experiment, exe, name="datasets")).check())

        for ds in [
            await client.get_dataset("f_ds"),
            *await client.get_datasets_from_list("f_list"),
        ]:
            assert sorted(ds.get_tensor_names()) == ["counts", "field"]
            np.testing.assert_array_equal(
                ds.get_tensor("field"), [[11.5, 12.5, 13.5], [21.5, 22.5, 23.5]]
            )
            counts = ds.get_tensor("counts")
            assert counts.dtype == np.int16
            np.testing.assert_array_equal(counts, [-3, -1, 1, 3])
            assert ds.get_metadata_field_type("dt") is MetaDataType.DOUBLE
            np.testing.assert_array_equal(ds.get_meta_scalars("dt"), [0.25, -1.5])
            assert ds.get_metadata_field_type("step") is MetaDataType.INT32
            np.testing.assert_array_equal(ds.get_meta_scalars("step"), [7])
            assert ds.get_metadata_field_type("ratio") is MetaDataType.FLOAT
            assert ds.get_meta_strings("mesh") == ["coarse", "fine mesh"]
        assert await client.get_list_length("f_list") == 2


async def test_datasets_and_lists_between_fortran_and_python(
    native: Native, experiment: Experiment, db: Orchestrator
) -> None:
    await _datasets(native, experiment, db)


# --- ensembles -------------------------------------------------------------------------------


async def _ensemble(native: Native, experiment: Experiment, db: Orchestrator) -> None:
    exe = native.compile(FORTRAN / "member.F90")
    ens = experiment.create_ensemble(
        "ens", run_settings=experiment.create_run_settings(str(exe)), replicas=3
    )
    await experiment.start(ens, block=True)
    for member in ens.models:
        report(ran(experiment, member).check())
    async with python_client(db) as client:
        for member in ens.models:
            letters = await client.get_tensor(f"{member.name}.x")
            assert bytes(letters.astype(np.uint8)).decode() == member.name
            ds = await client.get_dataset(f"{member.name}.ds")
            assert ds.get_meta_strings("owner") == [member.name]
            assert await client.tensor_exists(f"plain_{member.name}")
            assert not await client.tensor_exists("x"), "nothing unprefixed"

    # A Fortran consumer reads each member's "x" by switching its data source.
    consumer = experiment.create_model(
        "consumer", experiment.create_run_settings(str(exe), ["read"]), enable_key_prefixing=True
    )
    for member in ens.models:
        consumer.register_incoming_entity(member)
    await experiment.start(consumer, block=True)
    result = report(ran(experiment, consumer).check())
    assert result["seen"] == " ".join(m.name for m in ens.models)
    assert await experiment.get_status(consumer) == [Status.COMPLETED]


async def test_an_ensemble_of_fortran_members_writes_under_their_prefixes(
    native: Native, experiment: Experiment, db: Orchestrator
) -> None:
    await _ensemble(native, experiment, db)


# --- bad input -------------------------------------------------------------------------------

REFUSED = (
    "missing_key",
    "wrong_dtype",
    "mismatched_dims",
    "dims_beyond_the_array",
    "no_dims",
    "missing_model",
    "missing_dataset",
    "meta_wrong_kind",
    "missing_script",
    "uninitialized_client",
)


async def test_bad_input_gives_a_code_and_a_message(
    native: Native, experiment: Experiment, store: Orchestrator
) -> None:
    exe = native.compile(FORTRAN / "bad_input.F90")
    result = report((await run_program(experiment, exe, name="bad_input")).check())
    for case in REFUSED:
        assert result[case]["code"] != 0, case
        assert result[case]["message"].strip(), case
    assert result["dims_beyond_the_array"]["code"] == 5  # SRParameterError, found in Fortran
    assert "15 elements but the array holds 12" in result["dims_beyond_the_array"]["message"]
    assert result["meta_wrong_kind"]["code"] == 9  # SRTypeError
    assert store.password not in json.dumps(result)


@pytest.mark.parametrize("problem", ["dead store", "wrong password"])
async def test_connecting_badly_gives_a_code_and_a_message(
    native: Native, experiment: Experiment, store: Orchestrator, free_port: int, problem: str
) -> None:
    exe = native.compile(FORTRAN / "bad_input.F90")
    env = (
        {"SSDB": f"127.0.0.1:{free_port}"}
        if problem == "dead store"
        else {"SSDB_PASSWORD": "not-the-password"}
    )
    out = (await run_program(experiment, exe, "connect", name="connect", env=env)).check()
    result = json.loads(out)
    assert result["connect"]["code"] != 0
    assert result["connect"]["message"].strip()
    assert "not-the-password" not in out and store.password not in out
