"""Shards report where they serve: a small TCP listener in the driver, one line per shard.

A shard that runs as a scheduler's step (:mod:`smartflow.store.shard_step`) connects to the
driver's listener and sends ``token name host port node job`` (``job``: the scheduler's job it
runs in, ``-`` if none). The token is a per-store secret that
reaches the step with its configuration, so nothing else can pose as a shard. No output files are
parsed, and nothing sleeps: each report wakes whoever waits for that shard.
"""

from __future__ import annotations

import secrets

import anyio
import attrs
from anyio.abc import SocketStream

from smartflow.errors import StoreStartError

#: The longest report line accepted.
_MAX_LINE = 1024


@attrs.frozen
class ShardReport:
    name: str
    host: str
    port: int
    node: str
    #: The scheduler's job the shard runs in (None: none known).
    job: str | None = None

    @property
    def address(self) -> str:
        """``host:port``, or the ``unix://`` path of a shard on a unix socket (port 0)."""
        return self.host if self.port == 0 else f"{self.host}:{self.port}"


class ReportListener:
    """Listens on ``host`` (a free port) while a store starts; see :meth:`wait_for`."""

    def __init__(self, listener: anyio.abc.SocketListener, host: str) -> None:
        self._listener = listener
        self.token = secrets.token_hex(16)
        self.address = f"{host}:{listener.extra(anyio.abc.SocketAttribute.local_port)}"
        #: Every shard's report so far, by name.
        self.reports: dict[str, ShardReport] = {}
        self._arrived = anyio.Event()

    @classmethod
    async def open(cls, host: str) -> ReportListener:
        return cls(await anyio.create_tcp_listener(local_host=host, local_port=0), host)

    async def serve(self) -> None:
        """Accept reports until cancelled."""
        await self._listener.serve(self._handle)

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            await self._listener.aclose()

    async def __aenter__(self) -> ReportListener:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def wait_for(self, name: str) -> ShardReport:
        """The report of shard ``name``, once it arrives."""
        while name not in self.reports:
            await self._arrived.wait()
        return self.reports[name]

    async def _handle(self, stream: SocketStream) -> None:
        async with stream:
            with anyio.move_on_after(5):
                line = b""
                while not line.endswith(b"\n") and len(line) < _MAX_LINE:
                    try:
                        line += await stream.receive(_MAX_LINE)
                    except (anyio.EndOfStream, anyio.BrokenResourceError):
                        break
                parts = line.decode(errors="replace").split()
                if len(parts) != 6 or not secrets.compare_digest(parts[0], self.token):
                    return  # not one of ours: ignored
                _, name, host, port, node, job = parts
                job_id = None if job == "-" else job
                self.reports[name] = ShardReport(name, host, int(port), node, job_id)
                self._arrived.set()
                self._arrived = anyio.Event()


async def send_report(address: str, token: str, report: ShardReport) -> None:
    """Tell the driver's listener at ``address`` where a shard serves."""
    report_host, _, report_port = address.rpartition(":")
    try:
        with anyio.fail_after(10):
            stream = await anyio.connect_tcp(report_host, int(report_port))
            async with stream:
                fields = [report.name, report.host, str(report.port), report.node]
                line = " ".join([token, *fields, report.job or "-"])
                await stream.send(f"{line}\n".encode())
    except (OSError, TimeoutError) as exc:
        raise StoreStartError(f"could not report to the driver at {address}: {exc}") from exc
