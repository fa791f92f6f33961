"""Client calls for key prefixing and for the store's nodes (info, config, flush, save)."""

from __future__ import annotations

from typing import Any

from smartflow.smartredis._args import strs
from smartflow.smartredis.error import RedisRuntimeError
from smartflow.smartredis.util import exception_handler, typecheck


class AdminOps:
    """Ensemble prefixing and per-node administration."""

    _client: Any

    # -- ensemble prefixing ---------------------------------------------------------------

    @exception_handler
    def set_data_source(self, source_id: str) -> None:
        typecheck(source_id, "source_id", str)
        self._client.set_data_source(source_id)

    @exception_handler
    def use_model_ensemble_prefix(self, use_prefix: bool) -> None:
        typecheck(use_prefix, "use_prefix", bool)
        self._client.use_model_ensemble_prefix(use_prefix)

    @exception_handler
    def use_list_ensemble_prefix(self, use_prefix: bool) -> None:
        typecheck(use_prefix, "use_prefix", bool)
        self._client.use_list_ensemble_prefix(use_prefix)

    @exception_handler
    def use_tensor_ensemble_prefix(self, use_prefix: bool) -> None:
        typecheck(use_prefix, "use_prefix", bool)
        self._client.use_tensor_ensemble_prefix(use_prefix)

    @exception_handler
    def use_dataset_ensemble_prefix(self, use_prefix: bool) -> None:
        typecheck(use_prefix, "use_prefix", bool)
        self._client.use_dataset_ensemble_prefix(use_prefix)

    # -- nodes ----------------------------------------------------------------------------

    @exception_handler
    def get_db_node_info(self, addresses: list[str]) -> list[dict]:
        typecheck(addresses, "addresses", list)
        return self._client.get_db_node_info(addresses)

    @exception_handler
    def get_db_cluster_info(self, addresses: list[str]) -> list[dict]:
        typecheck(addresses, "addresses", list)
        return self._client.get_db_cluster_info(addresses)

    @exception_handler
    def get_ai_info(self, address: list[str], key: str, reset_stat: bool = False) -> list[dict]:
        """Refused: AI.INFO is RedisAI's (smartflow's workers keep no such statistics)."""
        typecheck(address, "address", list)
        typecheck(key, "key", str)
        typecheck(reset_stat, "reset_stat", bool)
        raise RedisRuntimeError(
            f"get_ai_info {key!r}: AI.INFO needs RedisAI, which smartflow does not use",
            "Client.get_ai_info",
        )

    @exception_handler
    def flush_db(self, addresses: list[str]) -> None:
        typecheck(addresses, "addresses", list)
        self._client.flush_db(addresses)

    @exception_handler
    def config_get(self, expression: str, address: str) -> dict:
        strs(expression=expression, address=address)
        return self._client.config_get(expression, address)

    @exception_handler
    def config_set(self, config_param: str, value: str, address: str) -> None:
        strs(config_param=config_param, value=value, address=address)
        self._client.config_set(config_param, value, address)

    @exception_handler
    def save(self, addresses: list[str]) -> None:
        typecheck(addresses, "addresses", list)
        self._client.save(addresses)

    @exception_handler
    def set_model_chunk_size(self, chunk_size: int) -> None:
        """Accepted and checked, but nothing to set: RedisAI's AI.CONFIG chunk size has no
        counterpart, since smartflow stores a model as one value on each shard."""
        typecheck(chunk_size, "chunk_size", int)
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be > 0, got {chunk_size}")
