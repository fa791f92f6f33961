"""Models next to the data: store ONNX models and run them in the worker beside each shard.

``set_model`` writes the model to every shard and has every shard's worker load it before it
counts as stored, so bytes that are not a model are refused here, not at the first run, and a
refused model leaves any earlier model of that name in place. ``run_model`` asks the worker on
the shard that holds the first input (the protocol is in :mod:`smartflow.wire.protocol`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import attrs
import numpy as np

from smartflow._checks import (
    at_least_zero,
    batching,
    checked_text,
    file_path,
    name_list,
    onnx_backend,
)
from smartflow.client import _runs as runs
from smartflow.client._core import Seam, poll
from smartflow.errors import InvalidArgumentError, UnsupportedTypeError
from smartflow.wire import codec, protocol
from smartflow.wire import tensors as tio


class ModelOps(Seam):
    """SmartRedis's model API, async, plus :meth:`infer`."""

    async def set_model(
        self,
        name: str,
        model: bytes,
        backend: str = "ONNX",
        device: str = "CPU",
        batch_size: int = 0,
        min_batch_size: int = 0,
        min_batch_timeout: int = 0,
        tag: str = "",
        inputs: Sequence[str] | None = None,
        outputs: Sequence[str] | None = None,
    ) -> None:
        """Store an ONNX model under ``name`` on every shard, once each shard's worker has
        loaded it. ``batch_size > 0`` lets the worker join concurrent runs along axis 0 (up to
        ``batch_size``, waiting at most ``min_batch_timeout`` ms for ``min_batch_size`` while
        requests keep coming; a lone request after a round that ran alone runs at once)."""
        stored = runs.stored_name(self, name, write=True)
        data = model_bytes(name, model)
        record = model_record(
            name, data, backend, device, batch_size, min_batch_size, min_batch_timeout, tag,
            inputs, outputs,
        )  # fmt: skip
        await runs.store_record(self, stored, record)

    async def set_model_from_file(
        self,
        name: str,
        model_file: str | os.PathLike,
        backend: str = "ONNX",
        device: str = "CPU",
        batch_size: int = 0,
        min_batch_size: int = 0,
        min_batch_timeout: int = 0,
        tag: str = "",
        inputs: Sequence[str] | None = None,
        outputs: Sequence[str] | None = None,
    ) -> None:
        """:meth:`set_model` with the bytes of ``model_file`` (read in a worker thread, once
        every other argument has been checked); a missing file is a
        :class:`~smartflow.errors.MissingFileError`."""
        stored = runs.stored_name(self, name, write=True)
        path = file_path(model_file, "model_file")
        record = model_record(
            name, b"", backend, device, batch_size, min_batch_size, min_batch_timeout, tag,
            inputs, outputs,
        )  # fmt: skip
        data = await runs.read_file(path, "model file")
        await runs.store_record(self, stored, attrs.evolve(record, data=data))

    async def get_model(self, name: str) -> bytes:
        """The model's bytes as stored."""
        return (await runs.read_record(self, runs.stored_name(self, name, write=False))).data

    async def model_exists(self, name: str) -> bool:
        """True when a model (or script) is stored under ``name``."""
        stored = runs.stored_name(self, name, write=False)
        return await self._exists(f"model_exists {name!r}", runs.record_key(self, stored))

    async def poll_model(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        """Check up to ``num_tries`` times, ``poll_frequency_ms`` apart, for the model."""
        runs.stored_name(self, name, write=False)
        return await poll(lambda: self.model_exists(name), poll_frequency_ms, num_tries)

    async def delete_model(self, name: str) -> None:
        """Delete a model (or script) from every shard; deleting a missing one is no error."""
        await runs.delete_record(self, name)

    async def run_model(
        self, name: str, inputs: Sequence[str] | None = None, outputs: Sequence[str] | None = None
    ) -> None:
        """Run the model on the tensors named ``inputs``, writing the tensors named ``outputs``."""
        await runs.run(self, f"run_model {name!r}", name, inputs, outputs)

    async def infer(
        self, name: str, inputs: Sequence[np.ndarray] | Mapping[str, np.ndarray]
    ) -> list[np.ndarray]:
        """Run the model on ``inputs`` and return its outputs, in one round trip: the inputs
        travel with the request and the outputs come back with the answer, so nothing is
        stored (and nothing can be left behind). A mapping is taken in its order. For inputs
        over the store's value limit, ``put_tensor`` them and use :meth:`run_model`."""
        stored = runs.stored_name(self, name, write=False)
        arrays = list(inputs.values()) if isinstance(inputs, Mapping) else list(inputs)
        if not arrays:
            raise InvalidArgumentError(f"infer {name!r}: give at least one input array")
        items = [tio.EncodedTensor.of(f"input {i}", b"", a) for i, a in enumerate(arrays)]
        if sum(item.value_len for item in items) > self._config.max_value_bytes:
            raise InvalidArgumentError(
                f"infer {name!r}: the inputs are over the store's value limit of "
                f"{self._config.max_value_bytes} bytes; put_tensor them and use run_model"
            )
        request = protocol.Request(
            "run", stored, tuple(item.name for item in items), reply_outputs=True
        )
        values = [memoryview(item.value()) for item in items]
        # Any shard's worker serves it: spread the calls by their id.
        shard = self._wire.shard_for(request.id.encode())
        _, reply = await runs.submit(self, f"infer {name!r}", shard, request, inline_values=values)
        return [
            codec.decode(value, f"output {i}")
            for i, value in enumerate(protocol.reply_values(reply))
        ]


def model_bytes(name: str, model: object) -> bytes:
    if not isinstance(model, bytes | bytearray | memoryview):
        raise UnsupportedTypeError(
            f"model {name!r}: the model is bytes, got {type(model).__name__}"
        )
    return bytes(model)


def model_record(
    name: str,
    data: bytes,
    backend: object,
    device: object,
    batch_size: object,
    min_batch_size: object,
    min_batch_timeout: object,
    tag: object,
    inputs: object,
    outputs: object,
) -> protocol.ModelRecord:
    """The record of a model, every argument checked in ``set_model``'s order (no I/O)."""
    what = f"model {name!r}"
    checked_backend = onnx_backend(backend, what)
    checked_device = runs.device_name(device)
    batch, least = batching(batch_size, min_batch_size, what)
    return protocol.ModelRecord(
        backend=checked_backend,
        device=checked_device,
        data=data,
        batch_size=batch,
        min_batch_size=least,
        min_batch_timeout=at_least_zero(min_batch_timeout, "min_batch_timeout"),
        tag=checked_text(tag, "tag"),
        inputs=name_list(inputs, "inputs"),
        outputs=name_list(outputs, "outputs"),
    )
