"""Handler runs: phases, statuses and their pure transition tables (keepai digest §3).

A run's phase only moves forward; a failure changes its status, never its phase. The store
persists these decisions; it never decides a transition itself.
"""

from __future__ import annotations

from enum import StrEnum

from runwright.domain.states import RunState, StateReason
from runwright.errors import InvalidTransition


class HandlerType(StrEnum):
    """The two kinds of handler."""

    PRODUCER = "producer"
    CONSUMER = "consumer"


class Phase(StrEnum):
    """Where a handler run is. Producers: pending → executing → committed. Consumers: pending →
    preparing → prepared → [mutating → mutated →] emitting → committed."""

    PENDING = "pending"
    EXECUTING = "executing"
    PREPARING = "preparing"
    PREPARED = "prepared"
    MUTATING = "mutating"
    MUTATED = "mutated"
    EMITTING = "emitting"
    COMMITTED = "committed"


PRODUCER_PHASES: dict[Phase, frozenset[Phase]] = {
    Phase.PENDING: frozenset({Phase.EXECUTING}),
    Phase.EXECUTING: frozenset({Phase.COMMITTED}),
    Phase.COMMITTED: frozenset(),
}

CONSUMER_PHASES: dict[Phase, frozenset[Phase]] = {
    Phase.PENDING: frozenset({Phase.PREPARING}),
    Phase.PREPARING: frozenset({Phase.PREPARED}),
    Phase.PREPARED: frozenset({Phase.MUTATING, Phase.EMITTING}),
    Phase.MUTATING: frozenset({Phase.MUTATED}),
    Phase.MUTATED: frozenset({Phase.EMITTING}),
    Phase.EMITTING: frozenset({Phase.COMMITTED}),
    Phase.COMMITTED: frozenset(),
}

#: The phases a consumer run has passed once its mutation call may have been made.
POST_MUTATION_PHASES = frozenset({Phase.MUTATED, Phase.EMITTING, Phase.COMMITTED})


class MutationOutcome(StrEnum):
    """What the mutate phase of a run came to ('' while unknown or when no call was made)."""

    NONE = ""
    SUCCESS = "success"
    FAILURE = "failure"
    SKIPPED = "skipped"


def check_phase(
    handler_type: HandlerType | str,
    current: Phase | str,
    target: Phase | str,
    *,
    reservations: int = 0,
    outcome: MutationOutcome | str = MutationOutcome.NONE,
    run_id: str = "",
) -> Phase:
    """Return ``target`` if a run of ``handler_type`` may move ``current → target``, else raise.

    Guards: prepared → mutating needs reservations, prepared → emitting needs none, and
    mutated → emitting is refused after a failed mutation.
    """
    kind, cur, nxt = HandlerType(handler_type), Phase(current), Phase(target)
    table = PRODUCER_PHASES if kind is HandlerType.PRODUCER else CONSUMER_PHASES
    allowed = table.get(cur)
    if allowed is None or nxt not in allowed:
        if cur is Phase.COMMITTED:
            why = "the run is already committed (a second commit)"
        else:
            why = f"a {kind} run cannot move from {cur} to {nxt}"
        raise InvalidTransition(
            why,
            hint="phases only move forward; a failure changes the status, never the phase",
            run_id=run_id or None,
            current=str(cur),
            target=str(nxt),
        )
    if cur is Phase.PREPARED and nxt is Phase.MUTATING and reservations == 0:
        raise InvalidTransition(
            "prepared → mutating needs at least one reserved event",
            hint="a run with empty reservations goes straight to emitting",
            run_id=run_id or None,
        )
    if cur is Phase.PREPARED and nxt is Phase.EMITTING and reservations > 0:
        raise InvalidTransition(
            "prepared → emitting skips the mutate phase of a run that reserved events",
            run_id=run_id or None,
        )
    if cur is Phase.MUTATED and nxt is Phase.EMITTING and outcome == MutationOutcome.FAILURE:
        raise InvalidTransition(
            "mutated → emitting after a failed mutation",
            hint="a failed mutation releases the events for a fresh run instead",
            run_id=run_id or None,
        )
    return nxt


def check_path(
    handler_type: HandlerType | str,
    current: Phase | str,
    path: list[Phase],
    *,
    reservations: int = 0,
    outcome: MutationOutcome | str = MutationOutcome.NONE,
    run_id: str = "",
) -> Phase:
    """Check every step of ``current → path[0] → path[1] …``; return the last phase."""
    phase = Phase(current)
    for nxt in path:
        phase = check_phase(
            handler_type, phase, nxt, reservations=reservations, outcome=outcome, run_id=run_id
        )
    return phase


