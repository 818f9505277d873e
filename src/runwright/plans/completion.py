"""Writing the completion contract and its evidence bundle.

The contract goes to ``.runwright/plans/<run>/completion.json`` beside the validation report,
and the bundle (acknowledgment, gate results, escalations, report, contract) is attached to
the plan run as evidence. A contract that cannot be ``complete`` (a seed invariant forbids it)
is written as ``blocked`` with the reasons as open issues — never as a false ``complete``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from runwright.domain.budgets import PlanSpend
from runwright.domain.events import EventKind
from runwright.domain.plan_completion import (
    NONE,
    CompletionContract,
    ExecutionStatus,
    MemberDelegation,
    OpenIssue,
    TraceStatus,
    ValidationReport,
)
from runwright.domain.plan_records import (
    ROUTED_TO,
    Acknowledgment,
    Defect,
    Escalation,
    GateResult,
    Severity,
)
from runwright.domain.plans import PhaseType, PlanSpec
from runwright.engine.evidence import attach_evidence
from runwright.plans.gates import Outcomes

PLAN_EVENT_KINDS = {
    EventKind.STAGE_STARTED,
    EventKind.GATE_PASSED,
    EventKind.GATE_FAILED,
    EventKind.CORRECTION_REQUESTED,
    EventKind.ESCALATION_RAISED,
    EventKind.ESCALATION_RESOLVED,
    EventKind.PHASE_TRANSITION,
    EventKind.CHILD_STARTED,
}


@dataclass
class RunFacts:
    """What the plan run knows when it writes its contract."""

    plan: PlanSpec
    run_id: str
    plan_path: str
    project_root: Path
    home: Path
    worktree_path: str
    outcomes: Outcomes
    validate_runs: list[str] = field(default_factory=list)
    report: ValidationReport | None = None
    report_evidence: str | None = None
    escalations: list[str] = field(default_factory=list)
    test_gate_exception: str | None = None
    exceptions: set[str] = field(default_factory=set)
    spend: PlanSpend = field(default_factory=PlanSpend)


def display_path(path: Path, root: Path) -> str:
    """``path`` relative to the project root when it is inside it."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _commits(facts: RunFacts, kind: PhaseType) -> list[str] | str:
    out = [
        c
        for p in facts.plan.phases
        if p.phase_type is kind
        for c in facts.outcomes.commits.get(p.phase_id, [])
    ]
    return out or NONE


def _member(facts: RunFacts, member: str, kind: PhaseType | None) -> MemberDelegation:
    if kind is None:
        ids = list(facts.validate_runs)
        done = facts.report is not None
        outcome = "complete" if done else ("failed" if ids else "not-delegated")
        return MemberDelegation(member=member, session_ids=ids or NONE, outcome=outcome)
    phases = [p for p in facts.plan.phases if p.phase_type is kind]
    ids = [r for p in phases for r in facts.outcomes.runs.get(p.phase_id, [])]
    if not phases and kind is PhaseType.TEST and facts.test_gate_exception:
        return MemberDelegation(member=member, session_ids=NONE, outcome="exception")
    if not ids:
        outcome = "not-delegated"
    elif all(facts.outcomes.committed(p.phase_id) for p in phases):
        outcome = "complete"
    else:
        outcome = "failed"
    return MemberDelegation(member=member, session_ids=ids or NONE, outcome=outcome)


def _issues(facts: RunFacts, defects: list[Defect]) -> list[OpenIssue]:
    issues = [
        OpenIssue(
            id=f"{d.gate}:{d.code}" + (f":{d.phase_id}" if d.phase_id else ""),
            severity=d.severity,
            summary=d.message,
            destination=ROUTED_TO[d.blocker_class],
            escalated=bool(facts.escalations),
        )
        for d in defects
    ]
    if facts.report is not None:
        issues += [
            OpenIssue(
                id=f"validation:{d.code}",
                severity=d.severity,
                summary=d.message,
                destination=ROUTED_TO[d.blocker_class],
            )
            for d in facts.report.deviations
            if d.severity is not Severity.CRITICAL
        ]
    seen: set[str] = set()
    return [i for i in issues if not (i.id in seen or seen.add(i.id))]  # type: ignore[func-returns-value]


