"""The demo job: tally a CSV of expenses by category, durably, and leave evidence.

Each category is a durable step; the report is written atomically and attached as evidence
with its hash; the run ends with a one-line next pointer.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from runwright import JobContext, RetryPolicy, attach_evidence, job, step


@step(idempotent=True)
def read_rows(path: str) -> list[dict[str, str]]:
    """Read the input CSV (a pure read: safe to re-run after a crash)."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@step(idempotent=True, timeout=30, retry=RetryPolicy(max_attempts=3, initial_interval=0.5))
def total_for(rows: list[dict[str, str]], category: str) -> float:
    """Sum the amounts of one category."""
    return round(sum(float(r["amount"]) for r in rows if r["category"] == category), 2)


@step(idempotent=True)
def write_report(path: str, totals: dict[str, float]) -> dict[str, object]:
    """Write the report atomically (same content every time) and attach it as evidence."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".report-")
    with os.fdopen(fd, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["category", "total"])
        for category in sorted(totals):
            writer.writerow([category, f"{totals[category]:.2f}"])
    os.replace(tmp, target)
    link = attach_evidence(target, label="report")
    return {"path": str(target), "sha256": link.sha256, "rows": link.counts.rows}


@job(name="examples.tally")
def tally(ctx: JobContext, source: str, report: str) -> dict[str, object]:
    """Tally ``source`` by category into ``report``."""
    rows = ctx.step("read", read_rows, source)
    categories = sorted({r["category"] for r in rows})
    totals = {c: ctx.step(f"total:{c}", total_for, rows, c) for c in categories}
    written = ctx.step("write-report", write_report, report, totals)
    return {"categories": len(categories), "grand_total": round(sum(totals.values()), 2), **written}


SAMPLE = """date,category,amount
2026-11-01,travel,120.50
2026-11-02,food,18.20
2026-11-02,travel,42.00
2026-11-03,software,99.00
2026-11-04,food,23.75
2026-11-05,software,15.00
2026-11-06,travel,310.10
"""


def write_sample(path: Path) -> Path:
    """Write the sample expenses CSV used by the demo."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SAMPLE)
    return path
