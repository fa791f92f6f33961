"""Helpers for tests that need a real Slurm: the one-host cluster `.ci/slurm-up` starts (node names
n1 and n2, 2 CPUs each, partition `debug`), found through `SLURM_CONF`.

Start it once per machine, then run the tests from that shell::

    eval "export $(.ci/slurm-up)"

A test module uses the fixture by importing it (pytest picks up fixtures a module imports)::

    from tests.slurm_support import scancel_all, slurm_cluster, squeue_ids  # noqa: F401

The cluster may be shared by several test runs as the same user, so tests name their jobs with a
prefix of their own and clean up with `scancel_all(prefix)`.
"""

from __future__ import annotations

import os
import subprocess
import time

import anyio
import pytest

from tests._support import skip_or_fail

START_HINT = 'start it with: eval "export $(.ci/slurm-up)"'
#: Set by CI's Slurm pass: a test that needs Slurm then fails when it is missing, never skips.
REQUIRE_VAR = "SMARTFLOW_REQUIRE_SLURM"
TIMEOUT = 10.0  # for one squeue/scancel on a loaded 2-core runner


def _slurm(*args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run a Slurm client command; raises CalledProcessError when it fails."""
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=True)


def slurm_conf() -> str | None:
    """`$SLURM_CONF` if it is set and `sinfo` answers with it within 5 s, else None."""
    conf = os.environ.get("SLURM_CONF")
    if not conf:
        return None
    try:
        _slurm("sinfo", "-h", "-o", "%t", timeout=5.0)
    except (OSError, subprocess.SubprocessError):
        return None
    return conf


@pytest.fixture(scope="session")
def slurm_cluster() -> str:
    """The running cluster's slurm.conf path; skips the test without one (fails it on CI)."""
    conf = slurm_conf()
    if conf is not None:
        return conf
    if not os.environ.get("SLURM_CONF") and not os.environ.get(REQUIRE_VAR):
        # The README's test command runs before CI installs Slurm: these run in its Slurm pass.
        pytest.skip(f"SLURM_CONF is not set (CI's Slurm pass sets it); {START_HINT}")
    why = (
        "SLURM_CONF is not set"
        if not os.environ.get("SLURM_CONF")
        else f"sinfo does not answer with SLURM_CONF={os.environ['SLURM_CONF']}"
    )
    skip_or_fail(f"Slurm is not running ({why}); {START_HINT}")


def _jobs(*, finished: bool) -> list[tuple[str, str, str]]:
    """(job id, job name, state) of the current user's jobs; with `finished`, also those that
    ended within the last MinJobAge (300 s)."""
    states = ["-t", "all"] if finished else []  # squeue's default: pending, running, completing
    out = _slurm("squeue", "-h", "--me", *states, "-o", "%i|%j|%T").stdout
    jobs = []
    for line in out.splitlines():
        job, name, state = line.split("|", 2)
        jobs.append((job, name, state))
    return jobs


def squeue_ids(name_prefix: str) -> list[str]:
    """Ids of the current user's jobs, finished ones included, whose name starts with the prefix."""
    return [job for job, name, _ in _jobs(finished=True) if name.startswith(name_prefix)]


def scancel_all(name_prefix: str = "", wait: float = TIMEOUT) -> list[str]:
    """Cancel the current user's unfinished jobs whose name starts with `name_prefix` (every one
    of them when it is empty: mind other runs on a shared cluster), and wait up to `wait` seconds
    for them to end. Returns the ids it cancelled."""
    ids = [job for job, name, _ in _jobs(finished=False) if name.startswith(name_prefix)]
    if not ids:
        return []
    subprocess.run(["scancel", *ids], capture_output=True, timeout=TIMEOUT, check=False)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if not {job for job, _, _ in _jobs(finished=False)} & set(ids):
            break
        time.sleep(0.1)
    return ids


async def left_running(name_prefix: str, within: float = TIMEOUT) -> list[str]:
    """Ids of the current user's jobs named with the prefix still pending, running or completing
    after up to `within` seconds (Slurm takes a moment to finish a job whose steps ended)."""
    deadline = time.monotonic() + within
    while True:
        jobs = await anyio.to_thread.run_sync(lambda: _jobs(finished=False))
        ids = [job for job, name, _ in jobs if name.startswith(name_prefix)]
        if not ids or time.monotonic() >= deadline:
            return ids
        await anyio.sleep(0.1)
