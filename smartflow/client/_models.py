"""Models next to the data: store ONNX models and run them in the worker beside each shard.

``set_model`` writes the model to every shard and has every shard's worker load it before it
counts as stored, so bytes that are not a model are refused here, not at the first run, and a
refused model leaves any earlier model of that name in place. ``run_model`` asks the worker on
the shard that holds the first input (the protocol is in :mod:`smartflow.client._runs`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

import anyio
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
from smartflow.client import _tensor_io as tio
from smartflow.client._core import key_bytes, poll
from smartflow.client._links import on_fast_path
from smartflow.client._prefix import Kind
from smartflow.client._resp import (
    ConnectionPool,
    RespConnection,
    pack_command,
    raise_for_error,
    transaction,
)
from smartflow.client._tensors import TensorOps
from smartflow.errors import (
    InvalidArgumentError,
    KeyNotFoundError,
    MissingFileError,
    RunTimeoutError,
    SmartflowError,
    UnsupportedTypeError,
    WorkerUnavailableError,
)

_DEVICE = re.compile(r"CPU|GPU(:\d+)?")


class ModelOps(TensorOps):
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
        ``batch_size``, waiting at most ``min_batch_timeout`` ms for ``min_batch_size``)."""
        stored = self._stored(name, write=True)
        data = _model_bytes(name, model)
        record = model_record(
            name, data, backend, device, batch_size, min_batch_size, min_batch_timeout, tag,
            inputs, outputs,
        )  # fmt: skip
        await self._store_record(stored, record)

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
        stored = self._stored(name, write=True)
        path = file_path(model_file, "model_file")
        record = model_record(
            name, b"", backend, device, batch_size, min_batch_size, min_batch_timeout, tag,
            inputs, outputs,
        )  # fmt: skip
        data = await read_file(path, "model file")
        await self._store_record(stored, attrs.evolve(record, data=data))

    async def get_model(self, name: str) -> bytes:
        """The model's bytes as stored."""
        return (await self._read_record(self._stored(name, write=False))).data

    async def model_exists(self, name: str) -> bool:
        """True when a model (or script) is stored under ``name``."""
        stored = self._stored(name, write=False)
        return await self._exists(f"model_exists {name!r}", self._record_key(stored))

    async def poll_model(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        """Check up to ``num_tries`` times, ``poll_frequency_ms`` apart, for the model."""
        self._stored(name, write=False)
        return await poll(lambda: self.model_exists(name), poll_frequency_ms, num_tries)

    async def delete_model(self, name: str) -> None:
        """Delete a model (or script) from every shard; deleting a missing one is no error."""
        stored = self._stored(name, write=False)
        for pool in self._router.shard_pools():
            tag = self._router.tag_for(pool)
            keys = [runs.model_key(tag, stored), runs.version_key(tag, stored)]
            await self._on(pool, f"delete_model {name!r}", lambda c, k=keys: _delete(c, k))

    async def run_model(
        self, name: str, inputs: Sequence[str] | None = None, outputs: Sequence[str] | None = None
    ) -> None:
        """Run the model on the tensors named ``inputs``, writing the tensors named ``outputs``."""
        await self._run(f"run_model {name!r}", name, inputs, outputs)

    async def infer(
        self, name: str, inputs: Sequence[np.ndarray] | Mapping[str, np.ndarray]
    ) -> list[np.ndarray]:
        """Put ``inputs``, run the model, return its outputs, and delete the temporary tensors,
        in as few round trips as the protocol allows. A mapping is taken in its order. The
        temporary tensors expire on their own too, so none outlives a run that timed out (or
        a client that died): the inputs after the run and command timeouts, the outputs a run
        timeout after the worker wrote them."""
        stored = self._stored(name, write=False)
        arrays = list(inputs.values()) if isinstance(inputs, Mapping) else list(inputs)
        if not arrays:
            raise InvalidArgumentError(f"infer {name!r}: give at least one input array")
        config = self._config
        scratch = f"smartflow.tmp{{{runs.new_id()}}}:"
        inputs_ttl = _milliseconds(config.run_timeout + config.command_timeout)
        items = [
            tio.EncodedTensor.of(f"input {i}", f"{scratch}in{i}".encode(), a, inputs_ttl)
            for i, a in enumerate(arrays)
        ]
        request = runs.Request(
            "run",
            stored,
            tuple(item.key.decode() for item in items),
            output_prefix=f"{scratch}out",
            expire_ms=_milliseconds(config.run_timeout),
        )
        pool = self._router.pool_for(items[0].key)
        count = runs.MAX_OUTPUTS  # until the worker says: every output it could have written
        try:
            await self._put_items(items)
            count = await self._submit(f"infer {name!r}", pool, request)
            out_keys = [(f"{scratch}out{i}".encode(), f"output {i}") for i in range(count)]
            return await self._get_keyed(out_keys)
        finally:
            doomed = [item.key for item in items]
            doomed += [f"{scratch}out{i}".encode() for i in range(count)]
            with anyio.move_on_after(config.command_timeout, shield=True):
                try:
                    await self._slow("infer cleanup", lambda r: r.delete(*doomed))
                except SmartflowError:
                    pass  # they expire: the error being raised, if any, matters more

    # -- internals ----------------------------------------------------------------------------

    async def _run(
        self,
        what: str,
        name: str,
        inputs: Sequence[str] | None,
        outputs: Sequence[str] | None,
        function: str = "",
    ) -> None:
        """Ask the worker on the shard of the first input to run a model or script function."""
        stored = self._stored(name, write=False)
        in_keys = [self._key_in(Kind.TENSOR, n) for n in name_list(inputs, "inputs")]
        out_keys = [self._key_out(Kind.TENSOR, n) for n in name_list(outputs, "outputs")]
        if not in_keys or not out_keys:
            raise InvalidArgumentError(f"{what}: give at least one input and one output")
        request = runs.Request(
            "run",
            stored,
            tuple(k.decode() for k in in_keys),
            tuple(k.decode() for k in out_keys),
            function=function,
        )
        await self._submit(what, self._router.pool_for(in_keys[0]), request)

    def _stored(self, name: object, *, write: bool) -> str:
        key_bytes(name)
        prefixer = self._prefixer
        stored = (
            prefixer.for_write(Kind.MODEL, name) if write else prefixer.for_read(Kind.MODEL, name)
        )  # type: ignore[arg-type]
        if "}" in stored or "{" in stored:
            raise InvalidArgumentError(f"model name {name!r} must not contain braces")
        return stored

    def _record_key(self, stored: str) -> bytes:
        pool = self._router.shard_pools()[0]
        return runs.model_key(self._router.tag_for(pool), stored)

    async def _store_record(self, stored: str, record: runs.ModelRecord) -> None:
        """Write the record under a pending key on every shard, have each worker load it, and
        only then make it the model (any refusal deletes the pending copies)."""
        pools = self._router.shard_pools()
        pending = runs.pending_name(stored, record.version)
        encoded = record.encode()
        what = f"set_model {stored!r}"
        errors: list[BaseException] = []

        async def load(pool: ConnectionPool) -> None:
            key = runs.model_key(self._router.tag_for(pool), pending)
            try:
                await self._on(pool, what, lambda c: _set(c, key, encoded))
                await self._submit(what, pool, runs.Request("load", pending))
            except Exception as exc:  # reported after every shard has answered
                errors.append(exc)

        try:
            async with anyio.create_task_group() as tg:
                for pool in pools:
                    tg.start_soon(load, pool)
            if errors:
                raise errors[0]
            for pool in pools:
                tag = self._router.tag_for(pool)
                commands = [
                    pack_command(
                        b"RENAME", runs.model_key(tag, pending), runs.model_key(tag, stored)
                    ),
                    pack_command(b"SET", runs.version_key(tag, stored), record.version),
                ]
                await self._on(pool, what, lambda c, cm=commands: transaction(c, cm, what))
        finally:
            with anyio.CancelScope(shield=True):  # bounded: each delete by the command timeout
                for pool in pools:
                    key = runs.model_key(self._router.tag_for(pool), pending)
                    await self._on(pool, what, lambda c, k=key: _delete(c, [k]))

    async def _read_record(self, stored: str) -> runs.ModelRecord:
        key = self._record_key(stored)
        value = await self._slow(f"get_model {stored!r}", lambda r: r.get(key))
        if value is None:
            raise KeyNotFoundError(f"model {stored!r} does not exist")
        return runs.ModelRecord.decode(value, stored)

    async def _submit(self, what: str, pool: ConnectionPool, request: runs.Request) -> int:
        """Send ``request`` to ``pool``'s worker and wait for its answer; returns the number of
        outputs it wrote."""
        tag = self._router.tag_for(pool)
        # Loading may wait for a worker that is still starting, and builds a session: it is
        # bounded like any command, not like a run.
        config = self._config
        timeout = config.command_timeout if request.op == "load" else config.run_timeout
        try:
            answer = await self._on(
                pool,
                what,
                lambda c: runs.submit_and_wait(c, tag, request, timeout),
                timeout + self._config.command_timeout,
            )
        except WorkerUnavailableError:
            reason = await self._on(pool, what, lambda c: runs.unavailable_reason(c, tag))
            raise WorkerUnavailableError(f"{what}: {reason}") from None
        if answer is None:
            raise RunTimeoutError(f"{what}: no answer from the inference worker in {timeout:g} s")
        return runs.raise_for_reply(answer, what)

    async def _on(self, pool: ConnectionPool, what: str, operation, limit_s=None):  # type: ignore[no-untyped-def]
        """Run ``operation(conn)`` on ``pool``'s shard (not routed by key)."""
        self._check_open()
        return await on_fast_path(pool, self._config, what, operation, limit_s)


async def _set(conn: RespConnection, key: bytes, value: bytes) -> None:
    await conn.send(pack_command(b"SET", key, value))
    raise_for_error(await conn.read_reply(), f"SET {key!r}")


async def _delete(conn: RespConnection, keys: list[bytes]) -> None:
    await conn.send(pack_command(b"DEL", *keys))
    raise_for_error(await conn.read_reply(), "DEL")


def _milliseconds(seconds: float) -> int:
    """A time to live for scratch tensors: at least a second, so a reply read at once finds
    its outputs whatever the configured timeouts."""
    return max(int(seconds * 1000), 1000)


def _device(device: object) -> str:
    if not isinstance(device, str):
        raise UnsupportedTypeError(
            f"device must be a str ('CPU', 'GPU' or 'GPU:<n>'), got {type(device).__name__}"
        )
    if not _DEVICE.fullmatch(device.upper()):
        raise InvalidArgumentError(f"device {device!r} must be 'CPU', 'GPU' or 'GPU:<n>'")
    return device.upper()


def _model_bytes(name: str, model: object) -> bytes:
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
) -> runs.ModelRecord:
    """The record of a model, every argument checked in ``set_model``'s order (no I/O)."""
    what = f"model {name!r}"
    checked_backend = onnx_backend(backend, what)
    checked_device = _device(device)
    batch, least = batching(batch_size, min_batch_size, what)
    return runs.ModelRecord(
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


async def read_file(path: str | os.PathLike, what: str) -> bytes:
    """The bytes of the file at ``path`` (read in a worker thread); the errors name it."""
    try:
        return await anyio.Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise MissingFileError(f"{what} {os.fspath(path)!r} does not exist") from exc
    except OSError as exc:
        raise InvalidArgumentError(
            f"{what} {os.fspath(path)!r} cannot be read: {exc.strerror or exc}"
        ) from exc
