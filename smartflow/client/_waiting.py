"""Waiting for keys without polling loops: keyspace notifications."""

from __future__ import annotations

from smartflow.client._core import ClientCore


class WaitOps(ClientCore):
    """(being written)"""
