"""Co-located stores: each model's own redis-server on its host, over TCP or a unix socket,
started just before the model and stopped when it ends, however it ends."""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
from pathlib import Path

import anyio
import psutil
import pytest
import redis.asyncio as aioredis

from smartflow import (
    Experiment,
    ExperimentError,
    InvalidArgumentError,
    PortInUseError,
    Status,
)
from smartflow.client._secrets import known_secret
from tests._support import gone, summary_rows

APP = """
import json, os, sys
import numpy as np
from smartflow import SyncClient

with SyncClient() as client:  # SSDB, SR_DB_TYPE and SSDB_PASSWORD from the environment
    client.put_tensor("mine", np.arange(4) * int(sys.argv[1]))
    value = client.get_tensor("mine").tolist()
    others = client.key_exists("theirs")
    client.put_tensor("theirs", np.zeros(1))
keys = ("SSDB", "SR_DB_TYPE")
json.dump({"value": value, "others": others, **{k: os.environ[k] for k in keys}},
          open("result.json", "w"))
sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
"""


def _app(experiment: Experiment, name: str, *args: str):
    settings = experiment.create_run_settings(sys.executable, ["-c", APP, *args])
    return experiment.create_model(name, settings)


async def _store_ended(experiment: Experiment, name: str) -> dict:
    """The co-located store's summary row once it has ended (it ends right after its model)."""
    with anyio.fail_after(10):
        while not Status(summary_rows(experiment)[f"{name}.db"]["status"]).is_terminal:  # noqa: ASYNC110
            await anyio.sleep(0.01)
    return summary_rows(experiment)[f"{name}.db"]


def _result(model) -> dict:
    return json.loads((Path(model.path) / "result.json").read_text())


async def test_tcp_store_serves_the_model_and_ends_with_it(experiment: Experiment) -> None:
    model = _app(experiment, "colo", "3")
    model.colocate_db_tcp()
    await experiment.start(model)
    result = _result(model)
    assert result["value"] == [0, 3, 6, 9] and result["SR_DB_TYPE"] == "Standalone"
    assert result["SSDB"] == model.colocated_db.get_address()[0]
    assert result["SSDB"].startswith("127.0.0.1:")
    assert await experiment.get_status(model) == [Status.COMPLETED]
    row = await _store_ended(experiment, "colo")
    assert row["entity_type"] == "Orchestrator" and gone(int(row["job_id"]))


async def test_unix_socket_store(experiment: Experiment, tmp_path: Path) -> None:
    path = Path("/tmp") / f"sf-test-{os.getpid()}.sock"
    model = _app(experiment, "uds", "2")
    model.colocate_db_uds(unix_socket=path, socket_permissions=0o700)
    await experiment.start(model, block=False)
    with anyio.fail_after(10):
        while not path.exists():  # noqa: ASYNC110
            await anyio.sleep(0.01)
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
    await experiment.poll(interval=1, verbose=False)
    result = _result(model)
    assert result["SSDB"] == f"unix://{path}" and result["value"] == [0, 2, 4, 6]
    await _store_ended(experiment, "uds")
    assert not path.exists(), "the store removes its socket when it stops"


async def test_a_crashing_model_takes_its_store_down(experiment: Experiment) -> None:
    model = _app(experiment, "crash", "1", "7")
    model.colocate_db_uds()
    await experiment.start(model)
    assert await experiment.get_status(model) == [Status.FAILED]
    assert summary_rows(experiment)["crash"]["returncode"] == 7
    row = await _store_ended(experiment, "crash")
    assert gone(int(row["job_id"]))


async def test_stopping_the_model_stops_its_store(experiment: Experiment) -> None:
    settings = experiment.create_run_settings("sleep", ["60"])
    model = experiment.create_model("sleeper", settings)
    model.colocate_db_tcp()
    await experiment.start(model, block=False)
    store_pid = int(summary_rows(experiment)["sleeper.db"]["job_id"])
    await experiment.stop(model)
    assert (await _store_ended(experiment, "sleeper"))["status"] == str(Status.CANCELLED)
    assert gone(store_pid)
    await experiment.start(model, block=False)  # and it starts again, with a fresh store
    assert await experiment.get_status(model) == [Status.RUNNING]
    await experiment.stop(model)


@pytest.mark.parametrize("kind", ["tcp", "uds"])
async def test_two_colocated_models_get_a_store_each(experiment: Experiment, kind: str) -> None:
    first, second = _app(experiment, "one", "1"), _app(experiment, "two", "2")
    for model in (first, second):
        model.colocate_db_tcp() if kind == "tcp" else model.colocate_db_uds()
    await experiment.start(first, second)
    one, two = _result(first), _result(second)
    assert one["SSDB"] != two["SSDB"]
    assert (one["value"], two["value"]) == ([0, 1, 2, 3], [0, 2, 4, 6])
    assert one["others"] is False and two["others"] is False, "each store holds only its own"


