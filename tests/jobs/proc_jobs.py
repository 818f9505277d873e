"""Jobs for the multi-process and crash tests (run by real worker subprocesses)."""

from __future__ import annotations

import os
import random
import time

from engine_jobs import append_line, lines

from runwright import ChildSpec, JobContext, ReconcileResult, job


def _line_present(path: str, line: str, pause: float = 0.0) -> ReconcileResult:
    """Reconcile: the step's line is in the file (applied) or not (safe to run again)."""
    return ReconcileResult.applied(line) if line in lines(path) else ReconcileResult.not_applied()


def append_step(path: str, line: str, pause: float = 0.0) -> str:
    """Append one line, then linger a little so a kill can land between steps."""
    append_line(path, line)
    if pause:
        time.sleep(pause * random.uniform(0.5, 1.5))
    return line


@job(name="tests.appender")
def appender(ctx: JobContext, path: str, steps: int, pause: float = 0.0) -> int:
    """N non-idempotent steps, each appending its own line; reconcile looks for the line."""
    for i in range(steps):
        line = f"{ctx.run_id}:{i}"
        ctx.step(f"append:{i}", append_step, path, line, pause, reconcile=_line_present)
    return steps


@job(name="tests.busy_child")
def busy_child(ctx: JobContext, path: str, label: str) -> str:
    """Marks start and end around a short busy period, to measure overlap."""

    def work() -> str:
        append_line(path, f"start {label} {time.time():.6f} {os.getpid()}")
        time.sleep(0.3)
        append_line(path, f"end {label} {time.time():.6f} {os.getpid()}")
        return label

    return str(ctx.step("work", work, idempotent=True))


@job(name="tests.fan_out", max_parallel=2)
def fan_out(ctx: JobContext, path: str, n: int) -> list[str]:
    """Starts n children at once; max_parallel=2 must bound how many run together."""
    ids = ctx.start_children("kids", [ChildSpec(busy_child, (path, f"c{i}")) for i in range(n)])
    return [str(r) for r in ctx.wait(*ids)]
