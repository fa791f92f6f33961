"""SRObject: what every SmartRedis object that logs (Client, Dataset, LogContext) shares."""

from __future__ import annotations

from typing import Any

from smartflow.smartredis import logger
from smartflow.smartredis._levels import SRLoggingLevel
from smartflow.smartredis.util import exception_handler, typecheck


class SRObject:
    """A named logging context; ``log_*`` write records under that name."""

    def __init__(self, context: Any) -> None:
        # SmartRedis also takes its binding's object here; the smartflow object of a subclass
        # comes through ``_attach``.
        typecheck(context, "context", str)
        self._name = context

    @exception_handler
    def log_data(self, level: SRLoggingLevel, data: str) -> None:
        """Log ``data`` when ``level`` is within ``SR_LOG_LEVEL``."""
        logger.log_data(self._name, level, data)

    @exception_handler
    def log_warning(self, level: SRLoggingLevel, data: str) -> None:
        """Log ``data`` as a warning."""
        logger.log_warning(self._name, level, data)

    @exception_handler
    def log_error(self, level: SRLoggingLevel, data: str) -> None:
        """Log ``data`` as an error."""
        logger.log_error(self._name, level, data)
