"""Experiment.generate: directories, copied / linked / configured files, params.json, overwrite."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from smartflow import ExperimentError, InvalidArgumentError
from smartflow.experiment import Experiment


@pytest.fixture
def exp(tmp_path: Path) -> Experiment:
    """Generation needs no supervisor: nothing to close."""
    return Experiment("gen", exp_path=tmp_path / "exp")


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """Files to attach: a plain file, a directory tree, and tagged configuration files."""
    src = tmp_path / "inputs"
    src.mkdir()
    (src / "data.txt").write_text("payload\n")
    tree = src / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "top.txt").write_text("top\n")
    (tree / "sub" / "deep.txt").write_text("deep\n")
    (src / "big.bin").write_bytes(bytes(range(256)) * 16)
    (src / "config.in").write_text("steps = ;steps;\nname = ;name;\nkeep = 1;2\n")
    conf_dir = src / "confdir"
    (conf_dir / "nested").mkdir(parents=True)
    (conf_dir / "a.cfg").write_text("a=;a;\n")
    (conf_dir / "nested" / "b.cfg").write_text("b=;b;\n")
    return src


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root`` with its content and mtime (ns)."""
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


async def test_generate_creates_model_and_member_directories(exp: Experiment) -> None:
    rs = exp.create_run_settings("true")
    model = exp.create_model("sim", rs)
    ens = exp.create_ensemble("ens", params={"a": [1, 2]}, run_settings=rs)
    await exp.generate(model, ens)
    assert (exp.exp_path / "sim").is_dir()
    assert (exp.exp_path / "ens").is_dir()
    assert sorted(p.name for p in (exp.exp_path / "ens").iterdir()) == ["ens_0", "ens_1"]
    assert all((exp.exp_path / "ens" / m.name).is_dir() for m in ens.models)


async def test_generate_with_an_explicit_model_path(exp: Experiment, tmp_path: Path) -> None:
    model = exp.create_model("m", exp.create_run_settings("true"), path=tmp_path / "custom" / "m")
    await exp.generate(model)
    assert (tmp_path / "custom" / "m").is_dir()
    assert not (exp.exp_path / "m").exists()


async def test_params_json_per_member(exp: Experiment) -> None:
    rs = exp.create_run_settings("true")
    ens = exp.create_ensemble("ens", params={"a": [1, 2], "b": ["x"], "c": 0.5}, run_settings=rs)
    model = exp.create_model("sim", rs, params={"steps": 3})
    await exp.generate(ens, model)
    for member in ens.models:
        written = json.loads((Path(member.path) / "params.json").read_text())
        assert written == member.params
    assert json.loads((exp.exp_path / "ens" / "ens_1" / "params.json").read_text()) == {
        "a": 2,
        "b": "x",
        "c": 0.5,
    }
    assert json.loads((exp.exp_path / "sim" / "params.json").read_text()) == {"steps": 3}


async def test_copy_files_and_directories(exp: Experiment, inputs: Path) -> None:
    model = exp.create_model("sim", exp.create_run_settings("true"))
    model.attach_generator_files(
        to_copy=[inputs / "data.txt", inputs / "tree", str(inputs / "big.bin")]
    )
    await exp.generate(model)
    out = exp.exp_path / "sim"
    assert (out / "data.txt").read_text() == "payload\n"
    assert (out / "big.bin").read_bytes() == (inputs / "big.bin").read_bytes()
    assert (out / "tree" / "top.txt").read_text() == "top\n"
    assert (out / "tree" / "sub" / "deep.txt").read_text() == "deep\n"
    assert not (out / "data.txt").is_symlink()
    # a copy, not a link: changing it leaves the source alone
    (out / "data.txt").write_text("changed\n")
    assert (inputs / "data.txt").read_text() == "payload\n"


