"""What SmartRedis users expect of bad input (issue 12, section 6).

A wrong argument *type* is an :class:`UnsupportedTypeError`, so both a ``SmartflowError`` and
a ``TypeError``; a wrong *value* is an :class:`InvalidArgumentError` (a ``ValueError``) and not
a ``TypeError``. Arguments are checked in signature order, before any I/O, and a refused call
leaves the store as it was. The cases follow SmartRedis's own ``tests/python/test_errors.py``.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
import redis.asyncio as aioredis

from smartflow import (
    AuthenticationError,
    Client,
    ClientConfig,
    DataSet,
    InvalidArgumentError,
    MissingFileError,
    Orchestrator,
    SmartflowError,
    SyncClient,
    UnsupportedTypeError,
)
from smartflow.client._env import password_from_env
from tests.client._helpers import snapshot
from tests.inference import models

MLP = models.mlp(n_in=4, hidden=8, n_out=2)[0]
SOURCE = "def double(x):\n    return x * 2\n"
MISSING = "/no/such/dir/model.onnx"  # read before the other checks, it would win the race
DEAD = "127.0.0.1:1"  # nothing listens on port 1

Call = Callable[[Any], Any]


def double(x):  # type: ignore[no-untyped-def]
    """A function for set_function."""
    return x * 2


async def _raised(call: Call, target: Any) -> BaseException | None:
    """What ``call(target)`` raised (sync or async), or None."""
    try:
        result = call(target)
        if inspect.isawaitable(result):
            await result
    except Exception as exc:
        return exc
    return None


def _is_type_error(exc: BaseException | None) -> bool:
    return isinstance(exc, UnsupportedTypeError | TypeError) and isinstance(exc, SmartflowError)


def _is_value_error(exc: BaseException | None) -> bool:
    """A bad value: not a type error, and not the missing file (read after every check)."""
    return isinstance(exc, InvalidArgumentError) and not isinstance(
        exc, TypeError | MissingFileError
    )


# -- the cases --------------------------------------------------------------------------------

A = np.arange(4.0)
IO = (["t"], ["out"])

TYPE_CASES: list[tuple[str, Call]] = [
    # tensors
    ("put_tensor name", lambda c: c.put_tensor(42, A)),
    ("put_tensor value", lambda c: c.put_tensor("t", [1, 2, 3])),
    ("get_tensor", lambda c: c.get_tensor(42)),
    ("delete_tensor", lambda c: c.delete_tensor(42)),
    ("copy_tensor src", lambda c: c.copy_tensor(42, "new")),
    ("copy_tensor dest", lambda c: c.copy_tensor("t", 42)),
    ("rename_tensor old", lambda c: c.rename_tensor(42, "new")),
    ("rename_tensor new", lambda c: c.rename_tensor("t", 42)),
    ("tensor_exists", lambda c: c.tensor_exists(42)),
    ("put_tensors name", lambda c: c.put_tensors({42: A})),
    ("put_tensors mapping", lambda c: c.put_tensors([A])),
    ("get_tensors int", lambda c: c.get_tensors(42)),
    ("get_tensors str", lambda c: c.get_tensors("t")),
    ("get_tensors names", lambda c: c.get_tensors([42])),
    ("poll_tensor name", lambda c: c.poll_tensor(42, 10, 1)),
    ("poll_tensor frequency", lambda c: c.poll_tensor("t", "bogus", 1)),
    ("poll_tensor tries", lambda c: c.poll_tensor("t", 10, "bogus")),
    ("poll_tensor bool tries", lambda c: c.poll_tensor("t", 10, True)),
    ("poll_tensor float frequency", lambda c: c.poll_tensor("t", 1.5, 1)),
    # keys
    ("key_exists", lambda c: c.key_exists(42)),
    ("poll_key name", lambda c: c.poll_key(42, 10, 1)),
    ("poll_key frequency", lambda c: c.poll_key("t", "bogus", 1)),
    ("poll_key tries", lambda c: c.poll_key("t", 10, "bogus")),
    # datasets
    ("put_dataset", lambda c: c.put_dataset(A)),
    ("get_dataset", lambda c: c.get_dataset(42)),
    ("delete_dataset", lambda c: c.delete_dataset(42)),
    ("copy_dataset src", lambda c: c.copy_dataset(42, "dest")),
    ("copy_dataset dest", lambda c: c.copy_dataset("d", 42)),
    ("rename_dataset old", lambda c: c.rename_dataset(42, "new")),
    ("rename_dataset new", lambda c: c.rename_dataset("d", 42)),
    ("dataset_exists", lambda c: c.dataset_exists(42)),
    ("poll_dataset name", lambda c: c.poll_dataset(42, 10, 1)),
    ("poll_dataset frequency", lambda c: c.poll_dataset("d", "bogus", 1)),
    ("poll_dataset tries", lambda c: c.poll_dataset("d", 10, "bogus")),
    # models
    ("set_model name", lambda c: c.set_model(42, MLP, "ONNX", "CPU")),
    ("set_model model", lambda c: c.set_model("m", "not bytes")),
    ("set_model backend", lambda c: c.set_model("m", MLP, 42, "CPU")),
    ("set_model device", lambda c: c.set_model("m", MLP, "ONNX", 42)),
    ("set_model batch_size", lambda c: c.set_model("m", MLP, batch_size="8")),
    ("set_model bool batch_size", lambda c: c.set_model("m", MLP, batch_size=True)),
    ("set_model min_batch_size", lambda c: c.set_model("m", MLP, min_batch_size="1")),
    ("set_model min_batch_timeout", lambda c: c.set_model("m", MLP, min_batch_timeout=1.5)),
    ("set_model tag", lambda c: c.set_model("m", MLP, tag=42)),
    ("set_model inputs", lambda c: c.set_model("m", MLP, inputs=42)),
    ("set_model outputs", lambda c: c.set_model("m", MLP, outputs=[42])),
    ("set_model_from_file name", lambda c: c.set_model_from_file(42, MISSING)),
    ("set_model_from_file file", lambda c: c.set_model_from_file("m", 42)),
    ("set_model_from_file backend", lambda c: c.set_model_from_file("m", MISSING, 42)),
    ("set_model_from_file device", lambda c: c.set_model_from_file("m", MISSING, "ONNX", 42)),
    ("set_model_from_file batch", lambda c: c.set_model_from_file("m", MISSING, batch_size="1")),
    ("set_model_from_file tag", lambda c: c.set_model_from_file("m", MISSING, tag=42)),
    ("get_model", lambda c: c.get_model(42)),
    ("model_exists", lambda c: c.model_exists(42)),
    ("poll_model name", lambda c: c.poll_model(42, 10, 1)),
    ("poll_model frequency", lambda c: c.poll_model("m", "bogus", 1)),
    ("poll_model tries", lambda c: c.poll_model("m", 10, "bogus")),
    ("delete_model", lambda c: c.delete_model(42)),
    ("run_model name alone", lambda c: c.run_model(42)),
    ("run_model name", lambda c: c.run_model(42, *IO)),
    ("run_model inputs", lambda c: c.run_model("m", 42, ["out"])),
    ("run_model outputs", lambda c: c.run_model("m", ["t"], 42)),
    ("infer name", lambda c: c.infer(42, [A])),
    # scripts
    ("set_script name", lambda c: c.set_script(42, SOURCE, "CPU")),
    ("set_script source", lambda c: c.set_script("s", 42, "CPU")),
    ("set_script device", lambda c: c.set_script("s", SOURCE, 42)),
    ("set_script_from_file name", lambda c: c.set_script_from_file(42, MISSING, "CPU")),
    ("set_script_from_file file", lambda c: c.set_script_from_file("s", 42, "CPU")),
    ("set_script_from_file device", lambda c: c.set_script_from_file("s", MISSING, 42)),
    ("set_function name", lambda c: c.set_function(42, double)),
    ("set_function function", lambda c: c.set_function("f", "not-a-function")),
    ("set_function device", lambda c: c.set_function("f", double, 42)),
    ("get_script", lambda c: c.get_script(42)),
    ("run_script name", lambda c: c.run_script(42, "double", *IO)),
    ("run_script fn_name", lambda c: c.run_script("s", 42, *IO)),
    ("run_script inputs", lambda c: c.run_script("s", "double", 42, ["out"])),
    ("run_script outputs", lambda c: c.run_script("s", "double", ["t"], 42)),
    ("delete_script", lambda c: c.delete_script(42)),
    # several GPUs
    ("set_model_multigpu name", lambda c: c.set_model_multigpu(42, MLP, "ONNX", 0, 1)),
    ("set_model_multigpu model", lambda c: c.set_model_multigpu("m", "x", "ONNX", 0, 1)),
    ("set_model_multigpu backend", lambda c: c.set_model_multigpu("m", MLP, 42, 0, 1)),
    ("set_model_multigpu first", lambda c: c.set_model_multigpu("m", MLP, "ONNX", "0", 1)),
    ("set_model_multigpu num", lambda c: c.set_model_multigpu("m", MLP, "ONNX", 0, "1")),
    ("set_model_multigpu bool", lambda c: c.set_model_multigpu("m", MLP, "ONNX", False, 1)),
    ("set_model_multigpu batch", lambda c: c.set_model_multigpu("m", MLP, "ONNX", 0, 1, "8")),
    ("set_model_multigpu tag", lambda c: c.set_model_multigpu("m", MLP, "ONNX", 0, 1, tag=42)),
    ("run_model_multigpu name", lambda c: c.run_model_multigpu(42, 0, 0, 1, *IO)),
    ("run_model_multigpu offset", lambda c: c.run_model_multigpu("m", "0", 0, 1, *IO)),
    ("run_model_multigpu first", lambda c: c.run_model_multigpu("m", 0, "0", 1, *IO)),
    ("run_model_multigpu num", lambda c: c.run_model_multigpu("m", 0, 0, "1", *IO)),
    ("run_model_multigpu inputs", lambda c: c.run_model_multigpu("m", 0, 0, 1, 42, ["o"])),
    ("delete_model_multigpu name", lambda c: c.delete_model_multigpu(42, 0, 1)),
    ("delete_model_multigpu first", lambda c: c.delete_model_multigpu("m", "0", 1)),
    ("delete_model_multigpu num", lambda c: c.delete_model_multigpu("m", 0, "1")),
    ("set_script_multigpu name", lambda c: c.set_script_multigpu(42, SOURCE, 0, 1)),
    ("set_script_multigpu source", lambda c: c.set_script_multigpu("s", 42, 0, 1)),
    ("set_script_multigpu first", lambda c: c.set_script_multigpu("s", SOURCE, "0", 1)),
    ("set_script_multigpu num", lambda c: c.set_script_multigpu("s", SOURCE, 0, "1")),
    ("run_script_multigpu name", lambda c: c.run_script_multigpu(42, "double", *IO, 0, 0, 1)),
    ("run_script_multigpu fn_name", lambda c: c.run_script_multigpu("s", 42, *IO, 0, 0, 1)),
    ("run_script_multigpu inputs", lambda c: c.run_script_multigpu("s", "f", 42, ["o"], 0, 0, 1)),
    ("run_script_multigpu outputs", lambda c: c.run_script_multigpu("s", "f", ["t"], 4, 0, 0, 1)),
    ("run_script_multigpu offset", lambda c: c.run_script_multigpu("s", "f", *IO, "0", 0, 1)),
    ("run_script_multigpu first", lambda c: c.run_script_multigpu("s", "f", *IO, 0, "0", 1)),
    ("run_script_multigpu num", lambda c: c.run_script_multigpu("s", "f", *IO, 0, 0, "1")),
    ("delete_script_multigpu name", lambda c: c.delete_script_multigpu(42, 0, 1)),
    ("delete_script_multigpu first", lambda c: c.delete_script_multigpu("s", "0", 1)),
    ("delete_script_multigpu num", lambda c: c.delete_script_multigpu("s", 0, "1")),
    # aggregation lists
    ("append_to_list name", lambda c: c.append_to_list(42, 42)),
    ("append_to_list dataset", lambda c: c.append_to_list("l", 42)),
    ("delete_list", lambda c: c.delete_list(42)),
    ("copy_list src", lambda c: c.copy_list(42, "dest")),
    ("copy_list dest", lambda c: c.copy_list("l", 42)),
    ("rename_list old", lambda c: c.rename_list(42, "new")),
    ("rename_list new", lambda c: c.rename_list("l", 42)),
    ("get_list_length", lambda c: c.get_list_length(42)),
    ("get_datasets_from_list", lambda c: c.get_datasets_from_list(42)),
    ("get_dataset_list_range name", lambda c: c.get_dataset_list_range(42, 0, 1)),
    ("get_dataset_list_range start", lambda c: c.get_dataset_list_range("l", "0", 1)),
    ("get_dataset_list_range end", lambda c: c.get_dataset_list_range("l", 0, "1")),
    *[
        (f"{poll} {arg}", lambda c, p=poll, a=args: getattr(c, p)(*a))
        for poll in ("poll_list_length", "poll_list_length_gte", "poll_list_length_lte")
        for arg, args in (
            ("name", (42, 1, 10, 1)),
            ("length", ("l", "1", 10, 1)),
            ("bool length", ("l", True, 10, 1)),
            ("frequency", ("l", 1, "10", 1)),
            ("tries", ("l", 1, 10, "1")),
        )
    ],
    # administration
    ("get_db_node_info", lambda c: c.get_db_node_info("not a list")),
    ("get_db_cluster_info", lambda c: c.get_db_cluster_info("not a list")),
    ("flush_db", lambda c: c.flush_db("not a list")),
    ("config_get address", lambda c: c.config_get("timeout", 42)),
    ("config_get expression", lambda c: c.config_get(42, c.address)),
    ("config_set param", lambda c: c.config_set(42, "0", c.address)),
    ("config_set value", lambda c: c.config_set("timeout", 42, c.address)),
    ("config_set address", lambda c: c.config_set("timeout", "0", 42)),
    ("save", lambda c: c.save("not a list")),
    # logging
    ("log_data level", lambda c: c.log_data(2, "data")),
    ("log_data message", lambda c: c.log_data("info", 42)),
    ("log_warning", lambda c: c.log_warning(42)),
    ("log_error", lambda c: c.log_error(42)),
    ("get_log_records", lambda c: c.get_log_records("5")),
    # waiting
    ("wait_for_key", lambda c: c.wait_for_key(42, timeout=0)),
    ("wait_for_keys", lambda c: c.wait_for_keys(42, timeout=0)),
    ("wait_for_tensor", lambda c: c.wait_for_tensor(42, timeout=0)),
    # key prefixing (plain methods)
    ("set_data_source", lambda c: c.set_data_source(42)),
    ("use_tensor_ensemble_prefix", lambda c: c.use_tensor_ensemble_prefix("yes")),
    ("use_dataset_ensemble_prefix", lambda c: c.use_dataset_ensemble_prefix("yes")),
    ("use_list_ensemble_prefix", lambda c: c.use_list_ensemble_prefix("yes")),
    ("use_model_ensemble_prefix", lambda c: c.use_model_ensemble_prefix("yes")),
]

VALUE_CASES: list[tuple[str, Call]] = [
    ("get_tensor empty name", lambda c: c.get_tensor("")),
    ("copy_tensor onto itself", lambda c: c.copy_tensor("t", "t")),
    ("poll_tensor negative frequency", lambda c: c.poll_tensor("t", -1, 1)),
    ("poll_tensor no tries", lambda c: c.poll_tensor("t", 10, 0)),
    ("poll_key no tries", lambda c: c.poll_key("t", 10, 0)),
    ("poll_model no tries", lambda c: c.poll_model("m", 10, 0)),
    ("poll_list_length negative", lambda c: c.poll_list_length("l", -1, 10, 1)),
    ("put_dataset empty", lambda c: c.put_dataset(DataSet("empty"))),
    ("set_model backend", lambda c: c.set_model("m", MLP, "TORCH")),
    ("set_model device", lambda c: c.set_model("m", MLP, "ONNX", "TPU")),
    ("set_model negative batch", lambda c: c.set_model("m", MLP, batch_size=-1)),
    ("set_model min over batch", lambda c: c.set_model("m", MLP, batch_size=2, min_batch_size=4)),
    ("set_model braces", lambda c: c.set_model("a{b}", MLP)),
    ("set_model empty input name", lambda c: c.set_model("m", MLP, inputs=[""])),
    ("set_model_from_file empty path", lambda c: c.set_model_from_file("m", "")),
    ("set_model_from_file backend", lambda c: c.set_model_from_file("m", MISSING, "TORCH")),
    ("set_script_from_file device", lambda c: c.set_script_from_file("s", MISSING, "TPU")),
    ("run_model no inputs", lambda c: c.run_model("m")),
    ("run_script empty fn_name", lambda c: c.run_script("s", "", *IO)),
    ("set_script device", lambda c: c.set_script("s", SOURCE, "TPU")),
    ("set_model_multigpu first", lambda c: c.set_model_multigpu("m", MLP, "ONNX", -1, 1)),
    ("set_model_multigpu num", lambda c: c.set_model_multigpu("m", MLP, "ONNX", 0, 0)),
    ("set_model_multigpu braces", lambda c: c.set_model_multigpu("a{b}", MLP, "ONNX", 0, 1)),
    ("run_model_multigpu offset", lambda c: c.run_model_multigpu("m", -1, 0, 1, *IO)),
    ("run_model_multigpu first", lambda c: c.run_model_multigpu("m", 0, -1, 1, *IO)),
    ("run_model_multigpu num", lambda c: c.run_model_multigpu("m", 0, 0, 0, *IO)),
    ("delete_model_multigpu first", lambda c: c.delete_model_multigpu("m", -1, 1)),
    ("delete_model_multigpu num", lambda c: c.delete_model_multigpu("m", 0, 0)),
    ("set_script_multigpu first", lambda c: c.set_script_multigpu("s", SOURCE, -1, 1)),
    ("set_script_multigpu num", lambda c: c.set_script_multigpu("s", SOURCE, 0, 0)),
    ("run_script_multigpu first", lambda c: c.run_script_multigpu("s", "f", *IO, 0, -1, 1)),
    ("run_script_multigpu num", lambda c: c.run_script_multigpu("s", "f", *IO, 0, 0, 0)),
    ("delete_script_multigpu num", lambda c: c.delete_script_multigpu("s", 0, 0)),
    ("get_list_length empty name", lambda c: c.get_list_length("")),
    ("config_set protected", lambda c: c.config_set("requirepass", "x", c.address)),
    ("config_get node", lambda c: c.config_get("timeout", DEAD)),
    ("log_data unknown level", lambda c: c.log_data("loud", "data")),
    ("get_log_records none", lambda c: c.get_log_records(0)),
]

#: (label, call, what the error must be about: the first bad argument in signature order)
ORDER_CASES: list[tuple[str, Call, str]] = [
    ("run_model", lambda c: c.run_model(42, 42, 42), "key names"),
    ("set_model", lambda c: c.set_model(42, "x", 42, 42), "key names"),
    ("set_model model", lambda c: c.set_model("m", "x", 42, 42), "model is bytes"),
    ("set_model backend", lambda c: c.set_model("m", MLP, 42, 42), "backend"),
    ("set_model device", lambda c: c.set_model("m", MLP, "ONNX", 42, "8"), "device"),
    ("set_model batch", lambda c: c.set_model("m", MLP, batch_size="8", tag=42), "batch_size"),
    ("set_model_from_file", lambda c: c.set_model_from_file(42, MISSING, 42), "key names"),
    ("set_model_from_file file", lambda c: c.set_model_from_file("m", 42, 42), "model_file"),
    ("set_script_from_file", lambda c: c.set_script_from_file(42, 42, 42), "key names"),
    ("set_script", lambda c: c.set_script(42, 42, 42), "key names"),
    ("set_function", lambda c: c.set_function(42, "not-a-function", 42), "key names"),
    ("set_function function", lambda c: c.set_function("f", "x", 42), "Python function"),
    ("run_script", lambda c: c.run_script(42, 42, 42, 42), "key names"),
    ("run_script fn_name", lambda c: c.run_script("s", 42, 42, 42), "fn_name"),
    ("run_script inputs", lambda c: c.run_script("s", "f", 42, 42), "inputs"),
    ("set_model_multigpu", lambda c: c.set_model_multigpu(42, 42, 42, "0", "1"), "key names"),
    ("set_model_multigpu model", lambda c: c.set_model_multigpu("m", 4, 4, "0", "1"), "bytes"),
    ("set_model_multigpu back", lambda c: c.set_model_multigpu("m", MLP, 4, "0", 1), "backend"),
    ("set_model_multigpu gpu", lambda c: c.set_model_multigpu("m", MLP, "ONNX", "0", 0), "first"),
    ("set_model_multigpu num", lambda c: c.set_model_multigpu("m", MLP, "ONNX", 0, 0, "8"), "num"),
    ("run_model_multigpu", lambda c: c.run_model_multigpu(42, "0", "0", "1"), "key names"),
    ("run_model_multigpu offset", lambda c: c.run_model_multigpu("m", "0", -1, 0), "offset"),
    ("run_model_multigpu first", lambda c: c.run_model_multigpu("m", 0, "0", 0), "first_gpu"),
    ("run_model_multigpu num", lambda c: c.run_model_multigpu("m", 0, 0, "1", 42), "num_gpus"),
    ("run_script_multigpu", lambda c: c.run_script_multigpu(42, 4, 4, 4, "0", 0, 0), "key names"),
    ("run_script_multigpu fn", lambda c: c.run_script_multigpu("s", 4, 4, 4, "0", 0, 0), "fn_name"),
    ("run_script_multigpu off", lambda c: c.run_script_multigpu("s", "f", *IO, "0", 0, 0), "offs"),
    ("delete_model_multigpu", lambda c: c.delete_model_multigpu(42, "0", 0), "key names"),
    ("delete_script_multigpu", lambda c: c.delete_script_multigpu("s", "0", 0), "first_gpu"),
    ("poll_list_length", lambda c: c.poll_list_length(42, "1", "1", "1"), "key names"),
    ("poll_list_length length", lambda c: c.poll_list_length("l", "1", "1", "1"), "list_length"),
    ("poll_list_length freq", lambda c: c.poll_list_length("l", 1, "1", "1"), "poll_frequency"),
    ("poll_list_length tries", lambda c: c.poll_list_length("l", 1, 10, "1"), "num_tries"),
    ("poll_tensor", lambda c: c.poll_tensor("t", "1", "1"), "poll_frequency_ms"),
    ("poll_model", lambda c: c.poll_model(42, "1", "1"), "key names"),
    ("get_dataset_list_range", lambda c: c.get_dataset_list_range(42, "0", "1"), "key names"),
    ("get_dataset_list_range start", lambda c: c.get_dataset_list_range("l", "0", "1"), "start"),
]


async def _seed(client: Client) -> None:
    """Things a bad call could clobber: the names ``42`` and ``42.GPU:0`` would become."""
    for name in ("t", "42"):
        await client.put_tensor(name, A)
    for name in ("d", "42"):
        ds = DataSet(name)
        ds.add_tensor("u", A)
        await client.put_dataset(ds)
        await client.append_to_list("l", ds)


async def test_wrong_types_are_type_errors_and_change_nothing(
    client: Client, raw: aioredis.Redis
) -> None:
    await _seed(client)
    before = await snapshot(raw)
    wrong = []
    for label, call in TYPE_CASES:
        exc = await _raised(call, client)
        if not _is_type_error(exc):
            wrong.append((label, repr(exc)))
    assert wrong == [], "these did not raise UnsupportedTypeError (a SmartflowError + TypeError)"
    assert await snapshot(raw) == before


async def test_wrong_values_are_value_errors_and_change_nothing(
    client: Client, raw: aioredis.Redis
) -> None:
    await _seed(client)
    before = await snapshot(raw)
    wrong = []
    for label, call in VALUE_CASES:
        exc = await _raised(call, client)
        if not _is_value_error(exc):
            wrong.append((label, repr(exc)))
    assert wrong == [], "these did not raise InvalidArgumentError (and not a TypeError)"
    assert await snapshot(raw) == before


async def test_arguments_are_checked_in_signature_order(
    client: Client, raw: aioredis.Redis
) -> None:
    before = await snapshot(raw)
    wrong = []
    for label, call, about in ORDER_CASES:
        exc = await _raised(call, client)
        if not isinstance(exc, InvalidArgumentError) or about not in str(exc):
            wrong.append((label, about, repr(exc)))
    assert wrong == [], "the error is not about the first bad argument"
    assert await snapshot(raw) == before


async def test_a_missing_file_is_named_and_checked_after_the_other_arguments(
    client: Client, raw: aioredis.Redis, tmp_path: Path
) -> None:
    missing = tmp_path / "gone" / "model.onnx"
    before = await snapshot(raw)
    for call in (
        lambda: client.set_model_from_file("m", str(missing)),
        lambda: client.set_model_from_file("m", missing, "ONNX", "CPU", batch_size=4),
        lambda: client.set_script_from_file("s", str(missing)),
    ):
        with pytest.raises(MissingFileError) as info:
            await call()
        assert isinstance(info.value, FileNotFoundError) and str(missing) in str(info.value)
    # A file that is there but cannot be read as one is a bad value, named too.
    with pytest.raises(InvalidArgumentError, match=re.escape(str(tmp_path))) as info:
        await client.set_model_from_file("m", tmp_path)
    assert not isinstance(info.value, MissingFileError | TypeError)
    binary = tmp_path / "script.bin"
    binary.write_bytes(b"\xff\xfe\x00 not utf-8")
    with pytest.raises(InvalidArgumentError, match="not UTF-8"):
        await client.set_script_from_file("s", binary)
    assert await snapshot(raw) == before
    # A path-like is a path: the script is stored and runs.
    script = tmp_path / "double.py"
    script.write_text(SOURCE)
    await client.set_script_from_file("from_path", script)
    await client.put_tensor("x", A)
    await client.run_script("from_path", "double", ["x"], ["y"])
    np.testing.assert_array_equal(await client.get_tensor("y"), A * 2)


async def test_multigpu_calls_never_turn_a_bad_name_into_a_key(
    client: Client, raw: aioredis.Redis
) -> None:
    """``42`` used to become ``"42.GPU:0"``, and was stored, run or deleted under that name."""
    await client.set_model("42.GPU:0", MLP)
    await client.put_tensor("x", np.ones((1, 4), np.float32))
    before = await snapshot(raw)
    calls = [
        lambda: client.set_model_multigpu(42, MLP, "ONNX", 0, 1),
        lambda: client.run_model_multigpu(42, 0, 0, 1, ["x"], ["y"]),
        lambda: client.delete_model_multigpu(42, 0, 1),
        lambda: client.set_script_multigpu(42, SOURCE, 0, 1),
        lambda: client.run_script_multigpu(42, "double", ["x"], ["y"], 0, 0, 1),
        lambda: client.delete_script_multigpu(42, 0, 1),
    ]
    for call in calls:
        with pytest.raises(UnsupportedTypeError, match="key names"):
            await call()
    assert await snapshot(raw) == before
    await client.run_model("42.GPU:0", ["x"], ["y"])  # still there, still the same model
    assert (await client.get_tensor("y")).shape == (1, 2)


def test_dataset_getters_check_names_and_change_nothing() -> None:
    ds = DataSet("ds")
    ds.add_tensor("u", np.arange(6.0).reshape(2, 3))
    ds.add_meta_scalar("time", 0.5)
    ds.add_meta_string("mesh", "coarse")
    before = repr(ds)
    getters = [
        ds.get_tensor,
        ds.get_tensor_type,
        ds.get_tensor_dims,
        ds.get_meta_scalars,
        ds.get_meta_strings,
        ds.get_metadata_field_type,
    ]
    for getter in getters:
        for name in (42, None, b"u", ["u"]):
            with pytest.raises(UnsupportedTypeError):
                getter(name)
        with pytest.raises(InvalidArgumentError) as info:
            getter("")
        assert not isinstance(info.value, TypeError)
    for call in (
        lambda: DataSet(42),
        lambda: ds.add_tensor(42, np.ones(2)),
        lambda: ds.add_tensor("v", 42),
        lambda: ds.add_meta_scalar(42, 42),
        lambda: ds.add_meta_scalar("s", np.ones(2)),  # an array is not a scalar
        lambda: ds.add_meta_string(42, "x"),
        lambda: ds.add_meta_string("m", 42),
    ):
        with pytest.raises(UnsupportedTypeError):
            call()
    assert repr(ds) == before


def test_dataset_str_names_its_tensors_and_fields() -> None:
    ds = DataSet("step-7")
    ds.add_tensor("u", np.zeros((2, 3)))
    ds.add_tensor("ids", np.arange(4, dtype=np.int32))
    ds.add_meta_scalar("time", 0.7)
    ds.add_meta_scalar("time", 0.8)
    ds.add_meta_string("mesh", "coarse")
    text = str(ds)
    assert text == repr(ds)
    assert text == (
        "DataSet('step-7', tensors={'u': float64 (2, 3), 'ids': int32 (4,)}, "
        "metadata={'time': double x2, 'mesh': string x1})"
    )
    assert str(DataSet("empty")) == "DataSet('empty', tensors={}, metadata={})"


# -- the client itself: construction, str and repr, secrets ------------------------------------


@pytest.mark.parametrize("factory", [Client, SyncClient])
def test_constructor_types_are_checked_first(factory: Callable[..., Any]) -> None:
    secret = "s3cret-in-the-wrong-type"
    cases = [
        ({"address": 42}, "store address"),
        ({"address": ["127.0.0.1:1"]}, "store address"),
        ({"address": DEAD, "cluster": "yes"}, "cluster"),
        ({"address": DEAD, "cluster": 1}, "cluster"),
        ({"address": DEAD, "password": secret.encode()}, "password"),
        ({"address": DEAD, "password": DEAD, "db_identifier": 42}, "db_identifier"),
        ({"address": DEAD, "password": DEAD, "config": {"connect_timeout": 1}}, "config"),
        ({"address": 42, "cluster": "yes", "password": 42}, "store address"),  # the first
    ]
    for kwargs, about in cases:
        with pytest.raises(UnsupportedTypeError, match=about) as info:
            factory(**kwargs)
        assert isinstance(info.value, TypeError) and "s3cret" not in str(info.value)
    with pytest.raises(InvalidArgumentError) as value_info:
        factory(address="no-port-here", password="x")
    assert not isinstance(value_info.value, TypeError)


def test_client_config_types_are_type_errors() -> None:
    cases = [
        {"connect_timeout": "5"},
        {"command_timeout": None},
        {"run_timeout": True},
        {"max_connections": 2.5},
        {"max_value_bytes": "1"},
        {"log_file": 42},
        {"log_level": 2},
        {"client_name": 42},
        {"logger_name": 42},
    ]
    for kwargs in cases:
        with pytest.raises(UnsupportedTypeError, match=next(iter(kwargs)).split("_")[0]):
            ClientConfig(**kwargs)
    for kwargs in ({"connect_timeout": 0}, {"max_connections": 0}, {"log_level": "loud"}):
        with pytest.raises(InvalidArgumentError) as info:
            ClientConfig(**kwargs)
        assert not isinstance(info.value, TypeError)


async def test_str_and_repr_describe_the_client_and_never_show_the_secret(
    store: Orchestrator,
) -> None:
    address = store.get_address()[0]
    secret = store.password
    assert secret
    for client in (Client(address=address, cluster=False, password=secret), Client(address)):
        seen = [str(client)]
        async with client:
            seen.append(str(client))
        seen.append(str(client))
        assert seen == [
            f"Client({address}, Standalone, unopened)",
            f"Client({address}, Standalone, open)",
            f"Client({address}, Standalone, closed)",
        ]
        assert repr(client) == str(client)
    wrong = "not-the-secret-but-private"
    with pytest.raises(AuthenticationError) as info:
        async with Client(address=address, password=wrong):
            pytest.fail("the body must not run")
    assert wrong not in str(info.value) and secret not in str(info.value)


async def test_a_cluster_client_says_it_is_clustered(cluster: Orchestrator) -> None:
    addresses = cluster.get_address()
    async with Client(address=",".join(addresses), cluster=True) as client:
        text = repr(client)
        assert text == f"Client({','.join(addresses)}, Clustered, open)"
        assert cluster.password not in text


async def test_the_sync_client_checks_and_describes_the_same_way(
    store: Orchestrator, raw: aioredis.Redis
) -> None:
    address = store.get_address()[0]
    before = await snapshot(raw)

    def work() -> list[str]:
        texts = []
        with SyncClient(address=address, password=store.password) as sc:
            texts.append(repr(sc))
            for call in (
                lambda: sc.poll_tensor("t", "bogus", 1),
                lambda: sc.run_model_multigpu(42, 0, 0, 1, ["x"], ["y"]),
                lambda: sc.set_model_from_file(42, MISSING),
                lambda: sc.get_dataset_list_range("l", "0", 1),
            ):
                with pytest.raises(UnsupportedTypeError):
                    call()
            with pytest.raises(MissingFileError, match=re.escape(MISSING)):
                sc.set_model_from_file("m", MISSING)
        texts.append(str(sc))
        return texts

    with anyio.fail_after(30):
        texts = await anyio.to_thread.run_sync(work)
    assert texts == [
        f"SyncClient({address}, Standalone, open)",
        f"SyncClient({address}, Standalone, closed)",
    ]
    assert all(store.password not in text for text in texts)
    assert await snapshot(raw) == before
    # The mirror keeps set_model_from_file's own parameters (no **kwargs).
    parameters = inspect.signature(SyncClient.set_model_from_file).parameters
    assert list(parameters)[-7:] == [
        "device", "batch_size", "min_batch_size", "min_batch_timeout", "tag", "inputs", "outputs"
    ]  # fmt: skip


# -- a launched application passing an address: the environment's secret ----------------------

APP = textwrap.dedent(
    """
    import asyncio, json, os, sys
    from smartflow import AuthenticationError, Client

    async def outcome(address, kwargs):
        try:
            async with Client(address=address, cluster=False, **kwargs) as c:
                await c.key_exists("anything")
        except AuthenticationError:
            return "refused"
        return "ok"

    async def main(scenarios):
        results = {}
        for label, (env, address, kwargs) in scenarios.items():
            for name in [n for n in os.environ if n.startswith("SSDB")]:
                del os.environ[name]
            os.environ.update(env)
            results[label] = await outcome(address, kwargs)
        print(json.dumps(results))

    asyncio.run(main(json.loads(sys.argv[1])))
    """
)


async def test_a_launched_application_passing_its_address_gets_the_secret(
    store: Orchestrator,
) -> None:
    port = store.get_address()[0].rpartition(":")[2]
    here, alias, secret = f"127.0.0.1:{port}", f"localhost:{port}", store.password
    scenarios = {
        "SSDB lists it": ({"SSDB": here, "SSDB_PASSWORD": secret}, here, {}),
        "one of several": ({"SSDB": f"{DEAD}, {here}", "SSDB_PASSWORD": secret}, here, {}),
        "loopback alias": ({"SSDB": here, "SSDB_PASSWORD": secret}, alias, {}),
        "a named store": (
            {"SSDB": DEAD, "SSDB_PASSWORD": "wrong", "SSDB_x": here, "SSDB_PASSWORD_x": secret},
            here,
            {},
        ),
        "not listed": ({"SSDB": DEAD, "SSDB_PASSWORD": secret}, here, {}),
        "no secret set": ({"SSDB": here}, here, {}),
        "explicit password wins": (
            {"SSDB": here, "SSDB_PASSWORD": secret},
            here,
            {"password": "wrong"},
        ),
        "explicit None wins": ({"SSDB": here, "SSDB_PASSWORD": secret}, here, {"password": None}),
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSDB")}
    with anyio.fail_after(60):
        done = await anyio.run_process(
            [sys.executable, "-c", APP, json.dumps(scenarios)], env=env, check=False
        )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert json.loads(done.stdout) == {
        "SSDB lists it": "ok",
        "one of several": "ok",
        "loopback alias": "ok",
        "a named store": "ok",
        "not listed": "refused",
        "no secret set": "refused",
        "explicit password wins": "refused",
        "explicit None wins": "refused",
    }
    assert secret not in done.stderr.decode()


async def test_the_drivers_known_secret_wins_over_the_environment(
    store: Orchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = store.get_address()[0]
    monkeypatch.setenv("SSDB", address)
    monkeypatch.setenv("SSDB_PASSWORD", "not-the-secret")
    async with Client(address=address, cluster=False) as client:
        assert await client.key_exists("anything") is False


def test_password_from_env_reads_only_address_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("SSDB")]:
        monkeypatch.delenv(name)
    here = "10.0.0.5:6780"
    assert password_from_env([here]) is None
    monkeypatch.setenv("SSDB", f"not an address,{here}")  # a bad entry is skipped, not refused
    assert password_from_env([here]) is None  # listed, but no SSDB_PASSWORD
    monkeypatch.setenv("SSDB_PASSWORD", "default-secret")
    assert password_from_env([here]) == "default-secret"
    assert password_from_env(["10.0.0.5:6781"]) is None
    monkeypatch.setenv("SSDB_y", here)
    monkeypatch.setenv("SSDB_PASSWORD_y", "y-secret")
    assert password_from_env([here], db_identifier="y") == "y-secret"  # its own store first
    assert password_from_env([here]) == "default-secret"
    monkeypatch.setenv("SSDB_PASSWORD_z", here)  # a secret that looks like an address
    monkeypatch.delenv("SSDB")
    assert password_from_env([here]) == "y-secret"
    monkeypatch.setenv("SSDB_w", "127.0.0.1:7000")
    monkeypatch.setenv("SSDB_PASSWORD_w", "w-secret")
    assert password_from_env(["localhost:7000"]) == "w-secret"
