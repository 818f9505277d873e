"""ULID identifiers: 26 Crockford base32 characters, sortable by creation time."""

from __future__ import annotations

import os
import re
import threading
import time
from typing import Annotated

from pydantic import StringConstraints

from runwright.errors import ValidationError

ULID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
_ULID_RE = re.compile(ULID_PATTERN)

#: A ULID string, validated by pattern in every model that uses it.
Ulid = Annotated[str, StringConstraints(pattern=ULID_PATTERN)]


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # every 10-bit value as 2 characters
_SHIFTS = tuple(range(120, -1, -10))  # 13 x 10 bits = 130 bits: the 128 of a ULID, 2 leading 0
_RANDOM_MAX = (1 << 80) - 1


class _Generator:
    """48 bits of milliseconds, then 80 random bits; within one millisecond each id is the
    previous one plus one (the strict monotonic ULID of the ``python-ulid`` package, which this
    replaces on the hot path: ids are made for every step and event)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ms = -1
        self.random = 0

    def next(self) -> int:
        ms = time.time_ns() // 1_000_000
        with self.lock:
            if ms == self.ms:
                if self.random == _RANDOM_MAX:
                    raise ValueError("ULID randomness within one millisecond exhausted")
                self.random += 1
            else:
                self.ms, self.random = ms, int.from_bytes(os.urandom(10), "big")
            return (ms << 80) | self.random


_GENERATOR = _Generator()


def new_id() -> str:
    """Return a fresh ULID as a string."""
    value = _GENERATOR.next()
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])


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
