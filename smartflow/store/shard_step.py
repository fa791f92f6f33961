"""A shard as a scheduler's step: runs on whatever node the scheduler picked, and says where.

    python -m smartflow.store.shard_step --interface IFACE [--port N] --report HOST:PORT

Under a workload manager the driver cannot know a shard's address before it runs: the node is
the scheduler's choice. So the step resolves the interface on its own node, picks a free port
there (distinct ports for shards that share a host: an "address in use" is retried with another
one), starts ``redis-server`` with the configuration it reads from stdin (or ``--conf-file``, a
0600 file, for a batch job, which has no stdin: it is removed once read), waits until the shard
answers, and reports ``name host port node job`` to the driver's report listener
(:mod:`smartflow.store.reports`), authenticated by a token from the same configuration. Then it
waits on redis-server, passing SIGTERM/SIGINT on, and exits with its code.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
from pathlib import Path

import anyio

from smartflow.errors import SmartflowError, StoreStartError
from smartflow.store.binary import find_redis_conf, find_redis_server
from smartflow.store.network import interface_address, pick_free_port, port_is_free
from smartflow.store.reports import ShardReport, send_report
from smartflow.store.server import ADDRESS_IN_USE, wait_until_answering

_PORT_TRIES = 5
#: How long redis-server may take to answer once started.
_ANSWER_TIMEOUT_S = 30.0


async def run(args: argparse.Namespace, setup: dict) -> int:
    if setup.get("unix_socket"):  # a co-located store on a unix socket: no port to pick
        code = await _serve(f"unix://{setup['unix_socket']}", 0, setup, args.report)
        return 1 if code is None else code
    host = interface_address(args.interface)
    for _ in range(_PORT_TRIES):
        port = args.port or pick_free_port(host)
        if args.port and not port_is_free(host, port):
            raise StoreStartError(f"port {port} on {host} is already in use")
        code = await _serve(host, port, setup, args.report)
        if code is None:  # its port was taken between the pick and the bind: pick again
            continue
        return code
    raise StoreStartError(f"every free port picked on {host} was taken before use")


async def _serve(host: str, port: int, setup: dict, report: str) -> int | None:
    log = Path(setup["logfile"])
    unix = host.startswith("unix://")
    listen = "" if unix else f"bind {host}\nport {port}\n"
    address = host if unix else f"{host}:{port}"
    argv = [str(find_redis_server())]
    conf = find_redis_conf()
    if conf is not None:
        argv.append(str(conf))
    argv.append("-")
    async with await anyio.open_process(argv, stdin=-1, stdout=None, stderr=None) as redis:
        assert redis.stdin is not None
        await redis.stdin.send((setup["conf"] + listen).encode())
        await redis.stdin.aclose()
        answering = False
        with anyio.move_on_after(_ANSWER_TIMEOUT_S):
            async with anyio.create_task_group() as tg:

                async def exited() -> None:
                    await redis.wait()
                    tg.cancel_scope.cancel()

                tg.start_soon(exited)
                await wait_until_answering(address, setup["password"])
                answering = True
                tg.cancel_scope.cancel()
        if not answering:
            if redis.returncode is not None and _tail(log).count(ADDRESS_IN_USE):
                return None
            redis.kill()
            return redis.returncode if redis.returncode is not None else 1
        node = os.environ.get("SLURMD_NODENAME") or socket.gethostname()
        job = os.environ.get("SLURM_JOB_ID") or os.environ.get("PBS_JOBID") or None
        where = ShardReport(setup["name"], host, port, node, job)
        await send_report(report, setup["token"], where)
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async with anyio.create_task_group() as tg:

                async def pass_signals() -> None:
                    async for signum in signals:
                        redis.send_signal(signum)

                tg.start_soon(pass_signals)
                code = await redis.wait()
                tg.cancel_scope.cancel()
        return code


def _tail(path: Path, limit: int = 2048) -> str:
    try:
        return path.read_bytes()[-limit:].decode(errors="replace")
    except OSError:
        return ""


def _read_setup(conf_file: str | None) -> dict:
    if conf_file is None:
        return json.loads(sys.stdin.read())
    path = Path(conf_file)
    try:
        return json.loads(path.read_text())
    finally:
        path.unlink(missing_ok=True)  # it holds the secret: read once


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="a smartflow store shard as a scheduler step")
    parser.add_argument("--interface", default="lo")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--report", required=True, help="HOST:PORT of the driver's listener")
    parser.add_argument("--conf-file", default=None, help="read the setup from this file")
    args = parser.parse_args(argv)
    try:
        setup = _read_setup(args.conf_file)
        sys.exit(anyio.run(run, args, setup))
    except SmartflowError as exc:
        sys.exit(f"smartflow shard step: {type(exc).__name__}: {exc}")
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
