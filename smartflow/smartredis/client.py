"""Client: SmartRedis's Python client over smartflow's :class:`~smartflow.client.SyncClient`.

Both of SmartRedis 0.6's constructions::

    Client(config_options=None, logger_name="Default")        # the environment (SSDB, ...)
    Client(cluster, address=None, logger_name="Default")      # an address (sets SSDB, as
                                                              # SmartRedis does)

and, for code written before SmartRedis 0.5, ``Client(address, cluster, logger_name)`` with a
bool second argument. Every call checks its argument types as SmartRedis does (TypeError),
then runs on smartflow's client; smartflow's errors come back as ``smartflow.smartredis.error``
types. Unlike SmartRedis, the connections can be closed now: ``close()`` or ``with Client(...)``.
"""

from __future__ import annotations

import atexit
import os
import weakref
from typing import Any

import attrs

from smartflow.client import ClientConfig, SyncClient
from smartflow.errors import SmartflowError
from smartflow.smartredis._admin_ops import AdminOps
from smartflow.smartredis._data_ops import DataOps
from smartflow.smartredis._model_ops import ModelOps
from smartflow.smartredis.configoptions import ConfigOptions
from smartflow.smartredis.error import RedisConnectionError
from smartflow.smartredis.srobject import SRObject
from smartflow.smartredis.util import typecheck

_ADDRESS_KEYWORDS = ("cluster", "address", "logger_name")
_UNSET: Any = object()

#: Clients not closed yet: closed at exit, before the interpreter's teardown (where closing
#: one from ``__del__`` could hang on its event loop).
_OPEN: weakref.WeakSet[Client] = weakref.WeakSet()


@atexit.register
def _close_open_clients() -> None:
    for client in list(_OPEN):
        client.__del__()


class Client(DataOps, ModelOps, AdminOps, SRObject):
    """A SmartRedis client of one smartflow store (see the module docstring)."""

    _client: SyncClient | None = None

    def __init__(self, *a: Any, **kw: Any) -> None:
        if "client_id" in kw:  # SmartRedis before 0.4 named the logger so
            kw["logger_name"] = kw.pop("client_id")
        if a and isinstance(a[0], bool):
            for name in kw:
                if name not in _ADDRESS_KEYWORDS:
                    raise TypeError(f"__init__() got an unexpected keyword argument '{name}'")
            client, logger_name = self.__address_construction(*a, **kw)
        elif a and _legacy_address_form(a):
            client, logger_name = self.__address_construction(a[1], a[0], *a[2:], **kw)
        elif a and not (isinstance(a[0], ConfigOptions) or a[0] is None):
            raise TypeError(f"Invalid type for argument 0: {type(a[0])}")
        elif not a and ("address" in kw or "cluster" in kw):
            # Before 0.5 ``cluster`` had a default: Client(address=None, logger_name=...).
            # Left out, SR_DB_TYPE decides (as the environment construction does): a
            # standalone client of a cluster fails on its first MOVED key.
            if "cluster" in kw:
                typecheck(kw["cluster"], "cluster", bool)
            kw.setdefault("cluster", None)
            client, logger_name = self.__address_construction(**kw)
        else:
            client, logger_name = self.__standard_construction(*a, **kw)
        self._client = client
        _OPEN.add(self)
        SRObject.__init__(self, logger_name)

    def __address_construction(
        self, cluster: bool | None, address: str | None = None, logger_name: str = "Default"
    ) -> tuple[SyncClient, str]:
        """Connect to ``address`` (exported as SSDB first, as SmartRedis does), else to SSDB;
        ``cluster`` None (left out of a keyword construction) is SR_DB_TYPE's answer."""
        if cluster is not None:
            typecheck(cluster, "cluster", bool)
        if address is not None:
            typecheck(address, "address", str)
        if address:
            os.environ["SSDB"] = address.rstrip(";")  # SmartRedis documents "host:port;"
        if "SSDB" not in os.environ:
            raise RedisConnectionError("Could not connect to database. $SSDB not set")
        return _connect(logger_name, cluster=cluster), logger_name

    @staticmethod
    def __standard_construction(
        config_options: ConfigOptions | None = None, logger_name: str = "Default"
    ) -> tuple[SyncClient, str]:
        """Connect to the store the options (or, without them, the environment) name."""
        if config_options is None:
            return _connect(logger_name), logger_name
        typecheck(config_options, "config_options", ConfigOptions)
        config_options.get_data()  # refuses options not made by a factory
        suffix = config_options.db_suffix
        address = config_options._option("SSDB")
        if address is None:
            variable = f"SSDB_{suffix}" if suffix else "SSDB"
            raise RedisConnectionError(f"Could not connect to database. ${variable} not set")
        db_type = config_options._option("SR_DB_TYPE") or "Standalone"
        password = config_options._option("SSDB_PASSWORD")
        client = _connect(
            logger_name,
            address=address,
            cluster=db_type.lower() == "clustered",
            password=_UNSET if password is None else password,
            db_identifier=suffix,
        )
        return client, logger_name

    def __str__(self) -> str:
        return repr(self._client)

    def close(self) -> None:
        """Close the connections now (smartflow addition; SmartRedis closes on collection)."""
        _OPEN.discard(self)
        if self._client is not None:
            self._client.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # SmartRedis applications never close a client; let the collector do it for them.
        # A collector run inside an event loop cannot drive the client's own loop: then the
        # connections go with the process.
        try:
            self.close()
        except Exception:
            pass


def _legacy_address_form(a: tuple) -> bool:
    """``Client(address_or_None, cluster_bool, ...)``: SmartRedis before 0.5."""
    return len(a) >= 2 and isinstance(a[1], bool) and (a[0] is None or isinstance(a[0], str))


def _connect(
    logger_name: str,
    *,
    address: str | None = None,
    cluster: bool | None = None,
    password: Any = _UNSET,
    db_identifier: str = "",
) -> SyncClient:
    """smartflow's client, connected; any failure is a RedisConnectionError."""
    typecheck(logger_name, "logger_name", str)
    kwargs = {} if password is _UNSET else {"password": password}
    try:
        config = attrs.evolve(ClientConfig.from_env(), logger_name=logger_name or "Default")
        return SyncClient(address, cluster, db_identifier=db_identifier, config=config, **kwargs)
    except SmartflowError as exc:
        raise RedisConnectionError(str(exc)) from exc
