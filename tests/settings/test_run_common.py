"""What every workload-manager run settings class shares: construction, run_args rendering and
refusals, environment never on the command line, MPMD, copies. Pure: no processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartflow.errors import (
    ExecutableNotFoundError,
    InvalidArgumentError,
)
from smartflow.settings import (
    AprunSettings,
    JsrunSettings,
    MpiexecSettings,
    MpirunSettings,
    OrterunSettings,
    RunSettings,
    SrunSettings,
)
from tests.settings._helpers import EXE, TEXT_MPMD_CLASSES, WLM_RUN_CLASSES

# -- construction -------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", WLM_RUN_CLASSES)
def test_construction_needs_no_run_command_on_path(
    cls: type[RunSettings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings can be built (and previewed) where the workload manager is not installed."""
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH at all
    rs = cls(EXE, ["-c", "pass"])
    assert isinstance(rs, RunSettings)
    argv = rs.format_argv()
    assert argv[0] == cls.RUN_COMMAND
    assert argv[-3:] == [rs.exe, "-c", "pass"]


@pytest.mark.parametrize("cls", WLM_RUN_CLASSES)
def test_the_executable_is_still_resolved(cls: type[RunSettings]) -> None:
    with pytest.raises(ExecutableNotFoundError):
        cls("definitely-not-a-real-executable-xyz")


@pytest.mark.parametrize("cls", WLM_RUN_CLASSES)
def test_run_command_can_be_overridden_with_a_path(cls: type[RunSettings]) -> None:
    rs = cls(EXE, run_command=f"/opt/wlm/bin/{cls.RUN_COMMAND}")
    assert rs.format_argv()[0] == f"/opt/wlm/bin/{cls.RUN_COMMAND}"


@pytest.mark.parametrize("cls", WLM_RUN_CLASSES)
@pytest.mark.parametrize("bad", ["", "a\nb", 3])
def test_bad_run_command_is_refused(cls: type[RunSettings], bad: object) -> None:
    with pytest.raises(InvalidArgumentError):
        cls(EXE, run_command=bad)


@pytest.mark.parametrize(
    ("cls", "launcher"),
    [
        (SrunSettings, "slurm"),
        (JsrunSettings, "lsf"),
        (AprunSettings, "pbs"),
        (MpirunSettings, "local"),
    ],
)
def test_default_launcher(cls: type[RunSettings], launcher: str) -> None:
    assert cls(EXE).launcher == launcher
    assert cls(EXE, launcher="cobalt").launcher == "cobalt"


@pytest.mark.parametrize("cls", WLM_RUN_CLASSES)
def test_exe_args_and_env_are_converted_as_locally(cls: type[RunSettings]) -> None:
    rs = cls(EXE, "a  b", env_vars={"A": 1, "B": None})
    assert rs.exe_args == ["a", "b"]
    assert rs.env_vars == {"A": "1", "B": ""}
    rs.add_exe_args(["c", 4])
    rs.update_env({"C": "3"})
    assert rs.exe_args == ["a", "b", "c", "4"]
    assert rs.launch_env() == {"A": "1", "B": "", "C": "3"}


# -- run_args -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (SrunSettings, ["--mpi=pmix", "--exclusive", "-w", "n1"]),
        (JsrunSettings, ["--smpiargs=-gpu", "--exclusive", "-w", "n1"]),
        (AprunSettings, ["--mpi=pmix", "--exclusive", "-w", "n1"]),
        (MpirunSettings, ["--mpi", "pmix", "--exclusive", "-w", "n1"]),
        (MpiexecSettings, ["--mpi", "pmix", "--exclusive", "-w", "n1"]),
        (OrterunSettings, ["--mpi", "pmix", "--exclusive", "-w", "n1"]),
    ],
)
def test_user_run_args_rendering(cls: type[RunSettings], expected: list[str]) -> None:
    """--k=v (MPI: --k v, as Open MPI and Hydra both parse), -k v, and a bare flag for None/""."""
    key = "smpiargs" if cls is JsrunSettings else "mpi"
    value = "-gpu" if cls is JsrunSettings else "pmix"
    rs = cls(EXE, run_args={key: value, "exclusive": None, "w": "n1"})
    assert rs.format_run_args()[-len(expected) :] == expected
    argv = rs.format_argv()
    start = argv.index(expected[0])
    assert argv[start : start + len(expected)] == expected
    assert argv[start + len(expected) :] == [rs.exe]


RESERVED = [
    (SrunSettings, k)
    for k in ["nodes", "N", "ntasks", "n", "job-name", "J", "output", "o", "error", "e",
              "chdir", "D", "export", "multi-prog", "jobid", "time", "t", "ntasks-per-node"]
] + [
    (cls, k)
    for cls in (MpirunSettings, MpiexecSettings, OrterunSettings)
    for k in ["np", "n", "c", "wdir", "x", "timeout"]
] + [
    (JsrunSettings, k)
    for k in ["chdir", "h", "stdio_stdout", "o", "stdio_stderr", "k", "np", "p", "E", "env",
              "erf_input"]
] + [(AprunSettings, k) for k in ["wdir", "pes", "n", "e", "cpu-time-limit", "t"]]  # fmt: skip


