"""Ensemble key prefixing, as SmartRedis does it.

A launched member with key prefixing on gets ``SSKEYOUT=<its name>``; a consumer gets
``SSKEYIN=<name>,<name>,...`` for the entities it registered as incoming. Writes go under
``<SSKEYOUT>.<key>``; reads come from ``<source>.<key>``, where the source is the first ``SSKEYIN``
entry until :meth:`KeyPrefixer.set_data_source` picks another. A member with no ``SSKEYIN`` reads
its own keys (SmartRedis would read unprefixed ones, so a member could not read back what it
wrote). Each kind of data has its own switch; tensors, datasets and lists are prefixed by default,
models are not. ``key_exists`` and ``poll_key`` never prefix: they take the key as stored.
"""

from __future__ import annotations

import enum
import os

from smartflow.errors import InvalidArgumentError, UnsupportedTypeError


class Kind(enum.Enum):
    TENSOR = "tensor"
    DATASET = "dataset"
    LIST = "list"
    MODEL = "model"


_DEFAULTS = {Kind.TENSOR: True, Kind.DATASET: True, Kind.LIST: True, Kind.MODEL: False}


class KeyPrefixer:
    """Which prefix a name gets on the way in and out (see the module docstring)."""

    def __init__(self, put_prefix: str = "", sources: tuple[str, ...] = ()) -> None:
        self.put_prefix = put_prefix
        self.sources = sources
        self.data_source = sources[0] if sources else put_prefix
        self._on = dict(_DEFAULTS)

    @classmethod
    def from_env(cls) -> KeyPrefixer:
        """``SSKEYOUT`` and the comma-separated ``SSKEYIN`` of the environment contract."""
        sources = tuple(s.strip() for s in os.environ.get("SSKEYIN", "").split(",") if s.strip())
        return cls(os.environ.get("SSKEYOUT", "").strip(), sources)

    def use(self, kind: Kind, enabled: object) -> None:
        if not isinstance(enabled, bool):
            raise UnsupportedTypeError(f"use_{kind.value}_ensemble_prefix takes a bool")
        self._on[kind] = enabled

    def set_data_source(self, source: object) -> None:
        if not isinstance(source, str):
            raise UnsupportedTypeError("set_data_source takes an entity name (str)")
        if source not in self.sources:
            known = ", ".join(self.sources) or "none: SSKEYIN is not set"
            raise InvalidArgumentError(
                f"data source {source!r} is not one of this client's incoming entities "
                f"(SSKEYIN: {known}); register it with model.register_incoming_entity(...)"
            )
        self.data_source = source

    def for_write(self, kind: Kind, name: str) -> str:
        """The stored name of something this client writes."""
        return _join(self.put_prefix, name) if self._on[kind] else name

    def for_read(self, kind: Kind, name: str) -> str:
        """The stored name of something this client reads (from its current data source)."""
        return _join(self.data_source, name) if self._on[kind] else name


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
