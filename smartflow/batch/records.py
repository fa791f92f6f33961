"""What a batch inference job returns: one record per input position."""

from __future__ import annotations

from typing import Literal

import attrs
import numpy as np

OK: Literal["ok"] = "ok"
ERROR: Literal["error"] = "error"


@attrs.frozen(eq=False)
class Result:
    """The answer for the input at position ``index`` of a job's inputs.

    ``status`` is ``"ok"`` (``result`` holds that input's row of each model output, in the
    model's output order) or ``"error"`` (``error`` says why: a file that could not be read,
    a preprocessing failure, a split that ran out of retries, ...). Duplicate inputs are legal:
    each position has its own record."""

    index: int
    input: object
    status: Literal["ok", "error"]
    result: list[np.ndarray] | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK
