"""RESP2 over one socket: commands out without copies, bulk replies straight into numpy memory.

redis-py copies every bulk reply into a ``bytes`` object and packs every command into new
buffers; for multi-megabyte tensors that halves throughput (``benchmarks/bench_stores.py``).
This connection sends numpy buffers as they are (``sendmsg`` of memoryviews, no copy) and reads
a bulk reply straight into the destination array's memory. It carries every data-plane command
of the client and the inference worker.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable

import anyio
import attrs

from smartflow.errors import (
    AuthenticationError,
    CommandError,
    ConnectionFailedError,
    RedirectError,
    WrongTypeError,
)
from smartflow.wire.endpoint import Endpoint

_BUFFER_BYTES = 256 * 1024
#: Parts smaller than this are coalesced into one send; larger ones are sent from their own memory.
_COALESCE_BYTES = 16 * 1024
_FLUSH_BYTES = 4 * 1024 * 1024
#: Remainders of a value smaller than this are read through the buffer, which picks up the
#: replies after it in the same syscall (pipelined gets of many mid-sized tensors); larger ones
#: go straight from the socket into the array.
_DIRECT_READ_BYTES = 16 * 1024
#: Stay well under the kernel's IOV_MAX (1024) buffers per sendmsg.
_MAX_IOV = 512
CRLF = b"\r\n"


@attrs.frozen
class ErrorReply:
    """An error reply (``-ERR ...``) as a value, so a pipeline can read on past it."""

    message: str

    @property
    def code(self) -> str:
        return self.message.split(" ", 1)[0]


def pack_command(*args: bytes | str | int) -> bytes:
    """A RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def command_parts(*args: bytes | str | int | memoryview) -> list[bytes | memoryview]:
    """A RESP command as parts for :meth:`RespConnection.send_parts`: memoryview arguments (a
    tensor's payload, say) are sent from their own memory, not copied."""
    parts: list[bytes | memoryview] = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, memoryview):
            parts += [b"$%d\r\n" % arg.nbytes, arg, CRLF]
        else:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return parts


def set_prefix(key: bytes, value_len: int, options: int = 0) -> bytes:
    """``SET key`` up to the value's length line; the value, CRLF and ``options`` more
    arguments (``PX ms``) follow."""
    return b"*%d\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n" % (
        3 + options,
        len(key),
        key,
        value_len,
    )


