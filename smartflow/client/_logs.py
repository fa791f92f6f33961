"""Logging from applications: structlog records, also kept in the store."""

from __future__ import annotations

from smartflow.client._core import ClientCore


class LogOps(ClientCore):
    """(being written)"""
