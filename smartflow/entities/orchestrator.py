"""The Orchestrator: a Redis-backed tensor store of one or more shards."""

from __future__ import annotations

import secrets

import attrs

from smartflow.errors import ExperimentError, InvalidArgumentError
from smartflow.store.network import interface_address
from smartflow.store.server import ping

DEFAULT_DB_IDENTIFIER = "orchestrator"
#: Redis refuses a cluster node port above this: its bus port (port + 10000) must fit.
MAX_CLUSTER_PORT = 55535


def _check_identifier(_: object, __: object, value: str) -> None:
    if not isinstance(value, str) or not value.replace("_", "").replace("-", "").isalnum():
        raise InvalidArgumentError(
            f"db_identifier {value!r} must be a non-empty name of letters, digits, '_' or '-'"
        )


def _check_port(_: object, __: object, value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or not 1 <= value <= 65535):
        raise InvalidArgumentError(f"port {value!r} must be an int in 1-65535 or None (pick one)")


def _check_nodes(_: object, __: object, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidArgumentError(f"db_nodes must be an int >= 1, got {value!r}")


@attrs.define(eq=False)
class Orchestrator:
    """A store created by ``Experiment.create_database``; its processes run once started."""

    db_identifier: str = attrs.field(validator=_check_identifier)
    db_nodes: int = attrs.field(default=1, validator=_check_nodes)
    port: int | None = attrs.field(default=None, validator=_check_port)
    interface: str = "lo"
    #: The secret every client must present (``requirepass``); generated per store.
    password: str = attrs.field(factory=lambda: secrets.token_hex(32), repr=False)
    host: str = attrs.field(init=False)
    _ports: list[int] = attrs.field(factory=list, init=False)

    kind = "Orchestrator"

    def __attrs_post_init__(self) -> None:
        last_port = (self.port or 0) + self.db_nodes - 1
        if self.is_clustered and self.port is not None and last_port > MAX_CLUSTER_PORT:
            raise InvalidArgumentError(
                f"ports {self.port}-{last_port}: cluster shards need ports up to "
                f"{MAX_CLUSTER_PORT} (their cluster bus listens on port + 10000)"
            )
        self.host = interface_address(self.interface)

    @property
    def name(self) -> str:
        return self.db_identifier

    @property
    def num_shards(self) -> int:
        return self.db_nodes

    @property
    def shard_names(self) -> list[str]:
        return [f"{self.db_identifier}_{i}" for i in range(self.db_nodes)]

    @property
    def is_clustered(self) -> bool:
        """More than one shard: a Redis Cluster (``SR_DB_TYPE=Clustered``)."""
        return self.db_nodes > 1

    @property
    def is_launched(self) -> bool:
        return bool(self._ports)

    def get_address(self) -> list[str]:
        """``"host:port"`` of every shard; known once the store is started (or a port was given)."""
        if self._ports:
            return [f"{self.host}:{port}" for port in self._ports]
        if self.port is not None:
            return [f"{self.host}:{self.port + i}" for i in range(self.db_nodes)]
        raise ExperimentError(
            f"store {self.db_identifier!r} picks its port when started: call "
            "`await exp.start(db)` before db.get_address()"
        )

    async def is_active(self) -> bool:
        """True when every shard answers an authenticated PING."""
        if not self._ports:
            return False
        for port in self._ports:
            if not await ping(self.host, port, self.password):
                return False
        return True

    def _set_ports(self, ports: list[int]) -> None:
        self._ports = list(ports)
