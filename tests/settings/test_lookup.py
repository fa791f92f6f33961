"""run_settings_class and batch_settings_class: which class a launcher uses. Pure (PATH is
replaced by a folder of fake run commands)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartflow.errors import InvalidArgumentError, UnsupportedTypeError
from smartflow.settings import (
    AprunSettings,
    BsubBatchSettings,
    CobaltBatchSettings,
    JsrunSettings,
    MpiexecSettings,
    MpirunSettings,
    OrterunSettings,
    QsubBatchSettings,
    RunSettings,
    SbatchSettings,
    SrunSettings,
    batch_settings_class,
    run_settings_class,
)


@pytest.fixture
def path_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Make PATH hold exactly the named (fake) commands."""

    def make(*names: str) -> None:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir(exist_ok=True)
        for name in names:
            (bin_dir / name).write_text("#!/bin/sh\n")
            (bin_dir / name).chmod(0o755)
        monkeypatch.setenv("PATH", str(bin_dir))

    return make


@pytest.mark.parametrize("run_command", ["auto", None, "", "mpirun", "mpiexec", "srun", "x"])
def test_local_is_always_the_local_run_settings(run_command, path_with) -> None:
    path_with("srun", "mpirun")
    assert run_settings_class("local", run_command) is RunSettings


@pytest.mark.parametrize(
    ("launcher", "on_path", "expected"),
    [
        ("slurm", (), SrunSettings),  # nothing installed: the native one, for previews
        ("slurm", ("srun", "mpirun"), SrunSettings),
        ("slurm", ("mpirun", "mpiexec"), MpirunSettings),
        ("slurm", ("mpiexec",), MpiexecSettings),
        ("pbs", (), AprunSettings),
        ("pbs", ("mpiexec", "mpirun"), MpirunSettings),
        ("pbs", ("aprun", "mpirun"), AprunSettings),
        ("lsf", (), JsrunSettings),
        ("lsf", ("mpiexec",), MpiexecSettings),
        ("lsf", ("jsrun",), JsrunSettings),
        ("cobalt", (), AprunSettings),
        ("cobalt", ("mpirun",), MpirunSettings),
    ],
)
def test_auto_picks_the_first_run_command_on_path(launcher, on_path, expected, path_with) -> None:
    path_with(*on_path)
    assert run_settings_class(launcher) is expected
    assert run_settings_class(launcher, None) is expected


@pytest.mark.parametrize(
    ("run_command", "expected"),
    [("srun", SrunSettings), ("mpirun", MpirunSettings), ("mpiexec", MpiexecSettings),
     ("orterun", OrterunSettings), ("jsrun", JsrunSettings), ("aprun", AprunSettings),
     ("/opt/openmpi/bin/mpirun", MpirunSettings)],
)  # fmt: skip
def test_an_explicit_run_command_maps_to_its_class(run_command, expected, path_with) -> None:
    path_with()  # not installed: still fine
    for launcher in ("slurm", "pbs", "lsf", "cobalt"):
        assert run_settings_class(launcher, run_command) is expected


@pytest.mark.parametrize("run_command", ["ibrun", "/usr/bin/flux", "srun2"])
def test_an_unknown_run_command_is_refused(run_command) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        run_settings_class("slurm", run_command)
    assert run_command in str(info.value)


@pytest.mark.parametrize("launcher", ["nope", "auto", "SLURM", ""])
def test_unknown_launchers_are_refused(launcher) -> None:
    with pytest.raises(InvalidArgumentError):
        run_settings_class(launcher)
    with pytest.raises(InvalidArgumentError):
        batch_settings_class(launcher)


def test_wrong_types_are_refused() -> None:
    with pytest.raises(UnsupportedTypeError):
        run_settings_class(3)
    with pytest.raises(UnsupportedTypeError):
        run_settings_class("slurm", 3)
    with pytest.raises(UnsupportedTypeError):
        batch_settings_class(None)


@pytest.mark.parametrize(
    ("launcher", "expected"),
    [("slurm", SbatchSettings), ("pbs", QsubBatchSettings), ("lsf", BsubBatchSettings),
     ("cobalt", CobaltBatchSettings)],
)  # fmt: skip
def test_batch_settings_class(launcher, expected) -> None:
    assert batch_settings_class(launcher) is expected


def test_the_local_launcher_has_no_batch_settings() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        batch_settings_class("local")
    assert "local" in str(info.value) and "batch" in str(info.value)
