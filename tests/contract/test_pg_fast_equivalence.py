"""Store contract: a finished step writes the same rows on the fast and on the general path.

On PostgreSQL ``finish_step`` records a step that was not begun in one statement of
data-modifying CTEs (``store/core/pg_fast.py``); when that statement's fence or chain head does not
match, and always on SQLite, the general path runs (``advance`` and the inserts, in one
transaction). Each test drives the same outcomes, with the same ids and times, through both
paths on two identical databases (the general one with the fast path switched off) and then
compares every row of ``runs``, ``run_events`` (payloads and hashes included),
``step_attempts``, ``step_results`` and ``evidence``.

Event ids come from a counter both sides restart from, so the two logs carry the same ids and
their hashes must match byte for byte. When the fast statement did not match, the ids it drew
are given back before the general path runs, so a fallback keeps the two sides' ids in step.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select

from runwright.domain.events import EventKind, verify_chain
from runwright.domain.evidence import EvidenceCounts, EvidenceLink
from runwright.domain.failures import Failure
from runwright.domain.runs import StepAttempt, StepOutputs, StepResult
from runwright.domain.states import StepState
from runwright.errors import LeaseLost
from runwright.store.core import chain
from runwright.store.core.chain import NewEvent
from runwright.store.core.records import Lease, StepOutcome
from runwright.store.core.system_database import SystemDatabase
from runwright.store.database import Database
from runwright.store.schema import evidence, run_events, runs, step_attempts, step_results
from tests import pg
from tests.conftest import BACKENDS
from tests.contract.helpers import T0, at, claim, new_run

RUN_ID = "01JRN00000000000000000000A"
TABLES: list[tuple[Table, tuple[str, ...]]] = [
    (runs, ("run_id",)),
    (run_events, ("run_id", "seq")),
    (step_attempts, ("run_id", "sequence")),
    (step_results, ("run_id", "step_key")),
    (evidence, ("evidence_id",)),
]


class _Ids:
    """A deterministic stand-in for ``new_id`` in the event chain: ULIDs from a counter."""

    def __init__(self) -> None:
        self.drawn = 0

    def restart(self) -> None:
        self.drawn = 0

    def __call__(self) -> str:
        self.drawn += 1
        return f"01JEVT{self.drawn:020d}"


@dataclass
class Side:
    """One of the two databases, its store, and what its fast path answered."""

    name: str
    store: SystemDatabase
    fast_answers: list[bool] = field(default_factory=list)


@dataclass
class Pair:
    """The two sides: ``fast`` keeps the fast path (PostgreSQL), ``general`` never takes it."""

    backend: str
    fast: Side
    general: Side
    ids: _Ids


def _open(url: str) -> SystemDatabase:
    return SystemDatabase(Database(url))


@pytest.fixture(params=BACKENDS)
def pair(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Pair]:
    """Two identical, migrated databases of one backend, each with its store."""
    backend = str(request.param)
    urls: list[str] = []
    cleanup: list[Callable[[], None]] = []
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        for name in ("fast", "general"):
            target = tmp_path / f"{name}.db"
            shutil.copyfile(template, target)
            urls.append(f"sqlite:///{target}")
    else:
        base = request.getfixturevalue("pg_base_url")
        schemas = request.getfixturevalue("pg_schemas")
        template = request.getfixturevalue("pg_template")
        for _ in range(2):
            schema = schemas.create(template)
            cleanup.append(functools.partial(schemas.drop, schema))
            urls.append(pg.schema_url(base, schema))
    ids = _Ids()
    monkeypatch.setattr(chain, "new_id", ids)
    fast, general = Side("fast", _open(urls[0])), Side("general", _open(urls[1]))

    real_fast = fast.store._record_step_fast

    def spy(
        lease: Lease,
        outcome: StepOutcome,
        events: list[NewEvent],
        deltas: dict[str, int],
        now: datetime,
    ) -> bool:
        drawn = ids.drawn
        answer = real_fast(lease, outcome, events, deltas, now)
        fast.fast_answers.append(answer)
        if not answer:
            ids.drawn = drawn  # nothing was written: the general path draws these ids again
        return answer

    def switched_off(
        lease: Lease,
        outcome: StepOutcome,
        events: list[NewEvent],
        deltas: dict[str, int],
        now: datetime,
    ) -> bool:
        general.fast_answers.append(False)
        return False

    monkeypatch.setattr(fast.store, "_record_step_fast", spy)
    monkeypatch.setattr(general.store, "_record_step_fast", switched_off)
    try:
        yield Pair(backend, fast, general, ids)
    finally:
        for side in (fast, general):
            side.store.db.dispose()
        for drop in cleanup:
            drop()


def _attempt(
    lease: Lease,
    key: str,
    sid: int,
    now: datetime,
    *,
    state: StepState = StepState.COMPLETED,
    attempt: int = 1,
    failure: Failure | None = None,
    outputs: StepOutputs | None = None,
) -> StepAttempt:
    lease.step_sequence += 1
    return StepAttempt(
        step_attempt_id=f"01JATT{sid:020d}",
        run_id=lease.run_id,
        sequence=lease.step_sequence,
        tool_id="tests:step",
        state=state,
        started_at=now,
        ended_at=now,
        step_key=key,
        attempt=attempt,
        idempotent=True,
        failure=failure,
        worker_id=lease.worker_id,
        outputs=outputs or StepOutputs(),
    )


def _memo(a: StepAttempt, result: Any, now: datetime) -> StepResult:
    return StepResult(
        run_id=a.run_id,
        step_key=a.step_key,
        status="completed",
        result=result,
        step_attempt_id=a.step_attempt_id,
        completed_at=now,
    )


def _link(lease: Lease, a: StepAttempt, n: int, now: datetime, **kw: Any) -> EvidenceLink:
    return EvidenceLink(
        evidence_id=f"01JEVD{n:020d}",
        run_id=lease.run_id,
        step_attempt_id=a.step_attempt_id,
        artifact_path=f"out/report-{n}.csv",
        sha256=hashlib.sha256(f"artifact {n}".encode()).hexdigest(),
        created_at=now,
        **{"size": 1234 * n, **kw},
    )


def _start(side: Side, ids: _Ids) -> Lease:
    ids.restart()
    side.store.create_run(new_run(run_id=RUN_ID, kwargs={"n": 1}), T0)
    return claim(side.store, "w1", at(0.5))


def _rows(store: SystemDatabase) -> dict[str, list[dict[str, Any]]]:
    """Every row of the compared tables, ordered by key."""
    with store.db.transaction(write=False) as conn:
        return {
            table.name: [
                dict(r._mapping)
                for r in conn.execute(select(table).order_by(*(table.c[k] for k in order)))
            ]
            for table, order in TABLES
        }


def _assert_same_rows(p: Pair) -> dict[str, list[dict[str, Any]]]:
    """Both databases hold the same rows, and each log's chain verifies; return the rows."""
    fast, general = _rows(p.fast.store), _rows(p.general.store)
    for table, _ in TABLES:
        left, right = fast[table.name], general[table.name]
        assert len(left) == len(right), f"{table.name}: {len(left)} rows against {len(right)}"
        diffs = [
            f"{table.name}[{i}].{col}: fast {a[col]!r} != general {b[col]!r}"
            for i, (a, b) in enumerate(zip(left, right, strict=True))
            for col in a
            if a[col] != b[col]
        ]
        assert not diffs, "\n".join(diffs)
    for side in (p.fast, p.general):
        assert verify_chain(side.store.list_events(RUN_ID)) == [], side.name
    return fast


