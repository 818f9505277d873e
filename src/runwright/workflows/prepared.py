"""What ``prepare`` returns and what ``next`` receives about the mutation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from runwright.domain.workflows.models import Reservation, TopicEvent
from runwright.workflows.errors import LogicError


@dataclass(frozen=True)
class Prepared:
    """A consumer's ``prepare`` result: the events it reserves, data for ``mutate`` and ``next``,
    a title people see if the write needs a decision, and an optional ``wake_at``.

    ``wake_at`` is clamped to [now + 30 s, now + 24 h] and must be returned every time
    (it is not sticky). ``prepare`` may also return the same as a dict:
    ``{"reservations": [{"topic": t, "ids": [...]}], "data": ..., "ui": {"title": ...},
    "wake_at": ...}``.
    """

    reservations: list[Reservation] = field(default_factory=list)
    data: Any = None
    title: str = ""
    wake_at: datetime | None = None

    @classmethod
    def reserve(
        cls,
        events: Iterable[TopicEvent | tuple[str, str]],
        data: Any = None,
        *,
        title: str = "",
        wake_at: datetime | None = None,
    ) -> Prepared:
        """Reserve ``events`` (TopicEvents or (topic, message_id) pairs)."""
        by_topic: dict[str, list[str]] = {}
        for ev in events:
            topic, mid = (ev.topic, ev.message_id) if isinstance(ev, TopicEvent) else ev
            by_topic.setdefault(topic, [])
            if mid not in by_topic[topic]:
                by_topic[topic].append(mid)
        reservations = [Reservation(topic=t, ids=ids) for t, ids in by_topic.items()]
        return cls(reservations=reservations, data=data, title=title, wake_at=wake_at)

    @property
    def reserved_count(self) -> int:
        """How many events this reserves."""
        return sum(len(r.ids) for r in self.reservations)

    def to_json(self) -> dict[str, Any]:
        """The stored form (the digest's PrepareResult shape)."""
        return {
            "reservations": [r.model_dump() for r in self.reservations],
            "data": self.data,
            "ui": {"title": self.title},
            "wake_at": self.wake_at.isoformat() if self.wake_at else None,
        }

    @classmethod
    def from_json(cls, value: Any) -> Prepared:
        """Read what ``prepare`` returned (a Prepared, a dict or None), or raise LogicError."""
        if isinstance(value, Prepared):
            return value
        if value is None:
            return cls()
        if not isinstance(value, Mapping):
            raise LogicError(
                f"prepare returned {type(value).__name__}; return runwright.Prepared(...) "
                "or a dict with 'reservations' and 'data'"
            )
        unknown = set(value) - {"reservations", "data", "ui", "wake_at", "wakeAt"}
        if unknown:
            raise LogicError(f"prepare returned unknown keys: {', '.join(sorted(unknown))}")
        try:
            reservations = [Reservation.model_validate(r) for r in value.get("reservations") or []]
        except Exception as exc:
            raise LogicError(f"prepare returned bad reservations: {exc}") from exc
        ui = value.get("ui") or {}
        title = str(ui.get("title", "")) if isinstance(ui, Mapping) else ""
        return cls(
            reservations=reservations,
            data=value.get("data"),
            title=title,
            wake_at=_parse_wake(value.get("wake_at", value.get("wakeAt"))),
        )


def _parse_wake(value: Any) -> datetime | None:
    """A wake time from a datetime or ISO text; anything invalid is ignored (None)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None
    return None


class ResultStatus(StrEnum):
    """What ``next`` learns about the mutate phase."""

    APPLIED = "applied"
    NONE = "none"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class MutationResult:
    """``applied(result)`` (the tool's return value), ``none`` (no call was made or nothing was
    reserved) or ``skipped`` (a person skipped an indeterminate write)."""

    status: ResultStatus
    result: Any = None

    @classmethod
    def applied(cls, result: Any = None) -> MutationResult:
        """The mutation took effect; ``result`` is what the tool returned."""
        return cls(ResultStatus.APPLIED, result)

    @classmethod
    def none(cls) -> MutationResult:
        """No mutation was made."""
        return cls(ResultStatus.NONE)

    @classmethod
    def skipped(cls) -> MutationResult:
        """A person chose to skip the write."""
        return cls(ResultStatus.SKIPPED)
