"""Jobs that leave evidence with colliding names, for `runwright evidence show`."""

from __future__ import annotations

from runwright.engine.context import JobContext
from runwright.engine.registry import job


@job(name="tests.two_logs")
def two_logs(ctx: JobContext) -> None:
    """Attaches two different logs that share a label and a file name."""
    ctx.attach("first", b"first log\nline two\n", name="run.log", label="log")
    ctx.attach("second", b"second log\n", name="other/run.log", label="log")
    ctx.attach("table", b"a,b\n1,2\n", name="table.csv", label="table")
