"""smartflow: asyncio-native AI-coupled HPC workflows.

Launch and supervise models, ensembles and a Redis-backed tensor store from an ``Experiment``,
move numpy tensors in and out of the store with the async ``Client``, and run batch inference
jobs (``InferenceJob``) on task managers the experiment launches.

Names are imported when first used (PEP 562): a process that needs only the client (a launched
application, a task manager) does not pay for importing the experiment, the launchers and the
batch dispatcher.
"""

import typing as _typing

from smartflow._lazy import lazy_names as _lazy_names
from smartflow.errors import (
    AuthenticationError as AuthenticationError,
)
from smartflow.errors import (
    BatchJobError as BatchJobError,
)
from smartflow.errors import (
    ClientError as ClientError,
)
from smartflow.errors import (
    ClientTimeoutError as ClientTimeoutError,
)
from smartflow.errors import (
    CommandError as CommandError,
)
from smartflow.errors import (
    ConnectionFailedError as ConnectionFailedError,
)
from smartflow.errors import (
    ExecutableNotFoundError as ExecutableNotFoundError,
)
from smartflow.errors import (
    ExperimentError as ExperimentError,
)
from smartflow.errors import (
    InferenceError as InferenceError,
)
from smartflow.errors import (
    InvalidArgumentError as InvalidArgumentError,
)
from smartflow.errors import (
    InvalidModelError as InvalidModelError,
)
from smartflow.errors import (
    JobCancelledError as JobCancelledError,
)
from smartflow.errors import (
    KeyNotFoundError as KeyNotFoundError,
)
from smartflow.errors import (
    LaunchError as LaunchError,
)
from smartflow.errors import (
    MissingFileError as MissingFileError,
)
from smartflow.errors import (
    ModelInputError as ModelInputError,
)
from smartflow.errors import (
    PortInUseError as PortInUseError,
)
from smartflow.errors import (
    RedirectError as RedirectError,
)
from smartflow.errors import (
    RunInterruptedError as RunInterruptedError,
)
from smartflow.errors import (
    RunTimeoutError as RunTimeoutError,
)
from smartflow.errors import (
    SchedulerError as SchedulerError,
)
from smartflow.errors import (
    SmartflowError as SmartflowError,
)
from smartflow.errors import (
    StoreBinaryNotFoundError as StoreBinaryNotFoundError,
)
from smartflow.errors import (
    StoreError as StoreError,
)
from smartflow.errors import (
    StoreStartError as StoreStartError,
)
from smartflow.errors import (
    TensorFormatError as TensorFormatError,
)
from smartflow.errors import (
    UnsupportedTypeError as UnsupportedTypeError,
)
from smartflow.errors import (
    ValidationFailedError as ValidationFailedError,
)
from smartflow.errors import (
    WorkerCrashedError as WorkerCrashedError,
)
from smartflow.errors import (
    WorkerUnavailableError as WorkerUnavailableError,
)
from smartflow.errors import (
    WrongTypeError as WrongTypeError,
)

if _typing.TYPE_CHECKING:
    from smartflow.batch import BatchJobHandle as BatchJobHandle
    from smartflow.batch import Dispatcher as Dispatcher
    from smartflow.batch import InferenceJob as InferenceJob
    from smartflow.batch import Result as Result
    from smartflow.client import Client as Client
    from smartflow.client import ClientConfig as ClientConfig
    from smartflow.client import DataSet as DataSet
    from smartflow.client import LogLevel as LogLevel
    from smartflow.client import MetaDataType as MetaDataType
    from smartflow.client import SyncClient as SyncClient
    from smartflow.client import log_data as log_data
    from smartflow.client import log_error as log_error
    from smartflow.client import log_warning as log_warning
    from smartflow.entities import DBModel as DBModel
    from smartflow.entities import DBScript as DBScript
    from smartflow.entities import Ensemble as Ensemble
    from smartflow.entities import Model as Model
    from smartflow.entities import Orchestrator as Orchestrator
    from smartflow.experiment import Experiment as Experiment
    from smartflow.runtime.messages import StatusEvent as StatusEvent
    from smartflow.settings import BatchSettings as BatchSettings
    from smartflow.settings import RunSettings as RunSettings
    from smartflow.status import Status as Status

__version__ = "0.1.0"

#: Where each public name lives (imported on first use).
_LAZY = {
    "BatchJobHandle": "smartflow.batch",
    "BatchSettings": "smartflow.settings",
    "Client": "smartflow.client",
    "ClientConfig": "smartflow.client",
    "DBModel": "smartflow.entities",
    "DBScript": "smartflow.entities",
    "DataSet": "smartflow.client",
    "Dispatcher": "smartflow.batch",
    "Ensemble": "smartflow.entities",
    "Experiment": "smartflow.experiment",
    "InferenceJob": "smartflow.batch",
    "LogLevel": "smartflow.client",
    "MetaDataType": "smartflow.client",
    "Model": "smartflow.entities",
    "Orchestrator": "smartflow.entities",
    "Result": "smartflow.batch",
    "RunSettings": "smartflow.settings",
    "Status": "smartflow.status",
    "StatusEvent": "smartflow.runtime.messages",
    "SyncClient": "smartflow.client",
    "log_data": "smartflow.client",
    "log_error": "smartflow.client",
    "log_warning": "smartflow.client",
}

__all__ = [
    "AuthenticationError",
    "BatchJobError",
    "BatchJobHandle",
    "BatchSettings",
    "Client",
    "ClientConfig",
    "ClientError",
    "ClientTimeoutError",
    "CommandError",
    "ConnectionFailedError",
    "DBModel",
    "DBScript",
    "DataSet",
    "Dispatcher",
    "Ensemble",
    "ExecutableNotFoundError",
    "Experiment",
    "ExperimentError",
    "InferenceError",
    "InferenceJob",
    "InvalidArgumentError",
    "InvalidModelError",
    "JobCancelledError",
    "KeyNotFoundError",
    "LaunchError",
    "LogLevel",
    "MetaDataType",
    "MissingFileError",
    "Model",
    "ModelInputError",
    "Orchestrator",
    "PortInUseError",
    "RedirectError",
    "Result",
    "RunInterruptedError",
    "RunSettings",
    "RunTimeoutError",
    "SchedulerError",
    "SmartflowError",
    "Status",
    "StatusEvent",
    "StoreBinaryNotFoundError",
    "StoreError",
    "StoreStartError",
    "SyncClient",
    "TensorFormatError",
    "UnsupportedTypeError",
    "ValidationFailedError",
    "WorkerCrashedError",
    "WorkerUnavailableError",
    "WrongTypeError",
    "log_data",
    "log_error",
    "log_warning",
]


__getattr__ = _lazy_names("smartflow", _LAZY, globals())


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
