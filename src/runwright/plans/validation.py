"""The validation stage's run (the validate-plan member): report per phase and per
requirement, tracing every requirement → test → code, with the test suite run at HEAD."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runwright.domain.plan_completion import (
    PhaseReport,
    RequirementTrace,
    TraceStatus,
    ValidationReport,
)
from runwright.domain.plan_records import Defect, PhaseDelegation, PhaseStatus, Severity
from runwright.domain.plans import Gate, PhaseType, PlanSpec
from runwright.domain.runs import RunKind
from runwright.engine.context import JobContext
from runwright.engine.evidence import attach_evidence
from runwright.engine.registry import job
from runwright.plans import delegation
from runwright.plans.commands import suite_argv
from runwright.plans.gates import GATE_TIMEOUT, Outcomes, acknowledged_exceptions
from runwright.plans.spec import VALIDATE_JOB, ValidateRunSpec
from runwright.plans.workspace import Workspace
from runwright.store.plans import PlanStore


def outcomes_of(delegations: Sequence[PhaseDelegation]) -> Outcomes:
    """The phases' outcomes, from their recorded delegations (in order of start)."""
    out = Outcomes()
    for d in sorted(delegations, key=lambda x: (x.round, x.started_at)):
        if d.status is PhaseStatus.RUNNING:
            continue
        outcome = dict(d.outcome) or {"status": d.status.value}
        out.add(d.phase_id, outcome, d.child_run_id)
    return out


def phase_reports(plan: PlanSpec, outcomes: Outcomes) -> list[PhaseReport]:
    """How each phase ended."""
    reports = []
    for p in plan.phases:
        latest = outcomes.latest.get(p.phase_id)
        status = str(latest.get("status", "failed")) if latest else "not-run"
        reports.append(
            PhaseReport(
                phase_id=p.phase_id,
                phase_type=p.phase_type.value,
                owner_role=p.owner_role,
                status=status if status in {"committed", "failed", "skipped"} else "not-run",
                rounds=len(outcomes.runs.get(p.phase_id, [])),
                run_ids=outcomes.runs.get(p.phase_id, []),
                patch_ids=list(latest.get("patch_ids", [])) if latest else [],
                commits=outcomes.commits.get(p.phase_id, []),
                files=list(latest.get("files", [])) if latest else [],
                checks=dict(latest.get("checks", {})) if latest else {},
                error=latest.get("error") if latest else None,
            )
        )
    return reports


def trace(
    plan: PlanSpec, outcomes: Outcomes, exceptions: set[str], tests_passed: bool | None
) -> list[RequirementTrace]:
    """Every requirement, traced to the tests that prove it and the code that meets it."""
    traces = []
    for req in plan.requirements:
        tests = plan.covering(req.id, PhaseType.TEST)
        code = plan.covering(req.id, PhaseType.IMPLEMENTATION)
        test_done = [p for p in tests if outcomes.committed(p.phase_id)]
        code_done = [p for p in code if outcomes.committed(p.phase_id)]
        test_files = sorted({f for p in test_done for f in outcomes.test_files(p.phase_id)})
        code_files = sorted(
            {f for p in code_done for f in outcomes.latest[p.phase_id].get("files", [])}
        )
        only_exceptions = bool(code) and all(p.phase_id in exceptions for p in code)
        if code_done and len(code_done) == len(code) and not tests and only_exceptions:
            status = TraceStatus.EXCEPTION
        elif test_files and code_done and len(code_done) == len(code) and tests_passed:
            status = TraceStatus.TRACED
        elif test_files or code_done:
            status = TraceStatus.PARTIAL
        else:
            status = TraceStatus.UNTRACED
        traces.append(
            RequirementTrace(
                requirement_id=req.id,
                text=req.text,
                critical=req.critical,
                test_phases=[p.phase_id for p in test_done],
                test_files=test_files,
                code_phases=[p.phase_id for p in code_done],
                code_files=code_files,
                commits=[c for p in [*test_done, *code_done] for c in outcomes.commits[p.phase_id]],
                tests_passed=tests_passed,
                status=status,
            )
        )
    return traces


