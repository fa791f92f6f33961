"""The local launcher: every job is a child process on this host (see
:class:`~smartflow.runtime.job.LocalProcess`); it runs no batch jobs."""

from __future__ import annotations

from smartflow.launchers._launcher import Launcher


class LocalLauncher(Launcher):
    name = "local"


LAUNCHER = LocalLauncher
