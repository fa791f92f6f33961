"""Cobalt's outputs (samples under fakes/samples), parsed into statuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartflow import SchedulerError, Status
from smartflow.launchers.cobalt import job_state, parse_qstat, parse_qsub

SAMPLES = Path(__file__).parent / "fakes" / "samples"


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("queued", Status.QUEUED),
        ("starting", Status.QUEUED),
        ("user_hold", Status.QUEUED),
        ("admin_hold", Status.QUEUED),
        ("dep_hold", Status.QUEUED),
        ("running", Status.RUNNING),
        ("exiting", Status.RUNNING),
        ("killing", Status.RUNNING),
        ("terminating", Status.RUNNING),
        ("dep_fail", Status.FAILED),
        ("something_new", Status.FAILED),
    ],
)
def test_every_cobalt_state_has_a_status(state: str, status: Status) -> None:
    assert job_state(state).status is status


def test_qstat_rows_under_the_header() -> None:
    states = parse_qstat((SAMPLES / "cobalt_qstat.txt").read_text())
    assert {k: v.status for k, v in states.items()} == {
        "4001": Status.QUEUED,
        "4002": Status.RUNNING,
        "4003": Status.RUNNING,
        "4004": Status.QUEUED,
        "4005": Status.FAILED,
    }
    assert "depends on" in states["4005"].reason


def test_qsub_id_is_the_first_number_after_the_notices() -> None:
    assert parse_qsub((SAMPLES / "cobalt_qsub.txt").read_text()) == "4001"
    with pytest.raises(SchedulerError, match="no job id"):
        parse_qsub("qsub: error: queue 'x' does not exist\n")
