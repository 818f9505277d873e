"""The OpRun artifact: grounded result, one project and one mode, and when a run counts
(digest §5, behaviours 6-8)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from runwright.domain.evidence import EvidenceLink
from runwright.domain.execmodel.checks import CheckResult, CheckStatus, CheckType, worst
from runwright.domain.execmodel.opruns import OpRun, grounded_result
from runwright.domain.execmodel.patterns import PatternVerdict
from runwright.domain.ids import new_id

NOW = datetime(2026, 1, 1, tzinfo=UTC)
RUN = new_id()


def _link() -> EvidenceLink:
    return EvidenceLink(
        evidence_id=new_id(),
        run_id=RUN,
        artifact_path="rows.csv",
        sha256="a" * 64,
        size=10,
        created_at=NOW,
    )


def _check(status: str, check_id: str = "c") -> CheckResult:
    return CheckResult(
        check_id=check_id,
        check_type=CheckType.SMOKE,
        status=CheckStatus(status),
        evidence_links=[_link()],
    )


def _op_run(**changes: Any) -> OpRun:
    data: dict[str, Any] = {
        "op_id": "WriteRows",
        "project_id": "demo",
        "mode_id": "PIPELINE",
        "timestamp_start": NOW,
        "acceptance_results": [_check("PASS")],
        "result": "PASS",
        "evidence_links": [_link()],
        "next_pointer": "file the export",
        "run_id": RUN,
    }
    data.update(changes)
    return OpRun.model_validate(data)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["PASS", "PASS"], "PASS"),
        (["PASS", "WARN"], "WARN"),
        (["PASS", "FAIL"], "FAIL"),
        (["WARN", "FAIL", "PASS"], "FAIL"),
    ],
)
def test_the_result_is_the_worst_check(statuses: list[str], expected: str) -> None:
    """Behaviour 8: [PASS, WARN] → WARN, [PASS, FAIL] → FAIL."""
    assert worst(CheckStatus(s) for s in statuses) == expected
    results = [_check(s, f"c{i}") for i, s in enumerate(statuses)]
    assert _op_run(acceptance_results=results, result=expected).result == expected


def test_a_declared_result_that_contradicts_the_checks_is_rejected() -> None:
    """Behaviour 8: declaring PASS despite a FAIL check is refused, naming the check."""
    with pytest.raises(PydanticValidationError) as err:
        _op_run(acceptance_results=[_check("PASS"), _check("FAIL", "gate")], result="PASS")
    assert "gate=FAIL" in str(err.value)


def test_no_checks_or_over_timebox_is_never_a_pass() -> None:
    """A run with no acceptance results, or over its timebox, is grounded as FAIL."""
    assert grounded_result([]) == CheckStatus.FAIL
    assert grounded_result([_check("PASS")], over_timebox=True) == CheckStatus.FAIL
    with pytest.raises(PydanticValidationError):
        _op_run(over_timebox=True, result="PASS")


def test_a_run_counts_only_with_evidence_and_a_next_pointer() -> None:
    """Behaviour 6: no next pointer → no count; no evidence → no count; both → counts."""
    assert _op_run().counting().counts is True
    no_pointer = _op_run(next_pointer=None).counting()
    assert no_pointer.counts is False
    assert no_pointer.reasons == ["no next pointer"]
    no_evidence = _op_run(evidence_links=[]).counting()
    assert no_evidence.counts is False
    assert no_evidence.reasons == ["no evidence links"]


def test_an_incomplete_evidence_pattern_is_listed_beside_the_count() -> None:
    """Behaviour 6 and SPEC §3: evidence plus a next pointer make a run count; the mode's
    evidence-pattern items still missing are listed as gaps, not hidden."""
    verdict = PatternVerdict(mode_id="PIPELINE", items=[], missing=["content_gate"], complete=False)
    counting = _op_run(evidence_pattern=verdict).counting()
    assert counting.counts is True
    assert counting.pattern_gaps == ["content_gate"]


def test_over_timebox_without_next_pointer_says_reschedule_or_rescope() -> None:
    """Behaviour 10: a run over its timebox needs a next pointer: reschedule or re-scope."""
    run = _op_run(
        over_timebox=True, result="FAIL", acceptance_results=[_check("FAIL")], next_pointer=None
    )
    assert "reschedule or re-scope" in run.counting().reasons[0]


@pytest.mark.parametrize(
    "changes",
    [
        {"next_pointer": "first line\nsecond line"},
        {"project_id": ["a", "b"]},
        {"project_id": "a,b"},
        {"project_id": ""},
        {"mode_id": ["PIPELINE", "CONTRACT"]},
        {"mode_id": "PIPELINE,CONTRACT"},
        {"mode_id": None},
        {"project_id": None},
    ],
)
def test_multi_line_pointers_and_zero_or_two_projects_or_modes_are_invalid(
    changes: dict[str, Any],
) -> None:
    """Behaviour 7: a multi-line next pointer, or 0/2 projects or modes, is invalid."""
    with pytest.raises(PydanticValidationError):
        _op_run(**changes)