def _expect_fast(p: Pair, answers: list[bool]) -> None:
    """PostgreSQL took (or tried) the fast path as expected; SQLite never does."""
    assert p.fast.fast_answers == (answers if p.backend == "postgres" else [])
    assert p.general.fast_answers == ([False] * len(answers) if p.backend == "postgres" else [])


def test_a_completed_step_with_its_memo_is_written_alike(pair: Pair) -> None:
    """An idempotent step that completed: its attempt, memo, event, counters and chain head
    (with a payload of quotes, backslashes and non-ASCII text, and step outputs) are the
    same rows on the fast and the general path."""
    for side in (pair.fast, pair.general):
        lease = _start(side, pair.ids)
        now = at(1.234567)
        a = _attempt(
            lease,
            "fetch",
            1,
            now,
            outputs=StepOutputs(patch_ids=["01JPAT00000000000000000001"], logs_path="l/1.log"),
        )
        result = {"rows": 3, "text": 'naïve "quoted" \\ back\nslash ☃', "none": None}
        outcome = StepOutcome(attempt=a, memo=_memo(a, result, now), extra={"cached": False})
        side.store.finish_step(lease, outcome, now)
    _expect_fast(pair, [True])
    rows = _assert_same_rows(pair)
    assert [e["kind"] for e in rows["run_events"]][-1] == EventKind.TOOL_CALL_COMPLETED.value
    assert rows["runs"][0]["step_attempts"] == 1
    assert rows["runs"][0]["errors"] == 0
    assert rows["runs"][0]["event_seq"] == rows["run_events"][-1]["seq"]
    assert rows["runs"][0]["last_event_hash"] == rows["run_events"][-1]["hash"]
    assert len(rows["step_results"]) == 1


