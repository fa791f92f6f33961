"""Job policies: every policy, for every job size up to 10_000, with and without the user's
split size and task-manager count, keeps the plan's invariants and the policy's promises."""

from __future__ import annotations

import math

import attrs
import pytest

from smartflow.batch.policies import (
    BOUNDED_MAX_TASK_MANAGERS,
    DEFAULT_SPLIT_SIZE,
    POLICIES,
    SIZE_TABLE,
    Plan,
    apply_caps,
    bounded_policy,
    capped,
    default_policy,
    fixed_split_policy,
    make_plan,
    plan_job,
    resolve_policy,
    size_table_policy,
    size_table_row,
)
from smartflow.errors import InvalidArgumentError, UnsupportedTypeError

SIZES = range(1, 10_001)
SPLIT_SIZES = (None, 1, 7, 32)
MANAGERS = (None, 1, 3, 50)

# The table as specified, largest key first: the row of the first key <= n applies.
TABLE_ROWS = (
    (4096, (128, 32)),
    (1024, (64, 16)),
    (256, (32, 8)),
    (64, (16, 4)),
    (16, (8, 2)),
    (1, (1, 1)),
)


def _table_row(n: int) -> tuple[int, int]:
    return next(row for key, row in TABLE_ROWS if key <= n)


def _expected_default(n: int, s: int | None, t: int | None) -> tuple[int, int]:
    if t is None:
        size = min(s or DEFAULT_SPLIT_SIZE, n)
        return size, math.ceil(n / size)
    if s is None:
        size = math.ceil(n / t)
        return size, math.ceil(n / size)
    size = min(s, n)
    return size, min(t, math.ceil(n / size))


def _expected_fixed(n: int, s: int | None, t: int | None) -> tuple[int, int]:
    size = min(s or DEFAULT_SPLIT_SIZE, n)
    splits = math.ceil(n / size)
    return size, splits if t is None else min(t, splits)


def _expected_bounded(n: int, s: int | None, t: int | None) -> tuple[int, int]:
    if t is not None:
        return _expected_default(n, s, t)
    size = min(s or DEFAULT_SPLIT_SIZE, n)
    return size, min(math.ceil(n / size), BOUNDED_MAX_TASK_MANAGERS)


def _expected_size_table(n: int, s: int | None, t: int | None) -> tuple[int, int]:
    table_size, table_managers = _table_row(n)
    size = min(table_size if s is None else s, n)
    splits = math.ceil(n / size)
    return size, min(table_managers if t is None else t, splits)


EXPECTED = {
    "default": _expected_default,
    "fixed": _expected_fixed,
    "bounded": _expected_bounded,
    "size_table": _expected_size_table,
}


