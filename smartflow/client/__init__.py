"""The async tensor client, its blocking facade and the wire format."""

from smartflow.client._logs import log_data as log_data
from smartflow.client._logs import log_error as log_error
from smartflow.client._logs import log_warning as log_warning
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
    "log_data",
    "log_error",
    "log_warning",
]
