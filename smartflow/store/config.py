"""redis-server configuration text for one shard.

The text (with the shard's secret) is handed to redis-server on stdin (``redis-server -``), so the
secret never appears on a command line or in a file other users can read.
"""

from __future__ import annotations

from pathlib import Path

import attrs


@attrs.frozen
class ShardConfig:
    """The settings of one redis-server process."""

    name: str
    host: str
    port: int
    password: str
    workdir: Path
    extra: tuple[tuple[str, str], ...] = ()
    #: A shard of a Redis Cluster (its bus listens on port + 10000).
    cluster: bool = False

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def logfile(self) -> Path:
        return self.workdir / f"{self.name}.log"

    @property
    def nodes_file(self) -> Path:
        """Where a cluster shard keeps its view of the cluster (removed before each start)."""
        return self.workdir / f"{self.name}-nodes.conf"

    def render(self) -> str:
        """The configuration text: persistence off, bound to one address, secret required."""
        lines = [
            f"bind {self.host}",
            f"port {self.port}",
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
            *(f"{key} {value}" for key, value in self.extra),
        ]
        return "\n".join(lines) + "\n"