def test_a_failed_step_counts_an_error_and_writes_no_memo_alike(pair: Pair) -> None:
    """A failed step without a memo: the errors counter, the error event's payload and the
    attempt's failure are the same on both paths, and neither writes a step result."""
    for side in (pair.fast, pair.general):
        lease = _start(side, pair.ids)
        now = at(2.000001)
        failure = Failure(
            type="ValueError",
            message="bad\x00 input: ü" + "x" * 600,  # the event keeps 500 characters
            details={"field": "amount", "code": 7},
            stack="Traceback (most recent call last):\n  ...\nValueError: bad input",
        )
        a = _attempt(lease, "charge", 1, now, state=StepState.ERROR, failure=failure)
        side.store.finish_step(lease, StepOutcome(attempt=a), now)
    _expect_fast(pair, [True])
    rows = _assert_same_rows(pair)
    assert rows["runs"][0]["errors"] == 1
    assert rows["step_results"] == []
    assert rows["run_events"][-1]["kind"] == EventKind.TOOL_CALL_ERROR.value


def test_a_step_that_failed_for_good_with_a_failed_memo_is_written_alike(pair: Pair) -> None:
    """A non-retryable failure memoized as failed (the memo's failure, not a result) writes the
    same attempt, memo, event and counters on both paths."""
    for side in (pair.fast, pair.general):
        lease = _start(side, pair.ids)
        now = at(5)
        failure = Failure(type="Refused", message="card declined", non_retryable=True)
        a = _attempt(lease, "pay", 1, now, state=StepState.ERROR, failure=failure)
        memo = StepResult(
            run_id=a.run_id,
            step_key="pay",
            status="failed",
            failure=failure,
            step_attempt_id=a.step_attempt_id,
            completed_at=now,
        )
        side.store.finish_step(lease, StepOutcome(attempt=a, memo=memo), now)
    _expect_fast(pair, [True])
    rows = _assert_same_rows(pair)
    assert rows["runs"][0]["errors"] == 1
    assert [r["status"] for r in rows["step_results"]] == ["failed"]


def test_a_step_with_evidence_links_is_written_alike(pair: Pair) -> None:
    """Evidence rows (counts, optional fields, sizes, times) and the event's evidence ids and
    digests are the same on both paths."""
    for side in (pair.fast, pair.general):
        lease = _start(side, pair.ids)
        now = at(3.5)
        a = _attempt(lease, "report", 1, now)
        links = (
            _link(lease, a, 1, now, label="stdout", counts=EvidenceCounts(lines=10, rows=9)),
            _link(
                lease,
                a,
                2,
                at(3.25),
                media_type="text/csv",
                size=5_000_000_000,  # past 32 bits
                manifest_path="m.json",
                log_path="run.log",
                commit_hash="a" * 40,
                sheet_row="Sheet1!A2",
            ),
        )
        outcome = StepOutcome(attempt=a, memo=_memo(a, [1, 2], now), evidence=links)
        side.store.finish_step(lease, outcome, now)
    _expect_fast(pair, [True])
    rows = _assert_same_rows(pair)
    assert len(rows["evidence"]) == 2


