"""Real servers on 127.0.0.1 for the batch I/O tests: a threaded HTTP server over a directory
(with misbehaving paths) and moto's S3 server. Both are context managers that close every
socket they open, since the tests run with warnings as errors."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Paths of the HTTP server that do not serve a file.
HANG = "/hang"  # accepts the request and never answers
TRICKLE = "/trickle"  # answers 200, then one byte of its body every TRICKLE_EVERY seconds
SHORT = "/short"  # promises SHORT_LENGTH bytes, sends fewer and closes

TRICKLE_LENGTH = 1000
TRICKLE_EVERY = 0.1
SHORT_LENGTH = 100

# No handler outlives this, even if a test forgets to read (it is released at teardown anyway).
_HANG_LIMIT = 30.0


class _Server(http.server.ThreadingHTTPServer):
    # Handler threads are joined by server_close(), so none runs past the fixture.
    daemon_threads = False
    block_on_close = True
    release: threading.Event


class _Handler(http.server.SimpleHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        if self.path == HANG:
            self.server.release.wait(_HANG_LIMIT)
        elif self.path == TRICKLE:
            self._trickle()
        elif self.path == SHORT:
            self._short()
        else:
            super().do_GET()

    def _trickle(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(TRICKLE_LENGTH))
        self.end_headers()
        try:
            for _ in range(TRICKLE_LENGTH):
                if self.server.release.wait(TRICKLE_EVERY):
                    return
                self.wfile.write(b"x")
        except OSError:  # the client gave up and closed: what the test wants
            return

    def _short(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(SHORT_LENGTH))
        self.end_headers()
        self.wfile.write(b"y" * (SHORT_LENGTH // 2))
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests assert on what the client sees."""


@contextmanager
def http_server(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1; yields the base URL (no trailing slash)."""
    server = _Server(("127.0.0.1", 0), functools.partial(_Handler, directory=str(directory)))
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.release.set()  # hanging handlers return, so server_close() can join them
        server.shutdown()
        thread.join()
        server.server_close()


@contextmanager
def moto_s3_server() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 at a port the OS picks; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        # stop() shuts the serving loop down but leaves the listening socket open.
        if server._server is not None:
            server._server.server_close()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound once, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def elapsed(start: float) -> float:
    """Seconds since ``start`` (a ``time.monotonic()`` reading)."""
    return time.monotonic() - start
