"""Reconciliation: finding out whether a call whose outcome is unknown took effect.

Two features ask: the engine, about a non-idempotent step that a lost worker left in flight
(``@step(reconcile=fn)``), and event workflows, about a mutation call in doubt
(``Tool.reconcile``). Both get the same verdict type and the same policy: the first attempt at
once, then each next one 10 s·2ⁿ⁻¹ after attempt n (capped at 10 minutes), each given 30 s to
answer; when the last attempt cannot tell either, a person decides. Only the number of attempts
differs, and each feature documents its own (docs/durability.md, docs/workflows.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from runwright.domain.retry import RetryPolicy


class Reconciled(StrEnum):
    """What a reconcile attempt found out.

    ``FAILED`` and ``RETRY`` are the workflow tools' names for ``NOT_APPLIED`` and ``UNKNOWN``
    (the same members).
    """

    APPLIED = "applied"
    NOT_APPLIED = "not_applied"
    UNKNOWN = "unknown"
    FAILED = "not_applied"
    RETRY = "unknown"


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    """A reconcile verdict: ``applied(result)``, ``not_applied()`` or ``unknown()``.

    ``Reconciliation`` is the same class under the name workflow tools use, with ``failed``
    for ``not_applied`` and ``retry`` for ``unknown``. ``reason`` says why, in a few words.
    """

    status: Reconciled
    result: Any = None
    reason: str = ""

    @classmethod
    def applied(cls, result: Any = None) -> ReconcileResult:
        """The effect is there; ``result`` is what the call would have returned."""
        return cls(Reconciled.APPLIED, result)

    @classmethod
    def not_applied(cls, reason: str = "") -> ReconcileResult:
        """The effect is certainly not there: a step runs again, a workflow's events are
        released and a fresh run may write again."""
        return cls(Reconciled.NOT_APPLIED, None, reason)

    @classmethod
    def unknown(cls, reason: str = "") -> ReconcileResult:
        """Cannot tell now: ask again later; after the last attempt a person decides."""
        return cls(Reconciled.UNKNOWN, None, reason)

    @classmethod
    def failed(cls, reason: str = "") -> ReconcileResult:
        """The write is certainly not there (``not_applied``, as workflow tools say it)."""
        return cls.not_applied(reason)

    @classmethod
    def retry(cls, reason: str = "") -> ReconcileResult:
        """Cannot tell now; ask again later (``unknown``, as workflow tools say it)."""
        return cls.unknown(reason)


#: The workflow tools' names for the verdict and its status (the same types).
Reconciliation = ReconcileResult
Verdict = Reconciled


@dataclass(frozen=True, slots=True)
class ReconcilePolicy:
    """How often an outcome in doubt is looked up before a person decides.

    ``backoff.max_attempts`` attempts at most, the first at once; after attempt ``n`` the next
    waits ``backoff.delay_after(n)`` (the step retry backoff); each attempt may take ``timeout``
    seconds before it counts as "cannot tell".
    """

    backoff: RetryPolicy
    timeout: float = 30.0

    @property
    def max_attempts(self) -> int:
        """Attempts in all, the first included."""
        return self.backoff.max_attempts

    def delay(self, attempt: int) -> float:
        """Seconds between attempt ``attempt`` (1-based) and the next."""
        return self.backoff.delay_after(attempt)

    def exhausted(self, attempt: int) -> bool:
        """True when attempt ``attempt`` was the last: a person decides what happened."""
        return attempt >= self.backoff.max_attempts


def reconcile_policy(max_attempts: int) -> ReconcilePolicy:
    """The reconcile policy with ``max_attempts`` attempts: 10 s·2ⁿ⁻¹ apart, ≤ 10 minutes."""
    return ReconcilePolicy(
        RetryPolicy(max_attempts=max_attempts, initial_interval=10.0, max_interval=600.0)
    )


#: A step a lost worker left in flight: asked when the next worker takes the run over, then
#: 10 s, 20 s, 40 s and 80 s after the attempt before (5 in all).
STEP_RECONCILE = reconcile_policy(5)
#: A workflow mutation in doubt: asked at once in the run that made the call (inline), then
#: 10 s, 20 s, 40 s, 80 s and 160 s after the attempt before (6 in all; the ledger's
#: ``reconcile_attempts`` counts each). *Try again* in the inbox starts over at attempt 1.
MUTATION_RECONCILE = reconcile_policy(6)
