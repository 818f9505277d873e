"""When a producer runs next: an interval or a cron line (croniter)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from runwright.domain.workflows.models import Schedule
from runwright.domain.workflows.rules import parse_interval
from runwright.errors import ValidationError


def check_cron(expr: str) -> str:
    """Return ``expr`` if croniter accepts it, else raise naming the field."""
    from croniter import croniter  # imported on use: it is slow to import

    if not croniter.is_valid(expr):
        raise ValidationError(
            f"cron {expr!r} is not a valid cron expression",
            hint="use five fields, e.g. '*/5 * * * *' (every five minutes)",
            field="cron",
        )
    return expr


def next_run(schedule: Schedule, now: datetime) -> datetime:
    """The first time after ``now`` that ``schedule`` fires."""
    if schedule.every:
        return now + timedelta(seconds=parse_interval(schedule.every))
    if schedule.cron:
        from croniter import croniter

        nxt = croniter(check_cron(schedule.cron), now.astimezone(UTC)).get_next(datetime)
        return nxt if nxt.tzinfo else nxt.replace(tzinfo=UTC)
    raise ValidationError("schedule has neither 'every' nor 'cron'", field="schedule")
