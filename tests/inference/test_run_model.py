"""Models next to the data, end to end: a real store, its real inference worker, real models."""

from __future__ import annotations

import os
import signal
import socket
from contextlib import AsyncExitStack

import anyio
import numpy as np
import onnxruntime as ort
import pytest
import redis.asyncio as aioredis

from smartflow import (
    Client,
    ClientConfig,
    Experiment,
    InferenceError,
    InvalidArgumentError,
    InvalidModelError,
    KeyNotFoundError,
    ModelInputError,
    Orchestrator,
    RunTimeoutError,
    UnsupportedTypeError,
    WorkerCrashedError,
)
from smartflow.inference.worker import WORKER_CLIENT_NAME, _near
from smartflow.wire import Limits
from smartflow.wire import protocol as runs
from tests._support import until
from tests.client._helpers import snapshot
from tests.inference import models
from tests.inference._helpers import has_items, worker_blocked, worker_pid

RTOL = ATOL = 1e-5


async def test_mlp_and_sklearn_match_their_references(client: Client) -> None:
    mlp, mlp_ref = models.mlp()
    forest, forest_ref = models.sklearn_model()
    await client.set_model("mlp", mlp)
    await client.set_model("forest", forest, device="cpu")
    rng = np.random.default_rng(1)
    for batch in (1, 64):
        x = rng.random((batch, 128), dtype=np.float32)
        features = rng.random((batch, 8), dtype=np.float32)
        await client.put_tensors({"x": x, "features": features})
        await client.run_model("mlp", inputs=["x"], outputs=["y"])
        await client.run_model("forest", inputs=["features"], outputs=["pred"])
        np.testing.assert_allclose(await client.get_tensor("y"), mlp_ref(x), RTOL, ATOL)
        np.testing.assert_allclose(
            await client.get_tensor("pred"), forest_ref(features), RTOL, ATOL
        )


async def test_several_inputs_and_outputs(client: Client) -> None:
    await client.set_model("add", models.add_model(), inputs=["a", "b"], outputs=["sum", "diff"])
    a, b = np.ones((4, 3), np.float32), np.full((4, 3), 2, np.float32)
    await client.put_tensors({"a": a, "b": b})
    await client.run_model("add", ["a", "b"], ["s", "d"])
    got = await client.get_tensors(["s", "d"])
    np.testing.assert_array_equal(got["s"], a + b)
    np.testing.assert_array_equal(got["d"], a - b)


async def test_infer_puts_runs_gets_and_cleans_up(client: Client, raw: aioredis.Redis) -> None:
    mlp, ref = models.mlp()
    await client.set_model("mlp", mlp)
    await client.set_model("add", models.add_model())
    before = set(await raw.keys("*"))
    x = np.random.default_rng(2).random((5, 128), dtype=np.float32)
    (y,) = await client.infer("mlp", [x])
    np.testing.assert_allclose(y, ref(x), RTOL, ATOL)
    total, diff = await client.infer("add", {"a": x[:, :3], "b": x[:, :3]})
    np.testing.assert_array_equal(total, 2 * x[:, :3])
    assert not diff.any()
    with pytest.raises(ModelInputError):
        await client.infer("mlp", [x[:, :5]])
    assert set(await raw.keys("*")) == before, "no temporary tensor is left behind"


async def test_model_lifecycle(client: Client, raw: aioredis.Redis) -> None:
    mlp, _ = models.mlp(n_in=4, hidden=8, n_out=2)
    assert not await client.model_exists("m")
    await client.set_model("m", mlp, tag="v1")
    assert await client.model_exists("m") and await client.poll_model("m", 5, 2)
    assert await client.get_model("m") == mlp
    assert not [k for k in await raw.keys("*") if b"pending" in k]
    await client.delete_model("m")
    await client.delete_model("m")  # twice is no error
    assert not await client.model_exists("m")
    await client.put_tensor("x", np.ones((1, 4), np.float32))
    with pytest.raises(KeyNotFoundError, match="'m' does not exist"):
        await client.run_model("m", ["x"], ["y"])
    with pytest.raises(KeyNotFoundError):
        await client.get_model("m")


