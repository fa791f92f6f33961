"""redis-server configuration text for one shard.

The text (with the shard's secret) is handed to redis-server on stdin (``redis-server -``), so the
secret never appears on a command line or in a file other users can read.
"""

from __future__ import annotations

from pathlib import Path

import attrs

#: The longest unix socket path (sun_path holds 108 bytes, the last a NUL).
_UNIX_PATH_MAX = 107


@attrs.frozen
class ShardConfig:
    """The settings of one redis-server process."""

    name: str
    host: str
    port: int
    password: str = attrs.field(repr=False)
    workdir: Path
    extra: tuple[tuple[str, str], ...] = ()
    #: A shard of a Redis Cluster (its bus listens on port + 10000).
    cluster: bool = False
    #: Serve on this unix socket instead of TCP (then ``port`` is 0).
    unix_socket: Path | None = None
    socket_permissions: int = 0o700
    #: CPUs the process is pinned to (``taskset``), if any.
    cpus: tuple[int, ...] = ()
    debug: bool = False

    @property
    def address(self) -> str:
        if self.unix_socket is not None:
            return f"unix://{self.unix_socket}"
        return f"{self.host}:{self.port}"

    @property
    def local_socket(self) -> Path | None:
        """A unix socket a TCP shard also serves on, for the processes beside it (its inference
        worker): cheaper than loopback TCP. None where the shard is already on a unix socket or
        the path would be too long for one (the limit is 107 bytes)."""
        if self.unix_socket is not None:
            return None
        path = self.workdir / f"{self.name}.sock"
        return path if len(str(path).encode()) <= _UNIX_PATH_MAX else None

    @property
    def logfile(self) -> Path:
        return self.workdir / f"{self.name}.log"

    @property
    def nodes_file(self) -> Path:
        """Where a cluster shard keeps its view of the cluster (removed before each start)."""
        return self.workdir / f"{self.name}-nodes.conf"

    def render(self, *, listen: bool = True) -> str:
        """The configuration text: persistence off, bound to one address, secret required
        (without ``listen``, no ``bind``/``port``: a shard step adds those where it runs)."""
        if self.unix_socket is not None:
            where = [
                "port 0",
                f'unixsocket "{self.unix_socket}"',
                f"unixsocketperm {self.socket_permissions:o}",
            ]
        else:
            where = [f"bind {self.host}", f"port {self.port}"] if listen else []
            if self.local_socket is not None:
                where += [f'unixsocket "{self.local_socket}"', "unixsocketperm 700"]
        lines = [
            *where,
            f'requirepass "{self.password}"',
            'save ""',
            "appendonly no",
            "daemonize no",
            f'dir "{self.workdir}"',
            f'logfile "{self.logfile}"',
            f'dbfilename "{self.name}.rdb"',
            *(
                ["cluster-enabled yes", f'cluster-config-file "{self.nodes_file}"']
                if self.cluster
                else []
            ),
            "loglevel debug" if self.debug else "loglevel notice",
            *(f"{key} {value}" for key, value in self.extra),
        ]
        return "\n".join(lines) + "\n"
