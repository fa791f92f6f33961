"""SmartRedis 0.6's Python API on smartflow: change ``from smartredis import Client`` to
``from smartflow.smartredis import Client`` and a SmartRedis application runs on a smartflow
store. Only names and argument shapes are adapted here; the work is done by smartflow's
client (:class:`smartflow.client.SyncClient`), so its behaviour, limits and errors apply.

What differs from SmartRedis: models are ONNX (TF, TFLITE and TORCH backends, and
``get_ai_info``, raise a RedisRuntimeError saying RedisAI is needed); scripts and
``set_function`` are Python over numpy arrays instead of TorchScript; clients can be closed
(``close()``, ``with``). Imported only when used: ``import smartflow`` does not load it.
"""

from smartflow.smartredis._levels import LLDebug, LLDeveloper, LLInfo, LLQuiet, SRLoggingLevel
from smartflow.smartredis.client import Client
from smartflow.smartredis.configoptions import ConfigOptions
from smartflow.smartredis.dataset import Dataset
from smartflow.smartredis.dataset_utils import DatasetConverter
from smartflow.smartredis.logcontext import LogContext
from smartflow.smartredis.logger import log_data, log_error, log_warning
from smartflow.smartredis.srobject import SRObject

__all__ = [
    "Client",
    "ConfigOptions",
    "Dataset",
    "DatasetConverter",
    "LLDebug",
    "LLDeveloper",
    "LLInfo",
    "LLQuiet",
    "LogContext",
    "SRLoggingLevel",
    "SRObject",
    "log_data",
    "log_error",
    "log_warning",
]
