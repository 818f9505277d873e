"""Topic events and inputs: statuses, transitions and the computed input status."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from runwright.errors import InvalidTransition

PEEK_DEFAULT_LIMIT = 100
STALE_AFTER_DAYS = 7


class EventStatus(StrEnum):
    """An event's life: published pending, reserved by a run, then consumed or skipped."""

    PENDING = "pending"
    RESERVED = "reserved"
    CONSUMED = "consumed"
    SKIPPED = "skipped"


EVENT_TRANSITIONS: dict[EventStatus, frozenset[EventStatus]] = {
    EventStatus.PENDING: frozenset({EventStatus.RESERVED, EventStatus.SKIPPED}),
    EventStatus.RESERVED: frozenset(
        {EventStatus.CONSUMED, EventStatus.PENDING, EventStatus.SKIPPED}
    ),
    EventStatus.CONSUMED: frozenset(),
    EventStatus.SKIPPED: frozenset(),
}

OPEN_EVENT_STATUSES = frozenset({EventStatus.PENDING, EventStatus.RESERVED})


def check_event(
    current: EventStatus | str, target: EventStatus | str, *, event_id: str = ""
) -> EventStatus:
    """Return ``target`` if an event may move ``current → target``, else raise."""
    cur, nxt = EventStatus(current), EventStatus(target)
    if nxt not in EVENT_TRANSITIONS[cur]:
        raise InvalidTransition(
            f"event cannot move from {cur} to {nxt}",
            event_id=event_id or None,
            current=str(cur),
            target=str(nxt),
        )
    return nxt


class InputStatus(StrEnum):
    """An input's status, computed from the events it caused."""

    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"


def input_status(
    event_statuses: Iterable[EventStatus | str], *, skipped: bool = False
) -> InputStatus:
    """``pending`` while any caused event is open or none exists yet; ``skipped`` when a person
    skipped it (or all its events were skipped); else ``done``."""
    statuses = [EventStatus(s) for s in event_statuses]
    if skipped:
        return InputStatus.SKIPPED
    if not statuses or any(s in OPEN_EVENT_STATUSES for s in statuses):
        return InputStatus.PENDING
    if all(s is EventStatus.SKIPPED for s in statuses):
        return InputStatus.SKIPPED
    return InputStatus.DONE


def is_stale(
    status: InputStatus | str,
    created_at: datetime,
    now: datetime,
    *,
    days: float = STALE_AFTER_DAYS,
) -> bool:
    """An input pending for more than ``days`` days needs attention."""
    return InputStatus(status) is InputStatus.PENDING and now - created_at > timedelta(days=days)
