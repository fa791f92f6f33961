"""structlog loggers for the library.

smartflow never configures logging for its host. Events are structlog events rendered as
``key=value`` text and handed to the standard library logger ``smartflow.<component>``, so a
driver script, a notebook or the asyncio service that embeds smartflow decides where they go and
at which level (``logging.basicConfig(level=logging.INFO)`` shows them). Disabled levels cost one
``isEnabledFor`` check.
"""

from __future__ import annotations

import logging

import structlog

_PROCESSORS = [
    structlog.stdlib.filter_by_level,
    structlog.stdlib.add_log_level,
    structlog.processors.format_exc_info,
    structlog.processors.KeyValueRenderer(key_order=["event"], drop_missing=True),
]


def get_logger(component: str, **bound: object) -> structlog.stdlib.BoundLogger:
    """A logger for one component with context (entity name, job id, ...) bound."""
    logger = structlog.wrap_logger(
        logging.getLogger(f"smartflow.{component}"),
        processors=_PROCESSORS,
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    return logger.bind(**bound)
