"""The one data-plane transport under the client and the inference worker (internal).

Layout, bottom up:

- ``endpoint``: where a store listens (``host:port``, ``unix:///path``);
- ``resp``: RESP2 over one socket, commands out without copies, bulk replies into numpy memory;
- ``pool``: a shard's connections, and the :class:`Limits` they keep;
- ``errors``: the one mapping of timeouts and OS errors at the I/O edge;
- ``routing`` and ``transport``: the one slot map, redirects, and :class:`Transport`, through
  which every command goes;
- ``keyspace``: keyspace notifications (waiting for keys, waking the worker);
- ``codec``, ``tensors`` and ``values``: the tensor format and how tensors and other values
  travel (``docs/wire-format.md``);
- ``protocol`` and ``queue``: the run protocol between clients and the inference worker, and
  :class:`~smartflow.wire.queue.ShardQueue`, the one queue class both sides use.

redis-py serves only the store's control plane (``smartflow.store``); its CRC16 is the one
slot function everyone here uses.
"""

from smartflow.wire.endpoint import Endpoint as Endpoint
from smartflow.wire.endpoint import parse_address as parse_address
from smartflow.wire.pool import ConnectionPool as ConnectionPool
from smartflow.wire.pool import Limits as Limits
from smartflow.wire.transport import Transport as Transport
