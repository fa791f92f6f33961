"""Launchers: how an experiment's jobs start, on this host or under a workload manager.

``get(name)`` gives the launcher of that name (imported lazily, as anyio picks its backends);
``detect()`` finds the one this host has, for ``Experiment(launcher="auto")``. Every launcher
starts steps as child processes of the driver (their run settings make them ``srun``/``mpirun``/
``jsrun``/``aprun`` steps) and batch entities through its :class:`Scheduler`, watched by one
poller per launcher.
"""

from __future__ import annotations

import importlib
import os
import subprocess

from smartflow._log import get_logger
from smartflow.errors import InvalidArgumentError
from smartflow.launchers._base import JobState as JobState
from smartflow.launchers._base import Scheduler as Scheduler
from smartflow.launchers._base import all_on_path
from smartflow.launchers._launcher import Launcher as Launcher
from smartflow.launchers._scripts import MemberScript as MemberScript
from smartflow.launchers._scripts import write_private as write_private

#: Every launcher, by the name ``Experiment(launcher=...)`` takes.
NAMES = ("local", "slurm", "pbs", "lsf", "cobalt")
#: A job variable that says which scheduler runs the driver, when no command says it.
_JOB_VARIABLES = (
    ("SLURM_JOB_ID", "slurm"),
    ("PBS_JOBID", "pbs"),
    ("LSB_JOBID", "lsf"),
    ("COBALT_JOBID", "cobalt"),
)
_log = get_logger("launchers")


def get(name: str) -> Launcher:
    """A new launcher of that name (one per experiment: it holds the experiment's poller)."""
    if name not in NAMES:
        raise InvalidArgumentError(
            f"launcher {name!r} is not one of {', '.join(NAMES)} (or 'auto' to detect it)"
        )
    module = importlib.import_module(f"smartflow.launchers.{name}")
    return module.LAUNCHER()


def detect() -> tuple[str, str]:
    """The launcher this host has, and why: PBS only if ``qsub --version`` says PBS (Slurm's
    torque wrappers put a ``qsub`` on Slurm hosts), then LSF, then Slurm (``sacct`` is not
    needed: Slurm without accounting is normal), then the job variables, else local."""
    if all_on_path("qsub", "qstat", "qdel") and "pbs" in _qsub_version().lower():
        return "pbs", "qsub --version names PBS"
    if all_on_path("bsub", "bjobs", "bkill"):
        return "lsf", "bsub, bjobs and bkill are on PATH"
    if all_on_path("sbatch", "squeue", "srun", "scancel"):
        return "slurm", "sbatch, squeue, srun and scancel are on PATH"
    for variable, name in _JOB_VARIABLES:
        if os.environ.get(variable):
            return name, f"${variable} is set"
    return "local", "no workload manager's commands on PATH and no job variables set"


def resolve(name: str) -> str:
    """``name``, or for ``"auto"`` the detected launcher (logged with the reason)."""
    if name != "auto":
        if name not in NAMES:
            get(name)  # raises the error that names every launcher
        return name
    found, why = detect()
    _log.info("launcher detected", launcher=found, why=why)
    return found


def _qsub_version() -> str:
    # Bounded and rare (only where a qsub exists): experiments are created off the hot path.
    try:
        done = subprocess.run(
            ["qsub", "--version"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout + done.stderr
