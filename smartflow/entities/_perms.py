"""Permutation strategies: how an ensemble's parameter lists become one dict per member."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Mapping, Sequence

from smartflow.errors import InvalidArgumentError

ParamValue = str | int | float
PermStrategy = Callable[[list[str], list[list[ParamValue]], int | None], list[dict]]


def normalise_params(params: Mapping[str, object] | None) -> dict[str, list[ParamValue]]:
    """Every parameter as a non-empty list of scalars; anything else is refused."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise InvalidArgumentError(f"params must be a dict of name -> value(s), got {params!r}")
    out: dict[str, list[ParamValue]] = {}
    for name, value in params.items():
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(f"parameter names must be non-empty str, got {name!r}")
        values = list(value) if isinstance(value, list | tuple) else [value]
        if not values:
            raise InvalidArgumentError(f"parameter {name!r} has an empty list of values")
        for v in values:
            if not isinstance(v, str | int | float) or isinstance(v, bool):
                raise InvalidArgumentError(
                    f"parameter {name!r}: value {v!r} must be a str, int or float"
                )
        out[name] = values
    return out


def all_perm(names: list[str], values: list[list[ParamValue]], n_models: int | None) -> list[dict]:
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def step(names: list[str], values: list[list[ParamValue]], n_models: int | None) -> list[dict]:
    lengths = {name: len(v) for name, v in zip(names, values, strict=True)}
    if len(set(lengths.values())) > 1:
        raise InvalidArgumentError(
            f"perm_strategy='step' needs parameter lists of equal length, got {lengths}"
        )
    return [dict(zip(names, combo, strict=True)) for combo in zip(*values, strict=True)]


def random_perm(
    names: list[str], values: list[list[ParamValue]], n_models: int | None
) -> list[dict]:
    combos = all_perm(names, values, None)
    if n_models is None or not isinstance(n_models, int) or n_models < 1:
        raise InvalidArgumentError("perm_strategy='random' needs n_models, an int >= 1")
    if n_models > len(combos):
        raise InvalidArgumentError(
            f"n_models={n_models} exceeds the {len(combos)} distinct parameter combinations"
        )
    return random.sample(combos, n_models)


STRATEGIES: dict[str, PermStrategy] = {"all_perm": all_perm, "step": step, "random": random_perm}


def check_strategy(strategy: object) -> PermStrategy:
    """The strategy function for a name or a callable; anything else is refused."""
    if callable(strategy):
        return strategy  # type: ignore[return-value]
    if isinstance(strategy, str) and strategy in STRATEGIES:
        return STRATEGIES[strategy]
    raise InvalidArgumentError(
        f"perm_strategy {strategy!r} must be one of {sorted(STRATEGIES)} or a callable"
    )


def expand(
    params: dict[str, list[ParamValue]],
    strategy: str | PermStrategy,
    n_models: int | None = None,
) -> list[dict]:
    """One parameter dict per member, checked."""
    fn = check_strategy(strategy)
    names = list(params)
    combos = fn(names, [params[n] for n in names], n_models)
    _check_combos(combos, names)
    return [dict(c) for c in combos]


def _check_combos(combos: Sequence[object], names: list[str]) -> None:
    if not isinstance(combos, list | tuple) or not all(isinstance(c, dict) for c in combos):
        raise InvalidArgumentError("a perm_strategy must return a list of dicts")
    for combo in combos:
        for name, value in combo.items():
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise InvalidArgumentError(
                    f"perm_strategy returned {value!r} for {name!r}; values are str, int or float"
                )
        unknown = set(combo) - set(names)
        if unknown:
            raise InvalidArgumentError(
                f"perm_strategy returned unknown parameters {sorted(unknown)}"
            )


def params_scalars(params: dict | None) -> dict:
    """A model's parameters: exactly one value each (lists belong to ensembles)."""
    normalised = normalise_params(params)
    lists = [name for name, value in (params or {}).items() if isinstance(value, list | tuple)]
    if lists:
        raise InvalidArgumentError(
            f"model parameter(s) {lists} are lists; a model takes one value each "
            "(use create_ensemble for lists)"
        )
    for name, values in normalised.items():
        if len(values) != 1:
            raise InvalidArgumentError(
                f"model parameter {name!r} must be one value; use create_ensemble for lists"
            )
    return normalised
