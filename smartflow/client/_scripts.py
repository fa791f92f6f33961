"""Scripts next to the data, and the multi-GPU spellings of the model and script calls.

A script is Python source defining functions over numpy arrays; the inference worker runs them
where the data is (TorchScript's role in SmartSim). **Trust model:** storing code needs the
store's secret, like every other write, and the code runs with the worker's rights on the
store's host: give the secret only to code you would run there yourself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import attrs

from smartflow._checks import (
    at_least_zero,
    checked_name,
    count,
    file_path,
    function_source,
    name_list,
    onnx_backend,
)
from smartflow.client import _runs as runs
from smartflow.client._core import Seam
from smartflow.client._models import model_bytes, model_record
from smartflow.errors import InvalidArgumentError, UnsupportedTypeError
from smartflow.wire import protocol


class ScriptOps(Seam):
    """SmartRedis's script API, async, and the ``*_multigpu`` calls."""

    async def set_script(self, name: str, script: str, device: str = "CPU") -> None:
        """Store Python ``script`` under ``name``; every shard's worker compiles it first, so
        a script that does not run is refused here."""
        stored = runs.stored_name(self, name, write=True)
        source = _source(name, script)
        record = protocol.ModelRecord(
            backend="PYTHON", device=runs.device_name(device), data=source
        )
        await runs.store_record(self, stored, record)

    async def set_script_from_file(
        self, name: str, script_file: str | os.PathLike, device: str = "CPU"
    ) -> None:
        """:meth:`set_script` with the text (UTF-8) of ``script_file``, read in a worker thread
        once the other arguments have been checked; a missing file is a
        :class:`~smartflow.errors.MissingFileError`."""
        stored = runs.stored_name(self, name, write=True)
        path = file_path(script_file, "script_file")
        checked_device = runs.device_name(device)
        data = await runs.read_file(path, "script file")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidArgumentError(
                f"script file {os.fspath(path)!r} is not UTF-8 text ({exc.reason})"
            ) from exc
        record = protocol.ModelRecord(backend="PYTHON", device=checked_device, data=data)
        await runs.store_record(self, stored, record)

    async def set_function(self, name: str, function: Callable, device: str = "CPU") -> None:
        """Store ``function``'s source as a script, as SmartRedis does; run it with
        ``run_script(name, function.__name__, ...)``. It may use ``np`` and its own globals
        defined in the same source only."""
        runs.stored_name(self, name, write=True)
        source = function_source(function, f"set_function {name!r}")
        await self.set_script(name, source, device)

    async def get_script(self, name: str) -> str:
        """The script's source."""
        record = await runs.read_record(self, runs.stored_name(self, name, write=False))
        return record.data.decode()

    async def run_script(
        self, name: str, fn_name: str, inputs: Sequence[str], outputs: Sequence[str]
    ) -> None:
        """Call ``fn_name(*inputs)`` of the stored script, writing its results to ``outputs``."""
        runs.stored_name(self, name, write=False)
        checked_name(fn_name, "run_script: fn_name")
        await runs.run(self, f"run_script {name!r}", name, inputs, outputs, function=fn_name)

    async def delete_script(self, name: str) -> None:
        """Delete a script from every shard; deleting a missing one is no error."""
        await runs.delete_record(self, name)

    # -- several GPUs: one copy per device, "<name>.GPU:<id>" -----------------------------------

    async def set_model_multigpu(
        self,
        name: str,
        model: bytes,
        backend: str,
        first_gpu: int,
        num_gpus: int,
        batch_size: int = 0,
        min_batch_size: int = 0,
        min_batch_timeout: int = 0,
        tag: str = "",
        inputs: Sequence[str] | None = None,
        outputs: Sequence[str] | None = None,
    ) -> None:
        """One copy of the model per GPU ``first_gpu .. first_gpu + num_gpus - 1``, stored as
        ``<name>.GPU:<id>``; every argument is checked before the first copy is sent."""
        runs.stored_name(self, name, write=True)
        data = model_bytes(name, model)
        onnx_backend(backend, f"model {name!r}")
        gpus = _gpus(first_gpu, num_gpus)
        record = model_record(
            name, data, backend, f"GPU:{gpus[0]}", batch_size, min_batch_size,
            min_batch_timeout, tag, inputs, outputs,
        )  # fmt: skip
        for gpu in gpus:
            copy = attrs.evolve(record, device=f"GPU:{gpu}", version=protocol.new_id())
            await runs.store_record(
                self, runs.stored_name(self, _on_gpu(name, gpu), write=True), copy
            )

    async def run_model_multigpu(
        self,
        name: str,
        offset: int,
        first_gpu: int,
        num_gpus: int,
        inputs: Sequence[str] | None = None,
        outputs: Sequence[str] | None = None,
    ) -> None:
        """Run on GPU ``first_gpu + offset % num_gpus`` (spread callers by their rank)."""
        runs.stored_name(self, name, write=False)
        gpu = _pick(offset, first_gpu, num_gpus)
        copy = _on_gpu(name, gpu)
        await runs.run(self, f"run_model {copy!r}", copy, inputs, outputs)

    async def delete_model_multigpu(self, name: str, first_gpu: int, num_gpus: int) -> None:
        """Delete every copy :meth:`set_model_multigpu` stored (missing ones are no error)."""
        runs.stored_name(self, name, write=False)
        for gpu in _gpus(first_gpu, num_gpus):
            await runs.delete_record(self, _on_gpu(name, gpu))

    async def set_script_multigpu(
        self, name: str, script: str, first_gpu: int, num_gpus: int
    ) -> None:
        """One copy of the script per GPU ``first_gpu .. first_gpu + num_gpus - 1``."""
        runs.stored_name(self, name, write=True)
        source = _source(name, script)
        for gpu in _gpus(first_gpu, num_gpus):
            record = protocol.ModelRecord(backend="PYTHON", device=f"GPU:{gpu}", data=source)
            await runs.store_record(
                self, runs.stored_name(self, _on_gpu(name, gpu), write=True), record
            )

    async def run_script_multigpu(
        self,
        name: str,
        fn_name: str,
        inputs: Sequence[str],
        outputs: Sequence[str],
        offset: int,
        first_gpu: int,
        num_gpus: int,
    ) -> None:
        """Call ``fn_name`` of the copy on GPU ``first_gpu + offset % num_gpus``."""
        runs.stored_name(self, name, write=False)
        checked_name(fn_name, "run_script: fn_name")
        name_list(inputs, "inputs")
        name_list(outputs, "outputs")
        gpu = _pick(offset, first_gpu, num_gpus)
        copy = _on_gpu(name, gpu)
        await runs.run(self, f"run_script {copy!r}", copy, inputs, outputs, function=fn_name)

    async def delete_script_multigpu(self, name: str, first_gpu: int, num_gpus: int) -> None:
        """Delete every copy :meth:`set_script_multigpu` stored (missing ones are no error)."""
        runs.stored_name(self, name, write=False)
        for gpu in _gpus(first_gpu, num_gpus):
            await runs.delete_record(self, _on_gpu(name, gpu))


def _source(name: str, script: object) -> bytes:
    if not isinstance(script, str):
        raise UnsupportedTypeError(
            f"script {name!r}: the source is a str, got {type(script).__name__}"
        )
    return script.encode()


def _gpus(first_gpu: object, num_gpus: object) -> range:
    first = at_least_zero(first_gpu, "first_gpu")
    return range(first, first + count(num_gpus, "num_gpus"))


def _pick(offset: object, first_gpu: object, num_gpus: object) -> int:
    """The GPU of caller ``offset`` (a rank or index, >= 0), arguments checked in order."""
    index = at_least_zero(offset, "offset")
    gpus = _gpus(first_gpu, num_gpus)
    return gpus[index % len(gpus)]


def _on_gpu(name: str, gpu: int) -> str:
    return f"{name}.GPU:{gpu}"
