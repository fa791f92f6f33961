"""Models and ensembles run through the Experiment: real processes, statuses, env, stop, cancel."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import sys
import time
from contextlib import aclosing
from pathlib import Path

import anyio
import psutil
import pytest

from smartflow import (
    ExecutableNotFoundError,
    Experiment,
    ExperimentError,
    InvalidArgumentError,
    Status,
    StatusEvent,
)
from tests._support import alive, pid_of, summary_rows, wait_gone

# Writes its whole environment to env.json in its working directory.
DUMP_ENV = "import json, os; json.dump(dict(os.environ), open('env.json', 'w'))"

# Prints its cwd to stdout, a line to stderr, and exits with the code given as --code=N.
REPORT = (
    "import os, sys\n"
    "code = int(next((a.split('=')[1] for a in sys.argv if a.startswith('--code=')), '0'))\n"
    "print('cwd=' + os.getcwd())\n"
    "print('boom-%d' % code, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _is_sleep(proc: psutil.Process) -> bool:
    try:
        return proc.name() == "sleep"
    except psutil.Error:
        return False


def _python(exp: Experiment, script: str, **kwargs):
    return exp.create_run_settings(sys.executable, exe_args=["-c", script], **kwargs)


def _env_of(model) -> dict[str, str]:
    return json.loads((Path(model.path) / "env.json").read_text())


# -- running ------------------------------------------------------------------------------------


async def test_model_runs_in_its_directory_with_output_files(experiment: Experiment) -> None:
    model = experiment.create_model("sim", _python(experiment, REPORT))
    await experiment.start(model)
    directory = experiment.exp_path / "sim"
    assert (directory / "sim.out").read_text() == f"cwd={directory}\n"
    assert (directory / "sim.err").read_text() == "boom-0\n"
    assert await experiment.get_status(model) == [Status.COMPLETED]
    record = summary_rows(experiment)["sim"]
    assert record["returncode"] == 0
    assert record["status"] == "Completed"
    assert record["entity_type"] == "Model"


async def test_members_run_in_their_own_directories(experiment: Experiment) -> None:
    ens = experiment.create_ensemble("ens", run_settings=_python(experiment, REPORT), replicas=2)
    await experiment.start(ens)
    for member in ens.models:
        directory = experiment.exp_path / "ens" / member.name
        assert (directory / f"{member.name}.out").read_text() == f"cwd={directory}\n"
        assert (directory / f"{member.name}.err").read_text() == "boom-0\n"


async def test_block_true_returns_even_when_some_fail(experiment: Experiment) -> None:
    ok = experiment.create_model("ok", experiment.create_run_settings("true"))
    bad = experiment.create_model("bad", experiment.create_run_settings("false"))
    ens = experiment.create_ensemble(
        "ens",
        params={"code": [0, 3, 0, 7]},
        run_settings=_python(experiment, REPORT),
        params_as_args=["code"],
    )
    await experiment.start(ok, bad, ens, block=True)

    assert await experiment.get_status(ok, bad, ens) == [
        Status.COMPLETED,
        Status.FAILED,
        Status.COMPLETED,
        Status.FAILED,
        Status.COMPLETED,
        Status.FAILED,
    ]
    records = summary_rows(experiment)
    assert records["bad"]["returncode"] == 1
    assert [records[f"ens_{i}"]["returncode"] for i in range(4)] == [0, 3, 0, 7]
    assert "boom-3" in records["ens_1"]["error"]
    assert "boom-7" in records["ens_3"]["error"]
    assert records["ens_1"]["status"] == "Failed"
    assert records["ok"]["error"] == ""
    listed = experiment.summary(format="records")
    assert [r["name"] for r in listed] == ["ok", "bad", "ens_0", "ens_1", "ens_2", "ens_3"]
    failed = listed[3]
    assert (
        failed["status"] == "Failed" and failed["returncode"] == 3 and "boom-3" in failed["error"]
    )


async def test_block_false_returns_at_once_then_poll_waits(
    experiment: Experiment, tmp_path: Path
) -> None:
    # The models end only once the gate file exists, so neither check below races the clock.
    gate = tmp_path / "gate"
    wait_for_gate = f"until [ -e {shlex.quote(str(gate))} ]; do sleep 0.02; done"
    rs = experiment.create_run_settings("sh", exe_args=["-c", wait_for_gate])
    model = experiment.create_model("m", rs)
    ens = experiment.create_ensemble("ens", run_settings=rs, replicas=2)
    with anyio.fail_after(10):  # a start that waited for its models would wait here forever
        await experiment.start(model, ens, block=False)
    assert await experiment.get_status(model, ens) == [Status.RUNNING] * 3
    assert await experiment.finished(model) is False

    async def open_gate() -> None:
        await anyio.sleep(0.3)
        gate.touch()

    async with anyio.create_task_group() as tg:
        tg.start_soon(open_gate)
        await experiment.poll(interval=0.1)
        assert gate.exists(), "poll returned before its models could end"
    assert await experiment.get_status(model, ens) == [Status.COMPLETED] * 3
    assert await experiment.finished(model) is True
    assert await experiment.finished(ens) is True


async def test_stop_a_long_running_model(experiment: Experiment) -> None:
    model = experiment.create_model("long", experiment.create_run_settings("sleep", ["30"]))
    await experiment.start(model, block=False)
    pid = pid_of(experiment, "long")
    assert alive(pid)
    t0 = time.monotonic()
    await experiment.stop(model)
    # The grace is a fixed 5 s (not settable from an Experiment), so the bound must stay under
    # it to catch a stop that waits it out; sleep takes its SIGTERM in milliseconds.
    assert time.monotonic() - t0 < 3
    assert await experiment.get_status(model) == [Status.CANCELLED]
    assert not alive(pid)
    assert await experiment.finished(model) is True
    assert summary_rows(experiment)["long"]["status"] == "Cancelled"


async def test_stop_an_ensemble(experiment: Experiment) -> None:
    ens = experiment.create_ensemble(
        "ens", run_settings=experiment.create_run_settings("sleep", ["30"]), replicas=3
    )
    await experiment.start(ens, block=False)
    pids = [pid_of(experiment, m.name) for m in ens.models]
    await experiment.stop(ens)
    assert await experiment.get_status(ens) == [Status.CANCELLED] * 3
    assert await wait_gone(*pids) == []


async def test_stop_after_completion_keeps_the_status(experiment: Experiment) -> None:
    model = experiment.create_model("m", experiment.create_run_settings("true"))
    await experiment.start(model)
    await experiment.stop(model)
    assert await experiment.get_status(model) == [Status.COMPLETED]


async def test_get_status_is_flat_and_in_order(experiment: Experiment) -> None:
    ens = experiment.create_ensemble(
        "ens",
        params={"code": [0, 2, 0]},
        run_settings=_python(experiment, REPORT),
        params_as_args=["code"],
    )
    model = experiment.create_model("m", experiment.create_run_settings("false"))
    never = experiment.create_model("never", experiment.create_run_settings("true"))
    assert await experiment.get_status(ens, model) == [Status.NEW] * 4
    await experiment.start(ens, model)
    assert await experiment.get_status(ens, model, never) == [
        Status.COMPLETED,
        Status.FAILED,
        Status.COMPLETED,
        Status.FAILED,
        Status.NEW,
    ]
    assert await experiment.get_status(model, ens.models[1]) == [Status.FAILED, Status.FAILED]
    assert await experiment.get_status() == []


async def test_added_model_runs_with_its_ensemble(experiment: Experiment) -> None:
    rs = experiment.create_run_settings("true")
    ens = experiment.create_ensemble("ens", run_settings=rs, replicas=1)
    extra = experiment.create_model("extra", experiment.create_run_settings("false"))
    ens.add_model(extra)
    await experiment.start(ens)
    assert await experiment.get_status(ens) == [Status.COMPLETED, Status.FAILED]
    assert await experiment.get_status(extra) == [Status.FAILED]


async def test_same_model_twice_in_one_start_runs_once(experiment: Experiment) -> None:
    model = experiment.create_model("m", experiment.create_run_settings("true"))
    ens = experiment.create_ensemble(
        "ens", run_settings=experiment.create_run_settings("true"), replicas=1
    )
    ens.add_model(model)
    await experiment.start(model, ens, model)
    assert [r["name"] for r in experiment.summary(format="records")] == ["m", "ens_0"]


async def test_restart_after_completion(experiment: Experiment) -> None:
    model = experiment.create_model("m", _python(experiment, REPORT))
    await experiment.start(model)
    first = summary_rows(experiment)["m"]
    await experiment.start(model)
    second = summary_rows(experiment)["m"]
    assert second["status"] == "Completed"
    assert second["run_id"] != first["run_id"]
    assert second["job_id"] != first["job_id"]


# -- summary ------------------------------------------------------------------------------------


async def test_summary_table_and_records(experiment: Experiment) -> None:
    ok = experiment.create_model("ok", experiment.create_run_settings("true"))
    bad = experiment.create_model("bad", experiment.create_run_settings("false"))
    await experiment.start(ok, bad)
    table = experiment.summary()
    assert isinstance(table, str)
    header, *rows = table.splitlines()
    assert header.split() == [
        "name",
        "entity_type",
        "job_id",
        "run_id",
        "time",
        "status",
        "returncode",
        "error",
    ]
    assert len(rows) == 2
    assert rows[0].split()[0] == "ok" and "Completed" in rows[0]
    assert rows[1].split()[0] == "bad" and "Failed" in rows[1]
    assert rows[1].split()[-1] == "1"  # `false` prints nothing: its error cell is empty

    records = experiment.summary(format="records")
    assert [r["name"] for r in records] == ["ok", "bad"]
    for record in records:
        assert {"name", "entity_type", "job_id", "run_id", "time", "status", "returncode"} <= set(
            record
        )
        assert record["entity_type"] == "Model"
        assert record["job_id"].isdigit()
        assert isinstance(record["time"], float) and record["time"] >= 0
    assert records[0]["run_id"] == records[1]["run_id"], "one start call, one run id"
    assert records[0]["job_id"] in table and records[1]["job_id"] in table


async def test_the_summary_table_shows_the_end_of_a_failure(experiment: Experiment) -> None:
    long_line = "x" * 200 + " the end of a long error line"
    code = f"import sys; print('first', file=sys.stderr); sys.exit({long_line!r})"
    rs = experiment.create_run_settings(sys.executable, ["-c", code])
    short = experiment.create_run_settings(sys.executable, ["-c", "raise SystemExit('short')"])
    await experiment.start(experiment.create_model("long", rs), experiment.create_model("s", short))
    rows = {line.split()[0]: line for line in experiment.summary().splitlines()[1:]}
    assert rows["long"].endswith("…" + long_line[-59:])  # the last 59 characters, marked cut
    assert "first" not in rows["long"]  # only the last line
    assert rows["s"].split()[-3:] == ["Failed", "1", "short"]
    records = {r["name"]: r for r in experiment.summary(format="records")}
    assert "first" in records["long"]["error"] and long_line in records["long"]["error"]


async def test_summary_run_ids_differ_per_start(experiment: Experiment) -> None:
    a = experiment.create_model("a", experiment.create_run_settings("true"))
    b = experiment.create_model("b", experiment.create_run_settings("true"))
    await experiment.start(a)
    await experiment.start(b)
    records = summary_rows(experiment)
    assert records["a"]["run_id"] != records["b"]["run_id"]


async def test_summary_option_of_start_logs_the_table(
    experiment: Experiment, caplog: pytest.LogCaptureFixture
) -> None:
    model = experiment.create_model("logged", experiment.create_run_settings("true"))
    with caplog.at_level("INFO", logger="smartflow"):
        await experiment.start(model, summary=True)
    assert "logged" in caplog.text and "Completed" in caplog.text


# -- preview ------------------------------------------------------------------------------------


async def test_preview_shows_argv_cwd_env_and_masks_the_password(
    experiment: Experiment, tmp_path: Path
) -> None:
    db = experiment.create_database()
    await experiment.start(db)
    rs = _python(experiment, "print('hi there')", env_vars={"MY_VAR": "42"})
    model = experiment.create_model(
        "sim", rs, params={"n": 3}, params_as_args=["n"], enable_key_prefixing=True
    )
    ens = experiment.create_ensemble("ens", run_settings=rs, replicas=2)
    before = {p.pid for p in psutil.Process().children(recursive=True)}

    text = experiment.preview(model, ens)

    assert isinstance(text, str)
    argv = [rs.exe, "-c", "print('hi there')", "--n=3"]
    assert shlex.join(argv) in text
    assert shlex.split(shlex.join(argv)) == argv
    assert str(experiment.exp_path / "sim") in text
    assert str(experiment.exp_path / "ens" / "ens_1") in text
    assert f"SSDB={db.get_address()[0]}" in text
    assert "SR_DB_TYPE=Standalone" in text
    assert "SSDB_PASSWORD=" in text
    assert db.password not in text
    assert "MY_VAR=42" in text
    assert "SSKEYOUT=sim" in text
    assert "SSKEYOUT=ens_0" in text and "SSKEYOUT=ens_1" in text

    # nothing was launched
    assert {p.pid for p in psutil.Process().children(recursive=True)} == before
    assert await experiment.get_status(model, ens) == [Status.NEW] * 3
    assert set(summary_rows(experiment)) == {"orchestrator_0", "orchestrator_0.worker"}
    assert not (experiment.exp_path / "sim").exists()


async def test_preview_without_a_supervisor_starts_nothing(tmp_path: Path) -> None:
    async with Experiment("pv", exp_path=tmp_path / "exp") as exp:
        model = exp.create_model("m", exp.create_run_settings("sleep", ["5"]))
        before = psutil.Process().children(recursive=True)
        text = exp.preview(model)
        assert "sleep 5" in text
        assert "SSDB" not in text
        assert psutil.Process().children(recursive=True) == before
        assert exp.summary(format="records") == []


async def test_preview_refuses_an_entity_of_another_experiment(
    experiment: Experiment, tmp_path: Path
) -> None:
    other = Experiment("other", exp_path=tmp_path / "other")
    stranger = other.create_model("sim", other.create_run_settings("true"))
    with pytest.raises(ExperimentError):
        experiment.preview(stranger)


# -- watch --------------------------------------------------------------------------------------


async def test_watch_streams_running_then_completed(experiment: Experiment) -> None:
    model = experiment.create_model("w", experiment.create_run_settings("sleep", ["0.2"]))
    seen: list[StatusEvent] = []

    async def watcher() -> None:
        async with aclosing(experiment.watch()) as events:
            async for event in events:
                if event.name == "w":
                    seen.append(event)
                    if event.status.is_terminal:
                        return

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(watcher)
            await experiment.start(model, block=True)
    assert [e.status for e in seen] == [Status.RUNNING, Status.COMPLETED]
    assert all(isinstance(e, StatusEvent) for e in seen)
    assert seen[0].job_id == seen[1].job_id == summary_rows(experiment)["w"]["job_id"]
    assert seen[1].returncode == 0
    assert seen[0].when <= seen[1].when


async def test_watch_sees_failures_and_cancellations(experiment: Experiment) -> None:
    bad = experiment.create_model("bad", experiment.create_run_settings("false"))
    long = experiment.create_model("long", experiment.create_run_settings("sleep", ["30"]))
    final: dict[str, Status] = {}

    async def watcher() -> None:
        async with aclosing(experiment.watch()) as events:
            async for event in events:
                if event.status.is_terminal:
                    final[event.name] = event.status
                if len(final) == 2:
                    return

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(watcher)
            await experiment.start(bad, long, block=False)
            await experiment.stop(long)
    assert final == {"bad": Status.FAILED, "long": Status.CANCELLED}


async def test_watch_ends_when_the_experiment_closes(tmp_path: Path) -> None:
    exp = Experiment("w", exp_path=tmp_path / "exp")
    received = []

    async def watcher() -> None:
        async for event in exp.watch():
            received.append(event)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(watcher)
            await anyio.sleep(0.05)
            model = exp.create_model("m", exp.create_run_settings("true"))
            await exp.start(model)
            await exp.aclose()  # the watcher's loop ends; the task group can exit
    assert [e.status for e in received] == [Status.RUNNING, Status.COMPLETED]


# -- environment --------------------------------------------------------------------------------


async def test_environment_of_launched_models(experiment: Experiment) -> None:
    db = experiment.create_database()
    dbx = experiment.create_database(db_identifier="x")
    await experiment.start(db, dbx)

    plain = experiment.create_model("plain", _python(experiment, DUMP_ENV, env_vars={"MY_VAR": 42}))
    ens = experiment.create_ensemble("ens", run_settings=_python(experiment, DUMP_ENV), replicas=2)
    consumer = experiment.create_model(
        "consumer", _python(experiment, DUMP_ENV), enable_key_prefixing=True
    )
    consumer.register_incoming_entity(ens)
    consumer.register_incoming_entity(plain)
    await experiment.start(plain, ens, consumer)
    assert await experiment.get_status(plain, ens, consumer) == [Status.COMPLETED] * 4

    env = _env_of(plain)
    assert env["MY_VAR"] == "42"
    assert env["SSDB"] == db.get_address()[0]
    assert env["SR_DB_TYPE"] == "Standalone"
    assert env["SSDB_PASSWORD"] == db.password
    assert env["SSDB_x"] == dbx.get_address()[0]
    assert env["SR_DB_TYPE_x"] == "Standalone"
    assert env["SSDB_PASSWORD_x"] == dbx.password
    assert env["SSDB"] != env["SSDB_x"] and db.password != dbx.password
    assert "SSKEYOUT" not in env, "key prefixing is off by default for models"
    assert "SSKEYIN" not in env
    assert env["PATH"] == os.environ["PATH"], "the driver's environment is inherited"

    for member in ens.models:
        member_env = _env_of(member)
        assert member_env["SSKEYOUT"] == member.name
        assert member_env["SSDB"] == db.get_address()[0]
        assert member_env["SSDB_PASSWORD_x"] == dbx.password
        assert "MY_VAR" not in member_env

    consumer_env = _env_of(consumer)
    assert consumer_env["SSKEYOUT"] == "consumer"
    assert consumer_env["SSKEYIN"] == "ens_0,ens_1,plain"


async def test_model_env_vars_override_what_smartflow_sets(experiment: Experiment) -> None:
    db = experiment.create_database()
    await experiment.start(db)
    model = experiment.create_model(
        "m", _python(experiment, DUMP_ENV, env_vars={"SR_DB_TYPE": "Custom", "SSKEYOUT": "mine"}),
        enable_key_prefixing=True,
    )  # fmt: skip
    await experiment.start(model)
    env = _env_of(model)
    assert env["SR_DB_TYPE"] == "Custom"
    assert env["SSKEYOUT"] == "mine"
    assert env["SSDB"] == db.get_address()[0]


async def test_no_store_variables_without_a_running_store(
    experiment: Experiment, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SSDB", "SR_DB_TYPE", "SSDB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    db = experiment.create_database()
    await experiment.start(db)
    await experiment.stop(db)
    model = experiment.create_model("m", _python(experiment, DUMP_ENV))
    await experiment.start(model)
    env = _env_of(model)
    assert "SSDB" not in env and "SSDB_PASSWORD" not in env
    assert db.password not in json.dumps(env)


async def test_password_is_not_on_the_command_line(experiment: Experiment) -> None:
    db = experiment.create_database()
    await experiment.start(db)
    model = experiment.create_model("m", experiment.create_run_settings("sleep", ["30"]))
    await experiment.start(model, block=False)
    proc = psutil.Process(pid_of(experiment, "m"))
    deadline = time.monotonic() + 5
    while not _is_sleep(proc):  # the child may still be exec'ing (setpriv -> sleep)
        assert time.monotonic() < deadline
        await anyio.sleep(0.02)
    cmdline = " ".join(proc.cmdline())
    assert "sleep" in cmdline and db.password not in cmdline
    assert db.password not in " ".join(
        psutil.Process(int(summary_rows(experiment)["orchestrator_0"]["job_id"])).cmdline()
    )
    await experiment.stop(model)


# -- walltime and process groups ----------------------------------------------------------------


async def test_walltime_fails_a_model_that_runs_too_long(experiment: Experiment) -> None:
    rs = experiment.create_run_settings("sleep", ["30"])
    rs.set_walltime("00:00:01")
    model = experiment.create_model("slow", rs)
    fast = experiment.create_model("fast", experiment.create_run_settings("true"))
    t0 = time.monotonic()
    await experiment.start(model, fast, block=True)
    elapsed = time.monotonic() - t0
    # Not before its 1 s walltime; far sooner than the 30 s that sleep would run unchecked.
    assert 0.9 <= elapsed < 15, elapsed
    assert await experiment.get_status(model, fast) == [Status.FAILED, Status.COMPLETED]
    record = summary_rows(experiment)["slow"]
    assert "walltime" in record["error"]
    assert record["returncode"] is not None and record["returncode"] != 0
    assert not alive(int(record["job_id"]))


async def test_stop_also_ends_background_grandchildren(experiment: Experiment) -> None:
    rs = experiment.create_run_settings("sh", ["-c", "sleep 60 & sleep 60 & wait"])
    model = experiment.create_model("shell", rs)
    await experiment.start(model, block=False)
    shell = psutil.Process(pid_of(experiment, "shell"))
    deadline = time.monotonic() + 5
    while sum(_is_sleep(p) for p in shell.children()) < 2:  # forked and exec'd
        assert time.monotonic() < deadline, "the shell never started its children"
        await anyio.sleep(0.02)
    grandchildren = [p.pid for p in shell.children()]
    assert len(grandchildren) == 2 and all(alive(p) for p in grandchildren)

    await experiment.stop(model)
    assert await experiment.get_status(model) == [Status.CANCELLED]
    assert await wait_gone(shell.pid, *grandchildren) == []


async def test_grandchildren_of_a_completed_model_are_swept(experiment: Experiment) -> None:
    """A script that exits while leaving a background child behind leaves nothing running."""
    marker_script = "sleep 60 & echo $! > bg.pid"
    model = experiment.create_model(
        "bg", experiment.create_run_settings("sh", ["-c", marker_script])
    )
    await experiment.start(model)
    assert await experiment.get_status(model) == [Status.COMPLETED]
    orphan = int((experiment.exp_path / "bg" / "bg.pid").read_text())
    assert await wait_gone(orphan) == []


# -- bad input ----------------------------------------------------------------------------------


async def test_starting_a_running_model_twice_is_refused(experiment: Experiment) -> None:
    model = experiment.create_model("m", experiment.create_run_settings("sleep", ["30"]))
    ens = experiment.create_ensemble(
        "ens", run_settings=experiment.create_run_settings("sleep", ["30"]), replicas=2
    )
    await experiment.start(model, ens, block=False)
    pid = pid_of(experiment, "m")
    with pytest.raises(ExperimentError) as info:
        await experiment.start(model)
    assert "m" in str(info.value)
    with pytest.raises(ExperimentError):
        await experiment.start(ens.models[1])
    with pytest.raises(ExperimentError):
        await experiment.start(ens, block=False)
    assert pid_of(experiment, "m") == pid and alive(pid)
    assert await experiment.get_status(model, ens) == [Status.RUNNING] * 3
    await experiment.stop(model, ens)


async def test_concurrent_starts_of_one_model_launch_it_once(experiment: Experiment) -> None:
    model = experiment.create_model("once", experiment.create_run_settings("sleep", ["30"]))
    results = await asyncio.gather(
        experiment.start(model, block=False),
        experiment.start(model, block=False),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], ExperimentError), results
    sleeps = [p for p in psutil.Process().children(recursive=True) if _is_sleep(p)]
    assert [p.pid for p in sleeps] == [pid_of(experiment, "once")]
    await experiment.stop(model)


async def test_refused_start_launches_none_of_its_entities(experiment: Experiment) -> None:
    running = experiment.create_model("running", experiment.create_run_settings("sleep", ["30"]))
    other = experiment.create_model("other", experiment.create_run_settings("true"))
    await experiment.start(running, block=False)
    with pytest.raises(ExperimentError):
        await experiment.start(other, running)
    assert await experiment.get_status(other) == [Status.NEW]
    await experiment.stop(running)


async def test_stopping_a_model_never_started_is_refused(experiment: Experiment) -> None:
    model = experiment.create_model("m", experiment.create_run_settings("true"))
    ens = experiment.create_ensemble(
        "ens", run_settings=experiment.create_run_settings("true"), replicas=2
    )
    with pytest.raises(ExperimentError):
        await experiment.stop(model)
    with pytest.raises(ExperimentError):
        await experiment.stop(ens)
    assert await experiment.get_status(model, ens) == [Status.NEW] * 3


async def test_entities_of_another_experiment_are_refused(tmp_path: Path) -> None:
    async with (
        Experiment("one", exp_path=tmp_path / "one") as one,
        Experiment("two", exp_path=tmp_path / "two") as two,
    ):
        model = one.create_model("m", one.create_run_settings("true"))
        ens = one.create_ensemble("e", run_settings=one.create_run_settings("true"), replicas=2)
        for call in (two.get_status, two.start, two.stop, two.finished):
            with pytest.raises(ExperimentError):
                await call(model)
            with pytest.raises(ExperimentError):
                await call(ens)
        with pytest.raises(ExperimentError):
            await two.get_status(ens.models[0])
        assert await one.get_status(model, ens) == [Status.NEW] * 3
        assert two.summary(format="records") == []


async def test_member_of_a_same_named_ensemble_elsewhere_is_refused(tmp_path: Path) -> None:
    """Identity, not the name, makes an entity this experiment's own."""
    async with (
        Experiment("one", exp_path=tmp_path / "one") as one,
        Experiment("two", exp_path=tmp_path / "two") as two,
    ):
        theirs = one.create_ensemble("e", run_settings=one.create_run_settings("true"), replicas=2)
        ours = two.create_ensemble("e", run_settings=two.create_run_settings("true"), replicas=2)
        with pytest.raises(ExperimentError):
            await two.get_status(theirs.models[0])
        with pytest.raises(ExperimentError):
            await two.start(theirs.models[1])
        assert await two.get_status(ours) == [Status.NEW] * 2