def test_policies_are_the_four_named_ones() -> None:
    assert set(POLICIES) == {"default", "fixed", "bounded", "size_table"}
    assert POLICIES["default"] is default_policy
    assert POLICIES["fixed"] is fixed_split_policy
    assert POLICIES["bounded"] is bounded_policy
    assert POLICIES["size_table"] is size_table_policy
    assert dict(SIZE_TABLE) == dict(TABLE_ROWS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_size_keeps_the_invariants_and_the_promises(name: str) -> None:
    expected = EXPECTED[name]
    failures = []
    for n in SIZES:
        for s in SPLIT_SIZES:
            for t in MANAGERS:
                plan = plan_job(n, s, t, name)
                splits = math.ceil(n / plan.split_size)
                ok = (
                    1 <= plan.split_size <= n
                    and plan.num_splits == splits
                    and 1 <= plan.num_task_managers <= splits
                    and (plan.split_size, plan.num_task_managers) == expected(n, s, t)
                )
                if not ok:
                    failures.append((n, s, t, plan))
    assert not failures, f"{len(failures)} bad plans, first ones: {failures[:5]}"


def test_a_named_policy_honours_an_explicit_split_size() -> None:
    for name in POLICIES:
        for n in (7, 100, 1000, 9999):
            assert plan_job(n, 7, None, name).split_size == 7
            assert plan_job(n, 7, 3, name).split_size == 7


def test_a_named_policy_honours_explicit_task_managers_when_splits_allow() -> None:
    # 3 task managers for 1000 inputs in splits of 7: 143 splits, so 3 it is.
    for name in POLICIES:
        assert plan_job(1000, 7, 3, name).num_task_managers == 3
    # bounded: an explicit count lifts the bound.
    assert plan_job(10_000, 32, 50, "bounded").num_task_managers == 50


def test_default_split_size_only_gives_every_split_a_task_manager() -> None:
    for n in SIZES:
        plan = plan_job(n, 7)
        assert plan.num_task_managers == plan.num_splits == math.ceil(n / 7)


def test_default_task_managers_only_never_starts_an_idle_task_manager() -> None:
    # 10 inputs for 6 task managers: splits of 2, so 5 splits and 5 task managers.
    assert plan_job(10, None, 6) == Plan(split_size=2, num_task_managers=5, num_splits=5)
    assert plan_job(10, None, 4) == Plan(split_size=3, num_task_managers=4, num_splits=4)
    assert plan_job(3, None, 50) == Plan(split_size=1, num_task_managers=3, num_splits=3)


def test_seed_defect_floor_default_gives_one_task_manager_per_split() -> None:
    # The seed floored int(1000 / 32) = 31 task managers for 32 splits.
    plan = plan_job(1000, 32)
    assert plan == Plan(split_size=32, num_task_managers=32, num_splits=32)
    assert plan_job(1000) == plan


def test_seed_defect_size_table_works_for_sizes_not_in_the_table() -> None:
    # The seed raised KeyError for any n that was not a key of its table.
    assert plan_job(100, policy="size_table") == Plan(16, 4, 7)
    assert plan_job(1000, policy="size_table") == Plan(32, 8, 32)
    assert plan_job(10_000, policy="size_table") == Plan(128, 32, 79)
    assert plan_job(15, policy="size_table") == Plan(1, 1, 15)
    assert size_table_row(4096) == (128, 32)
    assert size_table_row(4095) == (64, 16)
    assert size_table_row(10**9) == (128, 32)


def test_seed_defect_explicit_task_managers_are_not_overwritten() -> None:
    # The seed replaced the user's num_task_managers with the table's.
    assert plan_job(100, None, 5, "size_table").num_task_managers == 5
    assert plan_job(1000, 10, 5, "size_table") == Plan(10, 5, 100)


def test_bounded_without_task_managers_pulls_splits_dynamically() -> None:
    plan = plan_job(1000, policy="bounded")
    assert plan == Plan(32, BOUNDED_MAX_TASK_MANAGERS, 32)
    assert plan.num_splits > plan.num_task_managers
    assert plan_job(100, policy="bounded") == Plan(32, 4, 4)


def test_make_plan_clamps() -> None:
    assert make_plan(10, 64, 5) == Plan(10, 1, 1)
    assert make_plan(10, 0, 0) == Plan(1, 1, 10)
    assert make_plan(10, 3, 99) == Plan(3, 4, 4)


def test_an_empty_job_needs_no_task_manager() -> None:
    assert plan_job(0) == Plan(DEFAULT_SPLIT_SIZE, 0, 0)
    assert plan_job(0, 7, 3, "bounded") == Plan(7, 0, 0)

    def must_not_run(n: int, s: int | None, t: int | None) -> Plan:
        raise AssertionError("the policy ran for an empty job")

    assert plan_job(0, policy=must_not_run) == Plan(DEFAULT_SPLIT_SIZE, 0, 0)
    with pytest.raises(InvalidArgumentError, match="nope"):
        plan_job(0, policy="nope")


def test_apply_caps_by_free_slots() -> None:
    plan = plan_job(1000, 32)
    assert apply_caps(plan, 10, 3) == Plan(32, 7, 32)
    assert apply_caps(plan, 100, 0) == plan
    assert plan.num_task_managers == 32  # the original is untouched


def test_apply_caps_by_splits() -> None:
    assert apply_caps(Plan(10, 9, 4), 100, 0) == Plan(10, 4, 4)


def test_apply_caps_keeps_at_least_one() -> None:
    plan = plan_job(1000, 32)
    assert apply_caps(plan, 4, 4).num_task_managers == 1
    assert apply_caps(plan, 4, 10).num_task_managers == 1
    assert apply_caps(Plan(DEFAULT_SPLIT_SIZE, 0, 0), 4, 0).num_task_managers == 0


def test_capped() -> None:
    assert capped(5, 3) == 3
    assert capped(2, 3) == 2
    assert capped(5, 0) == 1
    assert capped(5, -2) == 1


@pytest.mark.parametrize(
    ("args", "error", "argument"),
    [
        ((-1, None, None), InvalidArgumentError, "n"),
        ((10.0, None, None), UnsupportedTypeError, "n"),
        ((True, None, None), UnsupportedTypeError, "n"),
        ((10, 0, None), InvalidArgumentError, "split_size"),
        ((10, -3, None), InvalidArgumentError, "split_size"),
        ((10, 2.0, None), UnsupportedTypeError, "split_size"),
        ((10, True, None), UnsupportedTypeError, "split_size"),
        ((10, "8", None), UnsupportedTypeError, "split_size"),
        ((10, None, 0), InvalidArgumentError, "num_task_managers"),
        ((10, None, -1), InvalidArgumentError, "num_task_managers"),
        ((10, None, 1.5), UnsupportedTypeError, "num_task_managers"),
        ((10, None, False), UnsupportedTypeError, "num_task_managers"),
    ],
)
def test_bad_arguments_are_refused(args: tuple, error: type, argument: str) -> None:
    builtin = TypeError if error is UnsupportedTypeError else ValueError
    with pytest.raises(error, match=rf"^{argument} ") as info:
        plan_job(*args)
    assert isinstance(info.value, builtin)
    if error is InvalidArgumentError:
        assert not isinstance(info.value, TypeError)


def test_unknown_policy_name_lists_the_known_ones() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        resolve_policy("biggest")
    assert all(repr(name) in str(info.value) for name in POLICIES)
    with pytest.raises(InvalidArgumentError, match="biggest"):
        plan_job(10, policy="biggest")


def test_a_policy_that_is_neither_name_nor_callable_is_a_type_error() -> None:
    with pytest.raises(UnsupportedTypeError, match="policy"):
        resolve_policy(42)
    with pytest.raises(TypeError):
        plan_job(10, policy=None)


def test_a_custom_policy_is_used_as_it_is() -> None:
    def halves(n: int, s: int | None, t: int | None) -> Plan:
        return make_plan(n, math.ceil(n / 2), 2)

    assert resolve_policy(halves) is halves
    assert plan_job(9, policy=halves) == Plan(5, 2, 2)


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        (32, 1),
        Plan(0, 1, 1),
        Plan(11, 1, 1),
        Plan(5, 1, 3),
        Plan(5, 0, 2),
        Plan(5, 3, 2),
        Plan("5", 1, 2),
        Plan(5.0, 1, 2),
        Plan(5, True, 2),
    ],
)
def test_a_custom_policy_returning_garbage_is_refused(garbage: object) -> None:
    def bad(n: int, s: int | None, t: int | None) -> object:
        return garbage

    with pytest.raises(InvalidArgumentError, match="policy bad"):
        plan_job(10, policy=bad)


def test_plan_is_frozen() -> None:
    plan = plan_job(10)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        plan.split_size = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (((32, 1), 4, 0), UnsupportedTypeError),
        ((Plan(32, 1, 1), 0, 0), InvalidArgumentError),
        ((Plan(32, 1, 1), 4, -1), InvalidArgumentError),
        ((Plan(32, 1, 1), 4.0, 0), UnsupportedTypeError),
        ((Plan(32, 1, 1), 4, True), UnsupportedTypeError),
    ],
)
def test_apply_caps_refuses_bad_arguments(args: tuple, error: type) -> None:
    with pytest.raises(error):
        apply_caps(*args)