class RespConnection:
    """One socket to one store, used by one task at a time (the pool sees to that)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._loop = asyncio.get_running_loop()
        self._buf = bytearray(_BUFFER_BYTES)
        self._view = memoryview(self._buf)
        self._start = 0
        self._end = 0
        #: Replies not yet read; a connection is reusable only when this is zero.
        self.pending = 0

    @classmethod
    async def open(
        cls, endpoint: Endpoint, password: str | None, name: str | None = None
    ) -> RespConnection:
        """Connect, authenticate and (with ``name``) name the connection in CLIENT LIST, in one
        round trip (the caller bounds the time)."""
        if endpoint.unix_path:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target: object = endpoint.unix_path
        else:
            infos = await anyio.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
            family, _, _, _, target = infos[0]
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        conn = cls(sock)
        try:
            await conn._loop.sock_connect(sock, target)
            # A handshake within the connect timeout: AUTH, or PING when there is no secret, so
            # a port that accepts but never answers fails here, not at the first command.
            handshake = pack_command(b"AUTH", password) if password is not None else b"PING\r\n"
            if name:
                handshake += pack_command(b"CLIENT", b"SETNAME", name)
            await conn.send(handshake, replies=2 if name else 1)
            reply = await conn.read_reply()
            named = await conn.read_reply() if name else None
            if isinstance(reply, ErrorReply) and password is not None:
                raise AuthenticationError(
                    f"store at {endpoint} refused the secret: {reply.message}"
                )
            raise_for_error(reply, f"connect to {endpoint}")
            raise_for_error(named, f"name the connection to {endpoint}")
        except BaseException:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        self._sock.close()

    def is_alive(self) -> bool:
        """False when the store closed this idle connection (timeout, restart, CLIENT KILL)."""
        try:
            self._sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return True  # nothing to read: open and quiet, as an idle connection should be
        except OSError:
            return False
        return False  # EOF, or bytes nobody asked for: either way not reusable

    # -- sending ------------------------------------------------------------------------------

    async def send(self, data: bytes | bytearray | memoryview, replies: int = 1) -> None:
        """Send one or more whole commands that will produce ``replies`` replies."""
        self.pending += replies
        await self._loop.sock_sendall(self._sock, data)

    async def send_parts(self, parts: Iterable[bytes | memoryview], replies: int) -> None:
        """Send commands given as parts: small parts coalesced, large ones sent from their own
        memory, all of it in as few ``sendmsg`` calls as the socket buffer allows."""
        self.pending += replies
        iov: list[bytes | bytearray | memoryview] = []
        batch = bytearray()
        queued = 0
        for part in parts:
            if len(part) < _COALESCE_BYTES:
                batch += part
            else:
                if batch:
                    iov.append(batch)
                    batch = bytearray()
                iov.append(part)
            queued += len(part)
            if queued >= _FLUSH_BYTES or len(iov) >= _MAX_IOV:
                if batch:
                    iov.append(batch)
                    batch = bytearray()
                await self._send_vectored(iov)
                iov, queued = [], 0
        if batch:
            iov.append(batch)
        if iov:
            await self._send_vectored(iov)

    async def _send_vectored(self, iov: list[bytes | bytearray | memoryview]) -> None:
        """One ``sendmsg`` for everything; what the socket did not take is sent as it drains."""
        try:
            sent = self._sock.sendmsg(iov)
        except (BlockingIOError, InterruptedError):
            sent = 0
        for part in iov:
            if sent >= len(part):
                sent -= len(part)
                continue
            await self._loop.sock_sendall(self._sock, memoryview(part)[sent:])
            sent = 0

    # -- receiving ----------------------------------------------------------------------------

    async def _fill(self) -> None:
        """Read more bytes into the buffer (moving unread bytes to its front first)."""
        if self._start == self._end:
            self._start = self._end = 0
        elif self._end == len(self._buf):
            unread = self._end - self._start
            if unread == len(self._buf):
                raise ConnectionFailedError("protocol error: reply line longer than the buffer")
            # bytes(): the regions may overlap, and bytearray slice assignment uses memcpy
            self._buf[:unread] = bytes(self._view[self._start : self._end])
            self._start, self._end = 0, unread
        n = await self._loop.sock_recv_into(self._sock, self._view[self._end :])
        if n == 0:
            raise ConnectionFailedError("the store closed the connection")
        self._end += n

    async def read_line(self) -> bytes:
        while True:
            i = self._buf.find(CRLF, self._start, self._end)
            if i >= 0:
                line = bytes(self._view[self._start : i])
                self._start = i + 2
                return line
            await self._fill()

    async def read_exact(self, n: int) -> bytes:
        """``n`` bytes; meant for small reads (headers, short values)."""
        if n > len(self._buf):
            target = bytearray(n)
            await self.read_into(memoryview(target))
            return bytes(target)
        while self._end - self._start < n:
            await self._fill()
        data = bytes(self._view[self._start : self._start + n])
        self._start += n
        return data

    async def read_into(self, target: memoryview) -> None:
        """Fill ``target`` exactly: buffered bytes first, then straight from the socket."""
        n = len(target)
        pos = min(n, self._end - self._start)
        target[:pos] = self._view[self._start : self._start + pos]
        self._start += pos
        while pos < n:
            if n - pos < _DIRECT_READ_BYTES:
                # A small remainder: read through the buffer, which also picks up what follows.
                await self._fill()
                take = min(n - pos, self._end - self._start)
                target[pos : pos + take] = self._view[self._start : self._start + take]
                self._start += take
                pos += take
                continue
            got = await self._loop.sock_recv_into(self._sock, target[pos:])
            if got == 0:
                raise ConnectionFailedError("the store closed the connection mid-reply")
            pos += got

    async def expect_crlf(self) -> None:
        if await self.read_exact(2) != CRLF:
            raise ConnectionFailedError("protocol error: bulk reply not terminated by CRLF")

    def reply_done(self) -> None:
        self.pending -= 1

    async def read_reply(self) -> object:
        """One whole reply: bytes, int, None, list, or :class:`ErrorReply`."""
        value = await self._read_value()
        self.pending -= 1
        return value

    async def _read_value(self) -> object:
        line = await self.read_line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            return ErrorReply(rest.decode("utf-8", errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = await self.read_exact(n)
            await self.expect_crlf()
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [await self._read_value() for _ in range(n)]
        raise ConnectionFailedError(f"protocol error: unexpected reply {line[:40]!r}")


def raise_for_error(reply: object, what: str) -> None:
    """Turn an error reply into the matching typed error."""
    if isinstance(reply, ErrorReply):
        if reply.code in ("NOAUTH", "WRONGPASS"):
            raise AuthenticationError(f"{what}: {reply.message}")
        if reply.code == "WRONGTYPE":
            raise WrongTypeError(f"{what}: the key holds another kind of value ({reply.message})")
        if reply.code in ("MOVED", "ASK"):
            parts = reply.message.split()
            ask = parts[2] if reply.code == "ASK" and len(parts) == 3 else None
            raise RedirectError(f"{what}: {reply.message}", ask)
        raise CommandError(f"{what}: {reply.message}")


async def transaction(conn: RespConnection, commands: list[bytes], what: str) -> list:
    """MULTI, the commands, EXEC in one round trip; every reply read before any is raised."""
    await conn.send(
        pack_command(b"MULTI") + b"".join(commands) + pack_command(b"EXEC"),
        replies=len(commands) + 2,
    )
    replies = [await conn.read_reply() for _ in range(len(commands) + 2)]
    for reply in replies:
        raise_for_error(reply, what)
    executed = replies[-1]
    if not isinstance(executed, list):
        raise CommandError(f"{what}: the transaction was aborted")
    for result in executed:
        if isinstance(result, ErrorReply):
            raise_for_error(result, what)
    return executed
