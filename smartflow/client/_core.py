"""The client's core: its state, its one transport, key prefixing, and the seam under the mixins.

The public :class:`~smartflow.client.client.Client` is this core plus one stateless mixin per
kind of data (tensors, datasets, lists, models, scripts, admin, logging, waiting). As redis-py's
command mixins call only ``execute_command``, these call only the seam here: :meth:`_one`,
:meth:`_split`, :meth:`_on`, :meth:`_command`, :meth:`_command_on` and :meth:`_transaction`
(each checks the client is open, then hands the operation to the
:class:`~smartflow.wire.Transport`), plus ``_wire``'s shard lookups (no I/O), ``_key_in`` /
``_key_out`` and ``_config``.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio
import numpy as np

from smartflow._checks import at_least_zero, count
from smartflow._log import get_logger
from smartflow.client._env import address_from_env, password_from_env
from smartflow.client._prefix import KeyPrefixer, Kind
from smartflow.client._secrets import known_secret
from smartflow.client.config import ClientConfig
from smartflow.errors import ClientError, InvalidArgumentError, UnsupportedTypeError
from smartflow.wire import ConnectionPool, Transport, parse_address
from smartflow.wire import tensors as tio
from smartflow.wire.transport import Arg, Operation, T

_UNSET: object = object()


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPEN = "open"
    CLOSED = "closed"


class ClientCore:
    """Connections, routing and key prefixing shared by every part of the client."""

    def __init__(
        self,
        address: str | None = None,
        cluster: bool | None = None,
        password: str | None = _UNSET,  # type: ignore[assignment]
        *,
        db_identifier: str = "",
        config: ClientConfig | None = None,
    ) -> None:
        _check_arguments(address, cluster, password, db_identifier, config)
        env_password = None
        if address is None:
            address, env_cluster, env_password = address_from_env(db_identifier)
            cluster = env_cluster if cluster is None else cluster
        seeds = [parse_address(a) for a in address.split(",")]
        if password is _UNSET:
            # A driver knows the secrets of the stores it started; a launched application
            # finds its store's secret in the environment, next to the address it was given.
            password = (
                known_secret(str(seeds[0]))
                or env_password
                or password_from_env([str(s) for s in seeds], db_identifier)
            )
        self._config = config or ClientConfig.from_env()
        self._cluster = bool(cluster)
        self.address = str(seeds[0])
        self._where = ",".join(map(str, seeds)) if cluster else self.address
        self._wire = Transport(
            seeds, password, cluster=self._cluster, limits=self._config.wire_limits()
        )
        self._state = _State.UNOPENED
        self._prefixer = KeyPrefixer.from_env()
        #: The cancel scopes of the waits in progress, cancelled when the client closes.
        self._wait_scopes: set[anyio.CancelScope] = set()
        self._log_name = self._config.logger_name or self._prefixer.put_prefix or "default"
        self._app_logger = get_logger("app", name=self._log_name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._describe()})"

    def _describe(self) -> str:
        """Where it connects, how and whether it is open; never the secret."""
        kind = "Clustered" if self._cluster else "Standalone"
        return f"{self._where}, {kind}, {self._state.value}"

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self):  # type: ignore[no-untyped-def]
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def connect(self) -> None:
        """Connect and authenticate now (a connection per shard); raises on a wrong address or
        secret."""
        if self._state is not _State.UNOPENED:
            raise ClientError(f"client is {self._state.value}; create a new Client")
        try:
            await self._wire.connect()
        except BaseException:
            await self.aclose()
            raise
        self._state = _State.OPEN

    async def aclose(self) -> None:
        """Close every connection; the client cannot be reused. Waits in progress end with
        :class:`~smartflow.errors.ClientError`."""
        self._state = _State.CLOSED
        for scope in self._wait_scopes:
            scope.cancel()
        self._wire.close()  # synchronous: nothing for a cancellation to interrupt

    # -- keys as stored ------------------------------------------------------------------------

    async def key_exists(self, key: str) -> bool:
        """True when ``key`` exists in the store, whatever it holds (never prefixed)."""
        return await self._exists(f"key_exists {key!r}", key_bytes(key))

    async def poll_key(self, key: str, poll_frequency_ms: int, num_tries: int) -> bool:
        """Check up to ``num_tries`` times, ``poll_frequency_ms`` apart; False if never found."""
        raw = key_bytes(key)
        return await poll(
            lambda: self._exists(f"poll_key {key!r}", raw), poll_frequency_ms, num_tries
        )

    async def execute_command(
        self, *args: bytes | str | int | float, key: str | bytes | None = None
    ) -> object:
        """Run one Redis command and return its reply (bytes, int, list or None), as redis-py's
        ``execute_command`` does, for what the typed API does not cover (a Lua ``EVAL``, a
        reliable queue's ``LMOVE``). On a cluster it runs on the shard serving ``key``
        (default: the command's first argument), following MOVED/ASK; give ``key`` for
        commands whose first argument is not a key (``EVAL script 1 key ...``). Keys are used
        as given, never prefixed. An error reply raises :class:`~smartflow.errors.CommandError`.
        A blocking command must block for less than the client's command timeout."""
        if not args:
            raise InvalidArgumentError("execute_command needs a command name")
        for arg in args:
            if isinstance(arg, bool) or not isinstance(arg, bytes | str | int | float):
                raise UnsupportedTypeError(
                    f"command arguments are bytes, str, int or float, got {type(arg).__name__}"
                )
        if key is not None and not isinstance(key, str | bytes):
            raise UnsupportedTypeError(f"key must be a str or bytes, got {type(key).__name__}")
        name = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
        routing = key if key is not None else (args[1] if len(args) > 1 else b"")
        if not isinstance(routing, bytes):
            routing = str(routing).encode()
        return await self._command(name.upper(), routing, *args)

    # -- key prefixing (plain methods: no I/O) --------------------------------------------------

    def set_data_source(self, source_id: str) -> None:
        """Read prefixed keys from ``source_id``, one of the incoming entities in ``SSKEYIN``."""
        self._prefixer.set_data_source(source_id)

    def use_tensor_ensemble_prefix(self, use_prefix: bool) -> None:
        """Prefix tensor names with the entity name (on by default when ``SSKEYOUT`` is set)."""
        self._prefixer.use(Kind.TENSOR, use_prefix)

    def use_dataset_ensemble_prefix(self, use_prefix: bool) -> None:
        """Prefix dataset names (on by default)."""
        self._prefixer.use(Kind.DATASET, use_prefix)

    def use_list_ensemble_prefix(self, use_prefix: bool) -> None:
        """Prefix aggregation list names and the dataset names appended to them (on by default)."""
        self._prefixer.use(Kind.LIST, use_prefix)

    def use_model_ensemble_prefix(self, use_prefix: bool) -> None:
        """Prefix model and script names (off by default, as in SmartRedis)."""
        self._prefixer.use(Kind.MODEL, use_prefix)

    # -- internals ----------------------------------------------------------------------------

    def _key_out(self, kind: Kind, name: object) -> bytes:
        """The stored key of a ``kind`` this client writes under ``name``."""
        key_bytes(name)
        return key_bytes(self._prefixer.for_write(kind, name))  # type: ignore[arg-type]

    def _key_in(self, kind: Kind, name: object) -> bytes:
        """The stored key of a ``kind`` this client reads under ``name``."""
        key_bytes(name)
        return key_bytes(self._prefixer.for_read(kind, name))  # type: ignore[arg-type]

    def _check_open(self) -> None:
        if self._state is not _State.OPEN:
            raise ClientError(
                f"client is {self._state.value}: use it inside `async with Client(...)` "
                "(or after `await client.connect()`), and create a new one once closed"
            )

    # -- the seam: every mixin's I/O goes through these -----------------------------------------

    async def _one(self, what: str, key: bytes, operation: Operation[T], limit_s=None) -> T:  # type: ignore[no-untyped-def]
        """``operation(conn)`` on the shard serving ``key``, redirects followed."""
        self._check_open()
        return await self._wire.one(what, key, operation, limit_s)

    async def _split(self, what: str, keys: list[bytes], items: list, operation) -> list:  # type: ignore[no-untyped-def]
        """``operation(conn, part)`` per shard, in parallel; results in the order of ``items``."""
        self._check_open()
        return await self._wire.split(what, keys, items, operation)

    async def _on(
        self, shard: ConnectionPool, what: str, operation: Operation[T], limit_s=None
    ) -> T:  # type: ignore[no-untyped-def]
        """``operation(conn)`` on ``shard`` itself (not routed by key)."""
        self._check_open()
        return await self._wire.on(shard, what, operation, limit_s)

    async def _command(self, what: str, key: bytes, *args: Arg) -> object:
        """One command on the shard serving ``key``; its reply."""
        self._check_open()
        return await self._wire.command(what, key, *args)

    async def _command_on(self, shard: ConnectionPool, what: str, *args: Arg) -> object:
        """One command on ``shard`` itself; its reply."""
        self._check_open()
        return await self._wire.command_on(shard, what, *args)

    async def _transaction(
        self,
        what: str,
        commands: list[tuple[Arg, ...]],
        *,
        key: bytes | None = None,
        shard: ConnectionPool | None = None,
    ) -> list:
        """``commands`` in one MULTI/EXEC on the shard serving ``key`` (or on ``shard``)."""
        self._check_open()
        return await self._wire.transaction(what, commands, key=key, shard=shard)

    async def _exists(self, what: str, key: bytes) -> bool:
        return bool(await self._command(what, key, b"EXISTS", key))

    async def _put_items(self, items: list[tio.EncodedTensor]) -> None:
        """Store encoded tensors: one pipelined round trip per shard, very large ones chunked."""
        self._check_open()
        await tio.put_items(self._wire, items, self._config.max_value_bytes)

    async def _get_keyed(self, keys: list[tuple[bytes, str]]) -> list[np.ndarray]:
        """The tensors at stored ``keys`` (each with the name errors should use)."""
        self._check_open()
        return await tio.get_keyed(self._wire, keys)


#: What a mixin derives from: the core while type checking (so its attributes are known),
#: nothing at run time (a mixin holds no state and no lifecycle of its own).
Seam = ClientCore if TYPE_CHECKING else object


def key_bytes(name: object) -> bytes:
    """A key name checked (a non-empty str) and encoded."""
    if not isinstance(name, str):
        raise UnsupportedTypeError(f"key names are str, got {type(name).__name__}")
    if not name:
        raise InvalidArgumentError("key names must not be empty")
    return name.encode("utf-8")


async def poll(
    check: Callable[[], Awaitable[bool]], poll_frequency_ms: int, num_tries: int
) -> bool:
    """SmartRedis polling: ``check()`` up to ``num_tries`` times, ``poll_frequency_ms`` apart."""
    check_poll(poll_frequency_ms, num_tries)
    for attempt in range(num_tries):
        if await check():
            return True
        if attempt + 1 < num_tries:
            await anyio.sleep(poll_frequency_ms / 1000)
    return False


def check_poll(poll_frequency_ms: object, num_tries: object) -> None:
    """SmartRedis's polling arguments: milliseconds >= 0, and at least one try."""
    at_least_zero(poll_frequency_ms, "poll_frequency_ms")
    count(num_tries, "num_tries")


def _check_arguments(
    address: object, cluster: object, password: object, db_identifier: object, config: object
) -> None:
    """The constructor's argument types, in signature order, before the environment is read."""
    if address is not None and not isinstance(address, str):
        raise UnsupportedTypeError(
            f"store address {address!r} must be a str ('host:port', comma-separated for "
            "several) or None (read SSDB)"
        )
    if cluster is not None and not isinstance(cluster, bool):
        raise UnsupportedTypeError(f"cluster must be a bool or None, got {type(cluster).__name__}")
    if password is not _UNSET and password is not None and not isinstance(password, str):
        # The value is a secret, or meant to be one: only its type is named.
        raise UnsupportedTypeError(f"password must be a str or None, got {type(password).__name__}")
    if not isinstance(db_identifier, str):
        raise UnsupportedTypeError(
            f"db_identifier must be a str, got {type(db_identifier).__name__}"
        )
    if config is not None and not isinstance(config, ClientConfig):
        raise UnsupportedTypeError(
            f"config must be a ClientConfig or None, got {type(config).__name__}"
        )