def _next_action(
    status: ExecutionStatus, facts: RunFacts, defects: list[Defect], escalation: Escalation | None
) -> str:
    if status is ExecutionStatus.COMPLETE:
        n = sum(len(v) for v in facts.outcomes.commits.values())
        return f"review the {n} commit(s) this plan made and merge them; then close the item"
    if escalation is not None:
        return (
            f"answer escalation {escalation.escalation_id} ({escalation.blocker_class.value}, "
            f"routed to {escalation.routed_to}): `runwright plan decide {facts.run_id} "
            f"--option A|B` (preferred {escalation.preferred})"
        )
    if defects:
        d = defects[0]
        return f"{ROUTED_TO[d.blocker_class]}: {d.required_correction}"
    return "look at `runwright plan show` for what blocked the plan"


def build_contract(
    facts: RunFacts,
    status: ExecutionStatus,
    *,
    defects: list[Defect],
    escalation: Escalation | None,
    report_path: str,
    event_ledger: list[str],
    now: datetime,
) -> CompletionContract:
    """The contract for ``status``; a complete that an invariant forbids becomes blocked."""
    coverage = "partial"
    if facts.report is not None and all(
        t.status in {TraceStatus.TRACED, TraceStatus.EXCEPTION} for t in facts.report.requirements
    ):
        coverage = "full"
    issues = _issues(facts, defects)
    body: dict[str, Any] = {
        "execution_status": status.value,
        "plan_path": facts.plan_path,
        "test_spec_path": facts.plan.test_spec,
        "test_commit_hashes": _commits(facts, PhaseType.TEST),
        "implementation_commit_hashes": _commits(facts, PhaseType.IMPLEMENTATION),
        "validation_report_path": report_path,
        "requirement_coverage": coverage,
        "open_issues": [i.model_dump(mode="json") for i in issues] or NONE,
        "escalations": list(facts.escalations) or NONE,
        "recommended_next_action": _next_action(status, facts, defects, escalation),
        "member_delegations": [
            _member(facts, "test-implementer", PhaseType.TEST).model_dump(mode="json"),
            _member(facts, "implement-plan", PhaseType.IMPLEMENTATION).model_dump(mode="json"),
            _member(facts, "validate-plan", None).model_dump(mode="json"),
        ],
        "execution_worktree_path": facts.worktree_path,
        "event_ledger": event_ledger or [f"run:{facts.run_id}"],
        "stage_event": f"stage-{status.value}",
        "test_gate_exception": facts.test_gate_exception,
        "spend": facts.spend.model_dump(mode="json"),
        "plan_id": facts.plan.plan_id,
        "run_id": facts.run_id,
        "written_at": now,
    }
    try:
        return CompletionContract.model_validate(body)
    except PydanticValidationError as exc:
        if status is not ExecutionStatus.COMPLETE:
            raise
        refusal = [
            OpenIssue(
                id="completion:refused",
                severity=Severity.CRITICAL,
                summary=f"complete refused: {err['msg'].removeprefix('Value error, ')}",
                destination="execution-lead",
            )
            for err in exc.errors()
        ]
        body.update(
            execution_status=ExecutionStatus.BLOCKED.value,
            stage_event="stage-blocked",
            open_issues=[i.model_dump(mode="json") for i in [*issues, *refusal]],
            recommended_next_action="fix what the completion contract refused: "
            + "; ".join(i.summary for i in refusal),
        )
        return CompletionContract.model_validate(body)


def write_bundle(
    facts: RunFacts,
    contract: CompletionContract,
    *,
    ack: Acknowledgment | None,
    gates: list[GateResult],
    escalations: list[Escalation],
) -> str:
    """Write the contract (and the report) to disk and attach the evidence bundle."""
    folder = facts.home / "plans" / facts.run_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "completion.json"
    text = contract.model_dump_json(indent=2)
    path.write_text(text + "\n", encoding="utf-8")
    attach_evidence(text.encode(), name="completion.json", label="completion contract")
    bundle = {
        "acknowledgment": ack.model_dump(mode="json") if ack else None,
        "gates": [g.model_dump(mode="json") for g in gates],
        "escalations": [e.model_dump(mode="json") for e in escalations],
        "spend": facts.spend.model_dump(mode="json"),
    }
    attach_evidence(
        json.dumps(bundle, indent=2, sort_keys=True).encode(),
        name="evidence-bundle.json",
        label="acknowledgment, gates, escalations and spend",
    )
    return display_path(path, facts.project_root)


def write_report(facts: RunFacts) -> str:
    """Write the validation report beside the contract; "none" when there is none."""
    if facts.report is None:
        return NONE
    folder = facts.home / "plans" / facts.run_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "validation_report.json"
    path.write_text(facts.report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return display_path(path, facts.project_root)
