"""Jobs used by the engine tests; importable by worker subprocesses too (tests/jobs on the path)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import runwright
from runwright import (
    ChildSpec,
    JobContext,
    NonRetryableError,
    ReconcileResult,
    RetryPolicy,
    job,
    step,
)


class SimulatedCrash(BaseException):
    """Raised to make a worker stop dead, as if killed."""


def append_line(path: str, line: str) -> None:
    """Append one line with a single O_APPEND write (atomic for short lines)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def lines(path: str) -> list[str]:
    """The lines of a file, or [] if it does not exist."""
    p = Path(path)
    return p.read_text().splitlines() if p.exists() else []


@step(idempotent=True)
def record(path: str, line: str) -> str:
    """An idempotent step that logs that it ran."""
    append_line(path, line)
    return line


@step(idempotent=True)
def record_or_crash(path: str, line: str, flag: str) -> str:
    """Logs, then dies (once) if ``flag`` exists, the way a SIGKILL would stop a worker."""
    append_line(path, line)
    if os.path.exists(flag):
        os.remove(flag)
        raise SimulatedCrash()
    return line


@job(name="tests.three_steps")
def three_steps(ctx: JobContext, path: str, flag: str) -> list[str]:
    """Three idempotent steps; the third may crash the worker once."""
    a = ctx.step("one", record, path, "one")
    b = ctx.step("two", record, path, "two")
    c = ctx.step("three", record_or_crash, path, "three", flag)
    return [a, b, c]


def _reconcile_line(path: str, line: str, flag: str, mode: str) -> ReconcileResult:
    if mode == "unknown":
        return ReconcileResult.unknown()
    if line in lines(path):
        return ReconcileResult.applied(f"reconciled:{line}")
    return ReconcileResult.not_applied()


def charge(path: str, line: str, flag: str, mode: str) -> str:
    """A non-idempotent step (a payment, say) that may crash the worker once."""
    if mode != "crash-before":
        append_line(path, line)
    if os.path.exists(flag):
        os.remove(flag)
        raise SimulatedCrash()
    if mode == "crash-before":
        append_line(path, line)
    return f"done:{line}"


@job(name="tests.charge")
def charge_job(ctx: JobContext, path: str, flag: str, mode: str) -> Any:
    """One non-idempotent step, with or without a reconcile function."""
    reconcile = None if mode == "none" else _reconcile_line
    return ctx.step("charge", charge, path, "charged", flag, mode, reconcile=reconcile)


@job(name="tests.flaky")
def flaky_job(ctx: JobContext, path: str, fail_times: int) -> str:
    """A step that fails ``fail_times`` times, then succeeds."""

    def attempt() -> str:
        append_line(path, "try")
        if len(lines(path)) <= fail_times:
            raise ConnectionError(f"try {len(lines(path))} failed")
        return "finally"

    return str(
        ctx.step(
            "flaky",
            attempt,
            idempotent=True,
            retry=RetryPolicy(max_attempts=4, initial_interval=1, backoff=2, max_interval=60),
        )
    )


@job(name="tests.fatal")
def fatal_job(ctx: JobContext, kind: str) -> str:
    """Fails with a non-retryable error of the given kind."""

    def boom() -> str:
        if kind == "nonretryable":
            raise NonRetryableError("card declined")
        raise KeyError("no such customer")

    policy = RetryPolicy(max_attempts=5, initial_interval=0, non_retryable=("KeyError",))
    return str(ctx.step("boom", boom, idempotent=True, retry=policy))


@job(name="tests.handles_failure")
def handles_failure(ctx: JobContext, path: str) -> str:
    """Catches a step's final failure; on replay the failure is not re-executed."""

    def bad() -> None:
        append_line(path, "bad ran")
        raise NonRetryableError("nope")

    try:
        ctx.step("bad", bad, idempotent=True)
    except runwright.StepFailed as exc:
        ctx.step("after", record, path, "after")
        return f"handled {exc.failure_type}"
    return "unreachable"


