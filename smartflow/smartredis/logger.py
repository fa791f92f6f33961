"""SmartRedis's module-level logging: ``log_data(context, level, data)`` and friends, written
by smartflow's own (to ``SR_LOG_FILE`` as ``SR_LOG_LEVEL`` allows; no store needed)."""

from __future__ import annotations

import smartflow.client as _logs_api
from smartflow.smartredis._levels import SRLoggingLevel
from smartflow.smartredis.util import exception_handler, typecheck


def _checked(context: object, level: object, data: object) -> None:
    typecheck(context, "context", str)
    typecheck(level, "level", SRLoggingLevel)
    typecheck(data, "data", str)


@exception_handler
def log_data(context: str, level: SRLoggingLevel, data: str) -> None:
    """Log ``data`` under ``context`` when ``level`` is within ``SR_LOG_LEVEL``."""
    _checked(context, level, data)
    _logs_api.log_data(context, level.smartflow_level, data)


@exception_handler
def log_warning(context: str, level: SRLoggingLevel, data: str) -> None:
    """Log ``data`` as a warning under ``context``."""
    _checked(context, level, data)
    _logs_api.log_warning(context, level.smartflow_level, data)


@exception_handler
def log_error(context: str, level: SRLoggingLevel, data: str) -> None:
    """Log ``data`` as an error under ``context``."""
    _checked(context, level, data)
    _logs_api.log_error(context, level.smartflow_level, data)
