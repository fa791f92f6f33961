"""Client calls for models (ONNX: smartflow's backend) and scripts (Python: smartflow's
TorchScript). Other backends are refused with a RedisRuntimeError naming RedisAI."""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable
from typing import Any

from smartflow.smartredis import _args as args
from smartflow.smartredis.util import exception_handler, typecheck


def _model_options(**values: Any) -> None:
    args.ints(
        batch_size=values["batch_size"],
        min_batch_size=values["min_batch_size"],
        min_batch_timeout=values["min_batch_timeout"],
    )
    typecheck(values["tag"], "tag", str)


def _function_source(function: object) -> str:
    if not callable(function):
        raise TypeError(f"Argument provided for function, {type(function)}, is not callable")
    return textwrap.dedent(inspect.getsource(function))  # type: ignore[arg-type]


class ModelOps:
    """Models, scripts, and their multi-GPU spellings."""

    _client: Any

    # -- models ---------------------------------------------------------------------------

    @exception_handler
    def set_model(
        self,
        name: str,
        model: bytes,
        backend: str,
        device: str = "CPU",
        batch_size: int = 0,
        min_batch_size: int = 0,
        min_batch_timeout: int = 0,
        tag: str = "",
        inputs: str | list[str] | None = None,
        outputs: str | list[str] | None = None,
    ) -> None:
        """Store an ONNX model under ``name`` (TF, TFLITE and TORCH need RedisAI)."""
        args.strs(name=name, backend=backend, device=device)
        _model_options(
            batch_size=batch_size,
            min_batch_size=min_batch_size,
            min_batch_timeout=min_batch_timeout,
            tag=tag,
        )
        device = args.device(device)
        upper = args.backend(backend)
        inputs, outputs = args.tensor_names(inputs, outputs)
        args.refuse_redisai_backend(name, upper)
        self._client.set_model(
            name, model, upper, device, batch_size, min_batch_size, min_batch_timeout, tag,
            inputs or None, outputs or None,
        )  # fmt: skip

    @exception_handler
    def set_model_from_file(
        self,
        name: str,
        model_file: str,
        backend: str,
        device: str = "CPU",
        batch_size: int = 0,
        min_batch_size: int = 0,
        min_batch_timeout: int = 0,
        tag: str = "",
        inputs: str | list[str] | None = None,
        outputs: str | list[str] | None = None,
    ) -> None:
        """:meth:`set_model` with the bytes of ``model_file``."""
        args.strs(name=name, model_file=model_file, backend=backend, device=device)
        _model_options(
            batch_size=batch_size,
            min_batch_size=min_batch_size,
            min_batch_timeout=min_batch_timeout,
            tag=tag,
        )
        device = args.device(device)
        upper = args.backend(backend)
        path = args.existing_file(model_file)
        inputs, outputs = args.tensor_names(inputs, outputs)
        args.refuse_redisai_backend(name, upper)
        self._client.set_model_from_file(
            name, path, upper, device, batch_size, min_batch_size, min_batch_timeout, tag,
            inputs or None, outputs or None,
        )  # fmt: skip

    @exception_handler
    def set_model_multigpu(
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
        inputs: str | list[str] | None = None,
        outputs: str | list[str] | None = None,
    ) -> None:
        """One copy of an ONNX model per GPU ``first_gpu .. first_gpu + num_gpus - 1``."""
        args.strs(name=name, backend=backend)
        args.gpu_range(first_gpu, num_gpus)
        _model_options(
            batch_size=batch_size,
            min_batch_size=min_batch_size,
            min_batch_timeout=min_batch_timeout,
            tag=tag,
        )
        upper = args.backend(backend)
        inputs, outputs = args.tensor_names(inputs, outputs)
        args.refuse_redisai_backend(name, upper)
        self._client.set_model_multigpu(
            name, model, upper, first_gpu, num_gpus, batch_size, min_batch_size,
            min_batch_timeout, tag, inputs or None, outputs or None,
        )  # fmt: skip

    @exception_handler
    def set_model_from_file_multigpu(
        self,
        name: str,
        model_file: str,
        backend: str,
        first_gpu: int,
        num_gpus: int,
        batch_size: int = 0,
        min_batch_size: int = 0,
        min_batch_timeout: int = 0,
        tag: str = "",
        inputs: str | list[str] | None = None,
        outputs: str | list[str] | None = None,
    ) -> None:
        """:meth:`set_model_multigpu` with the bytes of ``model_file``."""
        args.strs(name=name, model_file=model_file, backend=backend)
        args.ints(first_gpu=first_gpu, num_gpus=num_gpus)
        _model_options(
            batch_size=batch_size,
            min_batch_size=min_batch_size,
            min_batch_timeout=min_batch_timeout,
            tag=tag,
        )
        upper = args.backend(backend)
        path = args.existing_file(model_file)
        args.gpu_range(first_gpu, num_gpus)
        with open(path, "rb") as f:
            model = f.read()
        self.set_model_multigpu(
            name, model, upper, first_gpu, num_gpus, batch_size, min_batch_size,
            min_batch_timeout, tag, inputs, outputs,
        )  # fmt: skip

    @exception_handler
    def get_model(self, name: str) -> bytes:
        typecheck(name, "name", str)
        return self._client.get_model(name)

    @exception_handler
    def run_model(
        self,
        name: str,
        inputs: str | list[str] | None = None,
        outputs: str | list[str] | None = None,
    ) -> None:
        """Run the model on the tensors named ``inputs``, writing those named ``outputs``."""
        typecheck(name, "name", str)
        inputs, outputs = args.tensor_names(inputs, outputs)
        self._client.run_model(name, inputs or None, outputs or None)

    @exception_handler
    def run_model_multigpu(
        self,
        name: str,
        offset: int,
        first_gpu: int,
        num_gpus: int,
        inputs: str | list[str] | None = None,
        outputs: str | list[str] | None = None,
    ) -> None:
        typecheck(name, "name", str)
        typecheck(offset, "offset", int)
        args.gpu_range(first_gpu, num_gpus)
        inputs, outputs = args.tensor_names(inputs, outputs)
        self._client.run_model_multigpu(
            name, offset, first_gpu, num_gpus, inputs or None, outputs or None
        )

    @exception_handler
    def delete_model(self, name: str) -> None:
        typecheck(name, "name", str)
        self._client.delete_model(name)

    @exception_handler
    def delete_model_multigpu(self, name: str, first_gpu: int, num_gpus: int) -> None:
        typecheck(name, "name", str)
        args.gpu_range(first_gpu, num_gpus)
        self._client.delete_model_multigpu(name, first_gpu, num_gpus)

    # -- scripts --------------------------------------------------------------------------

    @exception_handler
    def set_function(self, name: str, function: Callable, device: str = "CPU") -> None:
        """Store ``function``'s source as a (Python) script under ``name``."""
        args.strs(name=name, device=device)
        source = _function_source(function)
        self._client.set_script(name, source, args.device(device))

    @exception_handler
    def set_function_multigpu(
        self, name: str, function: Callable, first_gpu: int, num_gpus: int
    ) -> None:
        typecheck(name, "name", str)
        args.ints(first_gpu=first_gpu, num_gpus=num_gpus)
        source = _function_source(function)
        args.gpu_range(first_gpu, num_gpus)
        self._client.set_script_multigpu(name, source, first_gpu, num_gpus)

    @exception_handler
    def set_script(self, name: str, script: str, device: str = "CPU") -> None:
        """Store Python ``script`` (smartflow's scripts are Python, not TorchScript)."""
        args.strs(name=name, script=script, device=device)
        self._client.set_script(name, script, args.device(device))

    @exception_handler
    def set_script_multigpu(self, name: str, script: str, first_gpu: int, num_gpus: int) -> None:
        args.strs(name=name, script=script)
        args.gpu_range(first_gpu, num_gpus)
        self._client.set_script_multigpu(name, script, first_gpu, num_gpus)

    @exception_handler
    def set_script_from_file(self, name: str, file: str, device: str = "CPU") -> None:
        args.strs(name=name, file=file, device=device)
        device = args.device(device)
        self._client.set_script_from_file(name, args.existing_file(file), device)

    @exception_handler
    def set_script_from_file_multigpu(
        self, name: str, file: str, first_gpu: int, num_gpus: int
    ) -> None:
        args.strs(name=name, file=file)
        args.ints(first_gpu=first_gpu, num_gpus=num_gpus)
        path = args.existing_file(file)
        args.gpu_range(first_gpu, num_gpus)
        with open(path, encoding="utf-8") as f:
            script = f.read()
        self._client.set_script_multigpu(name, script, first_gpu, num_gpus)

    @exception_handler
    def get_script(self, name: str) -> str:
        typecheck(name, "name", str)
        return self._client.get_script(name)

    @exception_handler
    def run_script(
        self, name: str, fn_name: str, inputs: str | list[str], outputs: str | list[str]
    ) -> None:
        """Call ``fn_name`` of the stored script on the tensors ``inputs``."""
        args.strs(name=name, fn_name=fn_name)
        inputs, outputs = args.tensor_names(inputs, outputs)
        self._client.run_script(name, fn_name, inputs, outputs)

    @exception_handler
    def run_script_multigpu(
        self,
        name: str,
        fn_name: str,
        inputs: str | list[str],
        outputs: str | list[str],
        offset: int,
        first_gpu: int,
        num_gpus: int,
    ) -> None:
        args.strs(name=name, fn_name=fn_name)
        typecheck(offset, "offset", int)
        args.ints(first_gpu=first_gpu, num_gpus=num_gpus)
        inputs, outputs = args.tensor_names(inputs, outputs)
        args.gpu_range(first_gpu, num_gpus)
        self._client.run_script_multigpu(
            name, fn_name, inputs, outputs, offset, first_gpu, num_gpus
        )

    @exception_handler
    def delete_script(self, name: str) -> None:
        typecheck(name, "name", str)
        self._client.delete_script(name)

    @exception_handler
    def delete_script_multigpu(self, name: str, first_gpu: int, num_gpus: int) -> None:
        typecheck(name, "name", str)
        args.gpu_range(first_gpu, num_gpus)
        self._client.delete_script_multigpu(name, first_gpu, num_gpus)
