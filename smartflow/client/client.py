"""The async Client: numpy tensors in and out of a smartflow store.

::

    async with Client(address=db.get_address()[0], cluster=False) as client:
        await client.put_tensor("x", np.arange(10.0))
        x = await client.get_tensor("x")

With no arguments the client reads the environment contract (``SSDB``, ``SR_DB_TYPE``,
``SSDB_PASSWORD``) that smartflow sets for the applications it launches. ``__aenter__`` connects
and authenticates eagerly, so a wrong address or secret fails there. One client may be shared by
any number of concurrent tasks.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

import anyio
import numpy as np
from redis.crc import key_slot

from smartflow.client import _tensor_io as tio
from smartflow.client import codec
from smartflow.client._dispatch import Dispatcher
from smartflow.client._env import address_from_env, parse_address
from smartflow.client._links import (
    close_redis,
    make_redis,
    make_redis_cluster,
    on_fast_path,
    translated,
)
from smartflow.client._resp import (
    RespConnection,
    pack_command,
    raise_for_error,
)
from smartflow.client._routing import ClusterRouter, SingleRouter
from smartflow.client._secrets import known_secret
from smartflow.client.config import ClientConfig
from smartflow.errors import (
    ClientError,
    InvalidArgumentError,
    KeyNotFoundError,
    TensorFormatError,
    UnsupportedTypeError,
)

_UNSET: object = object()
#: Reads of a chunked tensor that is overwritten while being read: retried with the new manifest.
_CHUNKED_READ_TRIES = 3


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


class Client:
    """An async client of one smartflow store (see the module docstring)."""

    def __init__(
        self,
        address: str | None = None,
        cluster: bool | None = None,
        password: str | None = _UNSET,  # type: ignore[assignment]
        *,
        db_identifier: str = "",
        config: ClientConfig | None = None,
    ) -> None:
        env_password = None
        if address is None:
            address, env_cluster, env_password = address_from_env(db_identifier)
            cluster = env_cluster if cluster is None else cluster
        if not isinstance(address, str):
            raise InvalidArgumentError(f"store address {address!r} must be a str")
        seeds = [parse_address(a) for a in address.split(",")]
        if password is _UNSET:
            password = known_secret(str(seeds[0])) or env_password
        self._config = config or ClientConfig.from_env()
        self._cluster = bool(cluster)
        self.address = str(seeds[0])
        self._where = ",".join(map(str, seeds)) if cluster else self.address
        self._router: SingleRouter | ClusterRouter
        if self._cluster:
            self._router = ClusterRouter(seeds, password, self._config)
            self._redis = make_redis_cluster(seeds, password, self._config)
        else:
            self._router = SingleRouter(seeds[0], password, self._config)
            self._redis = make_redis(seeds[0], password, self._config)
        self._dispatch = Dispatcher(self._router, self._config)
        #: redis-py's cluster pools fail when full instead of waiting: bound the calls.
        self._slow_slots: anyio.Semaphore | None = None
        self._state = _State.UNOPENED

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def connect(self) -> None:
        """Connect and authenticate both links now; raises on a wrong address or secret."""
        if self._state is not _State.UNOPENED:
            raise ClientError(f"client is {self._state.value}; create a new Client")
        if self._cluster:
            self._slow_slots = anyio.Semaphore(self._config.max_connections)
        try:
            await self._router.refresh()
            for pool in self._router.pools():
                await on_fast_path(pool, self._config, "connect", _ping)
            with translated(self._where, "connect"):
                with anyio.fail_after(self._config.connect_timeout):
                    await self._redis.ping()
        except BaseException:
            await self.aclose()
            raise
        self._state = _State.OPEN

    async def aclose(self) -> None:
        """Close every connection; the client cannot be reused."""
        self._state = _State.CLOSED
        self._router.close()
        with anyio.CancelScope(shield=True):
            await close_redis(self._redis)

    # -- tensors ------------------------------------------------------------------------------

    async def put_tensor(self, name: str, tensor: np.ndarray) -> None:
        """Store ``tensor`` under ``name`` (replacing what was there)."""
        item = tio.EncodedTensor.of(name, _key(name), tensor)
        if item.value_len > self._config.max_value_bytes:
            await self._put_chunked(item)
            return
        await self._fast(f"put_tensor {name!r}", item.key, lambda conn: tio.put_many(conn, [item]))

    async def get_tensor(self, name: str) -> np.ndarray:
        """The tensor stored under ``name``: a new writeable, aligned array."""
        (array,) = await self._get_arrays([name])
        return array

    async def put_tensors(self, tensors: Mapping[str, np.ndarray]) -> None:
        """Store many tensors in one pipelined round trip; all are checked before any is sent."""
        if not isinstance(tensors, Mapping):
            raise UnsupportedTypeError("put_tensors takes a mapping of name -> numpy array")
        items = [tio.EncodedTensor.of(name, _key(name), value) for name, value in tensors.items()]
        limit = self._config.max_value_bytes
        small = [item for item in items if item.value_len <= limit]
        large = [item for item in items if item.value_len > limit]
        for item in large:
            tio.chunk_prefix(item.key.decode())  # refuse an unchunkable name before writing any
        if small:
            await self._fast_split("put_tensors", [item.key for item in small], small, tio.put_many)
        for item in large:
            await self._put_chunked(item)

    async def get_tensors(self, names: Iterable[str]) -> dict[str, np.ndarray]:
        """The named tensors, fetched in one pipelined round trip."""
        if isinstance(names, str):
            raise UnsupportedTypeError("get_tensors takes an iterable of names, not one string")
        names = list(names)
        return dict(zip(names, await self._get_arrays(names), strict=True))

    async def delete_tensor(self, name: str) -> None:
        """Delete a tensor (and its chunks). Like SmartRedis, deleting a missing key is no error;
        a key that holds something other than a tensor is refused and left alone."""
        key = _key(name)
        ref = await self._probe(name, key, missing_ok=True)
        doomed = [key] + [k.encode() for k in ref.manifest.chunk_keys()] if ref else [key]
        await self._slow(f"delete_tensor {name!r}", lambda r: r.delete(*doomed))

    async def copy_tensor(self, src_name: str, dest_name: str) -> None:
        """Copy a tensor to a new name (replacing what was there)."""
        src, dest = _key(src_name), _key(dest_name)
        if src == dest:
            raise InvalidArgumentError(f"copy_tensor: source and destination are both {src_name!r}")
        if await self._probe(src_name, src) is not None or self._across_slots(src, dest):
            await self.put_tensor(dest_name, await self.get_tensor(src_name))
            return
        replaced = await self._chunked_at(dest_name, dest)
        await self._slow(f"copy_tensor {src_name!r}", lambda r: r.copy(src, dest, replace=True))
        await self._delete_chunks(dest_name, replaced)

    async def rename_tensor(self, old_name: str, new_name: str) -> None:
        """Rename a tensor (replacing what was at the new name)."""
        old, new = _key(old_name), _key(new_name)
        if old == new:
            raise InvalidArgumentError(f"rename_tensor: old and new names are both {old_name!r}")
        if await self._probe(old_name, old) is not None or self._across_slots(old, new):
            await self.copy_tensor(old_name, new_name)
            await self.delete_tensor(old_name)
            return
        replaced = await self._chunked_at(new_name, new)
        await self._slow(f"rename_tensor {old_name!r}", lambda r: r.rename(old, new))
        await self._delete_chunks(new_name, replaced)

    async def tensor_exists(self, name: str) -> bool:
        """True when a tensor is stored under ``name``."""
        return await self.key_exists(name)

    async def key_exists(self, key: str) -> bool:
        """True when ``key`` exists in the store, whatever it holds."""
        raw = _key(key)
        return bool(await self._slow(f"key_exists {key!r}", lambda r: r.exists(raw)))

    async def poll_tensor(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        """Check up to ``num_tries`` times, ``poll_frequency_ms`` apart, for the tensor."""
        return await self.poll_key(name, poll_frequency_ms, num_tries)

    async def poll_key(self, key: str, poll_frequency_ms: int, num_tries: int) -> bool:
        """Check up to ``num_tries`` times, ``poll_frequency_ms`` apart; False if never found."""
        _check_poll(poll_frequency_ms, num_tries)
        for attempt in range(num_tries):
            if await self.key_exists(key):
                return True
            if attempt + 1 < num_tries:
                await anyio.sleep(poll_frequency_ms / 1000)
        return False

    # -- internals ----------------------------------------------------------------------------

    def _across_slots(self, a: bytes, b: bytes) -> bool:
        """On a cluster, keys in different slots cannot meet in one COPY or RENAME."""
        return self._cluster and key_slot(a) != key_slot(b)

    def _check_open(self) -> None:
        if self._state is not _State.OPEN:
            raise ClientError(
                f"client is {self._state.value}: use it inside `async with Client(...)` "
                "(or after `await client.connect()`), and create a new one once closed"
            )

    async def _fast(self, what: str, key: bytes, operation):  # type: ignore[no-untyped-def]
        """Run ``operation(conn)`` on the fast path to the shard serving ``key``."""
        self._check_open()
        return await self._dispatch.one(what, key, operation)

    async def _fast_split(self, what: str, keys: list[bytes], items: list, operation) -> list:  # type: ignore[no-untyped-def]
        """``operation(conn, part)`` per shard, in parallel; results in the order of ``items``."""
        self._check_open()
        return await self._dispatch.split(what, keys, items, operation)

    async def _slow(self, what: str, call):  # type: ignore[no-untyped-def]
        """Run ``call(redis)`` through redis-py, errors translated."""
        self._check_open()
        with translated(self._where, what):
            if self._slow_slots is None:
                return await call(self._redis)
            async with self._slow_slots:
                return await call(self._redis)

    async def _get_arrays(self, names: list[str]) -> list[np.ndarray]:
        keys = [(_key(name), name) for name in names]
        if not keys:
            return []
        what = f"get_tensor {names[0]!r}" if len(names) == 1 else "get_tensors"
        values = await self._fast_split(what, [k for k, _ in keys], keys, tio.get_many)
        for i, value in enumerate(values):
            if isinstance(value, tio.ChunkedRef):
                values[i] = await self._read_chunked(what, keys[i][0], value)
        return values

    async def _read_chunked(self, what: str, key: bytes, ref: tio.ChunkedRef) -> np.ndarray:
        """Fetch a chunked tensor's chunks; if an overwrite removed them meanwhile, read the
        new manifest and try again (a few times: a writer could keep racing us)."""
        for _ in range(_CHUNKED_READ_TRIES - 1):
            try:
                return await self._fast(what, key, lambda conn, r=ref: tio.read_chunks(conn, r))
            except tio.ChunkMissingError:
                again = [(key, ref.name)]
                (fresh,) = await self._fast(what, key, lambda c, a=again: tio.get_many(c, a))
                if not isinstance(fresh, tio.ChunkedRef):
                    return fresh
                ref = fresh
        return await self._fast(what, key, lambda conn: tio.read_chunks(conn, ref))

    async def _put_chunked(self, item: tio.EncodedTensor) -> None:
        pairs, manifest = tio.chunk_values(item, self._config.max_value_bytes)
        previous = await self._chunked_at(item.name, item.key)
        what = f"put_tensor {item.name!r}"
        for pair in pairs:  # one chunk per round trip keeps memory and timeouts per chunk bounded
            await self._fast(what, pair[0], lambda conn, p=pair: tio.put_raw(conn, [p]))
        # The manifest goes last: a reader sees the whole tensor or no tensor.
        last = [(item.key, manifest)]
        await self._fast(what, item.key, lambda conn: tio.put_raw(conn, last))
        await self._delete_chunks(item.name, previous)  # the replaced tensor's, once unseen

    async def _delete_chunks(self, name: str, ref: tio.ChunkedRef | None) -> None:
        if ref is not None:
            stale = [key.encode() for key in ref.manifest.chunk_keys()]
            await self._slow(f"tensor {name!r}", lambda r: r.delete(*stale))

    async def _chunked_at(self, name: str, key: bytes) -> tio.ChunkedRef | None:
        """The manifest at ``key`` when it holds a chunked tensor; None for anything else."""
        try:
            return await self._probe(name, key, missing_ok=True)
        except TensorFormatError:
            return None  # not a tensor: replacing it leaves nothing behind

    async def _probe(
        self, name: str, key: bytes, missing_ok: bool = False
    ) -> tio.ChunkedRef | None:
        """Check ``key`` holds a tensor; returns its chunk manifest when it is chunked."""
        what = f"tensor {name!r}"
        prefix = await self._slow(what, lambda r: r.getrange(key, 0, codec.PREFIX_LEN - 1))
        if not prefix and not await self._slow(what, lambda r: r.exists(key)):
            if missing_ok:
                return None
            raise KeyNotFoundError(f"tensor {name!r} does not exist")
        codec.header_length(prefix, name)
        if not prefix[5] & codec.FLAG_CHUNKED:
            return None
        ref = await self._fast(
            f"tensor {name!r}", key, lambda conn: tio.get_many(conn, [(key, name)])
        )
        return ref[0] if isinstance(ref[0], tio.ChunkedRef) else None


async def _ping(conn: RespConnection) -> None:
    await conn.send(pack_command(b"PING"))
    raise_for_error(await conn.read_reply(), "PING")


def _key(name: object) -> bytes:
    if not isinstance(name, str):
        raise UnsupportedTypeError(f"key names are str, got {type(name).__name__}")
    if not name:
        raise InvalidArgumentError("key names must not be empty")
    return name.encode("utf-8")


def _check_poll(poll_frequency_ms: object, num_tries: object) -> None:
    if not isinstance(poll_frequency_ms, int) or poll_frequency_ms < 0:
        raise InvalidArgumentError(
            f"poll_frequency_ms must be an int >= 0, got {poll_frequency_ms!r}"
        )
    if not isinstance(num_tries, int) or num_tries < 1:
        raise InvalidArgumentError(f"num_tries must be an int >= 1, got {num_tries!r}")