async def test_symlink_files_and_directories(exp: Experiment, inputs: Path) -> None:
    model = exp.create_model("sim", exp.create_run_settings("true"))
    model.attach_generator_files(to_symlink=[inputs / "data.txt", inputs / "tree"])
    await exp.generate(model)
    out = exp.exp_path / "sim"
    assert (out / "data.txt").is_symlink()
    assert (out / "data.txt").resolve() == (inputs / "data.txt").resolve()
    assert (out / "tree").is_symlink()
    assert (out / "tree" / "sub" / "deep.txt").read_text() == "deep\n"


async def test_configured_files_per_member(exp: Experiment, inputs: Path) -> None:
    rs = exp.create_run_settings("true")
    ens = exp.create_ensemble(
        "ens", params={"steps": [10, 20], "name": ["alpha", "beta"]}, run_settings=rs,
        perm_strategy="step",
    )  # fmt: skip
    ens.attach_generator_files(to_configure=[inputs / "config.in"])
    await exp.generate(ens)
    assert (exp.exp_path / "ens" / "ens_0" / "config.in").read_text() == (
        "steps = 10\nname = alpha\nkeep = 1;2\n"
    )
    assert (exp.exp_path / "ens" / "ens_1" / "config.in").read_text() == (
        "steps = 20\nname = beta\nkeep = 1;2\n"
    )
    # the source keeps its tags
    assert ";steps;" in (inputs / "config.in").read_text()


async def test_configured_directory(exp: Experiment, inputs: Path) -> None:
    model = exp.create_model("sim", exp.create_run_settings("true"), params={"a": 1, "b": "two"})
    model.attach_generator_files(to_configure=inputs / "confdir")
    await exp.generate(model)
    out = exp.exp_path / "sim" / "confdir"
    assert (out / "a.cfg").read_text() == "a=1\n"
    assert (out / "nested" / "b.cfg").read_text() == "b=two\n"


