"""PBS's outputs (samples under fakes/samples: PBS Pro's recorded formats, and Slurm's torque
wrappers recorded here), parsed into statuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartflow import SchedulerError, Status
from smartflow.launchers.pbs import (
    job_state,
    load_json,
    match_ids,
    parse_qstat_json,
    parse_qstat_table,
    parse_qsub,
)

SAMPLES = Path(__file__).parent / "fakes" / "samples"


@pytest.mark.parametrize(
    ("letter", "status"),
    [
        ("Q", Status.QUEUED),
        ("H", Status.QUEUED),  # held before it started, as a held Slurm job is PENDING
        ("W", Status.QUEUED),
        ("T", Status.QUEUED),
        ("M", Status.QUEUED),
        ("R", Status.RUNNING),
        ("B", Status.RUNNING),
        ("E", Status.RUNNING),  # exiting: its members' exit files come next
        ("S", Status.PAUSED),
        ("U", Status.PAUSED),
        ("C", Status.COMPLETED),  # torque: finished, outcome unknown
        ("F", Status.COMPLETED),  # PBS Pro without an Exit_status
        ("X", Status.COMPLETED),
        ("Z", Status.FAILED),
    ],
)
def test_every_pbs_state_has_a_status(letter: str, status: Status) -> None:
    assert job_state(letter).status is status


@pytest.mark.parametrize(
    ("exit_status", "status", "code", "why"),
    [
        (0, Status.COMPLETED, 0, "finished"),
        (3, Status.FAILED, 3, "exited with code 3"),
        (271, Status.FAILED, -15, "signal 15"),  # 256 + SIGTERM (qdel, a limit)
        (265, Status.FAILED, -9, "signal 9"),
        (-29, Status.FAILED, None, "walltime"),
        (-1, Status.FAILED, None, "could not be started"),
        (-99, Status.FAILED, None, "Exit_status -99"),
    ],
)
def test_a_finished_jobs_exit_status_decides_its_fate(
    exit_status: int, status: Status, code: int | None, why: str
) -> None:
    state = job_state("F", exit_status)
    assert (state.status, state.exit_code) == (status, code)
    assert why in state.reason


def test_pbs_pro_json_gives_states_exit_codes_and_reasons() -> None:
    states = parse_qstat_json((SAMPLES / "pbs_pro_qstat.json").read_text())
    assert states["16705.sdb"].status is Status.RUNNING
    assert states["16706.sdb"].status is Status.QUEUED
    assert "Insufficient amount of resource" in states["16706.sdb"].reason  # the comment
    assert states["16707.sdb"] == job_state("F", 0)
    assert states["16708.sdb"].exit_code == 3  # its broken Variable_List line was dropped
    assert states["16709.sdb"].exit_code == -15
    assert "walltime" in states["16710.sdb"].reason


def test_unreadable_json_lines_are_dropped_and_none_at_all_is_an_error() -> None:
    assert load_json('{\n"a": 1,\n"b": "x"y",\n"c": 2\n}') == {"a": 1, "c": 2}
    with pytest.raises(ValueError):
        load_json("qstat: Unknown Job Id 9.sdb")
    assert parse_qstat_json('{"pbs_server": "sdb"}') == {}  # no job known: no "Jobs"


def test_the_pbs_pro_table_with_spaces_in_names_and_truncated_ids() -> None:
    found = parse_qstat_table((SAMPLES / "pbs_pro_qstat_table.txt").read_text())
    assert found["1289903.sdb"].status is Status.RUNNING
    assert found["1289904.sdb"].status is Status.QUEUED  # "other job": H
    wanted = ["123.polaris-pbs-01.hsn.cm.polaris.alcf.anl.gov", "1289903.sdb", "77.sdb"]
    matched = match_ids(wanted, found)
    assert set(matched) == {wanted[0], "1289903.sdb"}
    assert matched[wanted[0]].status is Status.QUEUED


def test_the_torque_wrappers_table_shows_finished_jobs_as_c() -> None:
    found = parse_qstat_table((SAMPLES / "pbs_torque_qstat.txt").read_text())
    assert {k: v.status for k, v in found.items()} == {
        "939": Status.RUNNING,
        "940": Status.COMPLETED,  # it exited 3: the table cannot say so
        "941": Status.RUNNING,
        "942": Status.QUEUED,
    }


@pytest.mark.parametrize(
    ("wanted", "shown"),
    [("123.sdb", "123.sdb.example.org"), ("123.sdb.example.org", "123.sdb"), ("12", "12.sdb")],
)
def test_ids_match_whatever_server_suffix_qstat_adds_or_drops(wanted: str, shown: str) -> None:
    state = job_state("R")
    assert match_ids([wanted], {shown: state}) == {wanted: state}
    assert match_ids(["1234.sdb"], {"123.sdb": state}) == {}  # a prefix, not at a dot


@pytest.mark.parametrize(("out", "job_id"), [("12345.sdb\n", "12345.sdb"), ("10\n", "10")])
def test_qsub_prints_the_id_last(out: str, job_id: str) -> None:
    assert parse_qsub(out) == job_id
    assert parse_qsub(f"qsub: a notice\n{out}") == job_id


def test_qsub_output_without_an_id_is_an_error() -> None:
    with pytest.raises(SchedulerError, match="no job id"):
        parse_qsub((SAMPLES / "pbs_torque_qsub_refused.txt").read_text())