def deviations(
    plan: PlanSpec,
    phases: list[PhaseReport],
    traces: list[RequirementTrace],
    tests_passed: bool | None,
    suite_ref: str | None,
) -> list[Defect]:
    """Everything that deviates from the plan, with its severity."""
    gate = Gate.VALIDATION.value
    out: list[Defect] = []
    for ph in phases:
        if ph.status != "committed":
            out.append(
                Defect(
                    gate=gate,
                    code=f"phase_{ph.status.replace('-', '_')}",
                    message=f"phase {ph.phase_id} {ph.status}: {ph.error or 'no commit'}",
                    required_correction=f"deliver phase {ph.phase_id}",
                    phase_id=ph.phase_id,
                    severity=Severity.CRITICAL,
                    evidence_refs=[f"run:{r}" for r in ph.run_ids] or [f"phase:{ph.phase_id}"],
                )
            )
        for check, status in ph.checks.items():
            if status == "WARN":
                out.append(
                    Defect(
                        gate=gate,
                        code="check_warn",
                        message=f"phase {ph.phase_id} check {check} is WARN (weak evidence)",
                        required_correction=f"strengthen the evidence of {check}",
                        phase_id=ph.phase_id,
                        severity=Severity.LOW,
                    )
                )
    if tests_passed is False:
        out.append(
            Defect(
                gate=gate,
                code="tests_fail",
                message="the test suite fails at HEAD",
                required_correction="make the tests pass without changing them",
                severity=Severity.CRITICAL,
                evidence_refs=[suite_ref] if suite_ref else [],
            )
        )
    for t in traces:
        if t.status in {TraceStatus.TRACED, TraceStatus.EXCEPTION}:
            continue
        missing = "tests" if not t.test_files else "code" if not t.code_phases else "passing tests"
        covering = [p.phase_id for p in plan.phases if t.requirement_id in p.requirements]
        out.append(
            Defect(
                gate=gate,
                code=f"requirement_{t.status.value}",
                message=f"requirement {t.requirement_id} is {t.status.value}: no {missing}",
                required_correction=f"trace {t.requirement_id} to a passing test and its code",
                requirement_id=t.requirement_id,
                phase_id=next(
                    (p for p in covering if p not in t.test_phases + t.code_phases), None
                ),
                severity=Severity.CRITICAL if t.critical else Severity.HIGH,
            )
        )
    return out


class Validator:
    """Builds the validation report of a plan run."""

    def __init__(self, ctx: JobContext, spec: ValidateRunSpec):
        db = ctx.store.db
        self.spec = spec
        self.store = PlanStore(db)
        p = spec.project
        env = delegation.project_env(p.project_id, p.project_root, p.home, ctx.clock)
        self.workspace = Workspace(env, spec.plan_run_id)
        self.clock = ctx.clock

    def report(self) -> dict[str, Any]:
        """Trace, run the suite at HEAD, report (attached as evidence)."""
        plan = self.spec.plan
        outcomes = outcomes_of(self.store.phases(self.spec.plan_run_id))
        exceptions = acknowledged_exceptions(plan, set(self.spec.acknowledged))
        with self.workspace.at_head(f"validate-{self.spec.round}") as tree:
            ran = self.workspace.run(
                suite_argv(plan),
                cwd=tree,
                name=f"validate-suite-{self.spec.round}",
                timeout=GATE_TIMEOUT,
            )
        phases = phase_reports(plan, outcomes)
        traces = trace(plan, outcomes, exceptions, ran.ok)
        devs = deviations(plan, phases, traces, ran.ok, ran.evidence)
        report = ValidationReport(
            plan_id=plan.plan_id,
            run_id=self.spec.plan_run_id,
            phases=phases,
            requirements=traces,
            deviations=devs,
            tests_passed=ran.ok,
            critical_failures=sum(1 for d in devs if d.severity is Severity.CRITICAL),
            generated_at=self.clock.now(),
        )
        body = report.model_dump_json(indent=2).encode()
        link = attach_evidence(body, name="validation_report.json", label="validation report")
        return {"report": report.model_dump(mode="json"), "evidence": f"sha256:{link.sha256}"}


@job(name=VALIDATE_JOB, kind=RunKind.PLAN_PHASE)
def validate_plan(ctx: JobContext, spec_data: dict[str, Any]) -> dict[str, Any]:
    """The validate-plan member: a report per phase and per requirement."""
    spec = ValidateRunSpec.model_validate(spec_data)
    result: dict[str, Any] = ctx.step("report", Validator(ctx, spec).report)
    return result
