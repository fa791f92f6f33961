"""``smartflow validate``: a self-check of an installation, end to end.

It starts a store (one shard and its inference worker) in a temporary directory, puts and gets a
tensor, stores a tiny ONNX model shipped in this module and runs it next to the data, compares
each answer with what numpy computes, and stops. Each step is bounded by ``timeout`` and
reported to a callback as it starts and as it ends; the first failure is raised as a typed error
after everything was stopped and the directory removed. Only the core dependencies are needed:
the model is bytes, not built with ``onnx``.
"""

from __future__ import annotations

import base64
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import anyio
import attrs
import numpy as np

from smartflow._log import get_logger
from smartflow.client import Client
from smartflow.errors import (
    ClientTimeoutError,
    SmartflowError,
    StoreBinaryNotFoundError,
    StoreError,
    StoreStartError,
    ValidationFailedError,
)
from smartflow.experiment import Experiment
from smartflow.store.binary import find_redis_server, server_version

T = TypeVar("T")

#: The model's weights: ``y = x @ WEIGHTS + BIAS``, float32, ``x`` of shape ``(batch, 3)``.
WEIGHTS = ((1.0, -1.0), (0.5, 2.0), (-2.0, 0.25))
BIAS = (0.5, -1.5)
#: That model (a MatMul and an Add over initializers of WEIGHTS and BIAS; input ``"x"``, output
#: ``"y"``), serialized once with the onnx helper API at opset 17 / IR version 8 (what
#: onnxruntime >= 1.18 accepts). ``onnx`` is only a dev dependency, so the bytes are shipped;
#: tests/test_cli.py checks they are what the helper builds and what onnxruntime computes.
MODEL_ONNX = base64.b64decode(
    "CAg6pQEKEgoBeAoBdxICeHciBk1hdE11bAoPCgJ4dwoBYhIBeSIDQWRkEhJzbWFydGZsb3dfdmFsaWRhdGUqIwgD"
    "CAIQAUIBd0oYAACAPwAAgL8AAAA/AAAAQAAAAMAAAIA+KhEIAhABQgFiSggAAAA/AADAv1oYCgF4EhMKEQgBEg0K"
    "BxIFYmF0Y2gKAggDYhgKAXkSEwoRCAESDQoHEgViYXRjaAoCCAJCBAoAEBE="
)
MODEL_NAME = "smartflow.validate.model"
_log = get_logger("validate")


@attrs.frozen
class Step:
    """One step of the check: its name, how long it took and what it found; ``ok`` is None
    while it runs, and False with the class name of the error that ended the check."""

    name: str
    seconds: float
    ok: bool | None
    detail: str


#: Called with each step twice: ``ok=None`` as it starts, then ``ok`` True or False as it ends.
Report = Callable[[Step], None]


def expected_output(x: np.ndarray) -> np.ndarray:
    """What the shipped model computes for ``x``, in numpy."""
    weights = np.array(WEIGHTS, np.float32)
    return x.astype(np.float32) @ weights + np.array(BIAS, np.float32)