@pytest.mark.parametrize(("cls", "key"), RESERVED)
def test_reserved_run_args_are_refused(cls: type[RunSettings], key: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        cls(EXE, run_args={key: "1"})
    assert repr(key) in str(info.value)
    assert cls.RUN_COMMAND in str(info.value)


@pytest.mark.parametrize("cls", WLM_RUN_CLASSES)
def test_reserved_run_args_added_later_are_refused_when_rendered(cls: type[RunSettings]) -> None:
    rs = cls(EXE)
    key = next(k for c, k in RESERVED if c is cls)
    rs.run_args[key] = "1"
    with pytest.raises(InvalidArgumentError):
        rs.format_argv()


@pytest.mark.parametrize("cls", WLM_RUN_CLASSES)
@pytest.mark.parametrize("key", ["--nodelist", "-w", "a b", "k=v", "x\n"])
def test_malformed_run_arg_keys_are_refused(cls: type[RunSettings], key: str) -> None:
    with pytest.raises(InvalidArgumentError):
        cls(EXE, run_args={key: "1"})


@pytest.mark.parametrize("cls", WLM_RUN_CLASSES)
def test_run_arg_values_with_newlines_are_refused(cls: type[RunSettings]) -> None:
    with pytest.raises(InvalidArgumentError):
        cls(EXE, run_args={"comment": "a\nb"})


# -- the environment: names at most, never values -----------------------------------------------

SECRETS = {"SSDB_PASSWORD": "s3cr3t-value", "LIST": "a,b,c", "SPACED": "x y", "EMPTY": ""}


@pytest.mark.parametrize("cls", WLM_RUN_CLASSES)
def test_no_env_value_ever_appears_on_the_command_line(cls: type[RunSettings]) -> None:
    rs = cls(EXE, ["arg"], env_vars=dict(SECRETS))
    part = cls(EXE, env_vars={"OTHER": "other-secret-value"})
    rs.make_mpmd(part)
    lines = [rs.erf_text(), *rs.format_erf_argv("/tmp/x.erf")] if cls is JsrunSettings else []
    argv = rs.format_erf_argv("/tmp/x.erf") if cls is JsrunSettings else rs.format_argv(name="m")
    text = " ".join([*argv, *lines, *rs.format_env_vars(), *rs.format_run_args()])
    for value in [*SECRETS.values(), "other-secret-value"]:
        if value:
            assert value not in text
    assert not any("=" in token and token.split("=", 1)[0].lstrip("-") in SECRETS for token in argv)
    assert rs.launch_env() == {**SECRETS, "OTHER": "other-secret-value"}


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (SrunSettings, []),
        (MpirunSettings, ["-x", "A", "-x", "B"]),
        (OrterunSettings, ["-x", "A", "-x", "B"]),
        (MpiexecSettings, []),
        (JsrunSettings, ["-E", "A", "-E", "B"]),
        (AprunSettings, []),
    ],
)
def test_env_names_forwarding(cls: type[RunSettings], expected: list[str]) -> None:
    rs = cls(EXE, env_vars={"A": "1", "B": "2"})
    assert rs.format_env_vars() == expected
    argv = rs.format_argv()
    assert not any(t.startswith("--export") for t in argv)
    if expected:
        assert argv[-1 - len(expected) : -1] == expected  # just before the executable


@pytest.mark.parametrize("cls", WLM_RUN_CLASSES)
@pytest.mark.parametrize("name", ["A=1", "A B", "A\n"])
def test_env_names_a_process_cannot_hold_are_refused(cls: type[RunSettings], name: str) -> None:
    with pytest.raises(InvalidArgumentError):
        cls(EXE, env_vars={name: "x"})
    rs = cls(EXE)
    with pytest.raises(InvalidArgumentError):
        rs.update_env({name: "x"})
    assert rs.env_vars == {}


# -- the step name ------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", TEXT_MPMD_CLASSES)
def test_a_name_is_used_only_by_srun(cls: type[RunSettings]) -> None:
    argv = cls(EXE).format_argv(name="step-1")
    assert ("--job-name=step-1" in argv) == (cls is SrunSettings)
    assert "step-1" not in [t for t in argv if not t.startswith("--job-name")]


@pytest.mark.parametrize("cls", WLM_RUN_CLASSES)
@pytest.mark.parametrize("name", ["", "a\nb", 3])
def test_bad_names_are_refused(cls: type[RunSettings], name: object) -> None:
    with pytest.raises(InvalidArgumentError):
        cls(EXE).format_argv(name=name)
