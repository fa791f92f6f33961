"""A store co-located with a model: started on its host just before it, stopped when it ends.

Set up with ``model.colocate_db_tcp(...)`` or ``model.colocate_db_uds(...)``. The application
finds it through the environment contract like any store (``SSDB`` is ``host:port`` or
``unix:///path``, ``SR_DB_TYPE=Standalone``), so its code does not change.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import attrs

from smartflow import _checks
from smartflow._checks import check_setting
from smartflow.errors import ExperimentError, InvalidArgumentError
from smartflow.store.network import interface_address

#: sun_path holds 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 107


@attrs.define(eq=False)
class ColocatedDB:
    """One model's own store (see the module docstring)."""

    db_identifier: str
    host: str = "127.0.0.1"
    port: int | None = None
    unix_socket: Path | None = None
    socket_permissions: int = 0o755
    db_cpus: int = 1
    custom_pinning: tuple[int, ...] = ()
    debug: bool = False
    redis_conf: dict[str, str] = attrs.field(factory=dict)
    password: str = attrs.field(factory=lambda: secrets.token_hex(32), repr=False)
    _bound_port: int | None = attrs.field(default=None, init=False)

    @property
    def num_shards(self) -> int:
        return 1

    def get_address(self) -> list[str]:
        """Where the application finds it; known once it has started (or was given)."""
        if self.unix_socket is not None:
            return [f"unix://{self.unix_socket}"]
        port = self._bound_port or self.port
        if port is None:
            raise ExperimentError("a co-located store picks its port when its model starts")
        return [f"{self.host}:{port}"]

    @property
    def port_known(self) -> bool:
        return (self._bound_port or self.port) is not None

    def _set_port(self, port: int) -> None:
        self._bound_port = port


def colocated_tcp(
    port: int | None,
    ifname: str,
    db_cpus: int,
    custom_pinning: object,
    debug: bool,
    db_identifier: str,
    redis_conf: dict[str, object],
) -> ColocatedDB:
    return ColocatedDB(
        _identifier(db_identifier),
        host=interface_address(ifname),
        port=_checks.port(port),
        **_common(db_cpus, custom_pinning, debug, redis_conf),
    )


def colocated_uds(
    unix_socket: str | os.PathLike[str] | None,
    socket_permissions: int,
    db_cpus: int,
    custom_pinning: object,
    debug: bool,
    db_identifier: str,
    redis_conf: dict[str, object],
) -> ColocatedDB:
    path = Path(unix_socket) if unix_socket is not None else _default_socket()
    path = path.absolute()
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise InvalidArgumentError(
            f"unix socket path {str(path)!r} is {len(os.fsencode(path))} bytes; the limit is "
            f"{MAX_SOCKET_PATH}: choose a shorter path"
        )
    if not path.parent.is_dir():
        raise InvalidArgumentError(f"unix socket directory {str(path.parent)!r} does not exist")
    if not isinstance(socket_permissions, int) or not 0 <= socket_permissions <= 0o777:
        raise InvalidArgumentError(
            f"socket_permissions {socket_permissions!r} must be file mode bits, e.g. 0o700"
        )
    return ColocatedDB(
        _identifier(db_identifier),
        unix_socket=path,
        socket_permissions=socket_permissions,
        **_common(db_cpus, custom_pinning, debug, redis_conf),
    )


def _default_socket() -> Path:
    # Short and unique: two co-located models on one host must not share a socket.
    return Path(tempfile.gettempdir()) / f"smartflow-{secrets.token_hex(6)}.sock"


def _identifier(value: object) -> str:
    if not isinstance(value, str) or (value and not value.replace("_", "").isalnum()):
        raise InvalidArgumentError(
            f"db_identifier {value!r} must be '' (the plain SSDB) or letters, digits and '_'"
        )
    return value


def _common(db_cpus: object, pinning: object, debug: object, conf: dict[str, object]) -> dict:
    cpus = _checks.count(db_cpus, "db_cpus")
    settings = dict(check_setting(k.replace("_", "-"), v) for k, v in conf.items())
    if cpus > 1:  # as Orchestrator.set_cpus: the store serves I/O on that many threads
        settings.setdefault("io-threads", str(cpus))
    return {
        "db_cpus": cpus,
        "custom_pinning": _pinning(pinning),
        "debug": bool(debug),
        "redis_conf": settings,
    }


def _pinning(value: object) -> tuple[int, ...]:
    """``None``, or CPU ids (ints, or ``range``s/iterables of them) that exist on this host."""
    if value is None:
        return ()
    if isinstance(value, int) and not isinstance(value, bool):
        items: list[object] = [value]
    elif isinstance(value, range | list | tuple):
        items = list(value)
    else:
        raise InvalidArgumentError(
            f"custom_pinning {value!r} must be a CPU id or a list/range of CPU ids"
        )
    cpus: list[object] = []
    for item in items:
        cpus.extend(item if isinstance(item, range | list | tuple) else [item])
    available = os.sched_getaffinity(0)
    bad = [c for c in cpus if not isinstance(c, int) or isinstance(c, bool) or c not in available]
    if bad or not cpus:
        raise InvalidArgumentError(
            f"custom_pinning {value!r}: CPU ids must be among {sorted(available)}"
        )
    return tuple(cpus)  # type: ignore[arg-type]
