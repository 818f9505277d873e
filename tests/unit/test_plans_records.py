"""Escalation payloads, gate results, corrections and the completion contract keep the
seed's invariants (execution-lead behaviours 21, 23 and 24)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from runwright.domain.ids import new_id
from runwright.domain.plan_completion import CompletionContract
from runwright.domain.plan_records import (
    BlockerClass,
    CorrectionRequest,
    Defect,
    Escalation,
    GateResult,
)

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def escalation(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "escalation_id": new_id(),
        "run_id": new_id(),
        "plan_id": "p",
        "blocked_gate": "implementation",
        "blocker_class": "implementation-defect",
        "routed_to": "member",
        "summary": "tests fail",
        "evidence_refs": ["sha256:" + "0" * 64],
        "schedule_impact": "validation waits",
        "options": [
            {"id": "A", "summary": "retry", "effect": "retry"},
            {"id": "B", "summary": "stop", "effect": "block"},
        ],
        "preferred": "B",
        "round": 2,
        "raised_at": NOW,
    }
    data.update(changes)
    return data


def test_a_complete_escalation_payload_is_valid() -> None:
    """Blocked gate, class, evidence, impact and options A/B with a preferred one."""
    esc = Escalation.model_validate(escalation())
    assert esc.option("A").effect.value == "retry"


@pytest.mark.parametrize(
    "change",
    [
        {"blocker_class": None},
        {"evidence_refs": []},
        {"options": [{"id": "A", "summary": "retry", "effect": "retry"}]},
        {
            "options": [
                {"id": "A", "summary": "x", "effect": "retry"},
                {"id": "A", "summary": "y", "effect": "block"},
            ]
        },
        {"preferred": "C"},
        {"schedule_impact": ""},
    ],
)
def test_an_escalation_missing_class_evidence_or_options_is_invalid(change: dict[str, Any]) -> None:
    """Behaviour 21: no blocker class, no evidence, or not exactly options A and B → invalid."""
    with pytest.raises(ValidationError):
        Escalation.model_validate(escalation(**change))


def test_a_gate_passes_exactly_when_it_found_no_defect() -> None:
    """A passed gate with defects (or a failed one without) is refused."""
    defect = Defect(gate="test", code="x", message="m", required_correction="c")
    with pytest.raises(ValidationError):
        GateResult(gate="test", round=0, passed=True, defects=[defect], evaluated_at=NOW)
    with pytest.raises(ValidationError):
        GateResult(gate="test", round=0, passed=False, evaluated_at=NOW)


def test_immediate_classes_decide_over_implementation_defects() -> None:
    """A plan defect among implementation defects makes the gate escalate at once."""
    defects = [
        Defect(gate="test", code="a", message="m", required_correction="c"),
        Defect(
            gate="test",
            code="b",
            message="m",
            required_correction="c",
            blocker_class=BlockerClass.PLAN_DEFECT,
        ),
    ]
    result = GateResult(gate="test", round=0, passed=False, defects=defects, evaluated_at=NOW)
    assert result.blocker_class() is BlockerClass.PLAN_DEFECT


def test_a_correction_carries_gate_defect_correction_and_unchanged_criteria() -> None:
    """Behaviour 19: each retry names the failed gate, the defect, the correction, the criteria."""
    c = CorrectionRequest(
        gate="implementation",
        round=1,
        budget=2,
        phase_id="I1",
        defect="tests fail: greet('Ada') returned 'Hello Ada'",
        required_correction="return 'Hello, NAME!'",
        acceptance_criteria=["requirement R1: greet(name) returns 'Hello, NAME!'"],
    )
    text = c.as_text()
    for part in (
        "CORRECTION 1 of 2",
        "implementation",
        "Defect observed",
        "Hello Ada",
        "Required correction",
        "Acceptance criteria (unchanged)",
        "requirement R1",
    ):
        assert part in text
    with pytest.raises(ValidationError):
        CorrectionRequest(
            gate="g",
            round=1,
            budget=2,
            phase_id="I1",
            defect="d",
            required_correction="c",
            acceptance_criteria=[],
        )


def contract(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "execution_status": "complete",
        "plan_path": "plans/p.yaml",
        "test_spec_path": "docs/spec.md",
        "test_commit_hashes": ["a" * 40],
        "implementation_commit_hashes": ["b" * 40],
        "validation_report_path": ".runwright/plans/x/validation_report.json",
        "requirement_coverage": "full",
        "open_issues": "none",
        "escalations": "none",
        "recommended_next_action": "merge",
        "member_delegations": [
            {"member": "test-implementer", "session_ids": [new_id()], "outcome": "complete"},
            {"member": "implement-plan", "session_ids": [new_id()], "outcome": "complete"},
            {"member": "validate-plan", "session_ids": [new_id()], "outcome": "complete"},
        ],
        "execution_worktree_path": "/repo",
        "event_ledger": ["7:gate_passed"],
        "stage_event": "stage-complete",
        "plan_id": "p",
        "run_id": new_id(),
        "written_at": NOW,
    }
    data.update(changes)
    return data


def test_a_full_completion_contract_is_valid() -> None:
    """The ten fields, the delegation evidence and the stage event make a valid contract."""
    assert CompletionContract.model_validate(contract()).execution_status.value == "complete"


@pytest.mark.parametrize(
    "field",
    [
        "plan_path",
        "test_spec_path",
        "recommended_next_action",
        "open_issues",
        "escalations",
        "requirement_coverage",
    ],
)
def test_a_contract_missing_a_field_is_invalid(field: str) -> None:
    """Behaviour 23: a missing field makes the contract invalid."""
    data = contract()
    del data[field]
    with pytest.raises(ValidationError):
        CompletionContract.model_validate(data)


@pytest.mark.parametrize("field", ["open_issues", "escalations", "test_commit_hashes"])
def test_an_empty_list_instead_of_none_is_invalid(field: str) -> None:
    """Behaviour 23: empty lists are written as the explicit string "none"."""
    with pytest.raises(ValidationError):
        CompletionContract.model_validate(contract(**{field: []}))


def test_complete_without_a_member_session_id_is_invalid() -> None:
    """Behaviour 23: a complete contract needs all three members' session ids."""
    data = contract()
    data["member_delegations"][2] = {
        "member": "validate-plan",
        "session_ids": "none",
        "outcome": "not-delegated",
    }
    with pytest.raises(ValidationError, match="no session id for validate-plan"):
        CompletionContract.model_validate(data)


def test_complete_with_a_critical_open_issue_is_invalid() -> None:
    """Behaviour 24: an unescalated critical issue forbids complete."""
    issue = {"id": "x", "severity": "critical", "summary": "broken", "destination": "member"}
    with pytest.raises(ValidationError, match="critical issue is open"):
        CompletionContract.model_validate(contract(open_issues=[issue]))


def test_exactly_one_outcome_with_its_stage_event() -> None:
    """Behaviour 24: the stage event must be the one of the outcome."""
    with pytest.raises(ValidationError, match="stage_event"):
        CompletionContract.model_validate(contract(stage_event="stage-blocked"))
    blocked = contract(
        execution_status="blocked",
        stage_event="stage-blocked",
        implementation_commit_hashes="none",
        requirement_coverage="partial",
    )
    assert CompletionContract.model_validate(blocked).stage_event == "stage-blocked"


def test_an_escalated_contract_names_its_escalations() -> None:
    """escalated with escalations "none" is invalid."""
    with pytest.raises(ValidationError, match="escalations"):
        CompletionContract.model_validate(
            contract(execution_status="escalated", stage_event="stage-escalated")
        )