async def test_a_new_version_replaces_the_loaded_one(client: Client) -> None:
    small_a, ref_a = models.mlp(n_in=4, hidden=8, n_out=2, seed=1)
    small_b, ref_b = models.mlp(n_in=4, hidden=8, n_out=2, seed=2)
    x = np.ones((3, 4), np.float32)
    await client.put_tensor("x", x)
    for data, ref in ((small_a, ref_a), (small_b, ref_b), (small_a, ref_a)):
        await client.set_model("m", data)
        await client.run_model("m", ["x"], ["y"])
        np.testing.assert_allclose(await client.get_tensor("y"), ref(x), RTOL, ATOL)


async def test_bytes_that_are_not_a_model_are_refused_at_set_model(
    client: Client, raw: aioredis.Redis
) -> None:
    mlp, ref = models.mlp(n_in=4, hidden=8, n_out=2)
    await client.set_model("m", mlp)
    before = await snapshot(raw)
    with pytest.raises(InvalidModelError, match="cannot be loaded"):
        await client.set_model("m", b"this is not an onnx model")
    with pytest.raises(InvalidModelError):
        await client.set_model("m", mlp, inputs=["wrong_name"])
    assert await snapshot(raw) == before, "the earlier model is untouched, nothing pending left"
    x = np.ones((2, 4), np.float32)
    await client.put_tensor("x", x)
    await client.run_model("m", ["x"], ["y"])
    np.testing.assert_allclose(await client.get_tensor("y"), ref(x), RTOL, ATOL)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"backend": "TORCH"}, InvalidArgumentError),
        ({"device": "TPU"}, InvalidArgumentError),
        ({"batch_size": -1}, InvalidArgumentError),
        ({"min_batch_size": 8, "batch_size": 4}, InvalidArgumentError),
        ({"inputs": [3]}, UnsupportedTypeError),
        ({"tag": 7}, UnsupportedTypeError),
    ],
)
async def test_bad_set_model_arguments(client: Client, raw: aioredis.Redis, kwargs, error) -> None:  # type: ignore[no-untyped-def]
    mlp, _ = models.mlp(n_in=4, hidden=8, n_out=2)
    with pytest.raises(error):
        await client.set_model("m", mlp, **kwargs)
    assert await raw.keys("*") == []


@pytest.mark.skipif(
    "CUDAExecutionProvider" in ort.get_available_providers(),
    reason="this onnxruntime has a GPU provider: the no-GPU refusal cannot be shown here",
)
async def test_asking_for_a_gpu_without_one_is_refused(client: Client, raw: aioredis.Redis) -> None:
    mlp, _ = models.mlp(n_in=4, hidden=8, n_out=2)
    with pytest.raises(InvalidModelError, match="no GPU support"):
        await client.set_model("m", mlp, device="GPU:0")
    assert await raw.keys("*") == []


async def test_bad_run_inputs_name_the_problem(client: Client) -> None:
    await client.set_model("mlp", models.mlp(n_in=4, hidden=8, n_out=2)[0])
    await client.set_model("ints", models.identity_int64())
    await client.put_tensors(
        {
            "wide": np.ones((2, 5), np.float32),
            "floats": np.ones((2, 4), np.float32),
            "flat": np.ones(4, np.float32),
        }
    )
    with pytest.raises(ModelInputError, match=r"input 'x' must have shape \['batch', 4\]"):
        await client.run_model("mlp", ["wide"], ["y"])
    with pytest.raises(ModelInputError, match="input 'x' must have shape"):
        await client.run_model("mlp", ["flat"], ["y"])
    with pytest.raises(ModelInputError, match="must be int64, got float32"):
        await client.run_model("ints", ["floats"], ["y"])
    with pytest.raises(ModelInputError, match="takes 1 inputs"):
        await client.run_model("mlp", ["floats", "floats"], ["y"])
    with pytest.raises(ModelInputError, match="has 1 outputs"):
        await client.run_model("mlp", ["floats"], ["y", "z"])
    with pytest.raises(KeyNotFoundError, match="'missing'"):
        await client.run_model("mlp", ["missing"], ["y"])
    with pytest.raises(InvalidArgumentError):
        await client.run_model("mlp", [], ["y"])
    await client.run_model("mlp", ["floats"], ["y"])  # the worker is fine after all that
    assert (await client.get_tensor("y")).shape == (2, 2)


