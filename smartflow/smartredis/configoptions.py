"""ConfigOptions: SmartRedis's settings read from the environment, with per-object overrides.

``ConfigOptions.create_from_environment("x")`` reads ``NAME_x`` for option ``NAME`` (``NAME``
with an empty suffix), so ``Client(ConfigOptions.create_from_environment("x"))`` connects to
the store of ``SSDB_x`` / ``SR_DB_TYPE_x`` / ``SSDB_PASSWORD_x``: smartflow's ``db_identifier``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from smartflow.smartredis.error import RedisKeyError, RedisRuntimeError
from smartflow.smartredis.util import exception_handler, typecheck

F = TypeVar("F", bound=Callable[..., Any])


def _managed(method: F) -> F:
    """SmartRedis refuses options that were not made by a factory method."""

    @functools.wraps(method)
    def wrapper(self: ConfigOptions, *args: Any, **kwargs: Any) -> Any:
        if not self._from_factory:
            raise RedisRuntimeError(
                f"Attempting to call managed method on {type(self).__name__} object not "
                "created from a factory method"
            )
        return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class ConfigOptions:
    """Options from one source (the environment), with overrides private to this object."""

    def __init__(self) -> None:
        self._from_factory = False
        self._suffix = ""
        self._overrides: dict[str, int | str] = {}

    @classmethod
    @exception_handler
    def create_from_environment(cls, db_suffix: str) -> ConfigOptions:
        """Options read from environment variables, ``_{db_suffix}`` appended when not empty."""
        typecheck(db_suffix, "db_suffix", str)
        options = cls()
        options._from_factory = True
        options._suffix = db_suffix
        return options

    @staticmethod
    def from_pybind(configoptions: ConfigOptions) -> ConfigOptions:
        typecheck(configoptions, "configoptions", ConfigOptions)
        return configoptions

    @exception_handler
    @_managed
    def get_data(self) -> ConfigOptions:
        return self

    @exception_handler
    def set_configoptions(self, configoptions: ConfigOptions) -> None:
        typecheck(configoptions, "configoptions", ConfigOptions)
        self.__dict__.update(configoptions.__dict__)
        self._overrides = dict(configoptions._overrides)

    @property
    def db_suffix(self) -> str:
        """The suffix of the variables read ("" for the default store)."""
        return self._suffix

    def _variable(self, option_name: str) -> str:
        return f"{option_name}_{self._suffix}" if self._suffix else option_name

    def _raw(self, option_name: str) -> str | int | None:
        if option_name in self._overrides:
            return self._overrides[option_name]
        value = os.environ.get(self._variable(option_name))
        return value if value else None

    @exception_handler
    @_managed
    def get_integer_option(self, option_name: str) -> int:
        """The option's value as an int; RedisKeyError when it is not set."""
        typecheck(option_name, "option_name", str)
        value = self._raw(option_name)
        if value is None:
            raise RedisKeyError(f"No value found for key {self._variable(option_name)}")
        try:
            return int(value)
        except ValueError:
            # The value is left out: the option might be a secret (SSDB_PASSWORD).
            raise RedisRuntimeError(
                f"The value of {self._variable(option_name)} is not an integer"
            ) from None

    @exception_handler
    @_managed
    def get_string_option(self, option_name: str) -> str:
        """The option's value; RedisKeyError when it is not set."""
        typecheck(option_name, "option_name", str)
        value = self._raw(option_name)
        if value is None:
            raise RedisKeyError(f"No value found for key {self._variable(option_name)}")
        return str(value)

    @exception_handler
    @_managed
    def is_configured(self, option_name: str) -> bool:
        """True when the option is overridden here or set in the environment."""
        typecheck(option_name, "option_name", str)
        return self._raw(option_name) is not None

    @exception_handler
    @_managed
    def override_integer_option(self, option_name: str, value: int) -> None:
        """Use ``value`` for the option in this object only."""
        typecheck(option_name, "option_name", str)
        typecheck(value, "value", int)
        self._overrides[option_name] = value

    @exception_handler
    @_managed
    def override_string_option(self, option_name: str, value: str) -> None:
        """Use ``value`` for the option in this object only."""
        typecheck(option_name, "option_name", str)
        typecheck(value, "value", str)
        self._overrides[option_name] = value

    def _option(self, option_name: str) -> str | None:
        """The option's value as text, or None (for the client's construction)."""
        value = self._raw(option_name)
        return None if value is None else str(value)
