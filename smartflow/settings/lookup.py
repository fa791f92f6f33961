"""The settings classes of a launcher (:func:`run_settings_class`, :func:`batch_settings_class`)."""

from __future__ import annotations

import os
import shutil

from smartflow.errors import InvalidArgumentError, UnsupportedTypeError
from smartflow.settings.alps import AprunSettings
from smartflow.settings.batch import BatchSettings
from smartflow.settings.cobalt import CobaltBatchSettings
from smartflow.settings.lsf import BsubBatchSettings, JsrunSettings
from smartflow.settings.mpi import MpiexecSettings, MpirunSettings, OrterunSettings
from smartflow.settings.pbs import QsubBatchSettings
from smartflow.settings.run import RunSettings
from smartflow.settings.slurm import SbatchSettings, SrunSettings

__all__ = ["batch_settings_class", "run_settings_class"]

#: Run command name -> its settings class.
RUN_COMMANDS: dict[str, type[RunSettings]] = {
    "srun": SrunSettings,
    "mpirun": MpirunSettings,
    "mpiexec": MpiexecSettings,
    "orterun": OrterunSettings,
    "jsrun": JsrunSettings,
    "aprun": AprunSettings,
}

#: Each workload manager's run commands, in the order ``"auto"`` tries them (SmartSim's); the
#: first is its own, used when none is on PATH (so settings can be previewed anywhere).
AUTO_ORDER: dict[str, tuple[str, ...]] = {
    "slurm": ("srun", "mpirun", "mpiexec"),
    "pbs": ("aprun", "mpirun", "mpiexec"),
    "lsf": ("jsrun", "mpirun", "mpiexec"),
    "cobalt": ("aprun", "mpirun", "mpiexec"),
}

BATCH_CLASSES: dict[str, type[BatchSettings]] = {
    "slurm": SbatchSettings,
    "pbs": QsubBatchSettings,
    "lsf": BsubBatchSettings,
    "cobalt": CobaltBatchSettings,
}

_LAUNCHERS = ("local", *AUTO_ORDER)


def _launcher(launcher: object) -> str:
    if not isinstance(launcher, str):
        raise UnsupportedTypeError(f"launcher must be a str, got {type(launcher).__name__}")
    if launcher not in _LAUNCHERS:
        raise InvalidArgumentError(f"launcher {launcher!r} is not one of {', '.join(_LAUNCHERS)}")
    return launcher


def run_settings_class(launcher: str, run_command: str | None = "auto") -> type[RunSettings]:
    """The RunSettings class for ``run_command`` under ``launcher``.

    - ``local``: :class:`RunSettings` whatever the run command (it runs ``mpirun``/``mpiexec``
      with ``-np`` as it always has, and looks any other one up on PATH when built).
    - ``"auto"`` (or None, ""): the first of the launcher's run commands found on PATH (slurm:
      srun, mpirun, mpiexec; pbs and cobalt: aprun, ...; lsf: jsrun, ...), else its own.
    - a name or path (``srun``, ``/opt/ompi/bin/mpirun``): the class of that run command (pass a
      path on as the class's ``run_command=``); an unknown one is refused.
    """
    launcher = _launcher(launcher)
    if run_command is not None and not isinstance(run_command, str):
        raise UnsupportedTypeError(
            f"run_command must be a str, got {type(run_command).__name__} {run_command!r}"
        )
    if launcher == "local":
        return RunSettings
    if run_command in (None, "", "auto"):
        order = AUTO_ORDER[launcher]
        found = next((name for name in order if shutil.which(name)), order[0])
        return RUN_COMMANDS[found]
    cls = RUN_COMMANDS.get(os.path.basename(run_command))
    if cls is None:
        raise InvalidArgumentError(
            f"run_command {run_command!r} is not one smartflow knows on {launcher!r}; use one of "
            f"{', '.join(RUN_COMMANDS)} or 'auto'"
        )
    return cls


def batch_settings_class(launcher: str) -> type[BatchSettings]:
    """The BatchSettings class of ``launcher``; the local launcher runs no batch jobs."""
    launcher = _launcher(launcher)
    if launcher == "local":
        raise InvalidArgumentError(
            "the 'local' launcher runs no batch jobs; batch settings need a workload-manager "
            "launcher (slurm, pbs, lsf, cobalt)"
        )
    return BATCH_CLASSES[launcher]
