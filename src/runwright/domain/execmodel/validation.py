"""Turning Pydantic validation errors into runwright errors that name the field."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError as PydanticValidationError

from runwright.errors import ValidationError


def describe(exc: PydanticValidationError) -> tuple[str, str]:
    """(field path, message) of the first error in ``exc``."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(root)"
    message = str(first["msg"]).removeprefix("Value error, ")
    return field, message


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Re-raise a Pydantic ValidationError as a runwright one: ``what: field: message``."""
    try:
        yield
    except PydanticValidationError as exc:
        field, message = describe(exc)
        raise ValidationError(f"{what}: {field}: {message}", field=field) from None
