"""Run and batch settings: attrs data that turns into an argv (and, for batch jobs, a script).

:class:`RunSettings` is the local launcher's; each workload manager's run command has its own
subclass (:class:`SrunSettings`, :class:`MpirunSettings`, :class:`MpiexecSettings`,
:class:`OrterunSettings`, :class:`JsrunSettings`, :class:`AprunSettings`), and each batch system
a :class:`BatchSettings` subclass (:class:`SbatchSettings`, :class:`QsubBatchSettings`,
:class:`BsubBatchSettings`, :class:`CobaltBatchSettings`). :func:`run_settings_class` and
:func:`batch_settings_class` pick the class a launcher uses.
"""

from smartflow.settings.alps import AprunSettings as AprunSettings
from smartflow.settings.batch import BatchSettings as BatchSettings
from smartflow.settings.cobalt import CobaltBatchSettings as CobaltBatchSettings
from smartflow.settings.lookup import batch_settings_class as batch_settings_class
from smartflow.settings.lookup import run_settings_class as run_settings_class
from smartflow.settings.lsf import BsubBatchSettings as BsubBatchSettings
from smartflow.settings.lsf import JsrunSettings as JsrunSettings
from smartflow.settings.mpi import MpiexecSettings as MpiexecSettings
from smartflow.settings.mpi import MpirunSettings as MpirunSettings
from smartflow.settings.mpi import OrterunSettings as OrterunSettings
from smartflow.settings.pbs import QsubBatchSettings as QsubBatchSettings
from smartflow.settings.run import RunSettings as RunSettings
from smartflow.settings.slurm import SbatchSettings as SbatchSettings
from smartflow.settings.slurm import SrunSettings as SrunSettings

__all__ = [
    "AprunSettings",
    "BatchSettings",
    "BsubBatchSettings",
    "CobaltBatchSettings",
    "JsrunSettings",
    "MpiexecSettings",
    "MpirunSettings",
    "OrterunSettings",
    "QsubBatchSettings",
    "RunSettings",
    "SbatchSettings",
    "SrunSettings",
    "batch_settings_class",
    "run_settings_class",
]
