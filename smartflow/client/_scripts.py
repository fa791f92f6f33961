"""Scripts next to the data, and the multi-GPU spellings of the model and script calls.

A script is Python source defining functions over numpy arrays; the inference worker runs them
where the data is (TorchScript's role in SmartSim). **Trust model:** storing code needs the
store's secret, like every other write, and the code runs with the worker's rights on the
store's host: give the secret only to code you would run there yourself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import anyio

from smartflow._checks import function_source
from smartflow.client import _runs as runs
from smartflow.client._models import ModelOps, _device
from smartflow.errors import InvalidArgumentError, UnsupportedTypeError


class ScriptOps(ModelOps):
    """SmartRedis's script API, async, and the ``*_multigpu`` calls."""

    async def set_script(self, name: str, script: str, device: str = "CPU") -> None:
        """Store Python ``script`` under ``name``; every shard's worker compiles it first, so
        a script that does not run is refused here."""
        if not isinstance(script, str):
            raise UnsupportedTypeError(f"script {name!r}: the source is a str, got {type(script)}")
        record = runs.ModelRecord(backend="PYTHON", device=_device(device), data=script.encode())
        await self._store_record(self._stored(name, write=True), record)

    async def set_script_from_file(self, name: str, script_file: str, device: str = "CPU") -> None:
        """:meth:`set_script` with the text of ``script_file`` (read in a worker thread)."""
        try:
            source = await anyio.Path(script_file).read_text()
        except OSError as exc:
            raise InvalidArgumentError(f"script file {script_file!r}: {exc}") from exc
        await self.set_script(name, source, device)

    async def set_function(self, name: str, function: Callable, device: str = "CPU") -> None:
        """Store ``function``'s source as a script, as SmartRedis does; run it with
        ``run_script(name, function.__name__, ...)``. It may use ``np`` and its own globals
        defined in the same source only."""
        source = function_source(function, f"set_function {name!r}")
        await self.set_script(name, source, device)

    async def get_script(self, name: str) -> str:
        """The script's source."""
        record = await self._read_record(self._stored(name, write=False))
        return record.data.decode()

    async def run_script(
        self, name: str, fn_name: str, inputs: Sequence[str], outputs: Sequence[str]
    ) -> None:
        """Call ``fn_name(*inputs)`` of the stored script, writing its results to ``outputs``."""
        if not isinstance(fn_name, str) or not fn_name:
            raise UnsupportedTypeError(f"run_script: fn_name must be a name, got {fn_name!r}")
        await self._run(f"run_script {name!r}", name, inputs, outputs, function=fn_name)

    async def delete_script(self, name: str) -> None:
        """Delete a script from every shard; deleting a missing one is no error."""
        await self.delete_model(name)

    # -- several GPUs: one copy per device, "<name>.GPU:<id>" -----------------------------------

    async def set_model_multigpu(
        self, name: str, model: bytes, backend: str, first_gpu: int, num_gpus: int, **kwargs
    ) -> None:
        """One copy of the model per GPU ``first_gpu .. first_gpu + num_gpus - 1``."""
        for gpu in _gpus(first_gpu, num_gpus):
            await self.set_model(_on_gpu(name, gpu), model, backend, f"GPU:{gpu}", **kwargs)

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
        await self.run_model(_on_gpu(name, _pick(offset, first_gpu, num_gpus)), inputs, outputs)

    async def delete_model_multigpu(self, name: str, first_gpu: int, num_gpus: int) -> None:
        for gpu in _gpus(first_gpu, num_gpus):
            await self.delete_model(_on_gpu(name, gpu))

    async def set_script_multigpu(
        self, name: str, script: str, first_gpu: int, num_gpus: int
    ) -> None:
        for gpu in _gpus(first_gpu, num_gpus):
            await self.set_script(_on_gpu(name, gpu), script, f"GPU:{gpu}")

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
        gpu = _pick(offset, first_gpu, num_gpus)
        await self.run_script(_on_gpu(name, gpu), fn_name, inputs, outputs)

    async def delete_script_multigpu(self, name: str, first_gpu: int, num_gpus: int) -> None:
        await self.delete_model_multigpu(name, first_gpu, num_gpus)


def _gpus(first_gpu: object, num_gpus: object) -> range:
    for what, value in (("first_gpu", first_gpu), ("num_gpus", num_gpus)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidArgumentError(f"{what} must be an int >= 0, got {value!r}")
    if num_gpus == 0:
        raise InvalidArgumentError("num_gpus must be at least 1")
    return range(first_gpu, first_gpu + num_gpus)  # type: ignore[operator]


def _pick(offset: object, first_gpu: int, num_gpus: int) -> int:
    gpus = _gpus(first_gpu, num_gpus)
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise InvalidArgumentError(f"offset must be an int, got {offset!r}")
    return gpus[offset % len(gpus)]


def _on_gpu(name: str, gpu: int) -> str:
    return f"{name}.GPU:{gpu}"
