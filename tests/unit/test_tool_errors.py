"""Tool errors are runwright errors with codes of their own, classified as before."""

from __future__ import annotations

import pickle

import pytest

import runwright
from runwright.domain.workflows.rules import ErrorClass
from runwright.errors import NonRetryableError, RunwrightError
from runwright.workflows.errors import (
    AuthError,
    InternalError,
    LogicError,
    PermissionDenied,
    PhaseViolation,
    ToolError,
    TransientError,
    UncertainError,
    classify,
)

CLASSES: list[tuple[type[ToolError], ErrorClass, str]] = [
    (ToolError, ErrorClass.INTERNAL, "tool_error"),
    (TransientError, ErrorClass.TRANSIENT, "tool_transient"),
    (LogicError, ErrorClass.LOGIC, "tool_logic"),
    (PhaseViolation, ErrorClass.LOGIC, "phase_violation"),
    (AuthError, ErrorClass.AUTH, "tool_auth"),
    (PermissionDenied, ErrorClass.PERMISSION, "tool_permission_denied"),
    (UncertainError, ErrorClass.UNCERTAIN, "tool_uncertain"),
    (InternalError, ErrorClass.INTERNAL, "tool_internal"),
]


@pytest.mark.parametrize(("cls", "error_class", "code"), CLASSES)
def test_tool_errors_are_runwright_errors_with_their_own_code(
    cls: type[ToolError], error_class: ErrorClass, code: str
) -> None:
    """Each tool error is a RunwrightError (not a NonRetryableError) with its own code, and
    the host classifies it by its class, raised by handler code or by a tool alike."""
    exc = cls("upstream said no")
    assert isinstance(exc, RunwrightError)
    assert not isinstance(exc, NonRetryableError)
    assert exc.to_dict()["code"] == code
    assert classify(exc) is classify(exc, from_tool=True) is error_class
    assert exc.retryable
    assert not RunwrightError.retryable
    assert exc.state_reason is None


def test_other_exceptions_are_classified_as_before() -> None:
    """A runwright error that is not a tool error counts like any other exception: logic from
    handler code, internal from a tool."""
    for exc in (RunwrightError("no"), ValueError("no")):
        assert classify(exc) is ErrorClass.LOGIC
        assert classify(exc, from_tool=True) is ErrorClass.INTERNAL


def test_a_tool_error_keeps_its_message_as_raised() -> None:
    """The message, its args and its text are what the tool passed (an empty one stays empty,
    a non-string becomes its text), and it survives pickling."""
    assert (str(TransientError("503")), TransientError("503").args) == ("503", ("503",))
    empty = UncertainError()
    assert (str(empty), empty.args, empty.message) == ("", (), "")
    assert str(LogicError(404)) == "404"
    assert f"{AuthError('token expired', hint='reconnect')}" == "token expired — reconnect"
    back = pickle.loads(pickle.dumps(PermissionDenied("no scope", scope="write")))  # noqa: S301
    assert (type(back), str(back), back.fields) == (
        PermissionDenied,
        "no scope",
        {"scope": "write"},
    )


def test_the_package_exports_the_tool_errors_under_the_root() -> None:
    """``runwright.ToolError`` is the tool errors' base and a ``runwright.RunwrightError``."""
    assert issubclass(runwright.ToolError, runwright.RunwrightError)
    assert issubclass(runwright.TransientError, runwright.ToolError)
