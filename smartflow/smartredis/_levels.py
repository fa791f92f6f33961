"""SmartRedis's logging levels (``LLQuiet`` ... ``LLDeveloper``), as smartflow's LogLevel."""

from __future__ import annotations

import enum

from smartflow.client import LogLevel


class SRLoggingLevel(enum.IntEnum):
    """The verbosity of a log record or threshold (the numbers of smartflow's LogLevel)."""

    LLQuiet = 1
    LLInfo = 2
    LLDebug = 3
    LLDeveloper = 4

    @property
    def smartflow_level(self) -> LogLevel:
        return LogLevel(int(self))


LLQuiet = SRLoggingLevel.LLQuiet
LLInfo = SRLoggingLevel.LLInfo
LLDebug = SRLoggingLevel.LLDebug
LLDeveloper = SRLoggingLevel.LLDeveloper
