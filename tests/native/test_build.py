"""The installed tree as a user's build sees it: ``find_package(smartflow)`` from a CMake project
of C, C++ and Fortran programs, pkg-config from a moved prefix, and ``smartflow info``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from smartflow import Client, Experiment, Orchestrator
from tests.native.conftest import PROGRAMS, Native, ran

CONSUMER = """
cmake_minimum_required(VERSION 3.13)
project(consumer LANGUAGES C CXX Fortran)
find_package(smartflow REQUIRED)
add_executable(c_hello hello.c)
target_link_libraries(c_hello smartflow::smartflow)
add_executable(cpp_hello hello.cpp)
target_link_libraries(cpp_hello smartflow::smartflow)
add_executable(f_hello hello.F90)
target_link_libraries(f_hello smartflow::smartflow-fortran)
"""


def _consumer(native: Native, tmp_path: Path) -> Path:
    """Configure and build the consumer project against the installed prefix."""
    src, build = tmp_path / "consumer", tmp_path / "consumer-build"
    src.mkdir()
    (src / "CMakeLists.txt").write_text(CONSUMER)
    for name in ("hello.c", "hello.cpp", "hello.F90"):
        shutil.copy(PROGRAMS / "consumer" / name, src / name)
    env = {**os.environ, "CMAKE_PREFIX_PATH": str(native.prefix)}
    for args in (["cmake", "-S", str(src), "-B", str(build)], ["cmake", "--build", str(build)]):
        done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return build


async def test_find_package_builds_c_cpp_and_fortran_programs_that_reach_the_store(
    native: Native, experiment: Experiment, store: Orchestrator, client: Client, tmp_path: Path
) -> None:
    build = _consumer(native, tmp_path)
    models = [
        experiment.create_model(f"hello-{lang}", experiment.create_run_settings(str(exe)))
        for lang, exe in (
            ("c", build / "c_hello"),
            ("cpp", build / "cpp_hello"),
            ("f", build / "f_hello"),
        )
    ]
    await experiment.start(*models, block=True)
    for model in models:
        assert ran(experiment, model).check().strip() == "hello"
    # Each wrote its own language's greeting as a tensor: the Python client reads all three.
    for lang, value in (("c", 1), ("cpp", 2), ("f", 3)):
        np.testing.assert_array_equal(await client.get_tensor(f"hello_{lang}"), [value] * 3)


def test_pkg_config_files_follow_a_moved_prefix(native: Native, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere"
    shutil.copytree(native.prefix, moved, symlinks=True)
    env = {**os.environ, "PKG_CONFIG_PATH": str(moved / "lib" / "pkgconfig")}
    for package in ("smartflow", "smartflow-fortran"):
        out = subprocess.run(
            ["pkg-config", "--cflags", "--libs", package],
            capture_output=True, text=True, env=env, check=True,
        ).stdout  # fmt: skip
        include = next(f[2:] for f in out.split() if f.startswith("-I") and "smartflow" in f)
        assert Path(include).resolve() == (moved / "include" / "smartflow").resolve()
        assert (Path(include) / "c_client.h").is_file()
        assert "-lsmartflow" in out.split()
    fortran = subprocess.run(
        ["pkg-config", "--libs", "smartflow-fortran"],
        capture_output=True, text=True, env=env, check=True,
    ).stdout.split()  # fmt: skip
    assert fortran.index("-lsmartflow-fortran") < fortran.index("-lsmartflow")


def test_smartflow_info_says_where_the_native_clients_are(native: Native) -> None:
    env = {**os.environ, "SMARTFLOW_NATIVE_PREFIX": str(native.prefix)}
    out = subprocess.run(
        [sys.executable, "-m", "smartflow.cli", "info"],
        capture_output=True, text=True, env=env, timeout=60,
    ).stdout  # fmt: skip
    assert f"native clients: {native.prefix.resolve()}" in out
    assert str(native.prefix.resolve() / "include" / "smartflow") in out
    assert "libsmartflow.so" in out and "libsmartflow-fortran.so" in out
    assert "pkg-config --cflags --libs smartflow-fortran" in out


def test_smartflow_info_says_how_to_build_them_when_none_is_installed(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SMARTFLOW_NATIVE_PREFIX": str(tmp_path),
        "HOME": str(tmp_path),
        "PKG_CONFIG_PATH": "",
        "CMAKE_PREFIX_PATH": "",
    }
    out = subprocess.run(
        [sys.executable, "-m", "smartflow.cli", "info"],
        capture_output=True, text=True, env=env, timeout=60,
    ).stdout  # fmt: skip
    if "native clients: " in out:  # one is installed system-wide on this machine
        assert str(tmp_path) not in out
    else:
        assert "cmake -S clients -B build" in out and "libhiredis-dev" in out
