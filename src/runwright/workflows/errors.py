"""Errors handler and tool code raise, classified by the host by TYPE (never by message).

Tools raise one of the six classes below; the host maps each to what happens next:

| class | in a read / producer / prepare / next | from the mutation call |
|---|---|---|
| ``TransientError`` | back off, retry in a new run | did not happen: events released, back off |
| ``LogicError`` | ``failed:logic`` → maintenance | mutation ``failed``, events released |
| ``AuthError`` | ``paused:approval`` | outcome uncertain → reconcile |
| ``PermissionDenied`` | ``paused:approval`` | mutation ``failed``, ``paused:approval`` |
| ``UncertainError`` | treated as transient (a read changes nothing) | reconcile |
| ``InternalError`` | ``failed:internal``, workflow blocked | outcome uncertain → reconcile |

Any other exception raised by handler code is a logic error; any other exception raised inside a
tool method is an internal error (and, from a mutation call, an uncertain outcome).

``ToolError`` is a ``RunwrightError`` (code ``tool_error``, each class its own code) but keeps
the message it is given, empty included, and a run outside a workflow that fails with one
records it as retryable, as it would any exception of the tool's own.
"""

from __future__ import annotations

from typing import Any, ClassVar

from runwright.domain.workflows.rules import ErrorClass
from runwright.errors import RunwrightError


class ToolError(RunwrightError):
    """A classified failure; subclasses say which class."""

    code = "tool_error"
    retryable = True
    error_class: ClassVar[ErrorClass] = ErrorClass.INTERNAL

    def __init__(self, message: object = "", *, hint: str | None = None, **fields: Any):
        text = "" if message is None else str(message)
        super().__init__(text, hint=hint, **fields)
        self.message = text  # not the class docstring: "TransientError: " stays as raised
        self.args = (text,) if text else ()


class TransientError(ToolError):
    """Temporary (network down, rate limited, 503 before processing); a later retry may work.
    From a mutation call it means the write certainly did not happen."""

    code = "tool_transient"
    error_class = ErrorClass.TRANSIENT


class LogicError(ToolError):
    """The code or its input is wrong (bad arguments, bad output, a broken rule)."""

    code = "tool_logic"
    error_class = ErrorClass.LOGIC


class PhaseViolation(LogicError):
    """Handler code did something its phase does not allow (see the phase rules table)."""

    code = "phase_violation"


class AuthError(ToolError):
    """Credentials were refused or expired; a person must reconnect."""

    code = "tool_auth"
    error_class = ErrorClass.AUTH


class PermissionDenied(ToolError):
    """The credentials work but lack a permission; a person must grant it."""

    code = "tool_permission_denied"
    error_class = ErrorClass.PERMISSION


class UncertainError(ToolError):
    """The call may or may not have taken effect (timeout after sending, ambiguous 5xx)."""

    code = "tool_uncertain"
    error_class = ErrorClass.UNCERTAIN


class InternalError(ToolError):
    """Something unexpected that is neither the script's fault nor temporary."""

    code = "tool_internal"
    error_class = ErrorClass.INTERNAL


def classify(exc: BaseException, *, from_tool: bool = False) -> ErrorClass:
    """The class of ``exc``: its ToolError class, else logic (handler code) or internal (tool)."""
    if isinstance(exc, ToolError):
        return exc.error_class
    return ErrorClass.INTERNAL if from_tool else ErrorClass.LOGIC


class MutationDone(BaseException):
    """Raised by the host after the mutation call to end ``mutate`` (the call is terminal)."""
