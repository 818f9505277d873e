"""The mutation ledger: statuses, their transitions and human actions.

How often a write in doubt is reconciled is ``MUTATION_RECONCILE`` (domain.reconcile).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from runwright.domain.workflows.phases import MutationOutcome
from runwright.errors import Conflict, InvalidTransition, ValidationError


class MutationStatus(StrEnum):
    """Where a ledger row is. ``applied``, ``failed`` and ``skipped`` are terminal."""

    IN_FLIGHT = "in_flight"
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"
    NEEDS_RECONCILE = "needs_reconcile"
    INDETERMINATE = "indeterminate"


MUTATION_TRANSITIONS: dict[MutationStatus, frozenset[MutationStatus]] = {
    MutationStatus.IN_FLIGHT: frozenset(
        {
            MutationStatus.APPLIED,
            MutationStatus.FAILED,
            MutationStatus.NEEDS_RECONCILE,
            MutationStatus.INDETERMINATE,
        }
    ),
    MutationStatus.NEEDS_RECONCILE: frozenset(
        {
            MutationStatus.APPLIED,
            MutationStatus.FAILED,
            MutationStatus.NEEDS_RECONCILE,
            MutationStatus.INDETERMINATE,
        }
    ),
    MutationStatus.INDETERMINATE: frozenset(
        {MutationStatus.FAILED, MutationStatus.SKIPPED, MutationStatus.NEEDS_RECONCILE}
    ),
    MutationStatus.APPLIED: frozenset(),
    MutationStatus.FAILED: frozenset(),
    MutationStatus.SKIPPED: frozenset(),
}

UNRESOLVED = frozenset(
    {MutationStatus.IN_FLIGHT, MutationStatus.NEEDS_RECONCILE, MutationStatus.INDETERMINATE}
)


def check_mutation(
    current: MutationStatus | str, target: MutationStatus | str, *, mutation_id: str = ""
) -> MutationStatus:
    """Return ``target`` if the ledger row may move ``current → target``, else raise."""
    cur, nxt = MutationStatus(current), MutationStatus(target)
    if nxt not in MUTATION_TRANSITIONS[cur]:
        final = "" if MUTATION_TRANSITIONS[cur] else f" ({cur} is final)"
        raise InvalidTransition(
            f"mutation cannot move from {cur} to {nxt}{final}",
            hint="an applied, failed or skipped mutation is never changed again",
            mutation_id=mutation_id or None,
            current=str(cur),
            target=str(nxt),
        )
    return nxt


class ResolvedBy(StrEnum):
    """Who or what settled a mutation's outcome."""

    RECONCILIATION = "reconciliation"
    USER_ASSERT_FAILED = "user_assert_failed"
    USER_SKIP = "user_skip"
    USER_ASSERT_APPLIED = "user_assert_applied"


class HumanAction(StrEnum):
    """The three things a person can do with an indeterminate mutation."""

    TRY_AGAIN = "try-again"
    DID_NOT_HAPPEN = "did-not-happen"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a human action does to the ledger row and to its run's mutation outcome."""

    status: MutationStatus
    resolved_by: ResolvedBy | None
    outcome: MutationOutcome | None


def resolve_action(
    current: MutationStatus | str,
    action: HumanAction | str,
    *,
    can_reconcile: bool,
    mutation_id: str = "",
) -> Resolution:
    """Decide a human action on a mutation; only an ``indeterminate`` one can be resolved.

    *Try again* resets the reconcile attempts (offered only when the tool can reconcile);
    *it didn't happen* fails the mutation so a fresh run re-prepares; *skip* marks it
    ``skipped`` (whether or not the write happened, nobody acts on it again): the run's ``next``
    sees ``skipped`` and its events are never delivered again.
    """
    try:
        act = HumanAction(action)
    except ValueError:
        raise ValidationError(
            f"unknown action {action!r}",
            hint="use try-again, did-not-happen or skip",
            field="action",
        ) from None
    cur = MutationStatus(current)
    if cur is not MutationStatus.INDETERMINATE:
        raise Conflict(
            f"mutation {mutation_id} is {cur}, not indeterminate",
            hint="only a mutation whose outcome nobody could establish waits for a decision",
            mutation_id=mutation_id or None,
            status=str(cur),
        )
    if act is HumanAction.TRY_AGAIN:
        if not can_reconcile:
            raise Conflict(
                f"mutation {mutation_id} cannot be tried again: its tool has no reconcile",
                hint="choose --did-not-happen or --skip",
                mutation_id=mutation_id or None,
            )
        check_mutation(cur, MutationStatus.NEEDS_RECONCILE, mutation_id=mutation_id)
        return Resolution(MutationStatus.NEEDS_RECONCILE, None, None)
    if act is HumanAction.DID_NOT_HAPPEN:
        check_mutation(cur, MutationStatus.FAILED, mutation_id=mutation_id)
        return Resolution(
            MutationStatus.FAILED, ResolvedBy.USER_ASSERT_FAILED, MutationOutcome.FAILURE
        )
    check_mutation(cur, MutationStatus.SKIPPED, mutation_id=mutation_id)
    return Resolution(MutationStatus.SKIPPED, ResolvedBy.USER_SKIP, MutationOutcome.SKIPPED)


#: How a failed write's outcome was settled when it was once in doubt: a fresh run that makes
#: the same call for the same events keeps its idempotency key (the system may have seen it).
KEY_KEPT_AFTER = frozenset({ResolvedBy.USER_ASSERT_FAILED, ResolvedBy.RECONCILIATION})


def event_set(reservations: Iterable[tuple[str, Iterable[str]]]) -> frozenset[str]:
    """The events of a run's reservations, ``topic/message_id`` each (order does not matter)."""
    return frozenset(f"{topic}/{mid}" for topic, ids in reservations for mid in ids)
