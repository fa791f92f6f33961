"""Argument shapes SmartRedis accepts and smartflow spells differently."""

from __future__ import annotations

import os.path
from typing import Any

from smartflow.smartredis.error import RedisRuntimeError
from smartflow.smartredis.util import init_default, typecheck

SMARTREDIS_BACKENDS = ("TF", "TFLITE", "TORCH", "ONNX")


def tensor_names(inputs: Any, outputs: Any) -> tuple[list[str], list[str]]:
    """``inputs``/``outputs`` as lists: None is empty, a str is one name."""
    ins = init_default([], inputs, (list, str))
    outs = init_default([], outputs, (list, str))
    return ([ins] if isinstance(ins, str) else ins), ([outs] if isinstance(outs, str) else outs)


def backend(name: str) -> str:
    """The backend in capitals; TypeError for one SmartRedis does not know."""
    upper = name.upper()
    if upper not in SMARTREDIS_BACKENDS:
        raise TypeError(f"Backend type {upper} unsupported")
    return upper


def refuse_redisai_backend(name: str, upper: str) -> None:
    """smartflow runs ONNX models; the other SmartRedis backends need RedisAI."""
    if upper != "ONNX":
        raise RedisRuntimeError(
            f"model {name!r}: backend {upper} needs RedisAI, which smartflow does not use; "
            "smartflow runs ONNX models (export the model to ONNX and use backend 'ONNX')",
            "Client.set_model",
        )


def device(name: str) -> str:
    """The device in capitals; TypeError unless it starts with CPU or GPU."""
    upper = name.upper()
    if not upper.startswith(("CPU", "GPU")):
        raise TypeError("Device argument must start with either CPU or GPU")
    return upper


def existing_file(path: str) -> str:
    """The absolute path of a file that exists; FileNotFoundError otherwise."""
    absolute = os.path.abspath(path)
    if not os.path.isfile(absolute):
        raise FileNotFoundError(absolute)
    return absolute


def gpu_range(first_gpu: int, num_gpus: int) -> None:
    """The multi-GPU arguments: ints, ``first_gpu >= 0``, ``num_gpus >= 1`` (ValueError)."""
    typecheck(first_gpu, "first_gpu", int)
    typecheck(num_gpus, "num_gpus", int)
    if first_gpu < 0:
        raise ValueError(f"first_gpu must be >= 0, got {first_gpu}")
    if num_gpus < 1:
        raise ValueError(f"num_gpus must be >= 1, got {num_gpus}")


def ints(**values: Any) -> None:
    """TypeError for any of ``values`` that is not an int."""
    for name, value in values.items():
        typecheck(value, name, int)


def strs(**values: Any) -> None:
    """TypeError for any of ``values`` that is not a str."""
    for name, value in values.items():
        typecheck(value, name, str)
