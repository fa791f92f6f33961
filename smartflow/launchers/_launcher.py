"""The :class:`Launcher` an experiment owns: how its steps start, and its batch jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smartflow.errors import InvalidArgumentError
from smartflow.launchers._base import Scheduler
from smartflow.launchers._batch import Poller
from smartflow.launchers._scripts import BatchSubmission, MemberScript, render_script
from smartflow.runtime.job import StartJob, start_local


class Launcher:
    """Starts an experiment's jobs. Steps (a model without batch settings) are child
    processes of the driver on every launcher: a plain process locally, an ``srun``, ``mpirun``,
    ``jsrun`` or ``aprun`` step elsewhere (their command line comes from the run settings).
    Batch entities are scripts submitted to the launcher's scheduler and watched by its one
    :class:`~smartflow.launchers._batch.Poller`."""

    #: The launcher's name, as ``Experiment(launcher=...)`` takes it.
    name = "local"

    def __init__(self) -> None:
        scheduler = self.make_scheduler()
        self.poller = Poller(scheduler) if scheduler is not None else None

    def make_scheduler(self) -> Scheduler | None:
        """The scheduler batch jobs go to (None: this launcher runs no batch jobs)."""
        return None

    @property
    def start_step(self) -> StartJob:
        """How a step starts: on every launcher, as a child process of the driver."""
        return start_local

    def submission(
        self, job_name: str, batch_settings: Any, members: list[MemberScript], workdir: Path
    ) -> BatchSubmission:
        """One batch job for ``members``: the script rendered now, submitted when the first
        member's actor starts."""
        if self.poller is None:
            raise InvalidArgumentError(f"the {self.name} launcher runs no batch jobs")
        script_path = workdir / f"{job_name}.batch.sh"
        output, error = _outputs(workdir, job_name)
        script = self.render(batch_settings, job_name, members, workdir)
        argv = batch_settings.submit_argv(str(script_path), output=str(output), error=str(error))
        stdin = bool(getattr(batch_settings, "submit_stdin", False))
        return BatchSubmission(self.poller, script_path, script, argv, stdin, members)

    def render(
        self, batch_settings: Any, job_name: str, members: list[MemberScript], workdir: Path
    ) -> str:
        """The script :meth:`submission` submits (``preview`` shows it)."""
        output, error = _outputs(workdir, job_name)
        directives = batch_settings.directives(job_name, str(output), str(error))
        return render_script(directives, list(batch_settings.preamble), members)


def _outputs(workdir: Path, job_name: str) -> tuple[Path, Path]:
    return workdir / f"{job_name}.batch.out", workdir / f"{job_name}.batch.err"