async def validate(report: Report, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    """Run every step, reporting each to ``report`` as it starts and ends; raise the first
    failure.

    ``timeout`` bounds each step (seconds): a redis-server that never answers fails as
    :class:`~smartflow.errors.StoreStartError`, a later step as
    :class:`~smartflow.errors.ClientTimeoutError`. One that answers ``--version`` but never
    serves is given up after the store's own readiness timeout (30 s), even when ``timeout`` is
    shorter: a cancelled launch waits for it. Whatever happens, nothing is left running and the
    temporary directory is removed.
    """
    steps = _Steps(report, timeout)
    server = await steps.run("find redis-server", _find_server, StoreBinaryNotFoundError)
    await steps.run(
        "redis-server runs",
        lambda: _server_version(server, timeout),
        StoreStartError,
        f"{server} --version",
    )
    # A short prefix: shard and worker sockets live under the experiment directory.
    tmp = Path(await anyio.to_thread.run_sync(tempfile.mkdtemp, None, "sfv-"))
    try:
        async with Experiment("validate", exp_path=tmp / "exp") as exp:
            db = exp.create_database()

            async def start() -> str:
                await exp.start(db)
                return db.get_address()[0]

            address = await steps.run("start store", start, StoreStartError, str(server))
            await _check_client(steps, address)

            async def stop() -> str:
                await exp.stop(db)
                return "stopped"

            await steps.run("stop store", stop, StoreError)
    finally:
        # Shielded: a cancelled check (Ctrl-C) must still remove its directory.
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(shutil.rmtree, tmp, True)


async def _find_server() -> Path:
    return find_redis_server()


async def _server_version(server: Path, limit_s: float) -> str:
    version = await anyio.to_thread.run_sync(server_version, server, limit_s)
    return version.split(" sha=")[0]


async def _check_client(steps: _Steps, address: str) -> None:
    """The client steps against the running store at ``address``."""
    client = Client(address=address, cluster=False)

    async def connect() -> str:
        await client.connect()
        return address

    await steps.run("connect client", connect, ClientTimeoutError)
    try:
        await steps.run("put/get tensor", lambda: _tensor_round_trip(client), ClientTimeoutError)
        await steps.run("store model", lambda: _store_model(client), ClientTimeoutError)
        await steps.run("run model", lambda: _run_model(client), ClientTimeoutError)
    finally:
        with anyio.CancelScope(shield=True):
            await client.aclose()


async def _tensor_round_trip(client: Client) -> str:
    sent = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    await client.put_tensor("smartflow.validate.tensor", sent)
    back = await client.get_tensor("smartflow.validate.tensor")
    if back.dtype != sent.dtype or back.shape != sent.shape or not np.array_equal(back, sent):
        raise ValidationFailedError(
            f"get_tensor gave {back.dtype} {back.shape} {back.ravel()[:6]}..., "
            f"put_tensor sent {sent.dtype} {sent.shape} {sent.ravel()[:6]}..."
        )
    return f"{sent.dtype} {sent.shape} equal"


async def _store_model(client: Client) -> str:
    await client.set_model(MODEL_NAME, MODEL_ONNX, backend="ONNX", device="CPU")
    return f"{len(MODEL_ONNX)} B ONNX (MatMul + Add) loaded by the worker"


async def _run_model(client: Client) -> str:
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)
    await client.put_tensor("smartflow.validate.x", x)
    await client.run_model(MODEL_NAME, ["smartflow.validate.x"], ["smartflow.validate.y"])
    y = await client.get_tensor("smartflow.validate.y")
    want = expected_output(x)
    if y.shape != want.shape or not np.allclose(y, want, rtol=1e-5, atol=1e-6):
        raise ValidationFailedError(f"run_model gave {y.tolist()}, numpy computes {want.tolist()}")
    return f"y = x @ W + b matches numpy {y.tolist()}"


@attrs.define
class _Steps:
    """Runs steps one by one: bounded, timed, reported."""

    report: Report
    timeout: float

    async def run(
        self,
        name: str,
        step: Callable[[], Awaitable[T]],
        on_timeout: type[SmartflowError],
        running: str = "",
    ) -> T:
        """Run ``step``; a step past the timeout raises ``on_timeout`` naming it (and
        ``running``, what it was running)."""
        self.report(Step(name, 0.0, None, ""))
        started = time.perf_counter()
        try:
            with anyio.move_on_after(self.timeout) as scope:
                result = await step()
            if scope.cancelled_caught:
                raise on_timeout(self._timed_out(name, running, time.perf_counter() - started))
        except Exception as exc:
            elapsed = time.perf_counter() - started
            _log.info("validate step failed", step=name, error=type(exc).__name__)
            self.report(Step(name, elapsed, False, type(exc).__name__))
            raise
        elapsed = time.perf_counter() - started
        _log.debug("validate step done", step=name, seconds=elapsed)
        self.report(Step(name, elapsed, True, str(result)))
        return result

    def _timed_out(self, name: str, running: str, elapsed: float) -> str:
        what = f" ({running})" if running else ""
        # Cancelling a store's launch waits (shielded) for its own readiness timeout, so the
        # step can end well after ours: say so rather than claim it took `timeout`.
        late = f"; it took {elapsed:.1f} s to stop" if elapsed > self.timeout + 1 else ""
        return f"{name}: no answer within {self.timeout:g} s{what}{late}"
