"""One error root for runwright, with subclasses named by what the caller should do.

Every error carries structured fields (``run_id``, ``step``, ``path``, ``field``) and a
message that says what to do next. Driver errors are translated at the store boundary. The
errors workflow tools raise (``runwright.workflows.errors.ToolError``) are runwright errors
too; their class, not this module, says what happens next.
Control flow that must not be swallowed by ``except Exception`` derives from
``BaseException`` (``Cancelled``).
"""

from __future__ import annotations

from typing import Any, ClassVar


class RunwrightError(Exception):
    """Something went wrong in runwright."""

    #: A short machine-readable code; subclasses override it.
    code = "error"
    #: Whether a run that fails with this error records the failure as retryable. Runwright's
    #: own errors would fail the same way again; tool errors say it by their class instead.
    retryable: ClassVar[bool] = False
    #: The ``state_reason`` a run that fails with this error carries, in the terms of the
    #: feature that raised it (a workflow's ``failed:logic``, a plan phase's "route rejected");
    #: the executor records it in the transaction that ends the run. None: no reason.
    state_reason: str | None = None

    def __init__(self, message: str | None = None, *, hint: str | None = None, **fields: Any):
        self.message = message or (self.__doc__ or self.code).strip()
        self.hint = hint
        self.fields = {k: v for k, v in fields.items() if v is not None}
        super().__init__(self.message)

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text = f"{text} — {self.hint}"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.hint, self.fields))

    def to_dict(self) -> dict[str, Any]:
        """The error as a JSON-ready dictionary."""
        return {"code": self.code, "message": self.message, "hint": self.hint, **self.fields}


def _rebuild(
    cls: type[RunwrightError], message: str, hint: str | None, fields: dict[str, Any]
) -> RunwrightError:
    return cls(message, hint=hint, **fields)


class NotFound(RunwrightError):
    """The thing asked for does not exist."""

    code = "not_found"


class Conflict(RunwrightError):
    """The request conflicts with the current state; re-read and try again."""

    code = "conflict"


class InvalidTransition(Conflict):
    """A state change that the transition table does not allow."""

    code = "invalid_transition"


class ConfigError(RunwrightError):
    """A configuration or spec file is invalid; fix the named file and field."""

    code = "config_error"


class ValidationError(RunwrightError):
    """Input failed validation; the message names the field and the fix."""

    code = "validation_error"


class StorageError(RunwrightError):
    """The store failed in a way that retrying will not fix."""

    code = "storage_error"


class StoreUnavailable(StorageError):
    """The store cannot be reached right now; wait and retry."""

    code = "store_unavailable"


class SchemaMismatch(StorageError):
    """The database schema does not match this version of runwright."""

    code = "schema_mismatch"


class LeaseLost(RunwrightError):
    """This worker no longer holds the lease on the run; another worker owns it now."""

    code = "lease_lost"


class JobNotFound(NotFound):
    """No job is registered under that name; import the module that defines it."""

    code = "job_not_found"


class StepFailed(RunwrightError):
    """A durable step failed after its retries; the failure is recorded with the run."""

    code = "step_failed"

    def __init__(
        self,
        message: str | None = None,
        *,
        failure_type: str = "Exception",
        non_retryable: bool = False,
        **fields: Any,
    ):
        super().__init__(message, **fields)
        self.failure_type = failure_type
        self.non_retryable = non_retryable


class NonRetryableError(RunwrightError):
    """Raise from a step to fail it at once, without retries."""

    code = "non_retryable"


class EvidenceError(RunwrightError):
    """Evidence is missing or does not match its recorded hash."""

    code = "evidence_error"


class Cancelled(BaseException):
    """The run was cancelled; unwind without recording a failure."""

    def __init__(self, run_id: str = "", reason: str = "cancel requested"):
        super().__init__(reason)
        self.run_id = run_id
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.run_id, self.reason))
