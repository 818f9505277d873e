"""Jobs for the tests of runwright.testing (importable by any worker)."""

from __future__ import annotations

import itertools

from runwright import JobContext, job


@job(name="tests.naps_forever")
def naps_forever(ctx: JobContext) -> None:
    """Sleeps a minute at a time, forever: it never becomes idle."""
    for i in itertools.count():
        ctx.sleep(f"nap:{i}", 60)


@job(name="tests.naps_twice")
def naps_twice(ctx: JobContext) -> str:
    """Sleeps a day, then an hour, then finishes with the time it woke."""
    ctx.sleep("day", 86_400)
    ctx.sleep("hour", 3_600)
    return ctx.now().isoformat()
