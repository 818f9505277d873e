"""Run-end hooks: every path that ends a run calls them once, in the transaction that ends it
(SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import engine_jobs as jobs
import pytest
from sqlalchemy import Column, Connection, MetaData, String, Table, func, select

from runwright.api.client import Client
from runwright.domain.states import RunState, StateReason
from runwright.engine.clock import FakeClock
from runwright.store.core import (
    NewRun,
    RunEnd,
    RunEndFailed,
    RunEndHook,
    on_run_end,
    remove_run_end_hook,
)
from runwright.store.schema import runs

_meta = MetaData()
seen = Table(
    "test_run_end_seen",
    _meta,
    Column("run_id", String(64), nullable=False),  # no key: a second call would show
    Column("state", String(32), nullable=False),
    Column("reason", String(300)),
    Column("stored_state", String(32), nullable=False),
)
JOBS = ("tests.leaf", "tests.slow", "tests.deadline")


class Broken(Exception):
    """What the failing hook raises."""


@pytest.fixture
def hooked(client: Client) -> Iterator[Client]:
    """``client`` with a hook on the test jobs that records each end it sees in a table."""
    _meta.create_all(client.store.db.engine)

    def record(conn: Connection, end: RunEnd) -> None:
        stored = conn.execute(select(runs.c.state).where(runs.c.run_id == end.run_id)).scalar()
        conn.execute(
            seen.insert().values(
                run_id=end.run_id,
                state=end.state.value,
                reason=end.reason,
                stored_state=str(stored),
            )
        )

    for name in JOBS:
        on_run_end(record, job=name)
    try:
        yield client
    finally:
        remove_run_end_hook(record)


@pytest.fixture
def failing_hooks() -> Iterator[list[RunEndHook]]:
    """The failing hooks a test registers (``breaks_on``), removed after it."""
    added: list[RunEndHook] = []
    yield added
    for hook in added:
        remove_run_end_hook(hook)


def breaks_on(states: set[RunState], added: list[RunEndHook]) -> None:
    """Register a hook on ``tests.leaf`` that raises for an end in one of ``states``."""

    def hook(_conn: Connection, end: RunEnd) -> None:
        if end.state in states:
            raise Broken(f"no end for {end.run_id}")

    on_run_end(hook, job="tests.leaf")
    added.append(hook)


def ends(client: Client, run_id: str) -> list[tuple[str, str | None, str]]:
    """What the recording hook saw for ``run_id``: (state, reason, state stored in its
    transaction), one tuple per call."""
    with client.store.db.engine.connect() as conn:
        rows = conn.execute(
            select(seen.c.state, seen.c.reason, seen.c.stored_state).where(seen.c.run_id == run_id)
        ).all()
    return [(r.state, r.reason, r.stored_state) for r in rows]


def calls(client: Client) -> int:
    """How many times the recording hook ran, for any run."""
    with client.store.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(seen)).scalar_one())


def drain(client: Client) -> None:
    """Run everything ready in this process."""
    client.worker(register=False, tickers=[]).run(until_idle=True)


def test_a_success_calls_the_hook_once_in_its_transaction(hooked: Client, tmp_path: Path) -> None:
    """A run its worker ends with success: one call, seeing the succeeded row it wrote."""
    run = hooked.start(jobs.leaf, str(tmp_path / "log"), "a")
    assert ends(hooked, run.run_id) == []
    drain(hooked)
    assert ends(hooked, run.run_id) == [("succeeded", None, "succeeded")]


def test_a_failure_calls_the_hook_once(hooked: Client, tmp_path: Path) -> None:
    """A job that raises: one call with the failed state."""
    run = hooked.start(jobs.leaf, str(tmp_path / "log"), "a", True)
    drain(hooked)
    assert hooked.get(run.run_id).state is RunState.FAILED
    assert [e[0] for e in ends(hooked, run.run_id)] == ["failed"]
    assert ends(hooked, run.run_id)[0][2] == "failed"


def test_cancelling_a_pending_run_calls_the_hook_once(hooked: Client, tmp_path: Path) -> None:
    """A pending run cancelled by hand ends in the cancel's transaction; a worker finds
    nothing to do and the hook is not called again."""
    run = hooked.start(jobs.leaf, str(tmp_path / "log"), "a")
    hooked.cancel(run.run_id)
    assert ends(hooked, run.run_id) == [("canceled", StateReason.CANCEL_REQUESTED, "canceled")]
    drain(hooked)
    assert calls(hooked) == 1


def test_cancelling_a_running_run_calls_the_hook_when_its_worker_ends_it(
    hooked: Client, tmp_path: Path
) -> None:
    """The cancel of a running run only asks its worker; the hook runs once, when the worker
    records the cancel."""
    log = tmp_path / "log"
    run = hooked.start(jobs.slow_job, str(log), 60.0, None)
    worker = hooked.worker(register=False, tickers=[], lease_seconds=0.6)

    def cancel() -> None:
        hooked.cancel(run.run_id)
        assert ends(hooked, run.run_id) == [], "asking the worker to stop is not an end"

    threading.Timer(0.3, cancel).start()
    worker.run(until_idle=True)
    assert hooked.get(run.run_id).state is RunState.CANCELED
    assert ends(hooked, run.run_id) == [("canceled", StateReason.CANCEL_REQUESTED, "canceled")]


def test_a_failed_dependency_calls_the_hook_of_each_dependent_once(
    hooked: Client, tmp_path: Path
) -> None:
    """A run fails; the run depending on it is cancelled in the same transaction and a run
    created later on the failed one is born cancelled: one call each."""
    log = str(tmp_path / "log")
    first = hooked.start(jobs.leaf, log, "a", True)
    spec = NewRun(
        job_name="tests.leaf",
        project_id=first.project_id,
        kwargs={"path": log, "label": "b"},
        depends_on=(first.run_id,),
    )
    second = hooked.store.create_run(spec, hooked.clock.now())
    drain(hooked)
    assert [e[0] for e in ends(hooked, first.run_id)] == ["failed"]
    [(state, reason, stored)] = ends(hooked, second.run_id)
    assert (state, stored) == ("canceled", "canceled")
    assert reason == f"{StateReason.DEPENDENCY_FAILED}:{first.run_id}"
    late = hooked.store.create_run(
        NewRun(
            job_name="tests.leaf",
            project_id=first.project_id,
            kwargs={"path": log, "label": "c"},
            depends_on=(first.run_id,),
        ),
        hooked.clock.now(),
    )
    assert late.state is RunState.CANCELED
    assert [e[0] for e in ends(hooked, late.run_id)] == ["canceled"]
    drain(hooked)
    assert calls(hooked) == 3


def test_a_run_over_its_timebox_calls_the_hook_once(hooked: Client, tmp_path: Path) -> None:
    """A run stopped by its own timeout ends failed over its timebox: one call with that
    reason."""
    run = hooked.start(jobs.deadline_job, str(tmp_path / "log"))
    drain(hooked)
    assert ends(hooked, run.run_id) == [("failed", StateReason.OVER_TIMEBOX, "failed")]


def test_a_hook_that_raises_undoes_a_cancel(
    hooked: Client, tmp_path: Path, failing_hooks: list[RunEndHook]
) -> None:
    """The cancel fails with the hook's error and nothing of it is kept: the run is still
    pending, its log unchanged, the recording hook's row gone with the transaction."""
    run = hooked.start(jobs.leaf, str(tmp_path / "log"), "a")
    events = len(hooked.events(run.run_id))
    breaks_on({RunState.CANCELED}, failing_hooks)
    with pytest.raises(RunEndFailed, match="no end for"):
        hooked.cancel(run.run_id)
    assert hooked.get(run.run_id).state is RunState.PENDING
    assert len(hooked.events(run.run_id)) == events
    assert calls(hooked) == 0