@pytest.mark.parametrize("launcher", ["nope", "slurmm", "LOCAL"])
def test_launcher_that_does_not_exist(tmp_path: Path, launcher: str) -> None:
    with pytest.raises(InvalidArgumentError):
        Experiment("x", exp_path=tmp_path, launcher=launcher)


def test_missing_executable_is_refused_before_any_launch(tmp_path: Path) -> None:
    exp = Experiment("x", exp_path=tmp_path / "exp")
    with pytest.raises(ExecutableNotFoundError):
        exp.create_run_settings("no-such-simulation-binary")
    assert exp.summary(format="records") == []


async def test_executable_removed_after_settings_fails_the_start(
    experiment: Experiment, tmp_path: Path
) -> None:
    script = tmp_path / "app.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    model = experiment.create_model("app", experiment.create_run_settings(str(script)))
    script.unlink()
    with pytest.raises(ExecutableNotFoundError):
        await experiment.start(model)
    assert await experiment.get_status(model) == [Status.FAILED]


# -- cancellation -------------------------------------------------------------------------------


async def test_cancelling_a_blocked_start_stops_its_models(experiment: Experiment) -> None:
    rs = experiment.create_run_settings("sleep", ["30"])
    model = experiment.create_model("m", rs)
    ens = experiment.create_ensemble("ens", run_settings=rs, replicas=2)
    pids: list[int] = []
    cancelled_at: list[float] = []

    async def cancel_once_all_run(scope: anyio.CancelScope) -> None:
        """Cancel the start once its three models are running, however long launching takes."""
        with anyio.fail_after(30):
            while len(pids) < 3:
                records = summary_rows(experiment)
                pids[:] = [int(r["job_id"]) for r in records.values() if r["job_id"]]
                await anyio.sleep(0.02)
        cancelled_at.append(time.monotonic())
        scope.cancel()

    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(cancel_once_all_run, scope)
            await experiment.start(model, ens, block=True)
    assert scope.cancelled_caught
    # Ending three sleeps takes well under a second; a start deaf to the cancel waits out 30 s.
    assert time.monotonic() - cancelled_at[0] < 10
    assert len(pids) == 3
    assert await experiment.get_status(model, ens) == [Status.CANCELLED] * 3
    assert await wait_gone(*pids) == []