def test_a_retry_scheduled_after_a_failure_is_written_alike(pair: Pair) -> None:
    """A failed attempt with a retry time writes two events (the error, then the scheduled
    retry) chained the same way on both paths; a later attempt that succeeds follows."""
    for side in (pair.fast, pair.general):
        lease = _start(side, pair.ids)
        first = _attempt(
            lease,
            "flaky",
            1,
            at(4),
            state=StepState.ERROR,
            failure=Failure(type="TimeoutError", message="timed out"),
        )
        side.store.finish_step(lease, StepOutcome(attempt=first, retry_at=at(9.75)), at(4))
        second = _attempt(lease, "flaky", 2, at(10), attempt=2)
        outcome = StepOutcome(attempt=second, memo=_memo(second, "ok", at(10)))
        side.store.finish_step(lease, outcome, at(10))
    _expect_fast(pair, [True, True])
    rows = _assert_same_rows(pair)
    kinds = [e["kind"] for e in rows["run_events"]][-3:]
    assert kinds == [
        EventKind.TOOL_CALL_ERROR.value,
        EventKind.STEP_RETRY_SCHEDULED.value,
        EventKind.TOOL_CALL_COMPLETED.value,
    ]
    assert rows["runs"][0]["step_attempts"] == 2
    assert rows["runs"][0]["errors"] == 1


def test_an_outside_event_sends_the_fast_path_to_the_general_one(pair: Pair) -> None:
    """When another writer appended to the log first, the fast statement writes nothing and
    answers False; the general path then re-chains after the outside event, so the rows are
    those of the general path alone."""
    for side in (pair.fast, pair.general):
        lease = _start(side, pair.ids)
        a = _attempt(lease, "a", 1, at(1))
        side.store.finish_step(lease, StepOutcome(attempt=a, memo=_memo(a, 1, at(1))), at(1))
        side.store.request_cancel(RUN_ID, at(2), by="operator")
        side.store.append_event(RUN_ID, EventKind.NOTE.value, {"message": "from outside"}, at(2))
        b = _attempt(lease, "b", 2, at(3))
        side.store.finish_step(lease, StepOutcome(attempt=b, memo=_memo(b, 2, at(3))), at(3))
        c = _attempt(lease, "c", 3, at(4))  # the lease's head is current again
        side.store.finish_step(lease, StepOutcome(attempt=c, memo=_memo(c, 3, at(4))), at(4))
    _expect_fast(pair, [True, False, True])
    rows = _assert_same_rows(pair)
    kinds = [e["kind"] for e in rows["run_events"]]
    assert kinds[-4:] == [
        EventKind.CANCEL_REQUESTED.value,
        EventKind.NOTE.value,
        EventKind.TOOL_CALL_COMPLETED.value,
        EventKind.TOOL_CALL_COMPLETED.value,
    ]
    assert [r["step_key"] for r in rows["step_results"]] == ["a", "b", "c"]


def test_a_lost_lease_writes_nothing_on_either_path(pair: Pair) -> None:
    """Under a lease another worker took over, the fast statement answers False and the
    general path raises LeaseLost; neither database gains a row."""
    for side in (pair.fast, pair.general):
        stale = _start(side, pair.ids)
        claim(side.store, "w2", at(31))
        a = _attempt(stale, "late", 1, at(32))
        with pytest.raises(LeaseLost):
            side.store.finish_step(stale, StepOutcome(attempt=a, memo=_memo(a, 0, at(32))), at(32))
    _expect_fast(pair, [False])
    rows = _assert_same_rows(pair)
    assert rows["step_attempts"] == []
    assert rows["step_results"] == []
