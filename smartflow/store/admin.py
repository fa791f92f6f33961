"""Changing a running store's configuration on every shard (CONFIG SET), checked first.

A value Redis refuses is refused on the first shard, so no shard is left configured differently
from the others. Settings that would cut the store off from smartflow (its secret, where it
listens, its cluster wiring) are refused before anything is sent.
"""

from __future__ import annotations

import redis.exceptions as rex

from smartflow.errors import InvalidArgumentError, StoreError
from smartflow.store.shard_link import shard_link

#: Settings smartflow owns: changing them would lock every client out or split the cluster.
PROTECTED = ("requirepass", "masterauth", "bind", "port", "unixsocket", "dir", "cluster-")
_TIMEOUT = 5.0


def check_setting(key: object, value: object) -> tuple[str, str]:
    """The CONFIG SET pair as strings; refuses protected keys and non-scalar values."""
    if not isinstance(key, str) or not key.strip():
        raise InvalidArgumentError(f"a store setting name must be a non-empty str, got {key!r}")
    name = key.strip().lower()
    if any(name == p or (p.endswith("-") and name.startswith(p)) for p in PROTECTED):
        raise InvalidArgumentError(
            f"store setting {key!r} is managed by smartflow and cannot be changed at runtime"
        )
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidArgumentError(
            f"store setting {key!r}: value {value!r} must be a str or number"
        )
    return name, str(value)


async def config_set(addresses: list[str], password: str, key: str, value: str) -> None:
    """``CONFIG SET key value`` on every shard; a refused value changes no shard."""
    for address in addresses:
        shard = shard_link(address, password, _TIMEOUT)
        try:
            await shard.config_set(key, value)
        except rex.ResponseError as exc:
            raise InvalidArgumentError(f"the store refused {key}={value!r}: {exc}") from exc
        except (rex.RedisError, OSError) as exc:
            raise StoreError(f"could not configure the shard at {address}: {exc}") from exc
        finally:
            await shard.aclose()
