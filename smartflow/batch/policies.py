"""Job policies: how a batch inference job of ``n`` inputs is cut into splits, and how many task
managers run them.

A policy is a plain function ``policy(n, split_size, num_task_managers) -> Plan``: ``n >= 1`` is
the number of inputs, the other two are what the user asked for (``None``: not given). Every
policy returns a :class:`Plan` that keeps these invariants, for every ``n >= 1``:

- ``1 <= split_size <= n`` (a split is never larger than the job);
- ``num_splits == ceil(n / split_size)`` (the last split may be short, none is missing);
- ``1 <= num_task_managers <= num_splits`` (no task manager is started without a split).

When there are more splits than task managers, the task managers pull splits dynamically until
none is left. :func:`make_plan` applies the clamps and computes ``num_splits``; a custom policy
can return its result to keep the invariants, and :func:`plan_job` refuses a custom policy's
plan that breaks them.

These are pure functions: they log nothing. The dispatcher calls :func:`plan_job`, then
:func:`apply_caps` once a task-manager slot is free, and logs any capping itself.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType

import attrs

from smartflow import _checks
from smartflow.errors import InvalidArgumentError, UnsupportedTypeError

#: Inputs per split when neither the user nor the policy says otherwise.
DEFAULT_SPLIT_SIZE = 32

#: The most task managers :func:`bounded_policy` starts unless the user names a number.
BOUNDED_MAX_TASK_MANAGERS = 8

#: :func:`size_table_policy`'s rows: the row of the largest key ``<= n`` gives
#: ``(split_size, num_task_managers)``; any ``n`` above the largest key uses the last row.
SIZE_TABLE: Mapping[int, tuple[int, int]] = MappingProxyType(
    {
        1: (1, 1),
        16: (8, 2),
        64: (16, 4),
        256: (32, 8),
        1024: (64, 16),
        4096: (128, 32),
    }
)
_SIZE_KEYS = tuple(sorted(SIZE_TABLE))


@attrs.frozen
class Plan:
    """How a job runs: its inputs cut into ``num_splits`` splits of ``split_size`` inputs (the
    last one possibly shorter), handled by ``num_task_managers`` task managers.

    For a job of ``n >= 1`` inputs all three are ints ``>= 1``. An empty job (``n == 0``) has
    ``num_splits == 0`` and ``num_task_managers == 0``: it needs no task manager."""

    split_size: int
    num_task_managers: int
    num_splits: int


Policy = Callable[[int, int | None, int | None], Plan]
"""``policy(n, split_size, num_task_managers) -> Plan``; see the module's docstring."""


def num_splits(n: int, split_size: int) -> int:
    """The number of splits of ``split_size`` inputs needed for ``n`` inputs: ``ceil(n / size)``
    (the last split takes the remainder)."""
    return math.ceil(n / split_size)


def make_plan(n: int, split_size: int, num_task_managers: int) -> Plan:
    """The plan for ``n >= 1`` inputs with ``split_size`` clamped to ``1..n`` and
    ``num_task_managers`` clamped to ``1..num_splits``."""
    size = min(max(split_size, 1), n)
    splits = num_splits(n, size)
    return Plan(
        split_size=size,
        num_task_managers=min(max(num_task_managers, 1), splits),
        num_splits=splits,
    )


def default_policy(n: int, split_size: int | None, num_task_managers: int | None) -> Plan:
    """One split per task manager, unless the user asks for both numbers.

    - ``split_size`` only: one task manager per split, ``ceil(n / split_size)`` of them.
    - ``num_task_managers`` only: splits of ``ceil(n / num_task_managers)`` inputs, one task
      manager per split (fewer than asked when the inputs do not go round: 10 inputs for 6 task
      managers make 5 splits of 2, so 5 task managers).
    - neither: splits of :data:`DEFAULT_SPLIT_SIZE`, one task manager per split.
    - both: both as given (task managers pull several splits each), but never more task
      managers than splits.
    """
    if split_size is None and num_task_managers is not None:
        split_size = math.ceil(n / num_task_managers)
        num_task_managers = None
    size = min(split_size or DEFAULT_SPLIT_SIZE, n)
    if num_task_managers is None:
        num_task_managers = num_splits(n, size)
    return make_plan(n, size, num_task_managers)


def fixed_split_policy(n: int, split_size: int | None, num_task_managers: int | None) -> Plan:
    """Splits of ``split_size`` inputs (:data:`DEFAULT_SPLIT_SIZE` if not given) whatever the
    task managers; ``num_task_managers`` as given (at most one per split), else one per split."""
    size = min(split_size or DEFAULT_SPLIT_SIZE, n)
    if num_task_managers is None:
        num_task_managers = num_splits(n, size)
    return make_plan(n, size, num_task_managers)


def bounded_policy(n: int, split_size: int | None, num_task_managers: int | None) -> Plan:
    """:func:`default_policy` with at most :data:`BOUNDED_MAX_TASK_MANAGERS` task managers,
    unless the user names ``num_task_managers`` (then exactly as :func:`default_policy`).

    Bounded, the splits keep ``split_size`` (:data:`DEFAULT_SPLIT_SIZE` if not given) and
    outnumber the task managers, which pull them dynamically."""
    if num_task_managers is not None:
        return default_policy(n, split_size, num_task_managers)
    size = min(split_size or DEFAULT_SPLIT_SIZE, n)
    return make_plan(n, size, min(num_splits(n, size), BOUNDED_MAX_TASK_MANAGERS))