@job(name="tests.slow")
def slow_job(ctx: JobContext, path: str, seconds: float, timeout: float | None) -> str:
    """A step that sleeps, then writes a marker; a timeout should stop it first."""

    def sleepy() -> str:
        time.sleep(seconds)
        append_line(path, "woke up")
        return "slept"

    return str(
        ctx.step(
            "sleepy",
            sleepy,
            idempotent=True,
            timeout=timeout,
            retry=RetryPolicy(max_attempts=2, initial_interval=0),
        )
    )


@job(name="tests.deadline", timeout=0.5)
def deadline_job(ctx: JobContext, path: str) -> str:
    """A run whose whole timebox (0.5 s) is shorter than its step."""

    def sleepy() -> str:
        time.sleep(10)
        append_line(path, "woke up")
        return "slept"

    return str(ctx.step("sleepy", sleepy, idempotent=True))


@job(name="tests.leaf")
def leaf(ctx: JobContext, path: str, label: str, fail: bool = False) -> str:
    """A child that logs its label (and fails if asked)."""
    ctx.step("log", record, path, label)
    if fail:
        raise ValueError(f"{label} failed")
    return label


@job(name="tests.dag", max_parallel=3)
def dag_job(ctx: JobContext, path: str, layers: int, width: int, fail_label: str = "") -> list[str]:
    """A DAG: each layer depends on the whole previous one; waits for everything."""
    prev: list[str] = []
    every: list[str] = []
    for layer in range(layers):
        labels = [f"L{layer}-{k}" for k in range(width)]
        ids = ctx.start_children(
            f"layer{layer}",
            [ChildSpec(leaf, (path, lab, lab == fail_label), depends_on=prev) for lab in labels],
        )
        every += ids
        prev = ids
    return [str(r) for r in ctx.wait(*every)]


@job(name="tests.sleeper")
def sleeper(ctx: JobContext, seconds: float) -> str:
    """Sleeps durably, then finishes."""
    ctx.sleep("nap", seconds)
    return "rested"


@job(name="tests.bad_result")
def bad_result(ctx: JobContext) -> object:
    """Returns something that is not JSON."""
    return {1, 2, 3}


@job(name="tests.dup_keys")
def dup_keys(ctx: JobContext, path: str) -> None:
    """Uses one step key twice (a bug the engine must catch)."""
    ctx.step("same", record, path, "a")
    ctx.step("same", record, path, "b")


@job(name="tests.evidence")
def evidence_job(ctx: JobContext, folder: str) -> str:
    """Writes a CSV in a step and attaches it from inside the step."""

    def write() -> str:
        out = Path(folder) / "out.csv"
        out.write_text("a,b\n1,2\n3,4\n")
        link = runwright.attach_evidence(out, label="table")
        return link.sha256

    sha = str(ctx.step("write", write, idempotent=True))
    ctx.attach("note", b"checked by hand\n", name="note.txt")
    return sha


STOP_HOOK: dict[str, Any] = {}


@job(name="tests.stop_midway")
def stop_midway(ctx: JobContext, path: str) -> str:
    """Asks the worker to stop during step one; step two runs on the next worker."""

    def first() -> str:
        append_line(path, "first")
        STOP_HOOK["worker"].stop()
        return "first"

    ctx.step("first", first, idempotent=True)
    ctx.step("second", record, path, "second")
    return "both"


@job(name="tests.waits_on_stranger")
def waits_on_stranger(ctx: JobContext, other_run_id: str) -> object:
    """Waits on a run that is not its child (not allowed: nothing would wake it)."""
    return ctx.wait(other_run_id)


@job(name="tests.finishes_with")
def finishes_with(ctx: JobContext, fail: bool) -> str:
    """Ends by handing the engine a finisher that appends a note to the run's own log (as a
    workflow commit does) and, with ``fail``, then raises."""
    from runwright.domain.events import EventKind as Kind
    from runwright.store.core.chain import NewEvent
    from runwright.store.workflows.common import fence

    lease, now = ctx.lease, ctx.now()

    def finisher(conn: Any) -> None:
        fence(conn, lease).append(conn, [NewEvent(Kind.NOTE, {"message": "finisher"})], now)
        if fail:
            raise ValueError("the finisher refused")

    ctx.finish_with(finisher)
    return "done"
