"""Models and ensembles as declarative data: creation, permutation strategies, name clashes.

Nothing here starts a process: every check happens in the ``create_*`` factories.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from smartflow import Ensemble, Experiment, InvalidArgumentError, Model, RunSettings


@pytest.fixture
def exp(tmp_path: Path) -> Experiment:
    """An experiment used only for its factories: nothing is started, nothing to close."""
    return Experiment("ents", exp_path=tmp_path / "exp")


@pytest.fixture
def rs(exp: Experiment) -> RunSettings:
    return exp.create_run_settings("echo", exe_args=["hello"])


def _member_params(ensemble: Ensemble) -> list[dict]:
    return [m.params for m in ensemble.models]


# -- models -------------------------------------------------------------------------------------


def test_create_model(exp: Experiment, rs: RunSettings) -> None:
    model = exp.create_model("sim", rs, params={"steps": 10, "name": "x", "dt": 0.5})
    assert isinstance(model, Model)
    assert model.name == "sim"
    assert model.params == {"steps": 10, "name": "x", "dt": 0.5}
    assert model.run_settings is rs
    assert model.path == exp.exp_path / "sim"
    assert model.models == [model]
    assert model.query_key_prefixing() is False
    assert model.params_to_args() == []


def test_create_model_with_explicit_path(exp: Experiment, rs: RunSettings, tmp_path: Path) -> None:
    model = exp.create_model("sim", rs, path=tmp_path / "elsewhere")
    assert model.path == tmp_path / "elsewhere"
    relative = exp.create_model("rel", rs, path="some/dir")
    assert relative.path == Path("some/dir").absolute()


def test_create_model_without_params(exp: Experiment, rs: RunSettings) -> None:
    assert exp.create_model("m", rs).params == {}
    assert exp.create_model("n", rs, params={}).params == {}


def test_params_as_args(exp: Experiment, rs: RunSettings) -> None:
    model = exp.create_model(
        "m", rs, params={"steps": 10, "dt": 0.5, "mode": "fast"}, params_as_args=["steps", "mode"]
    )
    assert model.params_to_args() == ["--steps=10", "--mode=fast"]
    assert rs.format_argv(model.params_to_args()) == [rs.exe, "hello", "--steps=10", "--mode=fast"]


def test_params_as_args_naming_an_unknown_param_is_refused(
    exp: Experiment, rs: RunSettings
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        exp.create_model("m", rs, params={"steps": 10}, params_as_args=["stpes"])
    assert "stpes" in str(info.value)
    assert exp.create_model("m", rs).name == "m"  # the failed call claimed nothing


def test_key_prefixing_is_off_by_default_for_models(exp: Experiment, rs: RunSettings) -> None:
    plain = exp.create_model("plain", rs)
    prefixed = exp.create_model("prefixed", rs, enable_key_prefixing=True)
    assert plain.query_key_prefixing() is False
    assert prefixed.query_key_prefixing() is True
    plain.enable_key_prefixing()
    assert plain.query_key_prefixing() is True
    prefixed.disable_key_prefixing()
    assert prefixed.query_key_prefixing() is False


def test_run_settings_must_be_run_settings(exp: Experiment) -> None:
    with pytest.raises(InvalidArgumentError):
        exp.create_model("m", "echo hi")
    with pytest.raises(InvalidArgumentError):
        exp.create_model("m", None)


@pytest.mark.parametrize("name", ["", "a/b", ".hidden", "sp ace", None, 3, "../up"])
def test_bad_entity_names_are_refused(exp: Experiment, rs: RunSettings, name) -> None:
    with pytest.raises(InvalidArgumentError):
        exp.create_model(name, rs)
    with pytest.raises(InvalidArgumentError):
        exp.create_ensemble(name, run_settings=rs, replicas=1)


@pytest.mark.parametrize(
    "params",
    [
        {"a": {"b": 1}},  # nested dict
        {"a": []},  # empty list
        {"a": None},  # None value
        {"a": True},  # bool
        {"a": [1, None]},
        {"a": [1, [2]]},
        {"a": object()},
        {1: 2},  # non-str name
        {"": 2},
        ["a", 1],  # not a dict
    ],
)
def test_bad_param_shapes_are_refused_for_models(exp: Experiment, rs: RunSettings, params) -> None:
    with pytest.raises(InvalidArgumentError):
        exp.create_model("m", rs, params=params)


@pytest.mark.parametrize(
    "params",
    [
        {"a": {"b": 1}},
        {"a": []},
        {"a": None},
        {"a": False},
        {"a": [1, True]},
        {"a": [1, {"x": 2}]},
        {"a": [1, 2], "b": []},
        ("a", 1),
    ],
)
def test_bad_param_shapes_are_refused_for_ensembles(
    exp: Experiment, rs: RunSettings, params
) -> None:
    with pytest.raises(InvalidArgumentError):
        exp.create_ensemble("e", params=params, run_settings=rs)


@pytest.mark.parametrize("params", [{"a": [1, 2]}, {"a": (1, 2)}, {"a": [1]}], ids=repr)
def test_lists_in_a_single_models_params_are_refused(
    exp: Experiment, rs: RunSettings, params
) -> None:
    with pytest.raises(InvalidArgumentError):
        exp.create_model("m", rs, params=params)


# -- ensembles ----------------------------------------------------------------------------------


def test_all_perm_is_the_default(exp: Experiment, rs: RunSettings) -> None:
    ens = exp.create_ensemble("ens", params={"a": [1, 2], "b": ["x", "y", "z"]}, run_settings=rs)
    assert isinstance(ens, Ensemble)
    assert [m.name for m in ens.models] == [f"ens_{i}" for i in range(6)]
    expected = [{"a": a, "b": b} for a, b in itertools.product([1, 2], ["x", "y", "z"])]
    assert _member_params(ens) == expected


def test_all_perm_with_a_scalar_param(exp: Experiment, rs: RunSettings) -> None:
    ens = exp.create_ensemble(
        "ens", params={"a": [1, 2], "fixed": 7}, run_settings=rs, perm_strategy="all_perm"
    )
    assert _member_params(ens) == [{"a": 1, "fixed": 7}, {"a": 2, "fixed": 7}]


def test_step(exp: Experiment, rs: RunSettings) -> None:
    ens = exp.create_ensemble(
        "ens", params={"a": [1, 2, 3], "b": [0.1, 0.2, 0.3]}, run_settings=rs, perm_strategy="step"
    )
    assert _member_params(ens) == [{"a": 1, "b": 0.1}, {"a": 2, "b": 0.2}, {"a": 3, "b": 0.3}]


def test_step_with_unequal_lengths_is_refused(exp: Experiment, rs: RunSettings) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        exp.create_ensemble(
            "ens", params={"a": [1, 2, 3], "b": [1, 2]}, run_settings=rs, perm_strategy="step"
        )
    assert "step" in str(info.value)
    # the failed creation claimed no name
    assert exp.create_model("ens", rs).name == "ens"
    assert exp.create_model("ens_0", rs).name == "ens_0"


def test_random(exp: Experiment, rs: RunSettings) -> None:
    values = {"a": [1, 2, 3], "b": ["x", "y"]}
    ens = exp.create_ensemble(
        "ens", params=values, run_settings=rs, perm_strategy="random", n_models=4
    )
    assert [m.name for m in ens.models] == ["ens_0", "ens_1", "ens_2", "ens_3"]
    combos = [(p["a"], p["b"]) for p in _member_params(ens)]
    assert len(set(combos)) == 4, "random picks distinct combinations"
    assert set(combos) <= set(itertools.product(values["a"], values["b"]))


def test_random_may_take_every_combination(exp: Experiment, rs: RunSettings) -> None:
    ens = exp.create_ensemble(
        "ens",
        params={"a": [1, 2], "b": [3, 4]},
        run_settings=rs,
        perm_strategy="random",
        n_models=4,
    )
    assert sorted((p["a"], p["b"]) for p in _member_params(ens)) == [(1, 3), (1, 4), (2, 3), (2, 4)]


@pytest.mark.parametrize("n_models", [None, 0, -1, "2", 2.0])
def test_random_needs_n_models(exp: Experiment, rs: RunSettings, n_models) -> None:
    with pytest.raises(InvalidArgumentError):
        exp.create_ensemble(
            "ens",
            params={"a": [1, 2, 3]},
            run_settings=rs,
            perm_strategy="random",
            n_models=n_models,
        )


def test_random_with_too_many_models_is_refused(exp: Experiment, rs: RunSettings) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        exp.create_ensemble(
            "ens",
            params={"a": [1, 2], "b": [3, 4]},
            run_settings=rs,
            perm_strategy="random",
            n_models=5,
        )
    assert "5" in str(info.value)


def test_callable_strategy(exp: Experiment, rs: RunSettings) -> None:
    calls = []

    def diagonal(names: list[str], values: list[list], n_models: int | None) -> list[dict]:
        calls.append((names, values, n_models))
        return [{n: v[i] for n, v in zip(names, values, strict=True)} for i in range(n_models)]

    ens = exp.create_ensemble(
        "ens", params={"a": [1, 2, 3], "b": [4, 5, 6]}, run_settings=rs,
        perm_strategy=diagonal, n_models=2,
    )  # fmt: skip
    assert calls == [(["a", "b"], [[1, 2, 3], [4, 5, 6]], 2)]
    assert _member_params(ens) == [{"a": 1, "b": 4}, {"a": 2, "b": 5}]
    assert [m.name for m in ens.models] == ["ens_0", "ens_1"]


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        "all_perm",
        42,
        {"a": 1},
        [1, 2],
        [{"a": 1}, "b"],
        [{"unknown": 1}],
        [{"a": None}],
        [{"a": [1, 2]}],
        [{"a": {"x": 1}}],
        [],
    ],
    ids=repr,
)
def test_callable_returning_garbage_is_refused(exp: Experiment, rs: RunSettings, garbage) -> None:
    with pytest.raises(InvalidArgumentError):
        exp.create_ensemble(
            "ens", params={"a": [1, 2]}, run_settings=rs, perm_strategy=lambda *_: garbage
        )
    assert exp.create_model("ens_0", rs).name == "ens_0"  # nothing claimed


@pytest.mark.parametrize("strategy", ["nope", "ALL_PERM", "", 5, None])
def test_unknown_perm_strategy_is_refused(exp: Experiment, rs: RunSettings, strategy) -> None:
    with pytest.raises(InvalidArgumentError):
        exp.create_ensemble("ens", params={"a": [1, 2]}, run_settings=rs, perm_strategy=strategy)


def test_unhashable_perm_strategy_is_refused_with_a_typed_error(
    exp: Experiment, rs: RunSettings
) -> None:
    with pytest.raises(InvalidArgumentError):
        exp.create_ensemble("ens", params={"a": [1, 2]}, run_settings=rs, perm_strategy=["step"])


def test_unknown_perm_strategy_is_refused_without_params(exp: Experiment, rs: RunSettings) -> None:
    """A bad argument is refused where it is given, even when replicas make it unused."""
    with pytest.raises(InvalidArgumentError):
        exp.create_ensemble("ens", run_settings=rs, replicas=2, perm_strategy="nope")


def test_replicas(exp: Experiment, rs: RunSettings) -> None:
    ens = exp.create_ensemble("reps", run_settings=rs, replicas=3)
    assert [m.name for m in ens.models] == ["reps_0", "reps_1", "reps_2"]
    assert all(m.params == {} for m in ens.models)
    assert all(m.path == exp.exp_path / "reps" / m.name for m in ens.models)


def test_members_get_their_own_run_settings(exp: Experiment, rs: RunSettings) -> None:
    ens = exp.create_ensemble("reps", run_settings=rs, replicas=2)
    first, second = ens.models
    assert first.run_settings is not rs and first.run_settings is not second.run_settings
    first.run_settings.update_env({"ONLY": "first"})
    assert "ONLY" not in second.run_settings.env_vars
    assert "ONLY" not in rs.env_vars
    assert first.run_settings.format_argv() == rs.format_argv()


def test_ensemble_member_paths(exp: Experiment, rs: RunSettings) -> None:
    ens = exp.create_ensemble("ens", params={"a": [1, 2]}, run_settings=rs)
    assert [m.path for m in ens.models] == [
        exp.exp_path / "ens" / "ens_0",
        exp.exp_path / "ens" / "ens_1",
    ]
    assert all(m.ensemble == "ens" for m in ens.models)


def test_ensemble_params_as_args(exp: Experiment, rs: RunSettings) -> None:
    ens = exp.create_ensemble(
        "ens", params={"a": [1, 2], "b": ["x"]}, run_settings=rs, params_as_args=["a"]
    )
    assert [m.params_to_args() for m in ens.models] == [["--a=1"], ["--a=2"]]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # neither params nor replicas
        {"params": {}},
        {"params": None, "replicas": None},
    ],
)
def test_empty_ensemble_is_refused(exp: Experiment, rs: RunSettings, kwargs) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        exp.create_ensemble("empty", run_settings=rs, **kwargs)
    assert "empty" in str(info.value)
    assert exp.create_model("empty", rs).name == "empty"  # nothing claimed


@pytest.mark.parametrize("replicas", [0, -2, 1.5, "3"])
def test_bad_replicas_are_refused(exp: Experiment, rs: RunSettings, replicas) -> None:
    with pytest.raises(InvalidArgumentError):
        exp.create_ensemble("ens", run_settings=rs, replicas=replicas)


def test_ensemble_needs_run_settings(exp: Experiment) -> None:
    with pytest.raises(InvalidArgumentError):
        exp.create_ensemble("ens", replicas=2)
    with pytest.raises(InvalidArgumentError):
        exp.create_ensemble("ens", params={"a": [1, 2]})


def test_key_prefixing_is_on_by_default_for_members(exp: Experiment, rs: RunSettings) -> None:
    ens = exp.create_ensemble("ens", params={"a": [1, 2]}, run_settings=rs)
    assert all(m.query_key_prefixing() for m in ens.models)
    assert ens.query_key_prefixing() is True
    ens.models[0].disable_key_prefixing()
    assert ens.query_key_prefixing() is False
    ens.enable_key_prefixing()
    assert all(m.query_key_prefixing() for m in ens.models)


def test_add_model(exp: Experiment, rs: RunSettings) -> None:
    ens = exp.create_ensemble("ens", run_settings=rs, replicas=2)
    extra = exp.create_model("extra", rs, params={"a": 9})
    ens.add_model(extra)
    assert ens.models[-1] is extra
    assert [m.name for m in ens.models] == ["ens_0", "ens_1", "extra"]
    assert extra.ensemble == "ens"


def test_add_model_refuses_a_duplicate_member(exp: Experiment, rs: RunSettings) -> None:
    ens = exp.create_ensemble("ens", run_settings=rs, replicas=2)
    extra = exp.create_model("extra", rs)
    ens.add_model(extra)
    with pytest.raises(InvalidArgumentError):
        ens.add_model(extra)
    with pytest.raises(InvalidArgumentError):
        ens.add_model(ens.models[0])
    with pytest.raises(InvalidArgumentError):
        ens.add_model("not a model")
    assert [m.name for m in ens.models] == ["ens_0", "ens_1", "extra"]


def test_add_model_refuses_a_member_of_another_ensemble(exp: Experiment, rs: RunSettings) -> None:
    one = exp.create_ensemble("one", run_settings=rs, replicas=1)
    two = exp.create_ensemble("two", run_settings=rs, replicas=1)
    with pytest.raises(InvalidArgumentError):
        two.add_model(one.models[0])
    assert len(two.models) == 1
    assert one.models[0].ensemble == "one"


async def test_a_directly_built_member_gets_a_directory_in_its_ensemble(
    exp: Experiment, rs: RunSettings
) -> None:
    ens = exp.create_ensemble("ens", run_settings=rs, replicas=1)
    ens.add_model(Model("handmade", rs))
    await exp.generate(ens)
    assert ens.models[1].path == exp.exp_path / "ens" / "handmade"
    assert (exp.exp_path / "ens" / "handmade").is_dir()


@pytest.mark.parametrize("name", ["taken", "other_0", "other"])
async def test_a_directly_built_member_with_a_clashing_name_is_refused(
    exp: Experiment, rs: RunSettings, name: str
) -> None:
    exp.create_model("taken", rs)
    exp.create_ensemble("other", run_settings=rs, replicas=1)
    ens = exp.create_ensemble("ens", run_settings=rs, replicas=1)
    ens.add_model(Model(name, rs))
    with pytest.raises(InvalidArgumentError):
        await exp.generate(ens)
    with pytest.raises(InvalidArgumentError):
        exp.preview(ens)
    assert not (exp.exp_path / "ens").exists()


# -- incoming entities --------------------------------------------------------------------------


def test_register_incoming_entity(exp: Experiment, rs: RunSettings) -> None:
    producer = exp.create_model("producer", rs)
    other = exp.create_model("other", rs)
    consumer = exp.create_model("consumer", rs)
    consumer.register_incoming_entity(producer)
    consumer.register_incoming_entity(other)
    consumer.register_incoming_entity(producer)  # twice is once
    assert [m.name for m in consumer.incoming_entities] == ["producer", "other"]


def test_register_an_incoming_ensemble_lists_its_members(exp: Experiment, rs: RunSettings) -> None:
    ens = exp.create_ensemble("ens", run_settings=rs, replicas=2)
    consumer = exp.create_model("consumer", rs)
    consumer.register_incoming_entity(ens)
    assert [m.name for m in consumer.incoming_entities] == ["ens_0", "ens_1"]


def test_ensemble_registers_incoming_for_every_member(exp: Experiment, rs: RunSettings) -> None:
    ens = exp.create_ensemble("ens", run_settings=rs, replicas=2)
    producer = exp.create_model("producer", rs)
    ens.register_incoming_entity(producer)
    assert all([m.name for m in member.incoming_entities] == ["producer"] for member in ens.models)


def test_register_incoming_refuses_self_and_non_entities(exp: Experiment, rs: RunSettings) -> None:
    model = exp.create_model("m", rs)
    with pytest.raises(InvalidArgumentError):
        model.register_incoming_entity(model)
    with pytest.raises(InvalidArgumentError):
        model.register_incoming_entity("producer")
    with pytest.raises(InvalidArgumentError):
        model.register_incoming_entity(None)
    assert model.incoming_entities == []


# -- name clashes -------------------------------------------------------------------------------


def test_duplicate_model_name(exp: Experiment, rs: RunSettings) -> None:
    first = exp.create_model("sim", rs)
    with pytest.raises(InvalidArgumentError) as info:
        exp.create_model("sim", rs)
    assert "sim" in str(info.value)
    assert first.name == "sim"


def test_model_named_like_an_ensemble_member(exp: Experiment, rs: RunSettings) -> None:
    exp.create_ensemble("ens", run_settings=rs, replicas=2)
    with pytest.raises(InvalidArgumentError):
        exp.create_model("ens_1", rs)
    with pytest.raises(InvalidArgumentError):
        exp.create_model("ens", rs)
    assert exp.create_model("ens_2", rs).name == "ens_2"


def test_ensemble_whose_member_names_a_model(exp: Experiment, rs: RunSettings) -> None:
    exp.create_model("ens_1", rs)
    with pytest.raises(InvalidArgumentError) as info:
        exp.create_ensemble("ens", run_settings=rs, replicas=2)
    assert "ens_1" in str(info.value)
    # nothing of the refused ensemble was claimed
    assert exp.create_model("ens", rs).name == "ens"
    assert exp.create_model("ens_0", rs).name == "ens_0"


def test_duplicate_ensemble_name(exp: Experiment, rs: RunSettings) -> None:
    exp.create_ensemble("ens", run_settings=rs, replicas=1)
    with pytest.raises(InvalidArgumentError):
        exp.create_ensemble("ens", run_settings=rs, replicas=1)


def test_ensemble_named_like_a_model(exp: Experiment, rs: RunSettings) -> None:
    exp.create_model("sim", rs)
    with pytest.raises(InvalidArgumentError):
        exp.create_ensemble("sim", run_settings=rs, replicas=1)


def test_names_clash_with_a_database(exp: Experiment, rs: RunSettings) -> None:
    exp.create_database()  # identifier "orchestrator", shard "orchestrator_0"
    with pytest.raises(InvalidArgumentError):
        exp.create_model("orchestrator", rs)
    with pytest.raises(InvalidArgumentError):
        exp.create_model("orchestrator_0", rs)
    with pytest.raises(InvalidArgumentError):
        exp.create_ensemble("orchestrator", run_settings=rs, replicas=1)


@pytest.mark.parametrize("name", ["orchestrator_0.worker", "sim.db", "x.db", "a.b.worker"])
def test_names_kept_for_smartflow_processes_are_refused_where_given(
    exp: Experiment, rs: RunSettings, name: str
) -> None:
    """A shard's inference worker is "<shard>.worker", a model's co-located store "<model>.db":
    an entity named so would clash only at start, so it is refused at create_*."""
    exp.create_database()
    exp.create_model("sim", rs).colocate_db_tcp()
    with pytest.raises(InvalidArgumentError, match="kept for the processes smartflow starts"):
        exp.create_model(name, rs)
    with pytest.raises(InvalidArgumentError, match="kept for the processes smartflow starts"):
        exp.create_ensemble(name, run_settings=rs, replicas=1)
    exp.create_model("sim.dbx", rs)  # only the ending is kept


def test_ensemble_members_clash_with_a_shard_name(exp: Experiment, rs: RunSettings) -> None:
    exp.create_database(db_identifier="db")  # shard "db_0"
    with pytest.raises(InvalidArgumentError):
        exp.create_ensemble("db", run_settings=rs, replicas=1)
    with pytest.raises(InvalidArgumentError):
        exp.create_model("db_0", rs)


def test_database_named_like_a_model(exp: Experiment, rs: RunSettings) -> None:
    exp.create_model("x", rs)
    exp.create_model("y_0", rs)
    with pytest.raises(InvalidArgumentError):
        exp.create_database(db_identifier="x")
    with pytest.raises(InvalidArgumentError):
        exp.create_database(db_identifier="y")  # its shard would be y_0
    assert exp.create_database(db_identifier="z").name == "z"


def test_same_names_in_two_experiments_are_fine(tmp_path: Path) -> None:
    one = Experiment("one", exp_path=tmp_path / "one")
    two = Experiment("two", exp_path=tmp_path / "two")
    a = one.create_model("sim", one.create_run_settings("true"))
    b = two.create_model("sim", two.create_run_settings("true"))
    assert a is not b
    assert a.path != b.path
