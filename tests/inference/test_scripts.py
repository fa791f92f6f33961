"""Scripts next to the data: Python functions over numpy arrays, run by the inference worker."""

from __future__ import annotations

import numpy as np
import pytest
import redis.asyncio as aioredis

from smartflow import (
    Client,
    InferenceError,
    InvalidArgumentError,
    InvalidModelError,
    ModelInputError,
    UnsupportedTypeError,
)
from tests.client._helpers import snapshot
from tests.inference import models

SCRIPT = """
def normalise(x):
    return (x - x.mean()) / x.std()

def split(x):
    return x[: len(x) // 2], x[len(x) // 2 :]

def fails(x):
    raise RuntimeError("on purpose")

def forgets(x):
    x.sort()  # sorts in place and returns None

def answers_false(x):
    return False

def counts(x):
    return len(x)
"""


def scale_and_shift(x, y):
    """Defined here, in the test module: set_function sends its source."""
    return x * 2 + y


async def test_a_script_runs_its_functions(client: Client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    await client.set_script("prep", SCRIPT)
    assert await client.get_script("prep") == SCRIPT
    x = np.arange(10, dtype=np.float64)
    await client.put_tensor("x", x)
    await client.run_script("prep", "normalise", ["x"], ["z"])
    np.testing.assert_allclose(await client.get_tensor("z"), (x - x.mean()) / x.std())
    await client.run_script("prep", "split", ["x"], ["lo", "hi"])
    halves = await client.get_tensors(["lo", "hi"])
    assert halves["lo"].tolist() == list(range(5)) and halves["hi"].tolist() == list(range(5, 10))
    path = tmp_path / "script.py"
    path.write_text(SCRIPT)
    await client.set_script_from_file("from_file", str(path))
    await client.run_script("from_file", "normalise", ["x"], ["z2"])
    np.testing.assert_allclose(await client.get_tensor("z2"), await client.get_tensor("z"))
    await client.delete_script("prep")
    assert not await client.model_exists("prep")


async def test_set_function_sends_the_source(client: Client) -> None:
    await client.set_function("ops", scale_and_shift)
    await client.put_tensors({"a": np.ones(3), "b": np.arange(3.0)})
    await client.run_script("ops", "scale_and_shift", ["a", "b"], ["c"])
    assert (await client.get_tensor("c")).tolist() == [2.0, 3.0, 4.0]


async def test_script_errors_are_typed(client: Client, raw: aioredis.Redis) -> None:
    await client.set_script("prep", SCRIPT)
    await client.set_model("mlp", models.mlp(n_in=4, hidden=8, n_out=2)[0])
    await client.put_tensor("x", np.ones(4))
    before = await snapshot(raw)
    with pytest.raises(InvalidModelError, match="does not run"):
        await client.set_script("broken", "def f(:\n")
    with pytest.raises(InvalidModelError):
        await client.set_script("prep", "import sys; sys.exit(3)")  # the worker survives it
    with pytest.raises(ModelInputError, match="no function 'missing'"):
        await client.run_script("prep", "missing", ["x"], ["y"])
    with pytest.raises(InferenceError, match="on purpose"):
        await client.run_script("prep", "fails", ["x"], ["y"])
    for function, returned in (("forgets", "NoneType"), ("answers_false", "bool")):
        with pytest.raises(InferenceError, match=f"{function}\\(\\) returned {returned}"):
            await client.run_script("prep", function, ["x"], ["y"])
    with pytest.raises(ModelInputError, match="is a model, not a script"):
        await client.run_script("mlp", "normalise", ["x"], ["y"])
    with pytest.raises(UnsupportedTypeError):
        await client.set_script("s", b"bytes are not source")  # type: ignore[arg-type]
    with pytest.raises(UnsupportedTypeError):
        await client.set_function("f", len)
    with pytest.raises(InvalidArgumentError, match="must not be empty"):
        await client.run_script("prep", "", ["x"], ["y"])
    with pytest.raises(InvalidArgumentError):
        await client.set_script_from_file("s", "/no/such/file.py")
    assert await snapshot(raw) == before, "refused scripts change nothing"
    await client.run_script("prep", "normalise", ["x"], ["y"])  # the script still works
    await client.run_script("prep", "counts", ["x"], ["n"])  # a number is a 0-d tensor
    assert (await client.get_tensor("n")).tolist() == 4


async def test_multigpu_calls_need_gpus_and_check_their_arguments(client: Client) -> None:
    mlp, _ = models.mlp(n_in=4, hidden=8, n_out=2)
    with pytest.raises(InvalidArgumentError):
        await client.set_model_multigpu("m", mlp, "ONNX", first_gpu=0, num_gpus=0)
    with pytest.raises(InvalidArgumentError):
        await client.run_model_multigpu("m", offset="1", first_gpu=0, num_gpus=2)  # type: ignore[arg-type]
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        with pytest.raises(InvalidModelError, match="no GPU support"):
            await client.set_model_multigpu("m", mlp, "ONNX", first_gpu=0, num_gpus=2)
        assert not await client.model_exists("m.GPU:0")
