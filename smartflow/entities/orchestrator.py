"""The Orchestrator: a Redis-backed tensor store of one or more shards."""

from __future__ import annotations

import secrets
import socket

import attrs

from smartflow import _checks
from smartflow._checks import check_setting
from smartflow.errors import ExperimentError, InvalidArgumentError
from smartflow.settings.run import parse_walltime
from smartflow.store.admin import config_set
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
    _checks.port(value)


def _check_nodes(_: object, __: object, value: int) -> None:
    _checks.count(value, "db_nodes")


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
    #: redis.conf lines every shard starts with (from the setters before launch).
    startup_conf: dict[str, str] = attrs.field(factory=dict, init=False)
    #: The experiment's launcher: "local" runs every shard on this host; any other runs each
    #: shard as a step of its scheduler, on a node it picks (each shard reports its address).
    launcher: str = "local"
    #: Run every shard in one batch job (a workload-manager launcher; None: shards are steps).
    batch_settings: object | None = None
    #: Where shards may run (``set_hosts``) and the run arguments of their steps
    #: (``set_run_arg``), for a workload-manager launcher.
    hosts: list[str] = attrs.field(factory=list, init=False)
    run_args: dict[str, str | None] = attrs.field(factory=dict, init=False)
    #: CPUs per shard (``set_cpus``) and the shards' time limit, ``HH:MM:SS`` (``set_walltime``).
    cpus: int = attrs.field(default=1, init=False)
    walltime: str | None = attrs.field(default=None, init=False)
    _hosts: list[str] = attrs.field(factory=list, init=False)

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
            hosts = self._hosts or [self.host] * len(self._ports)
            return [f"{host}:{port}" for host, port in zip(hosts, self._ports, strict=True)]
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
        for address in self.get_address():
            if not await ping(address, self.password):
                return False
        return True

    def _set_ports(self, ports: list[int], hosts: list[str] | None = None) -> None:
        """Record where the shards serve (``hosts``: each shard's, when they reported it)."""
        self._ports = list(ports)
        self._hosts = list(hosts or [])

    # -- configuration of a running store (every shard) ------------------------------------------

    async def set_db_conf(self, key: str, value: str | int) -> None:
        """``CONFIG SET key value`` on every shard of the running store."""
        name, text = check_setting(key, value)
        if not self._ports:
            raise ExperimentError(f"store {self.name!r} is not running: start it first")
        await config_set(self.get_address(), self.password, name, text)

    async def set_max_memory(self, mem: str | int) -> None:
        """Memory limit per shard (``"2gb"``, ``"500mb"``, bytes; 0 for none)."""
        await self.set_db_conf("maxmemory", mem)

    async def set_eviction_strategy(self, strategy: str) -> None:
        """What a full shard evicts: one of Redis's ``maxmemory-policy`` values."""
        if strategy not in EVICTION_POLICIES:
            raise InvalidArgumentError(
                f"eviction strategy {strategy!r} must be one of {', '.join(EVICTION_POLICIES)}"
            )
        await self.set_db_conf("maxmemory-policy", strategy)

    async def set_max_clients(self, clients: int = 50_000) -> None:
        await self.set_db_conf("maxclients", _checks.count(clients, "clients"))

    async def set_max_message_size(self, size: int = 1_073_741_824) -> None:
        """The largest single value a shard accepts (``proto-max-bulk-len``), in bytes."""
        await self.set_db_conf("proto-max-bulk-len", _checks.count(size, "size"))

    async def enable_checkpoints(self, frequency: int) -> None:
        """Snapshot each shard to disk every ``frequency`` seconds if anything changed."""
        await self.set_db_conf("save", f"{_checks.count(frequency, 'frequency')} 1")

    # -- settings before launch --------------------------------------------------------------------

    def set_cpus(self, num_cpus: int) -> None:
        """CPUs per shard: Redis then serves I/O on that many threads (``io-threads``); under a
        workload manager each shard's step also asks for them (``--cpus-per-task``)."""
        self._refuse_if_launched("set_cpus")
        self.startup_conf["io-threads"] = str(_checks.count(num_cpus, "num_cpus"))
        self.cpus = num_cpus

    def set_walltime(self, walltime: str) -> None:
        """How long the shards may run (``HH:MM:SS``): the batch job's time limit, or each
        shard step's. The local launcher runs shards until they are stopped, so it refuses."""
        self._refuse_if_launched("set_walltime")
        if self.launcher == "local":
            raise InvalidArgumentError(
                "set_walltime: the local launcher runs shards until they are stopped; a "
                "walltime needs a workload-manager launcher"
            )
        parse_walltime(walltime)  # refused here if malformed
        if self.batch_settings is not None:
            self.batch_settings.set_walltime(walltime)  # type: ignore[attr-defined]
        self.walltime = walltime

    def set_hosts(self, host_list: list[str] | str) -> None:
        """The nodes shards run on, one per shard in order (a workload-manager launcher). The
        local launcher runs every shard on this host; other hosts are refused there."""
        self._refuse_if_launched("set_hosts")
        hosts = [host_list] if isinstance(host_list, str) else list(host_list)
        if not hosts or not all(isinstance(h, str) and h for h in hosts):
            raise InvalidArgumentError(f"set_hosts: host names must be non-empty str, got {hosts}")
        if self.launcher != "local":
            if len(hosts) not in (1, self.db_nodes):
                raise InvalidArgumentError(
                    f"set_hosts: {len(hosts)} hosts for {self.db_nodes} shards; give one host "
                    "per shard (or one for all)"
                )
            self.hosts = hosts
            return
        local = {"localhost", "127.0.0.1", socket.gethostname()}  # no DNS: it could block
        elsewhere = [h for h in hosts if h not in local]
        if elsewhere:
            raise InvalidArgumentError(
                f"set_hosts: the local launcher runs shards on this host only, not {elsewhere}"
            )

    def set_run_arg(self, arg: str, value: str | None = None) -> None:
        """A run argument of every shard's step (``srun --arg=value``; a workload-manager
        launcher only: locally shards start without a run command)."""
        self._refuse_if_launched("set_run_arg")
        if self.launcher != "local":
            if not isinstance(arg, str) or not arg.strip("-"):
                raise InvalidArgumentError(f"set_run_arg: {arg!r} is not an argument name")
            if value is not None and not isinstance(value, str | int):
                raise InvalidArgumentError(f"set_run_arg({arg!r}): value must be a str or int")
            self.run_args[arg.strip("-")] = None if value is None else str(value)
            return
        raise InvalidArgumentError(
            f"set_run_arg({arg!r}): the local launcher starts shards without a run command, "
            "so there are no run arguments to set"
        )

    def set_batch_arg(self, arg: str, value: str | None = None) -> None:
        """An option of the store's batch job (``create_database(batch=True)`` only)."""
        self._refuse_if_launched("set_batch_arg")
        if self.batch_settings is not None:
            self.batch_settings.set_batch_arg(arg, value)  # type: ignore[attr-defined]
            return
        if self.launcher != "local":
            raise InvalidArgumentError(
                f"set_batch_arg({arg!r}): store {self.name!r} runs its shards as steps; "
                "create it with batch=True to run them in a batch job"
            )
        raise InvalidArgumentError(f"set_batch_arg({arg!r}): the local launcher runs no batch jobs")

    def _refuse_if_launched(self, what: str) -> None:
        if self._ports:
            raise ExperimentError(
                f"{what}: store {self.name!r} has been started; settings before launch must "
                "come before its first start"
            )


EVICTION_POLICIES = (
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
)
