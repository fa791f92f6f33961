"""Checks and renderers shared by the run and batch settings classes (pure: no I/O).

Every check returns the cleaned value or raises :class:`InvalidArgumentError` (a wrong type is
its subclass :class:`UnsupportedTypeError`), so a setter refuses a bad value before it changes
anything.
"""

from __future__ import annotations

import math
import os
import re

from smartflow import _checks
from smartflow.errors import InvalidArgumentError, UnsupportedTypeError

_WALLTIME = re.compile(r"^(?:(\d+)-)?(\d{1,2}):(\d{2}):(\d{2})$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_OPTION_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]*$")

# -- walltime -----------------------------------------------------------------------------------


def parse_walltime(walltime: object) -> float:
    """Seconds in ``HH:MM:SS`` or ``D-HH:MM:SS`` (minutes and seconds below 60, more than 0)."""
    match = _WALLTIME.fullmatch(walltime) if isinstance(walltime, str) else None
    if match is None:
        raise InvalidArgumentError(f"walltime {walltime!r} must look like HH:MM:SS or D-HH:MM:SS")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    if minutes > 59 or seconds > 59:
        raise InvalidArgumentError(f"walltime {walltime!r}: minutes and seconds must be below 60")
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    if total <= 0:
        raise InvalidArgumentError(f"walltime {walltime!r} must be longer than zero")
    return float(total)


def batch_walltime(walltime: object) -> float:
    """Seconds from ``HH:MM:SS``, ``D-HH:MM:SS`` or an int number of seconds (at least 1)."""
    if isinstance(walltime, int) and not isinstance(walltime, bool):
        return float(_checks.count(walltime, "walltime"))
    return parse_walltime(walltime)


def hms(seconds: float) -> str:
    """``HH:MM:SS`` (hours may pass 24), rounded up to the whole second."""
    total = math.ceil(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def format_walltime(seconds: float) -> str:
    """``HH:MM:SS`` under a day, ``D-HH:MM:SS`` from a day on (what Slurm and parse accept)."""
    days, rest = divmod(math.ceil(seconds), 86400)
    return f"{days}-{hms(rest)}" if days else hms(rest)


def hours_minutes(seconds: float) -> str:
    """``HH:MM`` rounded *up* to the minute (LSF ``-W``; a limit is never shortened)."""
    hours, minutes = divmod(math.ceil(seconds / 60), 60)
    return f"{hours:02d}:{minutes:02d}"


# -- plain values -------------------------------------------------------------------------------


def text(value: object, what: str) -> str:
    """A non-empty str without control characters (a newline would break a script line)."""
    value = _checks.checked_name(value, what)
    if _CONTROL.search(value):
        raise InvalidArgumentError(f"{what} {value!r} must not contain control characters")
    return value


def optional_text(value: object, what: str) -> str | None:
    """None or "" (unset) or a :func:`text`."""
    return None if value is None or value == "" else text(value, what)


def flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise UnsupportedTypeError(f"{what} must be True or False, got {value!r}")
    return value


def path(value: object, what: str) -> str:
    """A path (str or os.PathLike) as a str; it need not exist here (compute nodes may differ)."""
    return text(os.fspath(_checks.file_path(value, what)), what)


def names(value: object, what: str) -> list[str]:
    """One name (a str) or a non-empty list of names, each a word without whitespace."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
        raise UnsupportedTypeError(f"{what} must be a str or a list of str, got {value!r}")
    if not items:
        raise InvalidArgumentError(f"{what} must name at least one entry")
    for item in items:
        if not item or any(c.isspace() or c in "\"'" for c in item) or _CONTROL.search(item):
            raise InvalidArgumentError(f"{what}: {item!r} must be a non-empty word (no quotes)")
    return list(items)


def ints(value: object, what: str) -> list[int]:
    """One int >= 0 or a non-empty list of them (CPU ids, group indices)."""
    items = [value] if isinstance(value, int) else value
    if not isinstance(items, list | tuple) or not items:
        raise UnsupportedTypeError(f"{what} must be an int or a non-empty list of int")
    return [_checks.at_least_zero(v, what) for v in items]


def lines(value: object, what: str) -> list[str]:
    """Script lines: a str (split at newlines) or a list of str, none with a newline inside."""
    items = value.splitlines() if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
        raise UnsupportedTypeError(f"{what} must be a str or a list of str, got {value!r}")
    for item in items:
        if "\n" in item or "\r" in item:
            raise InvalidArgumentError(f"{what}: one line per entry, got {item!r}")
    return list(items)


def str_list(value: object, what: str) -> list[str]:
    """Arguments: a str (split at whitespace) or a list of str / numbers, as strs."""
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str | int | float) for v in value
    ):
        raise InvalidArgumentError(f"{what} must be a list of str, got {value!r}")
    return [str(v) for v in value]


def str_dict(value: object, what: str) -> dict[str, str]:
    """A dict with non-empty str keys; values as strs (None becomes "")."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and k for k in value):
        raise InvalidArgumentError(f"{what} must be a dict with str keys, got {value!r}")
    return {k: "" if v is None else str(v) for k, v in value.items()}


def env_names(env: dict[str, str], what: str = "env_vars") -> list[str]:
    """The variable names, each one a process environment can hold (no ``=``, no whitespace)."""
    for name in env:
        if "=" in name or any(c.isspace() for c in name) or _CONTROL.search(name):
            raise InvalidArgumentError(f"{what}: {name!r} is not an environment variable name")
    return list(env)


# -- options ------------------------------------------------------------------------------------


def option_key(key: str, what: str) -> str:
    """An option name without dashes: ``nodes``, ``N``, ``cpu_bind``."""
    if not _OPTION_KEY.fullmatch(key):
        raise InvalidArgumentError(
            f"{what} {key!r}: give the option name without leading dashes, '=' or spaces "
            "(run_args={'nodelist': 'n1'}, not {'--nodelist': 'n1'})"
        )
    return key


def check_options(
    options: dict[str, str], reserved: dict[str, str | None], who: str, what: str
) -> None:
    """Refuse malformed keys, values with control characters, and reserved options: a reserved
    option maps to the setter that owns it, or to None when smartflow sets it itself."""
    for key, value in options.items():
        option_key(key, what)
        if key in reserved:
            owner = reserved[key]
            how = f"use {owner}" if owner else "smartflow sets it itself for every step"
            raise InvalidArgumentError(f"{who}: {what} {key!r} cannot be given here; {how}")
        if _CONTROL.search(str(value)):
            raise InvalidArgumentError(f"{who}: {what} {key!r} has control characters in its value")


def render_option(key: str, value: object, *, long: str = "--", join: str = "=") -> list[str]:
    """``--key=value`` (``join=" "``: ``--key value``), ``-k value``, or a bare flag when the
    value is None or ""."""
    short = len(key) == 1
    name = ("-" if short else long) + key
    if value is None or value == "":
        return [name]
    if short or join == " ":
        return [name, str(value)]
    return [f"{name}{join}{value}"]
