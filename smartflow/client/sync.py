"""SyncClient: the Client's API without ``await``, for simulation codes that are not async.

It owns a private event loop and drives the async client on it in the calling thread: no thread
hop and no new loop per call. Calling it from a thread whose event loop is running would block
that loop, so it refuses with a clear error there (use :class:`Client` with ``await``).
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from smartflow.client.client import Client
from smartflow.client.config import ClientConfig
from smartflow.errors import ClientError

T = TypeVar("T")
_UNSET: Any = object()

#: The async methods mirrored one to one.
_MIRRORED = (
    "put_tensor",
    "get_tensor",
    "put_tensors",
    "get_tensors",
    "delete_tensor",
    "copy_tensor",
    "rename_tensor",
    "tensor_exists",
    "key_exists",
    "poll_tensor",
    "poll_key",
)


def _refuse_inside_running_loop() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise ClientError(
        "SyncClient was called from a thread that runs an event loop, which it would block; "
        "use `async with Client(...)` and await its methods there"
    )


class SyncClient:
    """A blocking client of one smartflow store; connects on creation. Use ``with`` or close()."""

    def __init__(
        self,
        address: str | None = None,
        cluster: bool | None = None,
        password: str | None = _UNSET,
        *,
        db_identifier: str = "",
        config: ClientConfig | None = None,
    ) -> None:
        _refuse_inside_running_loop()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        try:
            kwargs = {} if password is _UNSET else {"password": password}
            self._client = Client(
                address, cluster, db_identifier=db_identifier, config=config, **kwargs
            )
            self._run(self._client.connect())
        except BaseException:
            self._loop.close()
            raise

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        try:
            _refuse_inside_running_loop()
        except BaseException:
            coroutine.close()
            raise
        with self._lock:
            if self._loop.is_closed():
                coroutine.close()
                raise ClientError("SyncClient is closed; create a new one")
            return self._loop.run_until_complete(coroutine)

    @property
    def address(self) -> str:
        return self._client.address

    def close(self) -> None:
        """Close the connections and the private loop; safe to call twice."""
        if self._loop.is_closed():
            return
        self._run(self._client.aclose())
        self._loop.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _mirror(name: str) -> Any:
    async_method = getattr(Client, name)

    @functools.wraps(async_method)
    def method(self: SyncClient, *args: Any, **kwargs: Any) -> Any:
        return self._run(getattr(self._client, name)(*args, **kwargs))

    return method


for _name in _MIRRORED:
    setattr(SyncClient, _name, _mirror(_name))
