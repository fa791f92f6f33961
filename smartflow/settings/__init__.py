"""Run and batch settings: attrs data that turns into an argv (and, for batch jobs, a script)."""

from smartflow.settings.run import BatchSettings as BatchSettings
from smartflow.settings.run import RunSettings as RunSettings

__all__ = ["BatchSettings", "RunSettings"]
