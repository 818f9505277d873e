"""Persisted failures: what went wrong, of what type, and whether a retry can help."""

from __future__ import annotations

import traceback
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Failure(BaseModel):
    """A failure as stored with a step attempt or a run (Temporal's ApplicationError shape)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = Field(description="The exception's class name, or an engine failure type.")
    message: str
    non_retryable: bool = False
    details: dict[str, Any] = Field(default_factory=dict)
    stack: str | None = Field(default=None, description="The formatted traceback, if any.")

    @classmethod
    def from_exception(cls, exc: BaseException, *, non_retryable: bool = False) -> Failure:
        """Describe ``exc`` as a Failure, keeping its traceback as text."""
        stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        details: dict[str, Any] = {}
        fields = getattr(exc, "fields", None)
        if isinstance(fields, dict):
            details = {k: v for k, v in fields.items() if isinstance(v, str | int | float | bool)}
        return cls(
            type=type(exc).__name__,
            message=str(exc) or type(exc).__name__,
            non_retryable=non_retryable,
            details=details,
            stack=stack[-8000:],
        )


# Engine failure types (not exception class names).
STEP_TIMEOUT = "StepTimeout"
WORKER_LOST = "WorkerLost"
NOT_SERIALIZABLE = "NotSerializable"
DEPENDENCY_FAILED = "DependencyFailed"
