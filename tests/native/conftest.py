"""The native clients (C, C++, Fortran) built once per session with the README's CMake line,
installed into a temporary prefix, and programs compiled against that prefix the way a user's
build would: only the include path and the link line come from us (``pkg-config``).

Test programs live in ``programs/<language>/`` and are launched as Models of an Experiment, so
they find the store through the environment contract (``SSDB``, ``SR_DB_TYPE``, ``SSDB_PASSWORD``)
like any application. They print what they read (JSON) and exit non-zero on a failure.

Where a tool is missing the tests skip, naming what to install; under ``SMARTFLOW_REQUIRE_NATIVE=1``
(CI's native pass sets it) they fail instead, so CI cannot pass without having built them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from smartflow import Client, ClientConfig, Experiment, Orchestrator
from tests._support import summary_rows

CLIENTS = Path(__file__).resolve().parents[2] / "clients"
PROGRAMS = Path(__file__).parent / "programs"
#: Set by CI's native pass: a missing compiler or library fails the tests instead of skipping them.
REQUIRE_VAR = "SMARTFLOW_REQUIRE_NATIVE"
#: Debian's packages for everything these tests need.
INSTALL_HINT = "apt-get install gcc g++ gfortran cmake make pkg-config libhiredis-dev"
TOOLS = ("cmake", "make", "gcc", "g++", "gfortran", "pkg-config")
BUILD_TIMEOUT = 600.0  # the whole library on a loaded 2-core runner
COMPILE_TIMEOUT = 120.0

#: A program's compiler and its pkg-config package, by the source's suffix.
_COMPILERS = {
    ".c": (["gcc", "-std=c99"], "smartflow"),
    ".cpp": (["g++", "-std=c++17"], "smartflow"),
    ".F90": (["gfortran", "-cpp"], "smartflow-fortran"),
}


def missing_tools() -> list[str]:
    """The tools (and hiredis's headers) this machine lacks for building the native clients."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if "pkg-config" not in missing:
        found = subprocess.run(["pkg-config", "--exists", "hiredis"], check=False).returncode == 0
        if not found:
            missing.append("hiredis (libhiredis-dev)")
    return missing


def skip_or_fail(reason: str) -> None:
    if os.environ.get(REQUIRE_VAR):
        pytest.fail(f"{reason} ({REQUIRE_VAR} is set)")
    # The README's test command runs before CI installs compilers: these run in its native pass.
    pytest.skip(reason)


def _run(args: list[str], *, timeout: float, env: dict[str, str] | None = None, cwd=None) -> str:
    """Run a build command; its stdout and stderr together, or an AssertionError with them."""
    done = subprocess.run(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
        env=env, cwd=cwd, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-8000:]}")
    return done.stdout


@dataclass
class Native:
    """An installed build of ``clients/`` and a compiler of programs against it."""

    prefix: Path
    out: Path

    @property
    def pkg_env(self) -> dict[str, str]:
        return {**os.environ, "PKG_CONFIG_PATH": str(self.prefix / "lib" / "pkgconfig")}

    def flags(self, package: str) -> list[str]:
        """``pkg-config --cflags --libs`` of an installed package, as a user's Makefile gets it."""
        out = _run(["pkg-config", "--cflags", "--libs", package], timeout=30, env=self.pkg_env)
        return out.split()

    def compile(self, source: Path | str, *extra: str) -> Path:
        """Compile one program by its suffix against the installed prefix (cached)."""
        source = Path(source)
        if source.suffix not in _COMPILERS:
            raise ValueError(f"no compiler for {source.name}")
        exe = self.out / f"{source.parent.name}-{source.stem}"
        if exe.exists() and exe.stat().st_mtime >= source.stat().st_mtime:
            return exe
        compiler, package = _COMPILERS[source.suffix]
        rpath = f"-Wl,-rpath,{self.prefix / 'lib'}"
        flags = self.flags(package)
        args = [*compiler, "-Wall", "-o", str(exe), str(source), *extra, *flags, rpath]
        _run(args, timeout=COMPILE_TIMEOUT, cwd=self.out)  # Fortran writes .mod files to cwd
        return exe


@pytest.fixture(scope="session")
def native(tmp_path_factory: pytest.TempPathFactory) -> Native:
    """``cmake -S clients -B build && cmake --build build && cmake --install build``, once."""
    missing = missing_tools()
    if missing:
        skip_or_fail(f"the native clients need {', '.join(missing)}: {INSTALL_HINT}")
    root = tmp_path_factory.mktemp("native")
    build, prefix, out = root / "build", root / "prefix", root / "programs"
    out.mkdir()
    _run(
        ["cmake", "-S", str(CLIENTS), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release"],
        timeout=BUILD_TIMEOUT,
    )
    log = _run(
        ["cmake", "--build", str(build), "-j", str(os.cpu_count() or 2)], timeout=BUILD_TIMEOUT
    )
    # The library is built with -Wall -Wextra and kept at zero warnings.
    warnings = [line for line in log.splitlines() if "warning:" in line]
    assert not warnings, "the native build warns:\n" + "\n".join(warnings)
    _run(["cmake", "--install", str(build), "--prefix", str(prefix)], timeout=BUILD_TIMEOUT)
    return Native(prefix=prefix, out=out)


@dataclass
class Ran:
    """What a program launched as a Model did."""

    rc: int | None
    stdout: str
    stderr: str
    path: Path

    def check(self) -> str:
        """The program's stdout, having asserted it exited 0."""
        assert self.rc == 0, f"rc={self.rc}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        return self.stdout


async def run_program(
    experiment: Experiment,
    exe: Path,
    *args: str,
    name: str = "prog",
    env: dict[str, str] | None = None,
) -> Ran:
    """Launch ``exe`` as a Model of ``experiment`` (it gets the running stores' environment
    contract), wait for it to end, and return its exit code and output."""
    settings = experiment.create_run_settings(str(exe), [str(a) for a in args], env_vars=env)
    model = experiment.create_model(name, settings)
    await experiment.start(model, block=True)
    return ran(experiment, model)


def ran(experiment: Experiment, model) -> Ran:
    """A finished model's exit code and output."""
    row = summary_rows(experiment)[model.name]
    directory = Path(model.path)
    stdout = (directory / f"{model.name}.out").read_text(errors="replace")
    stderr = (directory / f"{model.name}.err").read_text(errors="replace")
    return Ran(rc=row["returncode"], stdout=stdout, stderr=stderr, path=directory)


@pytest.fixture(params=["single", "cluster"])
async def db(request: pytest.FixtureRequest, experiment: Experiment) -> Orchestrator:
    """A started store: one shard, then a 3-shard cluster."""
    store = experiment.create_database(db_nodes=1 if request.param == "single" else 3)
    await experiment.start(store)
    return store


def python_client(db: Orchestrator, chunk_bytes: int | None = None) -> Client:
    """smartflow's client of ``db`` (async context manager), chunking values over
    ``chunk_bytes`` when given, as the programs do through ``SMARTFLOW_CHUNK_BYTES``."""
    config = ClientConfig() if chunk_bytes is None else ClientConfig(max_value_bytes=chunk_bytes)
    clustered = len(db.get_address()) > 1
    return Client(address=db.get_address()[0], cluster=clustered, config=config)


def last_json(stdout: str) -> dict:
    """A program's result: its last JSON line (log lines go to stdout too, as SmartRedis's)."""
    return json.loads([line for line in stdout.splitlines() if line.startswith("{")][-1])
