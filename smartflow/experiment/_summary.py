"""The experiment's summary: rows from the supervisor's status table, no I/O."""

from __future__ import annotations

import time

from smartflow.runtime.supervisor import StatusRecord

COLUMNS = ["name", "entity_type", "job_id", "run_id", "time", "status", "returncode", "error"]
#: The table shows the end of the last line of an error; ``format="records"`` has all of it.
ERROR_CELL_CHARS = 60


def as_record(record: StatusRecord) -> dict:
    end = record.ended_at or time.time()
    elapsed = end - record.started_at if record.started_at else 0.0
    return {
        "name": record.name,
        "entity_type": record.kind,
        "job_id": record.job_id,
        "run_id": record.run_id,
        "time": round(elapsed, 3),
        "status": str(record.status),
        "returncode": record.returncode,
        "error": record.error_tail,
    }


def error_cell(tail: str) -> str:
    """The last line of an error (a failed entity's stderr tail), its end if it is long."""
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    if not lines:
        return ""
    last = lines[-1]
    return last if len(last) <= ERROR_CELL_CHARS else "…" + last[-(ERROR_CELL_CHARS - 1) :]


def render_table(records: list[dict]) -> str:
    rows = [
        [str(r[c]) if r[c] is not None else "-" for c in COLUMNS[:-1]] + [error_cell(r["error"])]
        for r in records
    ]
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines)