async def test_inputs_that_are_not_tensors_fail_only_their_own_run(
    experiment: Experiment, client: Client, raw: aioredis.Redis
) -> None:
    await client.set_model("mlp", models.mlp(n_in=4, hidden=8, n_out=2)[0])
    await client.put_tensor("floats", np.ones((2, 4), np.float32))
    await raw.set("text", b"not a tensor at all")
    await raw.rpush("a-list", b"x")
    pid = worker_pid(experiment)
    with pytest.raises(InferenceError, match="'text'"):
        await client.run_model("mlp", ["text"], ["y"])
    with pytest.raises(InferenceError, match="'a-list'"):
        await client.run_model("mlp", ["a-list"], ["y"])
    async with anyio.create_task_group() as tg:  # one round: the good run is not spoiled
        tg.start_soon(client.run_model, "mlp", ["floats"], ["y"])
        with pytest.raises(InferenceError, match="'text'"):
            await client.run_model("mlp", ["text"], ["z"])
    assert (await client.get_tensor("y")).shape == (2, 2)
    assert worker_pid(experiment) == pid, "the worker did not crash"


async def test_a_run_timeout_is_typed_and_the_worker_recovers(
    experiment: Experiment, store: Orchestrator, raw: aioredis.Redis
) -> None:
    config = ClientConfig(run_timeout=0.3)
    async with Client(address=store.get_address()[0], config=config) as client:
        await client.set_model("mlp", models.mlp(n_in=4, hidden=8, n_out=2)[0])
        await client.put_tensor("x", np.ones((1, 4), np.float32))
        pid = worker_pid(experiment)
        os.kill(pid, signal.SIGSTOP)
        try:
            with pytest.raises(RunTimeoutError, match=r"0\.3 s"):
                await client.run_model("mlp", ["x"], ["y"])
        finally:
            os.kill(pid, signal.SIGCONT)
    async with Client(address=store.get_address()[0]) as client:  # the default, patient timeout
        await client.run_model("mlp", ["x"], ["y"])
        assert (await client.get_tensor("y")).shape == (1, 2)


async def test_a_timed_out_infer_leaves_nothing_behind(
    experiment: Experiment, store: Orchestrator, raw: aioredis.Redis
) -> None:
    """``infer`` stores nothing: its inputs travel in the request, its outputs in the answer.
    With the worker stopped, the first request is taken (the store hands it to the stopped
    worker's blocking take) and the second stays queued; both clients give up, the queued one
    is withdrawn, and once the worker runs again only its answer to the first is left, and
    that expires."""
    mlp = models.mlp(n_in=4, hidden=8, n_out=2)[0]
    queue, busy = runs.queue_key("0"), runs.busy_key("0")
    async with Client(address=store.get_address()[0], config=ClientConfig(run_timeout=1)) as c:
        await c.set_model("mlp", mlp)
        await c.infer("mlp", [np.ones((1, 4), np.float32)])  # the worker is up
        await until(lambda: worker_blocked(raw))
        before = set(await raw.keys("*"))
        pid = worker_pid(experiment)
        os.kill(pid, signal.SIGSTOP)
        try:
            outcome: list[BaseException] = []

            async def infer() -> None:
                try:
                    await c.infer("mlp", [np.ones((1, 4), np.float32)])
                except RunTimeoutError as exc:
                    outcome.append(exc)

            async with anyio.create_task_group() as tg:
                tg.start_soon(infer)
                await until(lambda: has_items(raw, busy))  # the first is taken
                tg.start_soon(infer)  # the second waits in the queue
            assert len(outcome) == 2, outcome
            assert await raw.llen(queue) == 0, "the queued request was withdrawn"
        finally:
            os.kill(pid, signal.SIGCONT)
    await until(lambda: _is_empty(raw, busy))  # the worker answered what it had taken
    left = set(await raw.keys("*")) - before
    assert left and all(k.startswith(b"smartflow.reply{0}:") for k in left), left
    assert all([0 < await raw.ttl(k) <= runs.REPLY_TTL_S for k in left])


async def _is_empty(r: aioredis.Redis, key: bytes) -> bool:
    return await r.llen(key) == 0


async def _no_keys(r: aioredis.Redis, pattern: str) -> bool:
    return not await r.keys(pattern)


async def test_a_worker_killed_mid_run_fails_the_request_and_is_restarted(
    experiment: Experiment, client: Client, raw: aioredis.Redis
) -> None:
    await client.set_model("mlp", models.mlp(n_in=4, hidden=8, n_out=2)[0])
    await client.put_tensor("x", np.ones((1, 4), np.float32))
    await client.run_model("mlp", ["x"], ["y"])  # the worker is up
    await until(lambda: worker_blocked(raw))  # and waiting in a blocking take on its queue
    pid = worker_pid(experiment)
    os.kill(pid, signal.SIGSTOP)  # the store still hands it the next request
    busy = runs.busy_key("0")
    outcome: list[BaseException] = []

    async def run() -> None:
        try:
            await client.run_model("mlp", ["x"], ["y"])
        except WorkerCrashedError as exc:
            outcome.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        await until(lambda: has_items(raw, busy))  # taken, never to be answered
        os.kill(pid, signal.SIGKILL)
    assert len(outcome) == 1 and "died while running" in str(outcome[0])
    # The new worker answers its predecessor's orphans as it starts, just before it reports
    # serving: the status table may learn of it a moment after the client's answer.
    await until(lambda: worker_pid(experiment) != pid)
    await client.run_model("mlp", ["x"], ["y"])
    assert await raw.llen(busy) == 0


async def test_the_worker_reaches_its_shard_by_unix_socket(raw: aioredis.Redis) -> None:
    """A TCP shard also serves a unix socket in its directory, and its worker (beside it)
    talks to it over that socket, cheaper than loopback TCP."""
    await until(lambda: worker_blocked(raw))
    workers = [c for c in await raw.client_list() if c["name"] == WORKER_CLIENT_NAME]
    assert workers, "the worker is connected"
    # a unix client's address is the socket's path (which Redis may cut short), not host:port
    assert all(c["addr"].startswith("/") for c in workers), workers


