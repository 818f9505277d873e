"""Model invariants of runs, steps, failures and evidence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from runwright.domain.failures import Failure
from runwright.domain.ids import new_id
from runwright.domain.runs import Run, StepOutputs
from runwright.domain.states import RunState
from runwright.errors import NonRetryableError

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _run(**kw: object) -> Run:
    base = {
        "run_id": new_id(),
        "project_id": "p",
        "state": RunState.PENDING,
        "created_at": NOW,
        "job_name": "j",
    }
    return Run.model_validate({**base, **kw})


def test_next_pointer_must_be_one_line() -> None:
    """A multi-line next pointer is invalid (Execution Model behaviour 7)."""
    assert _run(next_pointer="ship it").next_pointer == "ship it"
    with pytest.raises(ValidationError, match="single line"):
        _run(next_pointer="one\ntwo")


def test_run_ids_must_be_ulids() -> None:
    """A run id that is not a ULID is refused by the model."""
    with pytest.raises(ValidationError):
        _run(run_id="not-a-ulid")


def test_patch_ids_of_a_step_must_be_unique() -> None:
    """UET step_attempt.outputs.patch_ids are unique."""
    pid = new_id()
    with pytest.raises(ValidationError, match="unique"):
        StepOutputs(patch_ids=[pid, pid])


def test_failures_keep_type_message_and_traceback() -> None:
    """A failure records the exception type, its message and where it came from."""
    try:
        raise NonRetryableError("card declined", hint="ask for another card")
    except NonRetryableError as exc:
        failure = Failure.from_exception(exc, non_retryable=True)
    assert failure.type == "NonRetryableError"
    assert "card declined" in failure.message
    assert failure.non_retryable
    assert failure.stack
    assert "test_failures_keep_type_message_and_traceback" in failure.stack
