"""Jobs for the tests of a worker running several runs at once (importable by subprocesses)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from engine_jobs import append_line, lines

from runwright import JobContext, job

#: How long a run waits at the rendezvous before giving up (so a broken worker fails the test
#: instead of hanging it).
PATIENCE_SECONDS = 60.0


def arrived(folder: str) -> list[str]:
    """The labels of the runs that reached the rendezvous, in order."""
    return [line.split()[1] for line in lines(f"{folder}/spans") if line.startswith("start ")]


def _wait_for(predicate: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@job(name="tests.slots.meet")
def meet(ctx: JobContext, folder: str, label: str, n: int, go: str = "") -> str:
    """Step ``arrive`` records its start, waits until ``n`` runs are inside it at once (a
    rendezvous) and, with ``go``, until that file exists; step ``leave`` records the end.
    Returns "met" if the rendezvous happened, "alone" if it timed out."""

    def arrive() -> str:
        append_line(f"{folder}/steps", f"{label}:arrive")
        append_line(f"{folder}/spans", f"start {label} {time.time():.6f} {threading.get_ident()}")
        met = _wait_for(lambda: len(arrived(folder)) >= n, PATIENCE_SECONDS)
        if go:
            _wait_for(Path(go).exists, PATIENCE_SECONDS)
        append_line(f"{folder}/spans", f"end {label} {time.time():.6f} {threading.get_ident()}")
        return "met" if met else "alone"

    result = str(ctx.step("arrive", arrive, idempotent=True))
    ctx.step("leave", append_line, f"{folder}/steps", f"{label}:leave", idempotent=True)
    return result


@job(name="tests.slots.quick")
def quick(ctx: JobContext, folder: str, label: str) -> str:
    """One step that records its label."""
    ctx.step("only", append_line, f"{folder}/steps", f"{label}:only", idempotent=True)
    return label
