"""Batch inference jobs: an :class:`InferenceJob` cut into splits that task managers (entities
of the experiment: local processes, or Slurm steps) pull from a reliable queue in the store,
run through load -> preprocess -> predict, and answer exactly once.

::

    dispatcher = exp.create_dispatcher(db, max_task_managers=8)
    results = await dispatcher.run_job(InferenceJob(paths, "job-1", model="cls.onnx",
                                                    preprocess="mypkg.prep:resize"))

Names are imported on first use, so a task manager (``python -m
smartflow.batch.task_manager``) loads its pipeline without the dispatcher and the experiment.
"""

import typing as _typing

from smartflow._lazy import lazy_names as _lazy_names

if _typing.TYPE_CHECKING:
    from smartflow.batch.dispatcher import BatchJobHandle as BatchJobHandle
    from smartflow.batch.dispatcher import Dispatcher as Dispatcher
    from smartflow.batch.job import InferenceJob as InferenceJob
    from smartflow.batch.job import JobResults as JobResults
    from smartflow.batch.job import JobSummary as JobSummary
    from smartflow.batch.job import Progress as Progress
    from smartflow.batch.job import SplitTiming as SplitTiming
    from smartflow.batch.records import Result as Result

_LAZY = {
    "BatchJobHandle": "smartflow.batch.dispatcher",
    "Dispatcher": "smartflow.batch.dispatcher",
    "Progress": "smartflow.batch.job",
    "InferenceJob": "smartflow.batch.job",
    "JobResults": "smartflow.batch.job",
    "JobSummary": "smartflow.batch.job",
    "SplitTiming": "smartflow.batch.job",
    "Result": "smartflow.batch.records",
}

__all__ = [
    "BatchJobHandle",
    "Dispatcher",
    "InferenceJob",
    "JobResults",
    "JobSummary",
    "Progress",
    "Result",
    "SplitTiming",
]


__getattr__ = _lazy_names("smartflow.batch", _LAZY, globals())
