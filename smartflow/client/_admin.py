"""Administration of the store's shards: node and cluster info, flush, config, save."""

from __future__ import annotations

from smartflow.client._core import ClientCore


class AdminOps(ClientCore):
    """(being written)"""
