"""Shared bits of the settings tests: every run settings class, built without its run command on
PATH (only the executable is resolved)."""

from __future__ import annotations

import sys

from smartflow.settings import (
    AprunSettings,
    JsrunSettings,
    MpiexecSettings,
    MpirunSettings,
    OrterunSettings,
    SrunSettings,
)

#: An executable that exists everywhere the tests run.
EXE = sys.executable

WLM_RUN_CLASSES = [
    SrunSettings,
    MpirunSettings,
    MpiexecSettings,
    OrterunSettings,
    JsrunSettings,
    AprunSettings,
]

#: Classes that render MPMD as ``a : b`` on the command line (jsrun uses an ERF).
TEXT_MPMD_CLASSES = [c for c in WLM_RUN_CLASSES if c is not JsrunSettings]
