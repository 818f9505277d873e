"""Jobs whose idempotent steps share commits (group commit), for the engine and crash tests."""

from __future__ import annotations

import time

from engine_jobs import append_line
from proc_jobs import _line_present, append_step

from runwright import GroupCommit, JobContext, job, step


@step(idempotent=True)
def tally(path: str, line: str, pause: float = 0.0) -> str:
    """An idempotent step that logs each time it runs (re-running it is harmless)."""
    append_line(path, line)
    if pause:
        time.sleep(pause)
    return line


@job(name="tests.grouped_mixed", group_commit=GroupCommit(max_steps=8, max_seconds=30.0))
def grouped_mixed(
    ctx: JobContext, idem_path: str, once_path: str, steps: int, every: int, pause: float
) -> int:
    """``steps`` steps sharing commits; every ``every``-th is non-idempotent (appends its own
    line once, reconciled by looking for it), the others are idempotent tallies."""
    for i in range(steps):
        line = f"{ctx.run_id}:{i}"
        if i % every == every - 1:
            ctx.step(f"once:{i}", append_step, once_path, line, pause, reconcile=_line_present)
        else:
            ctx.step(f"idem:{i}", tally, idem_path, line, pause)
    return steps


@job(name="tests.grouped_plain", group_commit=True)
def grouped_plain(ctx: JobContext, n: int) -> int:
    """``n`` idempotent no-op steps under the default group commit limits."""
    total = 0
    for i in range(n):
        total += ctx.step(f"s{i}", lambda v: v, 1, idempotent=True)
    return total


@job(name="tests.grouped_unstorable", group_commit=True)
def unstorable(ctx: JobContext, good: int) -> int:
    """``good`` storable steps, then one whose result cannot be stored."""
    for i in range(good):
        ctx.step(f"s{i}", lambda v: v, i, idempotent=True)
    ctx.step("bad", object, idempotent=True)
    return good
