"""How a run that raises ends: its failure's retryability and its state reason, as the error
type says (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from runwright.api.client import Client
from runwright.domain.events import EventKind
from runwright.domain.states import RunState, StateReason
from runwright.engine.context import JobContext
from runwright.engine.registry import job
from runwright.errors import NonRetryableError
from runwright.workflows.errors import LogicError, TransientError


class Rejected(NonRetryableError):
    """A feature's own error that names the run's state reason."""

    code = "rejected"

    def __init__(self, message: str, *, reason: str, **fields: Any):
        super().__init__(message, **fields)
        self.state_reason = reason


@job(name="tests.reasons.tool_error")
def tool_error(ctx: JobContext) -> None:
    """A job that lets a tool's transient error escape."""
    raise TransientError("upstream answered 503")


@job(name="tests.reasons.reasoned")
def reasoned(ctx: JobContext) -> None:
    """A job that fails with an error naming the run's state reason."""
    raise Rejected("the route was rejected", reason="route rejected")


def _flaky_tool_step() -> str:
    raise LogicError("bad input")


@job(name="tests.reasons.tool_error_in_step")
def tool_error_in_step(ctx: JobContext) -> str:
    """A job whose step raises a tool's logic error."""
    return str(ctx.step("call", _flaky_tool_step))


def _drain(client: Client) -> None:
    client.worker(register=False).run(until_idle=True)


def test_a_tool_error_fails_a_run_as_a_retryable_failure_without_a_reason(
    client: Client,
) -> None:
    """A tool error escaping a job fails the run like any exception of the tool's own: its
    failure is retryable and the run carries no state reason."""
    run = client.start(tool_error)
    _drain(client)
    done = client.get(run.run_id)
    assert (done.state, done.state_reason) == (RunState.FAILED, None)
    assert done.failure is not None
    assert (done.failure.type, done.failure.message) == ("TransientError", "upstream answered 503")
    assert done.failure.non_retryable is False


def test_an_error_that_names_a_state_reason_ends_the_run_with_it(client: Client) -> None:
    """A runwright error carrying a ``state_reason`` fails the run with that reason, recorded
    with the run's end (also in the log's last state change)."""
    run = client.start(reasoned)
    _drain(client)
    done = client.get(run.run_id)
    assert (done.state, done.state_reason) == (RunState.FAILED, "route rejected")
    assert done.failure is not None
    assert done.failure.non_retryable is True
    ends = [e for e in client.events(run.run_id) if e.kind == EventKind.RUN_STATE_CHANGED]
    assert ends[-1].payload["reason"] == "route rejected"


def test_a_tool_error_in_a_step_is_retried_like_any_exception(client: Client) -> None:
    """A tool error is not a NonRetryableError: a step raising one waits for its retry."""
    run = client.start(tool_error_in_step)
    _drain(client)
    waiting = client.get(run.run_id)
    assert (waiting.state, waiting.state_reason) == (RunState.WAITING, StateReason.WAITING_RETRY)