def size_table_row(n: int) -> tuple[int, int]:
    """The :data:`SIZE_TABLE` row ``(split_size, num_task_managers)`` for ``n >= 1`` inputs: that
    of the largest key ``<= n`` (the last row above the largest key)."""
    key = _SIZE_KEYS[bisect.bisect_right(_SIZE_KEYS, n) - 1]
    return SIZE_TABLE[key]


def size_table_policy(n: int, split_size: int | None, num_task_managers: int | None) -> Plan:
    """Split size and task managers from :data:`SIZE_TABLE` (see :func:`size_table_row`); a
    value the user gives replaces the table's."""
    table_size, table_managers = size_table_row(n)
    size = split_size if split_size is not None else table_size
    managers = num_task_managers if num_task_managers is not None else table_managers
    return make_plan(n, size, managers)


#: The policies :func:`resolve_policy` knows by name.
POLICIES: dict[str, Policy] = {
    "default": default_policy,
    "fixed": fixed_split_policy,
    "bounded": bounded_policy,
    "size_table": size_table_policy,
}


def resolve_policy(policy: str | Policy) -> Policy:
    """The policy named ``policy`` (a key of :data:`POLICIES`), or ``policy`` itself if it is
    callable. An unknown name is an :class:`~smartflow.errors.InvalidArgumentError`; anything
    else an :class:`~smartflow.errors.UnsupportedTypeError`."""
    if isinstance(policy, str):
        try:
            return POLICIES[policy]
        except KeyError:
            known = ", ".join(repr(name) for name in POLICIES)
            raise InvalidArgumentError(
                f"unknown policy {policy!r}; known policies are {known}, or pass a callable"
            ) from None
    if callable(policy):
        return policy
    raise UnsupportedTypeError(
        f"policy must be a policy name (str) or a callable, got {type(policy).__name__} {policy!r}"
    )


def _optional_count(value: object, what: str) -> int | None:
    return None if value is None else _checks.count(value, what)


def plan_job(
    n: int,
    split_size: int | None = None,
    num_task_managers: int | None = None,
    policy: str | Policy = "default",
) -> Plan:
    """The plan of a job of ``n`` inputs, by ``policy`` (a name in :data:`POLICIES` or a
    callable), for what the user asked (``None``: not given).

    The arguments are checked first: ``n`` an int ``>= 0``, ``split_size`` and
    ``num_task_managers`` ``None`` or ints ``>= 1`` (a bool is not an int here). A wrong type is
    an :class:`~smartflow.errors.UnsupportedTypeError`, a wrong value an
    :class:`~smartflow.errors.InvalidArgumentError`. An empty job (``n == 0``) needs no task
    manager: its plan has no splits and no task managers, ``split_size`` as asked (else
    :data:`DEFAULT_SPLIT_SIZE`), and the policy is not called. The policy's plan is checked
    against the invariants of the module's docstring; one that breaks them is an
    :class:`~smartflow.errors.InvalidArgumentError`.
    """
    n = _checks.at_least_zero(n, "n")
    split_size = _optional_count(split_size, "split_size")
    num_task_managers = _optional_count(num_task_managers, "num_task_managers")
    chosen = resolve_policy(policy)
    if n == 0:
        return Plan(split_size=split_size or DEFAULT_SPLIT_SIZE, num_task_managers=0, num_splits=0)
    return _checked_plan(chosen(n, split_size, num_task_managers), n, chosen)


def _checked_plan(plan: object, n: int, policy: Policy) -> Plan:
    """``plan`` if it is a :class:`Plan` keeping the invariants for ``n`` inputs."""
    name = getattr(policy, "__name__", repr(policy))
    if not isinstance(plan, Plan):
        raise InvalidArgumentError(
            f"policy {name} must return a Plan, got {type(plan).__name__} {plan!r}"
        )
    fields = attrs.asdict(plan)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in fields.values()):
        raise InvalidArgumentError(f"policy {name} returned a plan with non-int fields: {plan!r}")
    problem = _broken_invariant(plan, n)
    if problem:
        raise InvalidArgumentError(f"policy {name} returned {plan!r} for n={n}: {problem}")
    return plan


def _broken_invariant(plan: Plan, n: int) -> str | None:
    """Which invariant ``plan`` (of int fields) breaks for ``n >= 1`` inputs, or None."""
    if not 1 <= plan.split_size <= n:
        return f"split_size must be in 1..{n}"
    if plan.num_splits != num_splits(n, plan.split_size):
        return f"num_splits must be ceil(n / split_size) = {num_splits(n, plan.split_size)}"
    if not 1 <= plan.num_task_managers <= plan.num_splits:
        return f"num_task_managers must be in 1..{plan.num_splits} (one per split at most)"
    return None


def capped(requested: int, available: int) -> int:
    """``requested`` limited to ``available``, but at least 1."""
    return max(1, min(requested, available))


def apply_caps(plan: Plan, max_task_managers: int, in_use: int) -> Plan:
    """The plan with the task managers this job may start now: at most ``max_task_managers -
    in_use`` (the free slots), at most one per split, and at least one.

    With no free slot the result still has one task manager: the dispatcher waits for a free
    slot before it calls this. An empty plan (no splits) keeps no task managers. The split size
    and the number of splits are unchanged; a new :class:`Plan` is returned."""
    if not isinstance(plan, Plan):
        raise UnsupportedTypeError(f"plan must be a Plan, got {type(plan).__name__} {plan!r}")
    max_task_managers = _checks.count(max_task_managers, "max_task_managers")
    in_use = _checks.at_least_zero(in_use, "in_use")
    if plan.num_splits == 0:
        return attrs.evolve(plan, num_task_managers=0)
    wanted = min(plan.num_task_managers, plan.num_splits)
    return attrs.evolve(plan, num_task_managers=capped(wanted, max_task_managers - in_use))
