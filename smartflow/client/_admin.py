"""Administration of the store's shards: node and cluster info, flush, config, save.

SmartRedis's admin API, per node: every call names the nodes it acts on by address (``host:port``
or ``unix:///path``, as ``Orchestrator.get_address()`` gives them). Each address must be one of
this client's nodes (the client's own address for a single store, a shard of the slot map for a
cluster); every address is checked before anything is sent, so a bad one changes nothing. The
commands go over the client's connection to that node, never redirected.
"""

from __future__ import annotations

from collections.abc import Sequence

from smartflow._checks import check_setting
from smartflow.client._core import Seam
from smartflow.errors import CommandError, InvalidArgumentError, UnsupportedTypeError

Info = dict[str, object]


class AdminOps(Seam):
    """Node-level administration (see the module docstring)."""

    async def get_db_node_info(self, addresses: Sequence[str]) -> list[dict[str, Info]]:
        """``INFO everything`` of each node, as ``{section: {field: value}}`` in the order given.

        Numbers become ``int`` or ``float``; a ``k=v,k=v`` value (``db0``, ``cmdstat_*``)
        becomes a dict of its own.
        """
        replies = await self._on_nodes("get_db_node_info", addresses, b"INFO", b"everything")
        return [parse_info(_text(reply)) for reply in replies]

    async def get_db_cluster_info(self, addresses: Sequence[str]) -> list[Info]:
        """``CLUSTER INFO`` of each node, as ``{field: value}``; refused by a non-cluster store."""
        try:
            replies = await self._on_nodes("get_db_cluster_info", addresses, b"CLUSTER", b"INFO")
        except CommandError as exc:
            if "cluster support disabled" not in str(exc):
                raise
            raise CommandError(
                f"get_db_cluster_info: the store at {self._where} is not a Redis Cluster "
                "(use get_db_node_info for a single-shard store)"
            ) from exc
        return [_fields(_text(reply).splitlines()) for reply in replies]

    async def flush_db(self, addresses: Sequence[str]) -> None:
        """Delete every key on each node (``FLUSHDB``)."""
        await self._on_nodes("flush_db", addresses, b"FLUSHDB")

    async def config_get(self, expression: str, address: str) -> dict[str, str]:
        """The node's settings matching the glob ``expression`` (``CONFIG GET``)."""
        _check_str("expression", expression)
        command = (b"CONFIG", b"GET", expression)
        (reply,) = await self._on_nodes("config_get", [_address(address)], *command)
        if not isinstance(reply, list) or len(reply) % 2:
            raise CommandError(f"config_get {expression!r}: unexpected reply {reply!r:.80}")
        items = [_text(item) for item in reply]
        return dict(zip(items[::2], items[1::2], strict=True))

    async def config_set(self, config_param: str, value: str, address: str) -> None:
        """Change one setting of one node (``CONFIG SET``). Settings smartflow owns (the
        secret, where the node listens, its files, its cluster wiring) are refused."""
        _check_str("config_param", config_param)
        _check_str("value", value)
        name, text = check_setting(config_param, value)
        await self._on_nodes("config_set", [_address(address)], b"CONFIG", b"SET", name, text)

    async def save(self, addresses: Sequence[str]) -> None:
        """Write each node's data to its RDB file now (``SAVE``; the node blocks meanwhile)."""
        await self._on_nodes("save", addresses, b"SAVE")

    # -- internals ----------------------------------------------------------------------------

    async def _on_nodes(self, what: str, addresses: object, *command: bytes | str) -> list:
        """``command`` on each node in turn, after every address has been checked (a cluster's
        slot map is read again once before an unknown address is refused: a node may have
        joined)."""
        self._check_open()
        nodes = []
        for address in _addresses(addresses):
            node = await self._wire.node(address)
            if node is None:
                known = ", ".join(sorted(str(n.endpoint) for n in self._wire.nodes()))
                raise InvalidArgumentError(
                    f"{address!r} is not a node of this client's store (its nodes: {known}); "
                    "nothing was sent"
                )
            nodes.append(node)
        return [
            await self._command_on(node, f"{what} on {node.endpoint}", *command) for node in nodes
        ]


def _addresses(addresses: object) -> list[str]:
    if isinstance(addresses, str) or not isinstance(addresses, list | tuple):
        raise UnsupportedTypeError(
            f"addresses must be a list of 'host:port' str, got {type(addresses).__name__} "
            "(for one node pass [address])"
        )
    return [_address(a) for a in addresses]


def _address(address: object) -> str:
    if not isinstance(address, str):
        raise UnsupportedTypeError(f"a node address is a str, got {type(address).__name__}")
    return address


def _check_str(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise UnsupportedTypeError(f"{name} must be a str, got {type(value).__name__}")
    if not value:
        raise InvalidArgumentError(f"{name} must not be empty")


def _text(reply: object) -> str:
    if not isinstance(reply, bytes):
        raise CommandError(f"unexpected reply {reply!r:.80}")
    return reply.decode("utf-8", errors="replace")


def parse_info(text: str) -> dict[str, Info]:
    """An ``INFO`` reply as ``{section: {field: value}}``."""
    sections: dict[str, list[str]] = {}
    lines: list[str] = sections.setdefault("", [])
    for line in text.splitlines():
        if line.startswith("#"):
            lines = sections.setdefault(line.lstrip("# ").strip(), [])
        elif line.strip():
            lines.append(line)
    return {name: _fields(lines) for name, lines in sections.items() if lines or name}


def _fields(lines: list[str]) -> Info:
    fields: Info = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = _value(value.strip())
    return fields


def _value(text: str) -> object:
    """A number where it parses as one, a dict for ``k=v,k=v``, else the text."""
    items = text.split(",")
    if "=" in text and all("=" in item for item in items):
        return {k: _scalar(v) for k, _, v in (item.partition("=") for item in items)}
    return _scalar(text)


def _scalar(text: str) -> object:
    if "_" in text:  # int() and float() would take "1_000"
        return text
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return text
