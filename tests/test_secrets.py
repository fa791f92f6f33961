"""The store secret reaches no repr, log line, error message, status or output file.

The secret goes to redis-server on stdin and to launched applications in their environment;
everything that carries it on the way (shard configurations, process and actor specs, launch
messages) must not show it when printed, logged or diffed by pytest.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest

from smartflow import AuthenticationError, Client, Experiment, Status
from smartflow.experiment._launch_specs import model_actor_spec, stores_env
from smartflow.inference.spec import worker_actor_spec
from smartflow.runtime.messages import Launch
from smartflow.store.config import ShardConfig
from smartflow.store.server import shard_actor_spec

FAILS = "import sys; print('about to fail'); sys.exit('the model failed on purpose')"


def _every_text_file(root: Path) -> dict[Path, str]:
    return {
        path: path.read_text(errors="replace")
        for path in root.rglob("*")
        if path.is_file() and not path.name.endswith((".sock", ".rdb"))
    }


async def test_a_whole_experiment_at_debug_shows_the_secret_nowhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    async with Experiment("secrets", exp_path=tmp_path / "exp") as exp:
        db = exp.create_database()
        await exp.start(db)
        secret = db.password
        rs = exp.create_run_settings(sys.executable, ["-c", FAILS])
        model = exp.create_model("failing", rs)
        await exp.start(model, block=True)
        assert await exp.get_status(model) == [Status.FAILED]
        async with Client(address=db.get_address()[0]) as client:
            await client.put_tensor("t", np.arange(2.0))
            shown = [str(client), repr(client)]
        with pytest.raises(AuthenticationError) as refused:
            async with Client(address=db.get_address()[0], password="not-" + secret):
                pass
        shown += [str(refused.value), repr(refused.value)]
        shown += [exp.summary(), repr(exp.summary(format="records")), exp.preview(model)]
        shown += [repr(db), repr(model), repr(exp)]
        await exp.stop(db)
    assert "the model failed on purpose" in exp.summary()  # the table does carry the failure
    assert secret not in caplog.text
    assert "DEBUG" in caplog.text  # the capture really ran at DEBUG
    output = capsys.readouterr()
    assert secret not in output.out + output.err
    for text in shown:
        assert secret not in text
    files = _every_text_file(tmp_path / "exp")
    assert any(path.name.endswith(".worker.log") for path in files)  # the workers' logs too
    assert [path for path, text in files.items() if secret in text] == []


def test_no_spec_or_message_that_carries_the_secret_shows_it(tmp_path: Path) -> None:
    secret = "s3cr3t-" + "x" * 24
    shard = ShardConfig("db_0", "127.0.0.1", 6390, secret, tmp_path)
    shard_spec = shard_actor_spec(shard)
    worker_spec = worker_actor_spec("db_0", shard.address, secret, tmp_path)
    assert secret.encode() in shard_spec.process.stdin_data  # it does travel there ...
    assert worker_spec.process.env["SSDB_PASSWORD"] == secret  # ... and there
    for carrier in (shard, shard_spec, shard_spec.process, worker_spec, Launch((worker_spec,))):
        assert secret not in repr(carrier)
        assert secret not in str(carrier)


async def test_a_model_spec_hides_the_secret_of_every_store(tmp_path: Path) -> None:
    async with Experiment("specs", exp_path=tmp_path) as exp:
        db = exp.create_database(port=6391)  # never started: the spec is all this looks at
        model = exp.create_model("m", exp.create_run_settings("true"))
        spec = model_actor_spec(model, stores_env([db]), run_id=1, base_env={})
        assert spec.process.env["SSDB_PASSWORD"] == db.password
        assert db.password not in repr(spec)
