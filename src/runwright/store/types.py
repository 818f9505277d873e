"""Column types shared by every table: UTC timestamps and JSON stored as text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from runwright.errors import ValidationError


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores them as naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(value: Any, *, what: str = "value") -> str:
    """Serialize ``value`` as JSON text, or raise a clear ValidationError naming ``what``.

    (One encoder, built once: ``json.dumps`` with options builds a new one on every call.)
    """
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"{what} is not JSON-serializable: {exc}",
            hint="payloads are JSON, never pickle; return dicts, lists, strings, numbers or None",
            field=what,
        ) from exc


def loads(text: str | None) -> Any:
    """Parse JSON text stored by ``dumps`` (None stays None)."""
    if text is None:
        return None
    return json.loads(text)
