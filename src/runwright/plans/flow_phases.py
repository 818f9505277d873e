"""Delegating phases: batches by the schedule, skips by ``error_handling``, and correction
rounds that carry the failed gate's defects back to the implicated phases.

The phases of a batch run at once, each in its own worktree made from the same base commit —
the plan's commit when the batch starts, recorded in a step — and their commits land on the
branch in the plan's phase order (each phase waits for the runs of the phases before it in
the batch; see :mod:`runwright.plans.landing`).

``error_handling`` decides what a phase that did not commit does to the phases of its stage
not started yet, in every round: ``fail_fast`` and ``escalate`` start none of them (they are
recorded skipped, and the correction round delegates them again); ``continue`` starts those
that do not depend on it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from runwright.domain.ids import new_id
from runwright.domain.plan_records import (
    CorrectionRequest,
    GateResult,
    PhaseDelegation,
    PhaseStatus,
)
from runwright.domain.plan_schedule import Schedule, schedule
from runwright.domain.plans import (
    ErrorHandling,
    Gate,
    PhaseType,
    PlanPhase,
    Stage,
)
from runwright.engine.context import ChildFailed, ChildSpec
from runwright.plans import gates
from runwright.plans.commands import suite_argv
from runwright.plans.delegation import Delegation
from runwright.plans.flow_budget import BudgetRounds
from runwright.plans.phase_job import recorded_outcome
from runwright.plans.spec import PHASE_JOB, PhaseRunSpec

GATE_CRITERIA = {
    Gate.TEST: ["the tests exist and parse"],
    Gate.IMPLEMENTATION: ["the whole test suite passes", "no test file is changed"],
    Gate.VALIDATION: ["every requirement is traced requirement → test → code"],
}


class PhaseRounds(BudgetRounds):
    """Running phases and correction rounds (each batch within budget)."""

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
                    skipped[pid] = f"cannot start: {', '.join(broken)} did not commit"
                else:
                    start.append(pid)
            tag = f"{stage.value}:{round_}:{i}"
            if skipped:
                for pid, outcome in self.step(f"skip:{tag}", self._skip, skipped, round_).items():
                    self.outcomes.add(pid, outcome, None)
            if not start:
                continue
            start.sort(key=[p.phase_id for p in self.plan.phases].index)  # the plan's order

            def launch(key: str, pids: list[str]) -> tuple[list[str], dict[str, Any]]:
                return self._launch(key, pids, round_, corrections)

            for pid, run_id, outcome in self.delegate_batch(stage, tag, start, launch):
                self.outcomes.add(pid, outcome, run_id)
            failed = failed or any(not self.outcomes.committed(pid) for pid in start)

    def _launch(
        self,
        tag: str,
        start: list[str],
        round_: int,
        corrections: dict[str, CorrectionRequest],
    ) -> tuple[list[str], dict[str, Any]]:
        """Start a batch's phase runs, wait for them, and read their outcomes."""
        ids = self._start_batch(tag, start, round_, corrections)
        notes = {
            pid: corrections[pid].model_dump(mode="json") for pid in start if pid in corrections
        }
        self.step(f"started:{tag}", self._started, start, ids, round_, notes)
        with contextlib.suppress(ChildFailed):  # each child's outcome is read below
            self.ctx.wait(*ids)
        ended: dict[str, Any] = self.step(f"ended:{tag}", self._ended, start, ids, round_)
        return ids, ended

    def _start_batch(
        self,
        tag: str,
        pids: list[str],
        round_: int,
        corrections: dict[str, CorrectionRequest],
    ) -> list[str]:
        """Start a batch's phase runs (once): all from the plan's commit now, each landing its
        commits after the phases before it in the plan's order."""
        base = self.step(f"base:{tag}", self.workspace.head)
        run_ids = [new_id() for _ in pids]  # used the first time only: the start is memoized
        children = [
            ChildSpec(
                PHASE_JOB,
                (
                    self._phase_spec(
                        pid,
                        round_,
                        corrections.get(pid),
                        base_commit=base,
                        commit_after=run_ids[:n],
                    ),
                ),
                run_id=run_ids[n],
            )
            for n, pid in enumerate(pids)
        ]
        ids: list[str] = self.ctx.start_children(f"phases:{tag}", children)
        return ids

    def _phase_spec(
        self,
        pid: str,
        round_: int,
        correction: CorrectionRequest | None,
        *,
        base_commit: str,
        commit_after: list[str],
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
                base_commit=base_commit,
                commit_after=commit_after,
                budget=self.budget_guard(pid, round_),
                carried=self.carried_tasks(pid),
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
            outcome = recorded_outcome(self.ctx.store, run)  # a failed phase recorded it first
            if outcome is None:
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
        *,
        number: int,
        budget: int,
        guidance: str | None,
    ) -> None:
        """Correction round ``number`` of ``budget``: delegate the phases the failed gate
        implicates again, with a correction request (``round_`` is the gate's evaluation it
        follows, which names the delegations)."""
        targets = self._implicated(gate, stage, result)
        corrections = {}
        for phase in targets:
            mine = [d for d in result.defects if d.phase_id == phase.phase_id] or [
                d for d in result.defects if d.phase_id is None
            ]
            corrections[phase.phase_id] = CorrectionRequest(
                gate=gate.value,
                round=number,
                budget=max(budget, number),
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
