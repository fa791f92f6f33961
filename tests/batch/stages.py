"""Stage functions of the batch tests that misbehave on purpose (imported by task managers)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from smartflow.batch.loaders import load

#: Inputs whose file name contains this are stragglers the first time they are loaded.
STRAGGLER = "straggler"
STRAGGLE_S = 8.0


def load_straggler_once(item: str) -> bytes:
    """Load ``item``; the first load of a straggler (per marker file) takes STRAGGLE_S, so a
    speculated copy of its split finishes long before the original."""
    path = Path(item)
    marker = path.with_suffix(".seen")
    if STRAGGLER in path.name:
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pass
        else:
            os.close(fd)
            time.sleep(STRAGGLE_S)
    return load(item)  # type: ignore[return-value]
