"""The public API surface: __all__, the exception tree, Status."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types

import pytest

import smartflow
import smartflow.errors as errors
from smartflow import SmartflowError, Status


def test_all_names_exist() -> None:
    missing = [name for name in smartflow.__all__ if not hasattr(smartflow, name)]
    assert missing == []
    assert len(smartflow.__all__) == len(set(smartflow.__all__)), "duplicates in __all__"


def test_every_public_attribute_is_in_all() -> None:
    public = {
        name
        for name, value in vars(smartflow).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public - set(smartflow.__all__) == set()


def test_star_import_gives_exactly_all() -> None:
    namespace: dict = {}
    exec("from smartflow import *", namespace)
    namespace.pop("__builtins__")
    assert set(namespace) == set(smartflow.__all__)


def test_core_names_are_public() -> None:
    for name in ("Experiment", "Client", "SyncClient", "Status", "Orchestrator", "SmartflowError"):
        assert name in smartflow.__all__


def test_version() -> None:
    assert isinstance(smartflow.__version__, str)
    assert smartflow.__version__.count(".") >= 1


def _error_classes() -> list[type[BaseException]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, BaseException) and cls.__module__ == errors.__name__
    ]


def _every_smartflow_error() -> set[type[BaseException]]:
    """SmartflowError and every subclass defined anywhere in the package (modules imported)."""
    for module in pkgutil.walk_packages(smartflow.__path__, "smartflow."):
        importlib.import_module(module.name)
    found, todo = set(), [SmartflowError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo += [sub for sub in cls.__subclasses__() if sub.__module__.startswith("smartflow")]
    return found


def test_every_error_class_a_user_can_receive_is_drawn_in_the_tree() -> None:
    doc = errors.__doc__
    drawn = set(doc[doc.index("SmartflowError\n") :].split())  # the drawing, root first
    missing = sorted(c.__name__ for c in _every_smartflow_error() if c.__name__ not in drawn)
    assert missing == []


def test_every_error_class_derives_from_smartflow_error() -> None:
    classes = _error_classes()
    assert len(classes) > 10
    assert [c.__name__ for c in classes if not issubclass(c, SmartflowError)] == []
    assert SmartflowError.__bases__ == (Exception,)


def test_every_error_class_is_public() -> None:
    for cls in _error_classes():
        assert cls.__name__ in smartflow.__all__, cls.__name__
        assert getattr(smartflow, cls.__name__) is cls


def test_public_exception_classes_all_derive_from_smartflow_error() -> None:
    exported = [getattr(smartflow, n) for n in smartflow.__all__]
    exceptions = [v for v in exported if isinstance(v, type) and issubclass(v, BaseException)]
    assert exceptions
    assert [e.__name__ for e in exceptions if not issubclass(e, SmartflowError)] == []


@pytest.mark.parametrize(
    ("name", "builtin"),
    [
        ("InvalidArgumentError", ValueError),
        ("UnsupportedTypeError", TypeError),
        ("ExecutableNotFoundError", FileNotFoundError),
        ("StoreBinaryNotFoundError", FileNotFoundError),
        ("ConnectionFailedError", ConnectionError),
        ("ClientTimeoutError", TimeoutError),
        ("KeyNotFoundError", LookupError),
    ],
)
def test_errors_keep_the_builtin_meaning(name: str, builtin: type[BaseException]) -> None:
    assert issubclass(getattr(smartflow, name), builtin)


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        ("UnsupportedTypeError", "InvalidArgumentError"),
        ("ExecutableNotFoundError", "LaunchError"),
        ("StoreBinaryNotFoundError", "StoreError"),
        ("StoreStartError", "StoreError"),
        ("StoreStartError", "LaunchError"),
        ("PortInUseError", "StoreStartError"),
        ("ConnectionFailedError", "ClientError"),
        ("AuthenticationError", "ClientError"),
        ("ClientTimeoutError", "ClientError"),
        ("KeyNotFoundError", "ClientError"),
        ("TensorFormatError", "ClientError"),
        ("CommandError", "ClientError"),
    ],
)
def test_error_tree(child: str, parent: str) -> None:
    assert issubclass(getattr(smartflow, child), getattr(smartflow, parent))


def test_status_terminal_set() -> None:
    expected = {Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.NEVER_STARTED}
    assert set(Status.TERMINAL) == expected
    assert isinstance(Status.TERMINAL, frozenset)
    for status in Status:
        assert status.is_terminal is (status in expected)


def test_status_values_and_str() -> None:
    assert {s.name for s in Status} >= {
        "NEW",
        "QUEUED",
        "RUNNING",
        "PAUSED",
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "NEVER_STARTED",
    }
    assert str(Status.RUNNING) == "Running"
    assert str(Status.CANCELLED) == "Cancelled"
    assert Status("Failed") is Status.FAILED
