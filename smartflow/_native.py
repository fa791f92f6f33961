"""Where the native clients (``clients/``: C, C++, Fortran) are installed, for ``smartflow info``.

``cmake --install`` puts the headers and Fortran modules in ``<prefix>/include/smartflow``, the
libraries in ``<prefix>/lib`` (or ``lib64``, or Debian's multiarch directory), a pkg-config file
in ``<libdir>/pkgconfig`` and the CMake package in ``<libdir>/cmake/smartflow``. A prefix is
looked for, in order, in ``SMARTFLOW_NATIVE_PREFIX``, ``PKG_CONFIG_PATH``, ``CMAKE_PREFIX_PATH``,
this Python's prefix (a virtual environment), ``~/.local``, ``/usr/local``, ``/opt/smartflow``
and ``/usr``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

#: The header every installation has: SmartRedis's C client header, smartflow's build of it.
_MARKER = Path("include") / "smartflow" / "c_client.h"
_LIBDIRS = ("lib", "lib64", "lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu")


@dataclass(frozen=True)
class NativeInstall:
    """One installed build of the native clients."""

    prefix: Path
    libdir: Path

    @property
    def include_dir(self) -> Path:
        return self.prefix / "include" / "smartflow"

    @property
    def pkgconfig_dir(self) -> Path:
        return self.libdir / "pkgconfig"

    @property
    def cmake_dir(self) -> Path:
        return self.libdir / "cmake" / "smartflow"

    @property
    def has_fortran(self) -> bool:
        return (self.include_dir / "smartredis_client.mod").is_file()

    def libraries(self) -> list[Path]:
        return sorted(self.libdir.glob("libsmartflow*.so")) + sorted(
            self.libdir.glob("libsmartflow*.a")
        )

    def lines(self) -> list[str]:
        """What ``smartflow info`` prints about this installation."""
        pkg = f"PKG_CONFIG_PATH={self.pkgconfig_dir}"
        out = [
            f"native clients: {self.prefix}",
            f"  headers:   {self.include_dir} (c_client.h, client.h, ...)",
            f"  libraries: {', '.join(p.name for p in self.libraries()) or 'none found'}",
            f"  pkg-config: {self.pkgconfig_dir} (smartflow"
            + (", smartflow-fortran)" if self.has_fortran else ")"),
            f"  CMake:     find_package(smartflow) with CMAKE_PREFIX_PATH={self.prefix}",
            f"  C/C++:     $({pkg} pkg-config --cflags --libs smartflow)",
        ]
        if self.has_fortran:
            out.append(f"  Fortran:   $({pkg} pkg-config --cflags --libs smartflow-fortran)")
        else:
            out.append("  Fortran:   not built (configure with a Fortran compiler)")
        return out


def _candidates() -> list[Path]:
    """Prefixes to look in, most specific first."""
    found: list[Path] = []
    if env := os.environ.get("SMARTFLOW_NATIVE_PREFIX"):
        found.append(Path(env))
    for entry in os.environ.get("PKG_CONFIG_PATH", "").split(os.pathsep):
        if entry:  # <prefix>/<libdir>/pkgconfig: the prefix is two or three levels up
            found.extend([Path(entry).parent.parent, Path(entry).parent.parent.parent])
    for entry in os.environ.get("CMAKE_PREFIX_PATH", "").split(os.pathsep):
        if entry:
            found.append(Path(entry))
    found.append(Path(sys.prefix))
    found.append(Path.home() / ".local")
    found.extend(Path(p) for p in ("/usr/local", "/opt/smartflow", "/usr"))
    return found


def find_native() -> NativeInstall | None:
    """The first installed build of the native clients, or None."""
    seen: set[Path] = set()
    for prefix in (p.resolve() for p in _candidates()):
        if prefix in seen or not (prefix / _MARKER).is_file():
            seen.add(prefix)
            continue
        for libdir in _LIBDIRS:
            if (prefix / libdir / "pkgconfig" / "smartflow.pc").is_file():
                return NativeInstall(prefix=prefix, libdir=prefix / libdir)
        return NativeInstall(prefix=prefix, libdir=prefix / "lib")
    return None


NOT_FOUND = (
    "native clients (C, C++, Fortran): not installed; build them from a source checkout with "
    "`cmake -S clients -B build && cmake --build build && cmake --install build` "
    "(needs cmake, a C compiler, gfortran for Fortran, and hiredis: "
    "apt-get install cmake gcc g++ gfortran pkg-config libhiredis-dev)"
)
