"""LogContext: a name to log under, without a client or dataset."""

from __future__ import annotations

from smartflow.smartredis.srobject import SRObject
from smartflow.smartredis.util import exception_handler, typecheck


class LogContext(SRObject):
    """Records logged through it carry ``context`` as their name."""

    def __init__(self, context: str) -> None:
        typecheck(context, "context", str)
        super().__init__(context)

    @staticmethod
    def from_pybind(logcontext: LogContext) -> LogContext:
        """A LogContext of the same name (SmartRedis builds one from its binding's object)."""
        typecheck(logcontext, "logcontext", LogContext)
        return LogContext(logcontext._name)

    @exception_handler
    def get_context(self) -> LogContext:
        return self

    @exception_handler
    def set_context(self, logcontext: LogContext) -> None:
        typecheck(logcontext, "logcontext", LogContext)
        self._name = logcontext._name