async def test_a_worker_away_from_its_shard_falls_back_to_its_address(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A socket file it cannot connect to (the shard runs on another host, say) is no error."""
    dead = tmp_path / "shard.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(dead))  # a socket file nobody listens on: connecting is refused
    async with AsyncExitStack() as stack:
        assert await _near(stack, str(dead), Limits()) is None
        assert await _near(stack, str(tmp_path / "none.sock"), Limits()) is None
        assert await _near(stack, None, Limits()) is None


async def test_concurrent_runs_are_joined_into_batches(client: Client) -> None:
    """Batch-centering outputs zeros for a row run alone and non-zeros for rows run together,
    so the results show whether the worker joined the requests."""
    await client.set_model(
        "center", models.batch_centering(), batch_size=16, min_batch_size=8, min_batch_timeout=5000
    )
    await client.set_model("alone", models.batch_centering())
    rows = {f"r{i}": np.array([[float(i), -float(i)]], np.float32) for i in range(8)}
    await client.put_tensors(rows)

    async def run(model: str, name: str) -> None:
        await client.run_model(model, [name], [f"{model}.{name}"])

    for model in ("center", "alone"):
        async with anyio.create_task_group() as tg:
            for name in rows:
                tg.start_soon(run, model, name)
    joined = await client.get_tensors([f"center.{n}" for n in rows])
    alone = await client.get_tensors([f"alone.{n}" for n in rows])
    assert all(not a.any() for a in alone.values()), "unbatched rows are centred on themselves"
    stacked = np.concatenate([joined[f"center.{n}"] for n in rows])
    values = np.concatenate(list(rows.values()))
    np.testing.assert_allclose(stacked, values - values.mean(axis=0), RTOL, ATOL)


async def test_models_run_on_every_shard_of_a_cluster(cluster: Orchestrator) -> None:
    mlp, ref = models.mlp(n_in=4, hidden=8, n_out=2)
    async with Client(address=",".join(cluster.get_address()), cluster=True) as client:
        await client.set_model("mlp", mlp)
        x = np.arange(8, dtype=np.float32).reshape(2, 4)
        names = [f"x{i}" for i in range(12)]  # spread over the three shards
        await client.put_tensors({n: x for n in names})
        for n in names:
            await client.run_model("mlp", [n], [f"{{{n}}}.y"])
        results = await client.get_tensors([f"{{{n}}}.y" for n in names])
        for y in results.values():
            np.testing.assert_allclose(y, ref(x), RTOL, ATOL)
        for i, n in enumerate(names):  # outputs on other shards than the run's
            await client.run_model("mlp", [n], [f"elsewhere.{i}"])
        for y in (await client.get_tensors([f"elsewhere.{i}" for i in range(12)])).values():
            np.testing.assert_allclose(y, ref(x), RTOL, ATOL)
        (y,) = await client.infer("mlp", [x])
        np.testing.assert_allclose(y, ref(x), RTOL, ATOL)
    port = cluster.get_address()[0].rpartition(":")[2]
    async with Client(address=f"localhost:{port}", cluster=True) as client:
        # a seed named unlike the slot map's addresses is not taken for a fourth shard
        await client.set_model("mlp", mlp)
        await client.delete_model("mlp")
        assert not await client.model_exists("mlp")


async def test_a_malformed_request_spoils_no_other_in_its_round(
    experiment: Experiment, client: Client, raw: aioredis.Redis
) -> None:
    """Any Redis client can write to the queue: garbage there is answered and dropped, and a
    batching model's run taken in the same round still runs, with no worker restart."""
    await client.set_model("center", models.batch_centering(), batch_size=4, min_batch_size=2)
    await client.put_tensor("row", np.ones((1, 2), np.float32))
    await until(lambda: worker_blocked(raw))
    pid = worker_pid(experiment)
    os.kill(pid, signal.SIGSTOP)
    try:
        await raw.rpush(runs.queue_key("0"), b"not json")  # the pending blocking take gets it
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.run_model, "center", ["row"], ["out"])
            await until(lambda: has_items(raw, runs.queue_key("0")))  # queued behind it
            os.kill(pid, signal.SIGCONT)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert (await client.get_tensor("out")).tolist() == [[0.0, 0.0]]
    assert worker_pid(experiment) == pid, "the worker did not crash"
    assert await raw.llen(runs.busy_key("0")) == 0


async def test_inputs_too_large_to_carry_are_read_by_the_worker(store: Orchestrator) -> None:
    """A chunked input (a Redis list) cannot travel in the request: the worker reads it."""
    mlp, ref = models.mlp(n_in=4, hidden=8, n_out=2)
    x = np.random.default_rng(5).random((300, 4), dtype=np.float32)
    config = ClientConfig(max_value_bytes=1024)  # x is stored in chunks
    async with Client(address=store.get_address()[0], config=config) as client:
        await client.set_model("mlp", mlp)
        await client.put_tensor("x", x)
        await client.run_model("mlp", ["x"], ["y"])
        np.testing.assert_allclose(await client.get_tensor("y"), ref(x), RTOL, ATOL)


async def test_a_lone_request_waits_for_company_only_once(client: Client) -> None:
    """RedisAI's min_batch_timeout, except that once a batching model's round ran a request
    alone, the next lone request runs at once rather than wait 5 s for company."""
    await client.set_model(
        "center", models.batch_centering(), batch_size=16, min_batch_size=8, min_batch_timeout=5000
    )
    await client.put_tensor("r", np.array([[1.0, -1.0]], np.float32))
    with anyio.fail_after(30):
        await client.run_model("center", ["r"], ["out"])  # waits, then runs alone
        with anyio.fail_after(2.5):  # half the timeout: it did not wait for it
            for _ in range(3):
                await client.run_model("center", ["r"], ["out"])