async def test_unknown_tag_is_left_as_its_name_with_a_warning(
    exp: Experiment, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    template = tmp_path / "in.txt"
    template.write_text("x = ;known;\ny = ;missing;\n")
    model = exp.create_model("sim", exp.create_run_settings("true"), params={"known": 5})
    model.attach_generator_files(to_configure=[template])
    with caplog.at_level(logging.WARNING, logger="smartflow"):
        await exp.generate(model)
    assert (exp.exp_path / "sim" / "in.txt").read_text() == "x = 5\ny = missing\n"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("missing" in r.getMessage() for r in warnings), caplog.text


async def test_custom_tag(exp: Experiment, tmp_path: Path) -> None:
    template = tmp_path / "in.txt"
    template.write_text("n = @n@; untouched = ;n;\n")
    ens = exp.create_ensemble(
        "ens", params={"n": [1, 2]}, run_settings=exp.create_run_settings("true")
    )
    ens.attach_generator_files(to_configure=[template])
    await exp.generate(ens, tag="@")
    assert (exp.exp_path / "ens" / "ens_0" / "in.txt").read_text() == "n = 1; untouched = ;n;\n"
    assert (exp.exp_path / "ens" / "ens_1" / "in.txt").read_text() == "n = 2; untouched = ;n;\n"


@pytest.mark.parametrize("tag", ["", None, 1])
async def test_bad_tag_is_refused(exp: Experiment, tag) -> None:
    model = exp.create_model("sim", exp.create_run_settings("true"))
    with pytest.raises(InvalidArgumentError):
        await exp.generate(model, tag=tag)
    assert not (exp.exp_path / "sim").exists()


async def test_existing_directory_without_overwrite_touches_nothing(
    exp: Experiment, inputs: Path
) -> None:
    rs = exp.create_run_settings("true")
    model = exp.create_model("sim", rs, params={"steps": 1})
    ens = exp.create_ensemble("ens", params={"a": [1, 2]}, run_settings=rs)
    model.attach_generator_files(to_copy=[inputs / "data.txt"])
    await exp.generate(model)
    (exp.exp_path / "sim" / "results.txt").write_text("precious\n")
    before = _snapshot(exp.exp_path)
    ens.attach_generator_files(to_copy=[inputs / "data.txt"])
    (inputs / "data.txt").write_text("new payload\n")

    with pytest.raises(ExperimentError) as info:
        await exp.generate(model, ens)
    assert "overwrite" in str(info.value)
    assert str(exp.exp_path / "sim") in str(info.value)
    assert _snapshot(exp.exp_path) == before
    assert not (exp.exp_path / "ens").exists(), "checked first: nothing generated at all"
    assert (exp.exp_path / "sim" / "data.txt").read_text() == "payload\n"


async def test_existing_ensemble_directory_without_overwrite(exp: Experiment) -> None:
    ens = exp.create_ensemble("ens", run_settings=exp.create_run_settings("true"), replicas=2)
    await exp.generate(ens)
    marker = exp.exp_path / "ens" / "ens_0" / "marker"
    marker.write_text("mine")
    mtime = marker.stat().st_mtime_ns
    with pytest.raises(ExperimentError):
        await exp.generate(ens)
    assert marker.read_text() == "mine"
    assert marker.stat().st_mtime_ns == mtime


async def test_overwrite_replaces(exp: Experiment, inputs: Path) -> None:
    model = exp.create_model("sim", exp.create_run_settings("true"), params={"steps": 1})
    model.attach_generator_files(to_copy=[inputs / "data.txt"], to_configure=[inputs / "config.in"])
    await exp.generate(model)
    out = exp.exp_path / "sim"
    (out / "stale.txt").write_text("old run\n")
    (inputs / "data.txt").write_text("fresh\n")

    await exp.generate(model, overwrite=True)
    assert not (out / "stale.txt").exists(), "overwrite replaces the directory"
    assert (out / "data.txt").read_text() == "fresh\n"
    assert (out / "config.in").read_text().startswith("steps = 1\n")
    assert json.loads((out / "params.json").read_text()) == {"steps": 1}


async def test_overwrite_replaces_an_ensemble(exp: Experiment) -> None:
    ens = exp.create_ensemble(
        "ens", params={"a": [1, 2]}, run_settings=exp.create_run_settings("true")
    )
    await exp.generate(ens)
    stray = exp.exp_path / "ens" / "ens_7"
    stray.mkdir()
    await exp.generate(ens, overwrite=True)
    assert not stray.exists()
    assert sorted(p.name for p in (exp.exp_path / "ens").iterdir()) == ["ens_0", "ens_1"]


async def test_overwrite_when_nothing_exists_yet(exp: Experiment) -> None:
    model = exp.create_model("sim", exp.create_run_settings("true"))
    await exp.generate(model, overwrite=True)
    assert (exp.exp_path / "sim").is_dir()


@pytest.mark.parametrize("kind", ["to_copy", "to_symlink", "to_configure"])
def test_attaching_a_missing_path_is_refused(exp: Experiment, tmp_path: Path, kind: str) -> None:
    model = exp.create_model("sim", exp.create_run_settings("true"))
    missing = tmp_path / "not-there.txt"
    with pytest.raises(InvalidArgumentError) as info:
        model.attach_generator_files(**{kind: [missing]})
    assert "not-there.txt" in str(info.value)
    assert model.files.to_copy == () and model.files.to_symlink == ()
    assert model.files.to_configure == ()


def test_attaching_a_missing_path_to_an_ensemble_is_refused(
    exp: Experiment, tmp_path: Path
) -> None:
    ens = exp.create_ensemble("ens", run_settings=exp.create_run_settings("true"), replicas=2)
    with pytest.raises(InvalidArgumentError):
        ens.attach_generator_files(to_copy=[tmp_path / "nope"])


@pytest.mark.parametrize("value", [5, {"a": 1}, [None], [3]], ids=repr)
def test_attaching_a_non_path_is_refused(exp: Experiment, value) -> None:
    model = exp.create_model("sim", exp.create_run_settings("true"))
    with pytest.raises(InvalidArgumentError):
        model.attach_generator_files(to_copy=value)


async def test_generate_refuses_an_entity_of_another_experiment(
    exp: Experiment, tmp_path: Path
) -> None:
    other = Experiment("other", exp_path=tmp_path / "other")
    stranger = other.create_model("sim", other.create_run_settings("true"))
    with pytest.raises(ExperimentError):
        await exp.generate(stranger)
    assert not (tmp_path / "other" / "sim").exists()


async def test_generate_then_run_reads_configured_file(tmp_path: Path) -> None:
    """The model runs in its generated directory and sees its configured file there."""
    template = tmp_path / "in.txt"
    template.write_text("value=;v;\n")
    script = (
        "import pathlib; pathlib.Path('seen.txt').write_text(pathlib.Path('in.txt').read_text())"
    )
    async with Experiment("run", exp_path=tmp_path / "exp") as exp:
        rs = exp.create_run_settings(sys.executable, exe_args=["-c", script])
        ens = exp.create_ensemble("ens", params={"v": ["a", "b"]}, run_settings=rs)
        ens.attach_generator_files(to_configure=[template])
        await exp.generate(ens)
        await exp.start(ens)
        assert [r["status"] for r in exp.summary(format="records")] == ["Completed", "Completed"]
    for member, value in zip(ens.models, ["a", "b"], strict=True):
        assert (Path(member.path) / "seen.txt").read_text() == f"value={value}\n"
        assert (exp.exp_path / "ens" / member.name / f"{member.name}.out").exists()


async def test_a_binary_configured_file_is_refused_and_nothing_is_touched(
    exp: Experiment, inputs: Path
) -> None:
    model = exp.create_model("sim", exp.create_run_settings("true"), params={"steps": 1})
    model.attach_generator_files(to_copy=[inputs / "data.txt"])
    await exp.generate(model)
    before = _snapshot(exp.exp_path)
    (inputs / "blob.cfg").write_bytes(b"\xff\xfe;steps;\x00")
    model.attach_generator_files(to_configure=[inputs / "blob.cfg"])
    with pytest.raises(InvalidArgumentError) as info:
        await exp.generate(model, overwrite=True)
    assert "blob.cfg" in str(info.value) and "UTF-8" in str(info.value)
    assert _snapshot(exp.exp_path) == before, "the existing directory must be left as it was"


async def test_an_os_error_while_writing_is_a_smartflow_error(
    exp: Experiment, tmp_path: Path
) -> None:
    doomed = tmp_path / "doomed.txt"
    doomed.write_text("here at attach time\n")
    model = exp.create_model("sim", exp.create_run_settings("true"))
    model.attach_generator_files(to_copy=[doomed])
    doomed.unlink()  # gone by generate time
    with pytest.raises(ExperimentError) as info:
        await exp.generate(model)
    assert "doomed.txt" in str(info.value)
    assert isinstance(info.value.__cause__, FileNotFoundError)


@pytest.mark.parametrize(
    "attach",
    [
        {"to_copy": ["inputs/data.txt"], "to_symlink": ["inputs/data.txt"]},
        {"to_copy": ["inputs/data.txt", "other/data.txt"]},
        {"to_configure": ["other/params.json"]},
    ],
    ids=["copy-and-link", "two-copies", "params-json"],
)
def test_attached_files_landing_on_one_name_are_refused(
    exp: Experiment, tmp_path: Path, inputs: Path, attach: dict
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "data.txt").write_text("other\n")
    (other / "params.json").write_text("{}\n")
    model = exp.create_model("sim", exp.create_run_settings("true"))
    resolved = {kind: [tmp_path / p for p in paths] for kind, paths in attach.items()}
    with pytest.raises(InvalidArgumentError) as info:
        model.attach_generator_files(**resolved)
    assert "same name" in str(info.value)
    assert model.files.to_copy == () and model.files.to_configure == ()
