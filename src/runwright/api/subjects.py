"""What a run is about, in a few words, for lists of runs: the operator of an op run, the plan
of a plan run, ``plan/phase`` of a phase run, the tool and phase of an agent-tool run, the
workflow and handler of a producer or consumer run.

Read from the arguments the run was started with (nothing extra is stored); a run whose
arguments do not have the expected shape gets its workstream or phase id, or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runwright.domain import job_names
from runwright.domain.runs import Run, RunListing

OPERATOR_JOB = job_names.OPERATOR
AGENT_JOB = job_names.AGENT_TOOL
PLAN_JOB, PHASE_JOB, VALIDATE_JOB = (
    job_names.PLAN,
    job_names.PLAN_PHASE,
    job_names.PLAN_VALIDATE,
)
PRODUCER_JOB, CONSUMER_JOB = job_names.WORKFLOW_PRODUCER, job_names.WORKFLOW_CONSUMER


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _first(run: Run) -> Any:
    return run.args[0] if run.args else None


def _plan(run: Run) -> str:
    return _text(_get(_first(run), "plan", "plan_id")) or (run.workstream_id or "")


def _phase(run: Run) -> str:
    spec = _first(run)
    plan = _text(_get(spec, "plan", "plan_id"))
    phase = _text(_get(spec, "delegation", "phase_id"))
    if not phase:
        return ""
    text = f"{plan}/{phase}" if plan else phase
    round_ = _get(spec, "delegation", "round")
    if isinstance(round_, int) and round_ > 0:
        text += f" (correction {round_})"
    return text


def _validate(run: Run) -> str:
    plan = _plan(run)
    return f"{plan}/validate" if plan else ""


def _agent(run: Run) -> str:
    spec = _first(run)
    tool = _text(_get(spec, "decision", "selected"))
    phase = _text(_get(spec, "request", "phase_id"))
    if tool and phase:
        return f"{tool} on {phase}"
    return tool or phase


def _operator(run: Run) -> str:
    op = _text(_get(run.kwargs, "operator", "op_id"))
    if not op and run.origin.trigger_ref and not run.origin.trigger_ref.startswith("retry_of:"):
        op = run.origin.trigger_ref
    if op and run.mode_id:
        return f"{op} ({run.mode_id})"
    return op


def _handler(run: Run) -> str:
    names = [a for a in run.args[:2] if isinstance(a, str)]
    return "/".join(names) if len(names) == 2 else ""


SUBJECTS: dict[str, Callable[[Run], str]] = {
    PLAN_JOB: _plan,
    PHASE_JOB: _phase,
    VALIDATE_JOB: _validate,
    AGENT_JOB: _agent,
    OPERATOR_JOB: _operator,
    PRODUCER_JOB: _handler,
    CONSUMER_JOB: _handler,
}


def run_subject(run: Run) -> str:
    """What ``run`` is about, in a few words ('' when nothing is known)."""
    read = SUBJECTS.get(run.job_name)
    subject = read(run) if read is not None else ""
    return subject or run.phase_id or run.workstream_id or ""


def with_subject(run: Run) -> dict[str, Any]:
    """The run as JSON with its ``subject`` (the ``run_listing`` schema)."""
    listing = RunListing(**run.model_dump(), subject=run_subject(run))
    data: dict[str, Any] = listing.model_dump(mode="json")
    return data
