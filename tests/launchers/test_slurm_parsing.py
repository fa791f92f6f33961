"""Slurm's outputs, as recorded from a real Slurm 22.05 (research §3.4), parsed into statuses."""

from __future__ import annotations

import pytest

from smartflow import SchedulerError, Status
from smartflow.launchers.slurm import base_id, job_state, parse_sacct, parse_sbatch, parse_squeue


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("PENDING", Status.QUEUED),
        ("CONFIGURING", Status.QUEUED),
        ("RUNNING", Status.RUNNING),
        ("COMPLETING", Status.RUNNING),
        ("COMPLETED", Status.COMPLETED),
        ("TIMEOUT", Status.FAILED),
        ("OUT_OF_MEMORY", Status.FAILED),
        ("NODE_FAIL", Status.FAILED),
        ("BOOT_FAIL", Status.FAILED),
        ("DEADLINE", Status.FAILED),
        ("PREEMPTED", Status.FAILED),
        ("FAILED", Status.FAILED),
        ("CANCELLED", Status.CANCELLED),
        ("CANCELLED by 0", Status.CANCELLED),
        ("CANCELLED+", Status.CANCELLED),
        ("SUSPENDED", Status.PAUSED),
        ("REQUEUED", Status.PAUSED),
        ("SOMETHING_NEW", Status.FAILED),
    ],
)
def test_every_slurm_state_has_a_status(state: str, status: Status) -> None:
    assert job_state(state).status is status


def test_a_timeout_fails_and_says_why() -> None:
    state = job_state("TIMEOUT", "TimeLimit")
    assert state.status is Status.FAILED
    assert "time limit" in state.reason


def test_pending_keeps_the_schedulers_reason() -> None:
    assert job_state("PENDING", "Resources").reason == "Resources"


@pytest.mark.parametrize(
    ("job_id", "base"), [("123", "123"), ("123+1", "123"), ("123_4", "123"), ("123.0", "123")]
)
def test_heterogeneous_array_and_step_ids_belong_to_their_job(job_id: str, base: str) -> None:
    assert base_id(job_id) == base


def test_squeue_lines_become_one_state_per_job() -> None:
    recorded = "3|FAILED|NonZeroExitCode\n6|RUNNING|None\n7+0|RUNNING|None\n7+1|FAILED|None\n"
    states = parse_squeue(recorded)
    assert states["3"].status is Status.FAILED
    assert states["6"].status is Status.RUNNING
    assert states["7"].status is Status.FAILED  # the worst component of a heterogeneous job


def test_sacct_completion_log_lines_keep_exit_codes_and_skip_steps() -> None:
    recorded = "3|FAILED|3:0\n6|COMPLETED|0:0\n6.batch|COMPLETED|0:0\n9|CANCELLED by 0|0:15\n"
    states = parse_sacct(recorded)
    assert set(states) == {"3", "6", "9"}
    assert states["3"].exit_code == 3 and states["3"].status is Status.FAILED
    assert states["9"].status is Status.CANCELLED


@pytest.mark.parametrize(("out", "job_id"), [("6\n", "6"), ("42;cluster\n", "42")])
def test_sbatch_parsable_output(out: str, job_id: str) -> None:
    assert parse_sbatch(out) == job_id


def test_sbatch_output_without_an_id_is_an_error() -> None:
    with pytest.raises(SchedulerError, match="no job id"):
        parse_sbatch("sbatch: error: something\n")
