"""The end of a plan run, or a pause in it: escalations that wait for a human answer, and the
completion contract with its evidence bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

from runwright.domain.plan_completion import ExecutionStatus
from runwright.domain.plan_records import (
    BlockerClass,
    Defect,
    Escalation,
    EscalationAnswer,
    GateResult,
    PlanStatus,
)
from runwright.domain.plans import Gate
from runwright.domain.states import StateReason
from runwright.engine.stepper import Suspended
from runwright.plans import completion
from runwright.plans.flow_state import FlowState, PlanBlocked
from runwright.plans.spend import spend_of


class FlowEnding(FlowState):
    """Escalating, waiting for the answer, and writing the completion contract."""

    # ---- escalation and the end --------------------------------------------------------------
    def escalate(
        self, gate: Gate, cls: BlockerClass, result: GateResult, round_: int, corrections: int
    ) -> Escalation:
        """Raise (once) the escalation of a blocked gate, at its evaluation ``round_``, after
        ``corrections`` correction rounds."""
        from runwright.plans import escalation as esc_mod

        def raise_it() -> dict[str, Any]:
            now = self.ctx.now()
            esc = esc_mod.build(
                plan=self.plan,
                run_id=self.run_id,
                gate=gate.value,
                cls=cls,
                defects=result.defects,
                corrections=corrections,
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
            spend=spend_of(self.db, self.run_id, self.plan, self.budget_raises),
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
