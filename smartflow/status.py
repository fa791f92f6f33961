"""The status of a launched entity."""

from __future__ import annotations

import enum


class Status(enum.Enum):
    """Where an entity is in its life. ``Status.TERMINAL`` holds the states it never leaves."""

    NEW = "New"
    QUEUED = "Queued"
    RUNNING = "Running"
    PAUSED = "Paused"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    NEVER_STARTED = "NeverStarted"

    @property
    def is_terminal(self) -> bool:
        """True for the states an entity never leaves."""
        return self in TERMINAL_STATUSES

    def __str__(self) -> str:
        return self.value


TERMINAL_STATUSES: frozenset[Status] = frozenset(
    {Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.NEVER_STARTED}
)
Status.TERMINAL = TERMINAL_STATUSES  # type: ignore[attr-defined]
