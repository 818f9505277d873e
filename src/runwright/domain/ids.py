"""ULID identifiers: 26 Crockford base32 characters, sortable by creation time."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints
from ulid import ULID

from runwright.errors import ValidationError

ULID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
_ULID_RE = re.compile(ULID_PATTERN)

#: A ULID string, validated by pattern in every model that uses it.
Ulid = Annotated[str, StringConstraints(pattern=ULID_PATTERN)]


def new_id() -> str:
    """Return a fresh ULID as a string."""
    return str(ULID())


def is_ulid(value: str) -> bool:
    """True when ``value`` is a well-formed ULID (no I, L, O or U; exactly 26 characters)."""
    return bool(_ULID_RE.match(value))


def check_ulid(value: str, *, field: str = "id") -> str:
    """Return ``value`` if it is a ULID, else raise a ValidationError naming ``field``."""
    if not is_ulid(value):
        raise ValidationError(
            f"{field} {value!r} is not a ULID",
            hint="ULIDs are 26 characters of 0-9 and A-Z without I, L, O or U",
            field=field,
        )
    return value
