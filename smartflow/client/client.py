"""The async Client: numpy tensors, datasets and aggregation lists in and out of a smartflow store.

::

    async with Client(address=db.get_address()[0], cluster=False) as client:
        await client.put_tensor("x", np.arange(10.0))
        x = await client.get_tensor("x")

With no arguments the client reads the environment contract (``SSDB``, ``SR_DB_TYPE``,
``SSDB_PASSWORD``, and ``SSKEYOUT``/``SSKEYIN`` for ensemble key prefixing) that smartflow sets
for the applications it launches. Given an address but no ``password``, it uses the secret of a
store this process started, else the ``SSDB_PASSWORD[_<id>]`` of the store whose ``SSDB[_<id>]``
lists that address; an explicit ``password`` (``None`` included) always wins. ``__aenter__``
connects and authenticates eagerly, so a wrong address or secret fails there. One client may be
shared by any number of concurrent tasks. ``str(client)`` names its address(es), Standalone or
Clustered, and whether it is open; never its secret.
"""

from __future__ import annotations

from smartflow.client._admin import AdminOps
from smartflow.client._core import ClientCore
from smartflow.client._datasets import DatasetOps
from smartflow.client._lists import ListOps
from smartflow.client._logs import LogOps
from smartflow.client._models import ModelOps
from smartflow.client._scripts import ScriptOps
from smartflow.client._tensors import TensorOps
from smartflow.client._waiting import WaitOps


class Client(
    TensorOps, DatasetOps, ListOps, ModelOps, ScriptOps, WaitOps, LogOps, AdminOps, ClientCore
):
    """An async client of one smartflow store (see the module docstring).

    One stateless mixin per kind of data, in the order of SmartRedis's reference (tensors,
    datasets, lists, models, scripts), then waiting, logging and administration; the core
    holds the state, the lifecycle and the one transport every mixin's I/O goes through.
    """

    async def __aenter__(self) -> Client:
        await self.connect()
        return self
