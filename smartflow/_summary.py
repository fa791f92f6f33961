"""The experiment's summary: rows from the supervisor's status table, no I/O."""

from __future__ import annotations

import time

from smartflow.runtime.supervisor import StatusRecord

COLUMNS = ["name", "entity_type", "job_id", "run_id", "time", "status", "returncode"]


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


def render_table(records: list[dict]) -> str:
    rows = [[str(r[c]) if r[c] is not None else "-" for c in COLUMNS] for r in records]
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines)
