"""The ``smartflow`` command: what this installation will use."""

from __future__ import annotations

import argparse
import subprocess
import sys

from smartflow import __version__
from smartflow.errors import StoreBinaryNotFoundError
from smartflow.store.binary import find_redis_server


def _info() -> int:
    print(f"smartflow {__version__} on Python {sys.version.split()[0]}")
    try:
        server = find_redis_server()
    except StoreBinaryNotFoundError as exc:
        print(f"redis-server: not found: {exc}")
        return 1
    version = subprocess.run([str(server), "--version"], capture_output=True, text=True).stdout
    print(f"redis-server: {server}\n  {version.strip()}")
    try:
        import onnxruntime

        print(f"onnxruntime {onnxruntime.__version__}: {onnxruntime.get_available_providers()}")
    except ImportError:
        print("onnxruntime: not installed")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smartflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="versions, and the redis-server smartflow will run")
    args = parser.parse_args(argv)
    if args.command == "info":
        return _info()
    return 2


if __name__ == "__main__":
    sys.exit(main())