async def test_block_false_models_survive_an_unrelated_cancelled_wait(tmp_path: Path) -> None:
    async with Experiment("bg", exp_path=tmp_path / "exp") as exp:
        background = exp.create_model("background", exp.create_run_settings("sleep", ["30"]))
        blocked = exp.create_model("blocked", exp.create_run_settings("sleep", ["30"]))
        await exp.start(background, block=False)
        pid = pid_of(exp, "background")

        with anyio.move_on_after(0.2):
            await exp.poll(interval=0.05)
        assert await exp.get_status(background) == [Status.RUNNING]
        assert alive(pid)

        with anyio.move_on_after(0.3):
            await exp.start(blocked, block=True)
        assert await exp.get_status(blocked, background) == [Status.CANCELLED, Status.RUNNING]
        assert alive(pid)
    assert not alive(pid), "leaving async with ends what block=False started"
    assert await exp.get_status(background) == [Status.CANCELLED]


async def test_models_end_when_the_driver_body_raises(tmp_path: Path) -> None:
    class Boom(Exception):
        pass

    pid = None
    with pytest.raises(Boom):
        async with Experiment("raise", exp_path=tmp_path / "exp") as exp:
            ens = exp.create_ensemble(
                "ens", run_settings=exp.create_run_settings("sleep", ["30"]), replicas=2
            )
            await exp.start(ens, block=False)
            pid = pid_of(exp, "ens_1")
            raise Boom
    assert pid is not None and not alive(pid)


async def test_transitions_and_progress_are_logged_with_names_and_ids(
    experiment: Experiment, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import smartflow.experiment._launching as launching

    monkeypatch.setattr(launching, "PROGRESS_INTERVAL", 0.1)
    rs = experiment.create_run_settings("sleep", ["0.5"])
    ens = experiment.create_ensemble("logged_ens", replicas=3, run_settings=rs)
    with caplog.at_level("INFO", logger="smartflow"):
        await experiment.start(ens, block=True)
    records = experiment.summary(format="records")
    for record in records:
        running = f"event='running' entity='{record['name']}'"
        assert running in caplog.text
        assert f"job_id='{record['job_id']}'" in caplog.text
        assert f"run_id={record['run_id']}" in caplog.text
    assert caplog.text.count("event='ended'") == 3
    assert "event='waiting'" in caplog.text and "progress='0/3'" in caplog.text
