"""The async tensor client, its blocking facade and the wire format.

For the experiment that launches applications, it also exposes the environment contract's
variable names (``env_names``) and the driver's record of the stores' secrets
(``remember_secret``/``forget_secret``: a client in the driver needs no password argument)."""

from smartflow.client._env import env_names as env_names
from smartflow.client._logs import log_data as log_data
from smartflow.client._logs import log_error as log_error
from smartflow.client._logs import log_warning as log_warning
from smartflow.client._secrets import forget_secret as forget_secret
from smartflow.client._secrets import remember_secret as remember_secret
from smartflow.client.client import Client as Client
from smartflow.client.config import ClientConfig as ClientConfig
from smartflow.client.config import LogLevel as LogLevel
from smartflow.client.dataset import DataSet as DataSet
from smartflow.client.dataset import MetaDataType as MetaDataType
from smartflow.client.sync import SyncClient as SyncClient

__all__ = [
    "Client",
    "ClientConfig",
    "DataSet",
    "LogLevel",
    "MetaDataType",
    "SyncClient",
    "env_names",
    "forget_secret",
    "log_data",
    "log_error",
    "log_warning",
    "remember_secret",
]
