"""SyncClient: the Client's API without ``await``, for simulation codes that are not async.

It owns a private event loop and drives the async client on it in the calling thread: no thread
hop and no new loop per call. Calling it from a thread whose event loop is running would block
that loop, so it refuses with a clear error there (use :class:`Client` with ``await``).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from smartflow.client.client import Client
from smartflow.client.config import ClientConfig
from smartflow.errors import ClientError

T = TypeVar("T")
_UNSET: Any = object()

#: Client methods that SyncClient does not mirror: it connects on creation and closes with close().
_LIFECYCLE = frozenset({"connect", "aclose"})


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
        self._closed = False
        # A Runner, not a bare loop: Ctrl-C during a call cancels that call's task (so no
        # half-done command lingers to resume on the next call) and then raises KeyboardInterrupt.
        self._runner = asyncio.Runner()
        try:
            kwargs = {} if password is _UNSET else {"password": password}
            self._client = Client(
                address, cluster, db_identifier=db_identifier, config=config, **kwargs
            )
            self._run(self._client.connect())
        except BaseException:
            self._runner.close()
            raise

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        try:
            _refuse_inside_running_loop()
        except BaseException:
            coroutine.close()
            raise
        with self._lock:
            if self._closed:
                coroutine.close()
                raise ClientError("SyncClient is closed; create a new one")
            try:
                return self._runner.run(coroutine)
            except BaseException:
                self._cancel_leftovers()
                raise

    def _cancel_leftovers(self) -> None:
        # An interrupt the Runner did not turn into a cancellation (a signal handler of the
        # application's own, or outside the main thread) leaves the call's task pending.
        loop = self._runner.get_loop()
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))

    def __repr__(self) -> str:
        """Where it connects, Standalone or Clustered, open or closed; never the secret."""
        return f"SyncClient({self._client._describe()})"

    @property
    def address(self) -> str:
        return self._client.address

    def close(self) -> None:
        """Close the connections and the private loop; safe to call twice."""
        if self._closed:
            return
        try:
            self._run(self._client.aclose())
        finally:
            self._closed = True
            self._runner.close()

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


def _passthrough(name: str) -> Any:
    plain_method = getattr(Client, name)

    @functools.wraps(plain_method)
    def method(self: SyncClient, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._client, name)(*args, **kwargs)

    return method


# Every public method of Client, so the two APIs cannot drift apart: coroutines are run on the
# private loop, plain methods (key prefixing settings) are called as they are.
for _name in dir(Client):
    if _name.startswith("_") or _name in _LIFECYCLE or not callable(getattr(Client, _name)):
        continue
    if inspect.iscoroutinefunction(getattr(Client, _name)):
        setattr(SyncClient, _name, _mirror(_name))
    else:
        setattr(SyncClient, _name, _passthrough(_name))
