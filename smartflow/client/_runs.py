"""What the model and script calls share: their records in the store, and asking for a run.

Functions over the client's seam (:mod:`smartflow.client._core`), so neither
:class:`~smartflow.client._models.ModelOps` nor :class:`~smartflow.client._scripts.ScriptOps`
inherits the other. The protocol itself is :mod:`smartflow.wire.protocol`; a request travels
through :class:`~smartflow.wire.queue.ShardQueue`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import anyio

from smartflow._checks import name_list
from smartflow.client._core import ClientCore, key_bytes
from smartflow.client._prefix import Kind
from smartflow.errors import (
    InvalidArgumentError,
    KeyNotFoundError,
    MissingFileError,
    UnsupportedTypeError,
)
from smartflow.wire import ConnectionPool, protocol
from smartflow.wire.queue import ShardQueue

_DEVICE = re.compile(r"CPU|GPU(:\d+)?")


def stored_name(core: ClientCore, name: object, *, write: bool) -> str:
    """The name a model or script is stored under (prefixed when model prefixing is on)."""
    key_bytes(name)
    prefixer = core._prefixer
    stored = prefixer.for_write(Kind.MODEL, name) if write else prefixer.for_read(Kind.MODEL, name)  # type: ignore[arg-type]
    if "}" in stored or "{" in stored:
        raise InvalidArgumentError(f"model name {name!r} must not contain braces")
    return stored


def record_key(core: ClientCore, stored: str) -> bytes:
    """The key of the record on the first shard (every shard holds a copy)."""
    wire = core._wire
    return protocol.model_key(wire.tag_for(wire.shards()[0]), stored)


async def store_record(core: ClientCore, stored: str, record: protocol.ModelRecord) -> None:
    """Write the record under a pending key on every shard, have each worker load it, and only
    then make it the model (any refusal deletes the pending copies)."""
    wire = core._wire
    shards = wire.shards()
    pending = protocol.pending_name(stored, record.version)
    encoded = record.encode()
    what = f"set_model {stored!r}"
    errors: list[BaseException] = []

    async def load(shard: ConnectionPool) -> None:
        key = protocol.model_key(wire.tag_for(shard), pending)
        try:
            await core._command_on(shard, what, b"SET", key, encoded)
            await submit(core, what, shard, protocol.Request("load", pending))
        except Exception as exc:  # reported after every shard has answered
            errors.append(exc)

    try:
        async with anyio.create_task_group() as tg:
            for shard in shards:
                tg.start_soon(load, shard)
        if errors:
            raise errors[0]
        for shard in shards:
            tag = wire.tag_for(shard)
            commands = [
                (b"RENAME", protocol.model_key(tag, pending), protocol.model_key(tag, stored)),
                (b"SET", protocol.version_key(tag, stored), record.version),
            ]
            await core._transaction(what, commands, shard=shard)
    finally:
        with anyio.CancelScope(shield=True):  # bounded: each delete by the command timeout
            for shard in shards:
                key = protocol.model_key(wire.tag_for(shard), pending)
                await core._command_on(shard, what, b"DEL", key)


async def read_record(core: ClientCore, stored: str) -> protocol.ModelRecord:
    key = record_key(core, stored)
    value = await core._command(f"get_model {stored!r}", key, b"GET", key)
    if value is None:
        raise KeyNotFoundError(f"model {stored!r} does not exist")
    return protocol.ModelRecord.decode(value, stored)  # type: ignore[arg-type]


async def delete_record(core: ClientCore, name: str) -> None:
    """Delete a model or script from every shard; deleting a missing one is no error."""
    stored = stored_name(core, name, write=False)
    wire = core._wire
    for shard in wire.shards():
        tag = wire.tag_for(shard)
        keys = [protocol.model_key(tag, stored), protocol.version_key(tag, stored)]
        await core._command_on(shard, f"delete_model {name!r}", b"DEL", *keys)


async def run(
    core: ClientCore,
    what: str,
    name: str,
    inputs: Sequence[str] | None,
    outputs: Sequence[str] | None,
    function: str = "",
) -> None:
    """Ask the worker on the shard of the first input to run a model or script function. The
    request carries the model's version, and on a single store the inputs too (read in the
    store as the request is queued), so the worker has all it needs the moment it wakes."""
    stored = stored_name(core, name, write=False)
    in_keys = [core._key_in(Kind.TENSOR, n) for n in name_list(inputs, "inputs")]
    out_keys = [core._key_out(Kind.TENSOR, n) for n in name_list(outputs, "outputs")]
    if not in_keys or not out_keys:
        raise InvalidArgumentError(f"{what}: give at least one input and one output")
    request = protocol.Request(
        "run",
        stored,
        tuple(k.decode() for k in in_keys),
        tuple(k.decode() for k in out_keys),
        function=function,
    )
    # On a cluster the inputs may live on any shard: the worker reads them itself.
    inline = () if core._wire.cluster else in_keys
    await submit(core, what, core._wire.shard_for(in_keys[0]), request, inline_keys=inline)


async def submit(
    core: ClientCore,
    what: str,
    shard: ConnectionPool,
    request: protocol.Request,
    *,
    inline_keys: Sequence[bytes] = (),
    inline_values: Sequence[memoryview] = (),
) -> tuple[int, bytes]:
    """Send ``request`` to ``shard``'s worker and wait for its answer; returns the number of
    outputs it wrote and the raw reply. A run's entry carries the model's version (and
    ``inline_keys``' values, and ``inline_values``); a load is plain JSON. Loading may wait
    for a worker that is still starting, and builds a session: it is bounded like any
    command, not like a run."""
    core._check_open()
    config = core._config
    queue = ShardQueue(core._wire, shard)
    if request.op == "load":
        return await queue.submit(what, request, config.command_timeout)
    return await queue.submit(
        what,
        request,
        config.run_timeout,
        version_key=protocol.version_key(queue.tag, request.model),
        inline_keys=inline_keys,
        inline_values=inline_values,
    )


def device_name(device: object) -> str:
    if not isinstance(device, str):
        raise UnsupportedTypeError(
            f"device must be a str ('CPU', 'GPU' or 'GPU:<n>'), got {type(device).__name__}"
        )
    if not _DEVICE.fullmatch(device.upper()):
        raise InvalidArgumentError(f"device {device!r} must be 'CPU', 'GPU' or 'GPU:<n>'")
    return device.upper()


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
