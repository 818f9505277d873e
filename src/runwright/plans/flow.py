"""The stage flow of a plan run, as one durable job:

intake → preflight gate → test phases → test gate → implementation phases → implementation
gate → validation → validation gate → completion.

Nothing downstream starts before its gate passes. A failed gate gets at most ``retry_budget``
(≤ 2) correction rounds, each delegating the implicated phases again with a correction request
(failed gate, defect observed, required correction, unchanged acceptance criteria); the next
failure escalates. Package and plan defects and open decisions escalate at once. An escalation
parks the run until a human answers it (``runwright plan decide``).

Every decision below is derived from memoized step results, so a worker that picks the run up
after a crash replays to the same point without redoing a delegation or a commit.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, NoReturn

from runwright.domain.plan_completion import ExecutionStatus, ValidationReport
from runwright.domain.plan_records import (
    IMMEDIATE,
    Acknowledgment,
    BlockerClass,
    CorrectionRequest,
    Defect,
    Escalation,
    EscalationAnswer,
    GateResult,
    OptionEffect,
    PhaseDelegation,
    PhaseStatus,
    PlanStatus,
)
from runwright.domain.plan_schedule import Schedule, schedule
from runwright.domain.plans import (
    GATE_AFTER,
    ErrorHandling,
    Gate,
    PhaseType,
    PlanPhase,
    PlanSpec,
    Stage,
)
from runwright.domain.retry import RetryPolicy
from runwright.domain.states import RunState, StateReason
from runwright.engine.context import ChildFailed, ChildSpec, JobContext
from runwright.engine.stepper import Suspended
from runwright.errors import NonRetryableError, RunwrightError
from runwright.patches.routing import Router
from runwright.plans import completion, delegation, gates
from runwright.plans.commands import suite_argv
from runwright.plans.contract import PlanInvalid, load_plan_text, plan_digest, read_plan_text
from runwright.plans.delegation import Delegation
from runwright.plans.intake import acknowledge
from runwright.plans.spec import PHASE_JOB, VALIDATE_JOB, PhaseRunSpec, PlanRunSpec, ValidateRunSpec
from runwright.plans.workspace import Workspace
from runwright.store.database import Database
from runwright.store.plans_store import PlanStore

STEP_RETRY = RetryPolicy(max_attempts=3, initial_interval=1.0)
GATE_CRITERIA = {
    Gate.TEST: ["the tests exist and parse"],
    Gate.IMPLEMENTATION: ["the whole test suite passes", "no test file is changed"],
    Gate.VALIDATION: ["every requirement is traced requirement → test → code"],
}


class PlanBlocked(NonRetryableError):
    """The plan ended blocked (its completion contract says why)."""

    code = "plan_blocked"


class PlanFlow:
    """One execution (or replay) of a plan run."""

    def __init__(self, ctx: JobContext, spec: PlanRunSpec):
        self.ctx = ctx
        self.spec = spec
        self.plan: PlanSpec = spec.plan
        db = getattr(ctx.store, "db", None)
        if not isinstance(db, Database):  # pragma: no cover - only SQL stores exist
            raise NonRetryableError("plans need the SQL store")
        self.db = db
        self.store = PlanStore(db)
        p = spec.project
        self.env = delegation.project_env(p.project_id, p.project_root, p.home, ctx.clock)
        self.workspace = Workspace(self.env, ctx.run_id)
        self.outcomes = gates.Outcomes()
        self.acknowledged: set[str] = set(spec.acknowledged)
        self.accepted: set[str] = set()
        self.escalations: list[Escalation] = []
        self.validate_runs: list[str] = []
        self.report: ValidationReport | None = None
        self.report_evidence: str | None = None
        self.test_gate_exception: str | None = None
        self.load_problems: list[str] = []
        self.ack: Acknowledgment | None = None
        self.writes = 0

    @property
    def run_id(self) -> str:
        """The plan run's id."""
        return self.ctx.run_id

    def step(self, key: str, fn: Any, *args: Any) -> Any:
        """A memoized step of the plan run (safe to repeat after a crash)."""
        return self.ctx.step(key, fn, *args, idempotent=True, retry=STEP_RETRY)

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
        """Evaluate ``gate`` until it passes: correct, escalate, or end the plan."""
        round_ = 0
        extra = 0
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
            phase_failed = any(d.code in {"phase_failed", "phase_skipped"} for d in result.defects)
            escalate_now = self.plan.error_handling is ErrorHandling.ESCALATE and phase_failed
            if cls in IMMEDIATE or escalate_now or round_ >= self.plan.retry_budget + extra:
                escalation = self.escalate(gate, cls, result, round_)
                answer = self.await_answer(escalation)
                effect = escalation.option(answer.option).effect
                if effect is OptionEffect.BLOCK:
                    why = f"{gate.value} gate blocked; {answer.by} chose {answer.option}: "
                    self.finish(ExecutionStatus.BLOCKED, why + escalation.summary, result.defects)
                round_ += 1
                if effect is OptionEffect.ACCEPT:
                    self.accept(result)
                elif cls is BlockerClass.IMPLEMENTATION_DEFECT:
                    extra += 1
                    self.correct(gate, stage, round_, result, extra, answer.note)
                elif gate is Gate.PREFLIGHT:
                    self.reload(round_)
                continue
            round_ += 1
            self.correct(gate, stage, round_, result, extra, None)

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

    # ---- phases -------------------------------------------------------------------------
    def run_phases(
        self,
        stage: Stage,
        phases: list[PlanPhase],
        round_: int,
        corrections: dict[str, CorrectionRequest],
    ) -> None:
        """Delegate ``phases`` in batches (parallel only where the rules allow)."""
        if not phases:
            return
        sched = Schedule.model_validate(
            self.step(
                f"schedule:{stage.value}:{round_}",
                self._schedule,
                stage.value,
                [p.phase_id for p in phases],
                round_,
            )
        )
        failed = False
        in_stage = {p.phase_id for p in phases}
        for i, batch in enumerate(sched.batches):
            start, skipped = [], {}
            for pid in batch.phase_ids:
                phase = self.plan.phase(pid)
                broken = [
                    d for d in phase.depends_on if d in in_stage and not self.outcomes.committed(d)
                ]
                if failed and self.plan.error_handling is not ErrorHandling.CONTINUE:
                    skipped[pid] = (
                        f"not started: an earlier phase failed ({self.plan.error_handling})"
                    )
                elif broken:
                    skipped[pid] = f"not started: it depends on {broken}, which did not commit"
                else:
                    start.append(pid)
            tag = f"{stage.value}:{round_}:{i}"
            if skipped:
                for pid, outcome in self.step(f"skip:{tag}", self._skip, skipped, round_).items():
                    self.outcomes.add(pid, outcome, None)
            if not start:
                continue
            children = [
                ChildSpec(PHASE_JOB, (self._phase_spec(pid, round_, corrections.get(pid)),))
                for pid in start
            ]
            ids = self.ctx.start_children(f"phases:{tag}", children)
            notes = {
                pid: corrections[pid].model_dump(mode="json") for pid in start if pid in corrections
            }
            self.step(f"started:{tag}", self._started, start, ids, round_, notes)
            with contextlib.suppress(ChildFailed):  # each child's outcome is read below
                self.ctx.wait(*ids)
            ended = self.step(f"ended:{tag}", self._ended, start, ids, round_)
            for pid, run_id in zip(start, ids, strict=True):
                self.outcomes.add(pid, ended[pid], run_id)
                failed = failed or ended[pid].get("status") != "committed"

    def _phase_spec(
        self, pid: str, round_: int, correction: CorrectionRequest | None
    ) -> dict[str, Any]:
        phase = self.plan.phase(pid)
        tests = (
            []
            if phase.phase_type is PhaseType.TEST
            else gates.tests_for(self.plan, self.outcomes, phase)
        )
        spec = PhaseRunSpec(
            project=self.spec.project,
            plan=self.plan,
            delegation=Delegation(
                plan_run_id=self.run_id,
                phase_id=pid,
                round=round_,
                correction=correction,
                test_files=tests,
            ),
        )
        return spec.model_dump(mode="json")

    def _schedule(self, stage: str, phase_ids: list[str], round_: int) -> dict[str, Any]:
        sched = schedule([self.plan.phase(p) for p in phase_ids], self.plan.max_parallel)
        label = stage if round_ == 0 else f"{stage} (correction {round_})"
        self.store.record_schedule(
            self.run_id, label, sched.model_dump(mode="json"), self.ctx.now()
        )
        return sched.model_dump(mode="json")

    def _delegation(self, pid: str, round_: int, **kw: Any) -> PhaseDelegation:
        phase = self.plan.phase(pid)
        return PhaseDelegation(
            run_id=self.run_id,
            phase_id=pid,
            round=round_,
            gate=phase.gate_before.value,
            stage=phase.stage.value,
            started_at=self.ctx.now(),
            **kw,
        )

    def _skip(self, skipped: dict[str, str], round_: int) -> dict[str, Any]:
        now = self.ctx.now()
        out = {}
        for pid, why in skipped.items():
            outcome = {"phase_id": pid, "round": round_, "status": "skipped", "error": why}
            self.store.record_phase(
                self._delegation(
                    pid, round_, status=PhaseStatus.SKIPPED, outcome=outcome, ended_at=now
                ),
                now,
            )
            out[pid] = outcome
        return out

    def _started(self, pids: list[str], ids: list[str], round_: int, notes: dict[str, Any]) -> None:
        now = self.ctx.now()
        for pid, child in zip(pids, ids, strict=True):
            raw = notes.get(pid)
            correction = CorrectionRequest.model_validate(raw) if raw else None
            self.store.record_phase(
                self._delegation(
                    pid,
                    round_,
                    status=PhaseStatus.RUNNING,
                    child_run_id=child,
                    correction=correction,
                ),
                now,
            )

    def _ended(self, pids: list[str], ids: list[str], round_: int) -> dict[str, Any]:
        now = self.ctx.now()
        runs = {r.run_id: r for r in self.ctx.store.get_runs(ids)}
        out: dict[str, Any] = {}
        for pid, child in zip(pids, ids, strict=True):
            run = runs[child]
            if run.state is RunState.SUCCEEDED and isinstance(run.result, dict):
                outcome = dict(run.result)
            else:
                message = run.failure.message if run.failure else (run.state_reason or run.state)
                outcome = {"phase_id": pid, "round": round_, "status": "failed", "error": message}
            status = (
                PhaseStatus.COMMITTED
                if outcome.get("status") == "committed"
                else PhaseStatus.FAILED
            )
            existing = next(
                (
                    d
                    for d in self.store.phases(self.run_id)
                    if d.phase_id == pid and d.round == round_
                ),
                None,
            )
            self.store.record_phase(
                self._delegation(
                    pid,
                    round_,
                    status=status,
                    child_run_id=child,
                    correction=existing.correction if existing else None,
                    outcome=outcome,
                    ended_at=now,
                ).model_copy(update={"started_at": existing.started_at if existing else now}),
                now,
            )
            out[pid] = outcome
        return out

    # ---- corrections ---------------------------------------------------------------------
    def correct(
        self,
        gate: Gate,
        stage: Stage,
        round_: int,
        result: GateResult,
        extra: int,
        guidance: str | None,
    ) -> None:
        """Delegate the phases the failed gate implicates again, with a correction request."""
        targets = self._implicated(gate, stage, result)
        budget = self.plan.retry_budget + extra
        corrections = {}
        for phase in targets:
            mine = [d for d in result.defects if d.phase_id == phase.phase_id] or [
                d for d in result.defects if d.phase_id is None
            ]
            corrections[phase.phase_id] = CorrectionRequest(
                gate=gate.value,
                round=round_,
                budget=max(budget, round_),
                phase_id=phase.phase_id,
                defect="; ".join(d.message for d in mine) or result.defects[0].message,
                required_correction="; ".join(dict.fromkeys(d.required_correction for d in mine))
                or result.defects[0].required_correction,
                acceptance_criteria=self.criteria(phase, gate),
                evidence_refs=sorted({r for d in mine for r in d.evidence_refs}),
                guidance=guidance,
            )
        for stage_of in (Stage.TESTS, Stage.IMPLEMENTATION, Stage.VALIDATION):
            batch = [p for p in targets if p.stage is stage_of]
            self.run_phases(stage_of, batch, round_, corrections)

    def _implicated(self, gate: Gate, stage: Stage, result: GateResult) -> list[PlanPhase]:
        named = {d.phase_id for d in result.defects if d.phase_id}
        if gate is Gate.VALIDATION:
            default = [p for p in self.plan.phases if p.phase_type is PhaseType.IMPLEMENTATION]
        else:
            default = self.plan.phases_of(stage)
        unnamed = any(d.phase_id is None for d in result.defects)
        chosen = [p for p in self.plan.phases if p.phase_id in named]
        if unnamed or not chosen:
            chosen += [p for p in default if p not in chosen]
        return [p for p in self.plan.phases if p in chosen]

    def criteria(self, phase: PlanPhase, gate: Gate) -> list[str]:
        """The phase's acceptance criteria, exactly as the plan states them."""
        wanted = set(phase.requirements)
        out = [f"requirement {r.id}: {r.text}" for r in self.plan.requirements if r.id in wanted]
        out += [f"check {c.id} ({c.check_type}) passes" for c in phase.acceptance_checks]
        if phase.proof_artifact:
            out.append(f"{phase.proof_artifact} exists")
        out += GATE_CRITERIA.get(gate, [])
        if gate is Gate.IMPLEMENTATION:
            out.append("suite: " + " ".join(suite_argv(self.plan)))
        return out or [phase.objective]

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

    # ---- escalation and the end --------------------------------------------------------------
    def escalate(
        self, gate: Gate, cls: BlockerClass, result: GateResult, round_: int
    ) -> Escalation:
        """Raise (once) the escalation of a blocked gate."""
        from runwright.plans import escalation as esc_mod

        def raise_it() -> dict[str, Any]:
            now = self.ctx.now()
            esc = esc_mod.build(
                plan=self.plan,
                run_id=self.run_id,
                gate=gate.value,
                cls=cls,
                defects=result.defects,
                rounds=round_,
                evidence_refs=[
                    *result.evidence_refs,
                    f"run:{self.run_id}",
                    f"gate:{gate.value}:{round_}",
                ],
                now=now,
            )
            self.store.raise_escalation(esc, self.spec.project.project_id, now)
            self.escalations.append(esc)
            self._write(ExecutionStatus.ESCALATED, result.defects, esc, PlanStatus.WAITING_DECISION)
            self.escalations.pop()
            return esc.model_dump(mode="json")

        esc = Escalation.model_validate(self.step(f"escalate:{gate.value}:{round_}", raise_it))
        self.escalations.append(esc)
        return esc

    def await_answer(self, esc: Escalation) -> EscalationAnswer:
        """The human's answer; until there is one the run waits (no worker is held)."""
        current = self.store.get_escalation(esc.escalation_id)
        if current.answer is None:
            raise Suspended(StateReason.ESCALATED, payload={"escalation_id": esc.escalation_id})
        answer = current.answer
        data = self.step(f"answer:{esc.escalation_id}", lambda: answer.model_dump(mode="json"))
        return EscalationAnswer.model_validate(data)

    def finish(self, status: ExecutionStatus, reason: str | None, defects: list[Defect]) -> Any:
        """Write the completion contract; a blocked plan then fails its run."""
        final = {
            ExecutionStatus.COMPLETE: PlanStatus.COMPLETE,
            ExecutionStatus.BLOCKED: PlanStatus.BLOCKED,
        }[status]
        contract = self.step(
            f"completion:{status.value}", self._write, status, defects, None, final
        )
        if contract["execution_status"] != ExecutionStatus.COMPLETE.value:
            self._blocked(reason or contract["recommended_next_action"])
        return contract

    def _blocked(self, reason: str) -> NoReturn:
        raise PlanBlocked(f"plan {self.plan.plan_id} blocked: {reason}", run_id=self.run_id)

    def _write(
        self,
        status: ExecutionStatus,
        defects: list[Defect],
        escalation: Escalation | None,
        final: PlanStatus,
    ) -> dict[str, Any]:
        now = self.ctx.now()
        p = self.spec.project
        facts = completion.RunFacts(
            plan=self.plan,
            run_id=self.run_id,
            plan_path=self.spec.plan_path,
            project_root=Path(p.project_root),
            home=Path(p.home),
            worktree_path=self.spec.handoff.execution_worktree_path or p.project_root,
            outcomes=self.outcomes,
            validate_runs=self.validate_runs,
            report=self.report,
            report_evidence=self.report_evidence,
            escalations=[e.escalation_id for e in self.escalations],
            test_gate_exception=self.test_gate_exception,
        )
        ledger = [
            f"{e.seq}:{e.kind.value}"
            for e in self.ctx.store.list_events(self.run_id)
            if e.kind in completion.PLAN_EVENT_KINDS
        ]
        report_path = completion.write_report(facts)
        contract = completion.build_contract(
            facts,
            status,
            defects=defects,
            escalation=escalation,
            report_path=report_path,
            event_ledger=ledger,
            now=now,
        )
        if contract.execution_status is not status and final is PlanStatus.COMPLETE:
            final = PlanStatus.BLOCKED
        path = completion.write_bundle(
            facts,
            contract,
            ack=self.ack,
            gates=self.store.gates(self.run_id),
            escalations=self.store.escalations(run_id=self.run_id),
        )
        body = contract.model_dump(mode="json")
        self.store.record_completion(self.run_id, body, path, final, now)
        return body
