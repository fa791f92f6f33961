"""LSF's outputs (samples under fakes/samples), parsed into statuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartflow import SchedulerError, Status
from smartflow.launchers.lsf import base_id, bsub_error, job_state, parse_bjobs_json, parse_bsub

SAMPLES = Path(__file__).parent / "fakes" / "samples"


@pytest.mark.parametrize(
    ("stat", "status"),
    [
        ("PEND", Status.QUEUED),
        ("PROV", Status.QUEUED),
        ("WAIT", Status.QUEUED),
        ("PSUSP", Status.QUEUED),  # held while pending, as a held Slurm job is PENDING
        ("RUN", Status.RUNNING),
        ("UNKWN", Status.RUNNING),  # LSF lost contact with its host: it may still run
        ("USUSP", Status.PAUSED),
        ("SSUSP", Status.PAUSED),
        ("DONE", Status.COMPLETED),
        ("EXIT", Status.FAILED),
        ("ZOMBI", Status.FAILED),
    ],
)
def test_every_lsf_state_has_a_status(stat: str, status: Status) -> None:
    assert job_state(stat).status is status


@pytest.mark.parametrize(
    ("reason", "status", "why"),
    [
        ("TERM_OWNER: job killed by owner", Status.CANCELLED, "TERM_OWNER"),
        ("TERM_FORCE_ADMIN", Status.CANCELLED, "TERM_FORCE_ADMIN"),
        ("TERM_RUNLIMIT: job killed after reaching LSF run time limit", Status.FAILED,
         "run time limit"),
        ("TERM_MEMLIMIT", Status.FAILED, "memory limit"),
        ("", Status.FAILED, "exited with code 130"),  # 130 alone may be the program's own
    ],
)  # fmt: skip
def test_an_exited_jobs_reason_says_whether_bkill_ended_it(
    reason: str, status: Status, why: str
) -> None:
    state = job_state("EXIT", "130", reason)
    assert (state.status, state.exit_code) == (status, 130)
    assert why in state.reason


def test_bjobs_json_records_and_errors() -> None:
    states = parse_bjobs_json((SAMPLES / "lsf_bjobs.json").read_text())
    assert {k: v.status for k, v in states.items()} == {
        "1": Status.RUNNING,
        "2": Status.QUEUED,
        "3": Status.COMPLETED,
        "4": Status.FAILED,
        "5": Status.CANCELLED,
    }  # 9 is "not found": absent
    assert states["3"].exit_code == 0 and states["4"].exit_code == 3


def test_array_elements_belong_to_their_job() -> None:
    assert base_id("123[4]") == "123"
    text = '{"RECORDS": [{"JOBID": "7[1]", "STAT": "RUN"}]}'
    assert parse_bjobs_json(text)["7"].status is Status.RUNNING


def test_bsub_prints_the_id() -> None:
    assert parse_bsub((SAMPLES / "lsf_bsub.txt").read_text()) == "12345"
    with pytest.raises(SchedulerError, match="no job id"):
        parse_bsub("Request aborted by esub. Job not submitted.")


def test_an_esub_refusal_is_its_list_of_problems() -> None:
    said = bsub_error((SAMPLES / "lsf_bsub_esub_refused.txt").read_text())
    assert said.splitlines() == [
        "Project not specified.  Please specify a project using the -P flag.",
        "Not a member of the specified project: .  You are currently a member of the following "
        "projects: ABC123",
    ]
    assert bsub_error("debug2: No such queue. Job not submitted.\n") == (
        "debug2: No such queue. Job not submitted."
    )
    assert bsub_error("  \n") == "bsub said nothing"
