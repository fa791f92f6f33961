"""The environment contract: where a launched application finds its store.

The default store (identifier ``"orchestrator"`` or ``""``) is ``SSDB`` + ``SR_DB_TYPE``; any other
is ``SSDB_<id>`` + ``SR_DB_TYPE_<id>``; the secret is ``SSDB_PASSWORD`` / ``SSDB_PASSWORD_<id>``.
``SSDB`` may list several comma-separated addresses (one per shard). A client given an address
finds its secret with :func:`password_from_env`.
"""

from __future__ import annotations

import os

from smartflow.client._secrets import address_aliases
from smartflow.errors import InvalidArgumentError
from smartflow.wire import parse_address

_DEFAULT_IDS = ("", "orchestrator")


def _suffix(db_identifier: str) -> str:
    return "" if db_identifier in _DEFAULT_IDS else f"_{db_identifier}"


def env_names(db_identifier: str = "") -> tuple[str, str, str]:
    """The (address, type, password) variable names for a store identifier."""
    suffix = _suffix(db_identifier)
    return f"SSDB{suffix}", f"SR_DB_TYPE{suffix}", f"SSDB_PASSWORD{suffix}"


def address_from_env(db_identifier: str = "") -> tuple[str, bool, str | None]:
    """(addresses, comma-separated; clustered?; password) from the environment contract."""
    ssdb, db_type, password = env_names(db_identifier)
    raw = os.environ.get(ssdb, "")
    addresses = [a.strip() for a in raw.split(",") if a.strip()]
    if not addresses:
        raise InvalidArgumentError(
            f"no store address: pass Client(address=...) or set {ssdb} "
            "(smartflow sets it for the entities it launches)"
        )
    clustered = os.environ.get(db_type, "Standalone").lower() == "clustered"
    return ",".join(addresses), clustered, os.environ.get(password) or None


def password_from_env(addresses: list[str], db_identifier: str = "") -> str | None:
    """The secret of the store whose ``SSDB`` or ``SSDB_<id>`` lists one of ``addresses``
    (``SSDB_PASSWORD`` / ``SSDB_PASSWORD_<id>``), so an application that was launched with
    the contract and passes one of its addresses needs no password. ``db_identifier``'s
    variables are tried first; entries that are not addresses are skipped, not refused (the
    caller gave its own address)."""
    wanted = frozenset().union(*(address_aliases(a) for a in addresses))
    first = env_names(db_identifier)[0]
    for variable in sorted(os.environ, key=lambda name: (name != first, name)):
        identifier = _identifier_of(variable)
        if identifier is not None and wanted & _listed(os.environ[variable]):
            return os.environ.get(env_names(identifier)[2]) or None
    return None


def _identifier_of(variable: str) -> str | None:
    """The store identifier whose address variable is ``variable``; None for any other name
    (``SSDB_PASSWORD*`` names a secret, not a store)."""
    if variable == "SSDB":
        return ""
    if variable.startswith("SSDB_") and not variable.startswith("SSDB_PASSWORD"):
        return variable[len("SSDB_") :] or None
    return None


def _listed(raw: str) -> frozenset[str]:
    """Every spelling of every address in a comma-separated ``SSDB`` value."""
    spellings: set[str] = set()
    for entry in raw.split(","):
        try:
            spellings |= address_aliases(str(parse_address(entry.strip())))
        except InvalidArgumentError:
            continue
    return frozenset(spellings)