async def test_pinning_threads_debug_and_settings_reach_the_store(
    experiment: Experiment,
) -> None:
    cpu = min(os.sched_getaffinity(0))
    settings = experiment.create_run_settings("sleep", ["60"])
    model = experiment.create_model("tuned", settings)
    model.colocate_db_tcp(db_cpus=2, custom_pinning=[cpu], debug=True, maxmemory="64mb")
    await experiment.start(model, block=False)
    store_pid = int(summary_rows(experiment)["tuned.db"]["job_id"])
    assert psutil.Process(store_pid).cpu_affinity() == [cpu]
    host, _, port = model.colocated_db.get_address()[0].rpartition(":")
    shard = aioredis.Redis(host=host, port=int(port), password=model.colocated_db.password)
    try:
        config = await shard.config_get("*")
    finally:
        await shard.aclose()
    assert (config["io-threads"], config["loglevel"]) == ("2", "debug")
    assert config["maxmemory"] == str(64 * 1024**2)
    await experiment.stop(model)


async def test_a_port_in_use_starts_nothing(experiment: Experiment) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        model = _app(experiment, "blocked", "1")
        model.colocate_db_tcp(port=taken.getsockname()[1])
        with pytest.raises(PortInUseError):
            await experiment.start(model)
    assert await experiment.get_status(model) == [Status.NEW]
    assert "blocked.db" not in summary_rows(experiment)


async def test_a_second_plain_ssdb_is_refused_before_anything_starts(
    experiment: Experiment,
) -> None:
    db = experiment.create_database()
    await experiment.start(db)
    model = _app(experiment, "clash", "1")
    model.colocate_db_tcp()  # db_identifier "" is the plain SSDB too
    with pytest.raises(ExperimentError, match="SSDB"):
        await experiment.start(model)
    assert await experiment.get_status(model) == [Status.NEW]
    model.colocate_db_tcp(db_identifier="colo")  # a name of its own works beside the store
    await experiment.start(model)
    assert _result(model)["SSDB"] == db.get_address()[0]


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("colocate_db_uds", {"unix_socket": "/tmp/" + "x" * 120 + ".sock"}),
        ("colocate_db_uds", {"unix_socket": "/no/such/directory/db.sock"}),
        ("colocate_db_uds", {"socket_permissions": 0o1777}),
        ("colocate_db_tcp", {"port": 0}),
        ("colocate_db_tcp", {"ifname": "no-such-interface0"}),
        ("colocate_db_tcp", {"db_cpus": 0}),
        ("colocate_db_tcp", {"custom_pinning": [10_000]}),
        ("colocate_db_tcp", {"custom_pinning": "0"}),
        ("colocate_db_tcp", {"db_identifier": "bad name"}),
        ("colocate_db_tcp", {"requirepass": "mine"}),
        ("colocate_db_tcp", {"daemonize": "yes"}),
        ("colocate_db_tcp", {"logfile": "/tmp/elsewhere.log"}),
        ("colocate_db_tcp", {"maxmemory": "1gb\nrequirepass x"}),
        ("colocate_db_tcp", {"custom_pinning": 3.5}),
        ("colocate_db_tcp", {"custom_pinning": True}),
        ("colocate_db_tcp", {"port": True}),
        ("colocate_db_tcp", {"maxmemory": None}),
    ],
)
def test_bad_colocation_is_refused_at_once(tmp_path: Path, method: str, kwargs: dict) -> None:
    exp = Experiment("bad", exp_path=tmp_path)
    model = exp.create_model("m", exp.create_run_settings("true"))
    with pytest.raises(InvalidArgumentError):
        getattr(model, method)(**kwargs)
    assert model.colocated_db is None


def test_preview_names_the_colocated_store(tmp_path: Path) -> None:
    exp = Experiment("preview", exp_path=tmp_path)
    tcp = exp.create_model("tcp", exp.create_run_settings("true"))
    tcp.colocate_db_tcp(port=23456, db_identifier="colo")
    uds = exp.create_model("uds", exp.create_run_settings("true"))
    uds.colocate_db_uds(unix_socket="/tmp/preview.sock")
    text = exp.preview(tcp, uds)
    assert "co-located store tcp.db: 127.0.0.1:23456 (SSDB_colo)" in text
    assert "co-located store uds.db: unix socket /tmp/preview.sock (SSDB)" in text


async def test_a_clash_in_one_start_call_starts_nothing(experiment: Experiment) -> None:
    db = experiment.create_database()
    model = _app(experiment, "clash", "1")
    model.colocate_db_tcp()  # the plain SSDB, like db
    with pytest.raises(ExperimentError, match="SSDB"):
        await experiment.start(db, model)
    # The shard, its worker, the model: nothing was started.
    assert await experiment.get_status(db, model) == [Status.NEW] * 3


def test_the_colocated_store_name_is_taken(tmp_path: Path) -> None:
    exp = Experiment("names", exp_path=tmp_path)
    model = exp.create_model("m", exp.create_run_settings("true"))
    model.colocate_db_tcp()
    with pytest.raises(InvalidArgumentError):
        exp.create_model("m.db", exp.create_run_settings("true"))


async def test_the_colocated_secret_is_forgotten_after_stop(experiment: Experiment) -> None:
    model = experiment.create_model("s", experiment.create_run_settings("sleep", ["60"]))
    model.colocate_db_tcp()
    await experiment.start(model, block=False)
    address = model.colocated_db.get_address()[0]
    assert known_secret(address) == model.colocated_db.password
    await experiment.stop(model)
    assert known_secret(address) is None
