"""The ``smartflow`` command: what this installation will use, and a self-check of it."""

from __future__ import annotations

import argparse
import sys

import anyio

from smartflow import __version__, _native, launchers
from smartflow._validate import Step, validate
from smartflow.errors import SmartflowError, StoreBinaryNotFoundError, StoreStartError
from smartflow.store.binary import INSTALL_HELP, find_redis_server, server_version

#: Width of the step names in ``smartflow validate``'s table.
_NAME_WIDTH = 18


def _info() -> int:
    print(f"smartflow {__version__} on Python {sys.version.split()[0]}")
    try:
        server = find_redis_server()
    except StoreBinaryNotFoundError as exc:
        print(f"redis-server: not found: {exc}")
        print("  to get one, any of:")
        for way in INSTALL_HELP:
            print(f"  - {way}")
        return 1
    try:
        version = server_version(server)
    except StoreStartError as exc:
        print(f"redis-server: {server}\n  does not run: {exc}")
        return 1
    print(f"redis-server: {server}\n  {version}")
    try:
        import onnxruntime

        print(f"onnxruntime {onnxruntime.__version__}: {onnxruntime.get_available_providers()}")
    except ImportError:
        print("onnxruntime: not installed")
    found, why = launchers.detect()
    print(f'launcher="auto": {found} ({why})')
    native = _native.find_native()
    print("\n".join(native.lines()) if native else _native.NOT_FOUND)
    return 0


def _print_step(step: Step) -> None:
    if step.ok is None:
        print(f"  {step.name:<{_NAME_WIDTH}}", end=" ", flush=True)
    elif step.ok:
        print(f"{step.seconds:7.3f} s  ok  {step.detail}", flush=True)
    else:
        print(f"{step.seconds:7.3f} s  FAILED ({step.detail})", flush=True)


def _validate(timeout: float) -> int:
    print(f"smartflow {__version__} validate (Python {sys.version.split()[0]})", flush=True)
    try:
        # The CLI is an entry point, like the worker's main: the one place anyio.run is called.
        anyio.run(validate, _print_step, timeout)
    except SmartflowError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; everything was stopped", file=sys.stderr)
        return 130
    print("ok: this installation can run a store, tensors and models")
    return 0


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0 seconds, got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run ``smartflow info`` or ``smartflow validate``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="smartflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "info",
        help="versions, the redis-server smartflow will run, and where the native clients are",
    )
    check = sub.add_parser(
        "validate",
        help="start a store, move a tensor, run a model next to it, stop: each step timed",
    )
    check.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=60.0,
        help="seconds each step may take (default 60); a redis-server that starts but never "
        "answers is given up after the store's 30 s readiness timeout whatever this says",
    )
    args = parser.parse_args(argv)
    if args.command == "info":
        return _info()
    if args.command == "validate":
        return _validate(args.timeout)
    return 2


if __name__ == "__main__":
    sys.exit(main())