def test_a_hook_that_raises_undoes_a_worker_end_until_it_works(
    hooked: Client, clock: FakeClock, tmp_path: Path, failing_hooks: list[RunEndHook]
) -> None:
    """The worker's end is rolled back: the run stays running under its lease (the execution
    is abandoned); once the hook works, the run's next execution ends it, with one call."""
    run = hooked.start(jobs.leaf, str(tmp_path / "log"), "a")
    breaks_on({RunState.SUCCEEDED}, failing_hooks)
    drain(hooked)
    assert hooked.get(run.run_id).state is RunState.RUNNING
    assert calls(hooked) == 0
    remove_run_end_hook(failing_hooks.pop())
    clock.advance(hooked.settings.lease_seconds + 1)
    drain(hooked)
    assert hooked.get(run.run_id).state is RunState.SUCCEEDED
    assert ends(hooked, run.run_id) == [("succeeded", None, "succeeded")]


def test_a_hook_that_raises_in_a_cascade_undoes_the_end_that_caused_it(
    hooked: Client, clock: FakeClock, tmp_path: Path, failing_hooks: list[RunEndHook]
) -> None:
    """A dependent's hook raises while the failure of its dependency cancels it: the
    failure itself is not recorded either (one transaction)."""
    log = str(tmp_path / "log")
    first = hooked.start(jobs.leaf, log, "a", True)
    spec = NewRun(
        job_name="tests.leaf",
        project_id=first.project_id,
        kwargs={"path": log, "label": "b"},
        depends_on=(first.run_id,),
    )
    second = hooked.store.create_run(spec, hooked.clock.now())
    breaks_on({RunState.CANCELED}, failing_hooks)
    drain(hooked)
    assert hooked.get(first.run_id).state is RunState.RUNNING
    assert hooked.get(second.run_id).state is RunState.PENDING
    assert calls(hooked) == 0


def test_a_hook_is_registered_for_a_job_name_or_a_run_kind() -> None:
    """Registering needs exactly one of a job name and a run kind."""

    def hook(_conn: Connection, _end: RunEnd) -> None:
        return None

    with pytest.raises(ValueError, match="job name or a run kind"):
        on_run_end(hook)
