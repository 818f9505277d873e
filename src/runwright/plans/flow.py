"""The stage flow of a plan run, as one durable job:

intake → preflight gate → test phases → test gate → implementation phases → implementation
gate → validation → validation gate → completion.

Nothing downstream starts before its gate passes. A gate that fails on implementation defects
gets ``retry_budget`` (≤ 2) correction rounds — whatever ``error_handling`` says — each
delegating the implicated phases again with a correction request (failed gate, defect
observed, required correction, unchanged acceptance criteria); the next failure escalates.
Package and plan defects and open decisions escalate at once: no correction can fix them.
An escalation parks the run until a human answers it (``runwright plan decide``).

Every decision below is derived from memoized step results, so a worker that picks the run up
after a crash replays to the same point without redoing a delegation or a commit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runwright.domain.plan_completion import ExecutionStatus, ValidationReport
from runwright.domain.plan_records import (
    IMMEDIATE,
    Acknowledgment,
    BlockerClass,
    Defect,
    GateResult,
    OptionEffect,
)
from runwright.domain.plans import (
    GATE_AFTER,
    Gate,
    PlanSpec,
    Stage,
)
from runwright.engine.context import ChildFailed
from runwright.errors import RunwrightError
from runwright.patches.routing import Router
from runwright.plans import gates
from runwright.plans.contract import PlanInvalid, load_plan_text, plan_digest, read_plan_text
from runwright.plans.flow_end import FlowEnding
from runwright.plans.flow_phases import PhaseRounds
from runwright.plans.flow_state import PlanBlocked
from runwright.plans.intake import acknowledge
from runwright.plans.spec import VALIDATE_JOB, ValidateRunSpec

__all__ = ["PlanBlocked", "PlanFlow"]


class PlanFlow(PhaseRounds, FlowEnding):
    """One execution (or replay) of a plan run: the stage flow and its gates."""

    # ---- the flow -----------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Run (or resume) the plan to its completion contract."""
        self.ack = Acknowledgment.model_validate(self.step("intake", self._intake))
        if not self.ack.sufficiency_for_execution:
            gaps = "; ".join(f"{g.field}: {g.problem}" for g in self.ack.blocking_gaps)
            defects = [
                Defect(
                    gate="intake",
                    code="handoff_blocked",
                    message=f"{g.field}: {g.problem}",
                    required_correction=f"{g.owner} completes the handoff ({g.field})",
                    blocker_class=BlockerClass.PACKAGE_DEFECT,
                )
                for g in self.ack.blocking_gaps
            ]
            self.finish(ExecutionStatus.BLOCKED, f"blocked at intake: {gaps}", defects)
        self.gate_loop(Gate.PREFLIGHT, Stage.PREFLIGHT)
        for stage in (Stage.TESTS, Stage.IMPLEMENTATION, Stage.VALIDATION):
            self.run_phases(stage, self.plan.phases_of(stage), 0, {})
            self.gate_loop(GATE_AFTER[stage], stage)
        contract: dict[str, Any] = self.finish(ExecutionStatus.COMPLETE, None, [])
        return contract

    def _intake(self) -> dict[str, Any]:
        s = self.spec
        now = self.ctx.now()
        self.store.open_plan_run(
            run_id=self.run_id,
            plan_id=s.plan.plan_id,
            project_id=s.project.project_id,
            title=s.plan.title,
            plan_path=s.plan_path,
            plan_sha256=s.plan_sha256,
            spec=s.plan.model_dump(mode="json"),
            now=now,
        )
        ack = acknowledge(s.plan, s.handoff, Path(s.project.project_root), s.plan_sha256)
        self.store.record_ack(self.run_id, ack, now)
        return ack.model_dump(mode="json")

    # ---- gates --------------------------------------------------------------------------
    def gate_loop(self, gate: Gate, stage: Stage) -> None:
        """Evaluate ``gate`` until it passes: correct, escalate, or end the plan.

        ``round_`` counts the gate's evaluations (it names their steps and delegations);
        ``corrections`` the correction rounds actually delegated, which is what the budget
        and every escalation count. A human's option A grants one round more.
        """
        round_ = 0
        corrections = 0
        granted = 0
        while True:
            if gate is Gate.VALIDATION:
                self.validate(round_)
            result = GateResult.model_validate(
                self.step(f"gate:{gate.value}:{round_}", self._evaluate, gate.value, round_)
            )
            if result.passed:
                if result.skipped_reason:
                    self.test_gate_exception = result.skipped_reason
                return
            cls = result.blocker_class() or BlockerClass.IMPLEMENTATION_DEFECT
            budget = self.plan.retry_budget + granted
            if cls in IMMEDIATE or corrections >= budget:
                escalation = self.escalate(gate, cls, result, round_, corrections)
                answer = self.await_answer(escalation)
                effect = escalation.option(answer.option).effect
                if effect is OptionEffect.BLOCK:
                    why = f"{gate.value} gate blocked; {answer.by} chose {answer.option}: "
                    self.finish(ExecutionStatus.BLOCKED, why + escalation.summary, result.defects)
                round_ += 1
                if effect is OptionEffect.ACCEPT:
                    self.accept(result)
                elif cls is BlockerClass.IMPLEMENTATION_DEFECT:
                    granted += 1
                    corrections += 1
                    self.correct(
                        gate,
                        stage,
                        round_,
                        result,
                        number=corrections,
                        budget=budget + 1,
                        guidance=answer.note,
                    )
                elif gate is Gate.PREFLIGHT:
                    self.reload(round_)
                continue
            round_ += 1
            corrections += 1
            self.correct(
                gate, stage, round_, result, number=corrections, budget=budget, guidance=None
            )

    def _evaluate(self, gate: str, round_: int) -> dict[str, Any]:
        now = self.ctx.now()
        g = Gate(gate)
        exceptions = gates.acknowledged_exceptions(self.plan, self.acknowledged | self.accepted)
        if g is Gate.PREFLIGHT:
            router = Router(self.db, self.env)
            try:
                config = router.config()
            except RunwrightError:  # a broken router.yaml is a package defect
                config = None
            result = gates.preflight(
                self.plan,
                project_root=Path(self.spec.project.project_root),
                router=config,
                workspace=self.workspace,
                acknowledged=self.acknowledged | set(self.plan.exceptions_acknowledged),
                accepted=self.accepted,
                round_=round_,
                now=now,
            )
            if self.load_problems:
                extra = [
                    Defect(
                        gate=gate,
                        code="plan_invalid",
                        message=f"plan file: {p}",
                        required_correction="fix the plan file",
                        blocker_class=BlockerClass.PLAN_DEFECT,
                    )
                    for p in self.load_problems
                ]
                result = GateResult(
                    gate=gate,
                    round=round_,
                    passed=False,
                    defects=[*extra, *result.defects],
                    checked=result.checked,
                    evaluated_at=now,
                )
        elif g is Gate.TEST:
            result = gates.test_gate(
                self.plan,
                self.outcomes,
                self.workspace,
                exceptions=exceptions,
                round_=round_,
                now=now,
            )
        elif g is Gate.IMPLEMENTATION:
            result = gates.implementation_gate(
                self.plan, self.outcomes, self.workspace, round_=round_, now=now
            )
        elif self.report is None:
            result = GateResult(
                gate=gate,
                round=round_,
                passed=False,
                defects=[
                    Defect(
                        gate=gate,
                        code="no_validation_report",
                        message="the validation run produced no report",
                        required_correction="look at the validate-plan run's failure",
                        evidence_refs=[f"run:{r}" for r in self.validate_runs],
                    )
                ],
                evaluated_at=now,
            )
        else:
            result = gates.validation_gate(
                self.report, round_=round_, now=now, evidence=self.report_evidence or ""
            )
        self.store.record_gate(self.run_id, result, now)
        return result.model_dump(mode="json")

    def accept(self, result: GateResult) -> None:
        """A human accepted the open decisions and exceptions this gate named."""
        for d in result.defects:
            if d.code == "decision_open":
                self.accepted.update(
                    r.split(":", 1)[1] for r in d.evidence_refs if r.startswith("decision:")
                )
            if d.code == "exception_unacknowledged" and d.phase_id:
                self.accepted.add(d.phase_id)

    def reload(self, round_: int) -> None:
        """Read the plan file again (before anything was delegated), after a human fixed it."""
        data = self.step(f"reload:{round_}", self._reload)
        if "plan" in data:
            self.plan = PlanSpec.model_validate(data["plan"])
            self.load_problems = []
        else:
            self.load_problems = list(data["problems"])

    def _reload(self) -> dict[str, Any]:
        path = Path(self.spec.plan_path)
        path = path if path.is_absolute() else Path(self.spec.project.project_root) / path
        try:
            text = read_plan_text(path)
            plan = load_plan_text(text, source=str(path))
        except PlanInvalid as exc:
            return {"problems": exc.problems}
        except RunwrightError as exc:  # unreadable: a plan defect too
            return {"problems": [exc.message]}
        self.store.update(
            self.run_id,
            self.ctx.now(),
            spec=plan.model_dump(mode="json"),
            plan_sha256=plan_digest(text),
        )
        return {"plan": plan.model_dump(mode="json")}

    # ---- validation ------------------------------------------------------------------------
    def validate(self, round_: int) -> None:
        """Run the validate-plan member and keep its report."""
        spec = ValidateRunSpec(
            project=self.spec.project,
            plan=self.plan,
            plan_run_id=self.run_id,
            round=round_,
            acknowledged=sorted(
                self.acknowledged | self.accepted | set(self.plan.exceptions_acknowledged)
            ),
        )
        child = self.ctx.start_child(
            f"validate:{round_}", VALIDATE_JOB, spec.model_dump(mode="json")
        )
        self.validate_runs.append(child)
        try:
            result = self.ctx.wait(child)[0]
        except ChildFailed:
            self.report = None
            return
        self.report = ValidationReport.model_validate(result["report"])
        self.report_evidence = result.get("evidence")