class RunStatus(StrEnum):
    """A handler run's status, orthogonal to its phase (digest §3, plus released and canceled).

    ``released``: the run ended without its write (reconcile or a human said it did not happen);
    its events went back to pending. ``canceled``: someone cancelled the run or skipped one of
    its events before its mutation.

    A status is a finer name for the core run's ``RunState`` and ``state_reason``: ``core_state``
    maps each onto its own pair (the failed statuses are ``failed`` runs whose reason is the
    status). The handler run's row keeps it because the workflow's transaction that ends the run
    writes it before the executor ends the core run.
    """

    ACTIVE = "active"
    COMMITTED = "committed"
    PAUSED_TRANSIENT = StateReason.PAUSED_TRANSIENT
    PAUSED_APPROVAL = StateReason.PAUSED_APPROVAL
    PAUSED_RECONCILIATION = StateReason.PAUSED_RECONCILIATION
    FAILED_LOGIC = StateReason.FAILED_LOGIC
    FAILED_INTERNAL = StateReason.FAILED_INTERNAL
    CRASHED = StateReason.CRASHED
    RELEASED = "released"
    CANCELED = "canceled"


STATUS_TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.ACTIVE: frozenset(set(RunStatus) - {RunStatus.ACTIVE}),
    RunStatus.PAUSED_RECONCILIATION: frozenset(
        {RunStatus.ACTIVE, RunStatus.RELEASED, RunStatus.CANCELED}
    ),
}

ENDED_STATUSES = frozenset(set(RunStatus) - {RunStatus.ACTIVE, RunStatus.PAUSED_RECONCILIATION})


def check_status(
    current: RunStatus | str, target: RunStatus | str, *, run_id: str = ""
) -> RunStatus:
    """Return ``target`` if a handler run may move from status ``current`` to it, else raise."""
    cur, nxt = RunStatus(current), RunStatus(target)
    if nxt not in STATUS_TRANSITIONS.get(cur, frozenset()):
        raise InvalidTransition(
            f"handler run cannot move from status {cur} to {nxt}",
            hint="a run that ended is never resumed; a retry is a new run",
            run_id=run_id or None,
            current=str(cur),
            target=str(nxt),
        )
    return nxt


def core_state(status: RunStatus | str) -> tuple[RunState, str | None]:
    """The core run state and ``state_reason`` a handler run with ``status`` maps onto."""
    st = RunStatus(status)
    if st is RunStatus.ACTIVE:
        return RunState.RUNNING, None
    if st is RunStatus.COMMITTED:
        return RunState.SUCCEEDED, None
    if st is RunStatus.PAUSED_RECONCILIATION:
        return RunState.WAITING, StateReason.PAUSED_RECONCILIATION
    if st is RunStatus.CANCELED:
        return RunState.CANCELED, StateReason.CANCEL_REQUESTED
    return RunState.FAILED, st.value


def disposes_as_post_mutation(phase: Phase | str, outcome: MutationOutcome | str) -> bool:
    """True when a run that stops here keeps its events reserved for a retry at ``emitting``.

    That is a run whose mutation was applied (or skipped by a human) and whose ``next`` has
    not committed yet; any other run releases its events to pending.
    """
    return Phase(phase) in POST_MUTATION_PHASES and MutationOutcome(outcome) in {
        MutationOutcome.SUCCESS,
        MutationOutcome.SKIPPED,
    }


def path_between(
    handler_type: HandlerType | str,
    current: Phase | str,
    target: Phase | str,
    *,
    reservations: int = 0,
    outcome: MutationOutcome | str = MutationOutcome.NONE,
    run_id: str = "",
) -> list[Phase]:
    """The forward phases from ``current`` to ``target`` (empty when equal), guards applied.

    Raises InvalidTransition when ``target`` is behind ``current`` or not reachable.
    """
    kind, cur, goal = HandlerType(handler_type), Phase(current), Phase(target)
    if cur is goal:
        return []
    table = PRODUCER_PHASES if kind is HandlerType.PRODUCER else CONSUMER_PHASES
    frontier: list[tuple[Phase, list[Phase]]] = [(cur, [])]
    seen = {cur}
    while frontier:
        phase, path = frontier.pop(0)
        for nxt in sorted(table.get(phase, frozenset())):
            if nxt in seen:
                continue
            try:
                check_phase(kind, phase, nxt, reservations=reservations, outcome=outcome)
            except InvalidTransition:
                continue
            if nxt is goal:
                return [*path, nxt]
            seen.add(nxt)
            frontier.append((nxt, [*path, nxt]))
    return [check_phase(kind, cur, goal, reservations=reservations, outcome=outcome, run_id=run_id)]
