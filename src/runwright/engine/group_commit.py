"""Group commit: consecutive idempotent steps of one run share one commit (opt-in per job).

A durable step normally costs one commit: the step counts only once its record is on disk.
A job declared with ``@job(group_commit=True)`` lets completed idempotent steps wait in memory
and go to the database together, in one transaction, much as Temporal records local
activities with the next workflow task. The buffer is flushed, before anything else reaches
the store for this run, by:

- any other store call made for the run: a non-idempotent step (its write-ahead record), a
  failed or retried step, a child start, a note, evidence, a read, parking, the run's end or
  its hand-back;
- the buffer growing to ``max_steps`` steps, or its oldest step being ``max_seconds`` old
  (checked when a step completes).

So a crash loses at most the steps still in the buffer; they were idempotent and run again
when the run is recovered. A non-idempotent step never runs again: its write-ahead record is
written (after every earlier step) before it is called. See docs/durability.md.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from runwright.domain.commit_policy import GroupCommit
from runwright.domain.states import StepState
from runwright.store.core import Lease, StepOutcome, SystemDatabase
from runwright.store.types import dumps


class GroupedStore:
    """The store as one run's execution sees it under group commit.

    ``finish_step`` of a completed idempotent step is buffered; every other call first writes
    the buffer (one transaction) and then goes to the store.
    """

    def __init__(self, store: SystemDatabase, lease: Lease, policy: GroupCommit):
        self._store = store
        self._lease = lease
        self._policy = policy
        self._pending: list[StepOutcome] = []
        self._oldest = 0.0
        self._last_now: datetime | None = None

    @property
    def pending(self) -> int:
        """Steps waiting for the shared commit."""
        return len(self._pending)

    def finish_step(self, lease: Lease, outcome: StepOutcome, now: datetime) -> None:
        """Buffer a completed idempotent step of this run; record anything else at once."""
        a = outcome.attempt
        shareable = (
            lease is self._lease
            and not outcome.begun
            and a.state == StepState.COMPLETED
            and outcome.memo is not None
            and outcome.retry_at is None
        )
        if not shareable:
            self.flush()
            self._store.finish_step(lease, outcome, now)
            return
        assert outcome.memo is not None
        # Refuse a result that cannot be stored now, as recording it at once would.
        dumps(outcome.memo.result, what=f"result of step {outcome.memo.step_key!r}")
        if not self._pending:
            self._oldest = time.monotonic()
        self._pending.append(outcome)
        self._last_now = now
        policy = self._policy
        if (
            len(self._pending) >= policy.max_steps
            or time.monotonic() - self._oldest >= policy.max_seconds
        ):
            self.flush()

    def flush(self) -> None:
        """Write every buffered step in one transaction (nothing to do if none waits)."""
        if not self._pending:
            return
        outcomes, self._pending = self._pending, []
        assert self._last_now is not None
        self._store.finish_steps(self._lease, outcomes, self._last_now)

    def waiting(self) -> list[StepOutcome]:
        """The steps waiting, to be recorded in the transaction that ends the run (they stay
        here until ``discard``: if that transaction fails they are still to be written)."""
        return list(self._pending)

    def discard(self) -> int:
        """Forget the buffer (the lease is lost: nothing may be written); how many were lost."""
        lost = len(self._pending)
        self._pending = []
        return lost

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        def flushed_first(*args: Any, **kwargs: Any) -> Any:
            self.flush()
            return attr(*args, **kwargs)

        return flushed_first
