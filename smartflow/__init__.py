"""smartflow: asyncio-native AI-coupled HPC workflows.

Launch and supervise a Redis-backed tensor store (and, next, models and ensembles) from an
``Experiment``, and move numpy tensors in and out of it with the async ``Client``.
"""

from smartflow.client import Client as Client
from smartflow.client import ClientConfig as ClientConfig
from smartflow.client import SyncClient as SyncClient
from smartflow.entities import Orchestrator as Orchestrator
from smartflow.errors import (
    AuthenticationError as AuthenticationError,
    ClientError as ClientError,
    ClientTimeoutError as ClientTimeoutError,
    CommandError as CommandError,
    ConnectionFailedError as ConnectionFailedError,
    ExecutableNotFoundError as ExecutableNotFoundError,
    ExperimentError as ExperimentError,
    InvalidArgumentError as InvalidArgumentError,
    KeyNotFoundError as KeyNotFoundError,
    LaunchError as LaunchError,
    PortInUseError as PortInUseError,
    SmartflowError as SmartflowError,
    StoreBinaryNotFoundError as StoreBinaryNotFoundError,
    StoreError as StoreError,
    StoreStartError as StoreStartError,
    TensorFormatError as TensorFormatError,
    UnsupportedTypeError as UnsupportedTypeError,
)
from smartflow.experiment import Experiment as Experiment
from smartflow.status import Status as Status

__version__ = "0.1.0"

__all__ = [
    "AuthenticationError",
    "Client",
    "ClientConfig",
    "ClientError",
    "ClientTimeoutError",
    "CommandError",
    "ConnectionFailedError",
    "ExecutableNotFoundError",
    "Experiment",
    "ExperimentError",
    "InvalidArgumentError",
    "KeyNotFoundError",
    "LaunchError",
    "Orchestrator",
    "PortInUseError",
    "SmartflowError",
    "Status",
    "StoreBinaryNotFoundError",
    "StoreError",
    "StoreStartError",
    "SyncClient",
    "TensorFormatError",
    "UnsupportedTypeError",
]
