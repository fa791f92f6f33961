"""A real notebook, executed by a real ipykernel: each cell runs in its own asyncio task."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from tests._support import skip_or_fail

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "notebook.ipynb"


def _dev_extra(name: str) -> ModuleType:
    """A module of the dev extra, which CI installs."""
    try:
        return importlib.import_module(name)
    except ImportError:
        skip_or_fail(f"{name} is in the dev extra, which is not installed here")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_core's platformdirs notice
def test_notebook_create_poll_close_across_cells(tmp_path: Path) -> None:
    nbclient, nbformat = _dev_extra("nbclient"), _dev_extra("nbformat")
    notebook = nbformat.read(shutil.copy(NOTEBOOK, tmp_path / "nb.ipynb"), as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    outputs = [
        "".join(o.get("text", "") for o in cell.get("outputs", [])) for cell in notebook.cells
    ]
    assert "127.0.0.1:" in outputs[1]
    assert "Completed" in outputs[2]
    cancelled = "<Status.CANCELLED: 'Cancelled'>"  # the shard and its inference worker
    assert f"closed [{cancelled}, {cancelled}] [0, 1, 2, 3]" in outputs[3]
    assert all(
        o.get("output_type") != "error" for c in notebook.cells for o in c.get("outputs", [])
    )
