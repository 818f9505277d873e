"""Budgets around each batch of delegations.

Before a batch starts, the plan's budget and each of its phases' must have something left;
each phase run's agent calls are then held to the budgets in force (``Delegation.budget``:
refused when nothing is left, their time capped, stopped as soon as their reported usage passes
what is left, their spend recorded). After the batch, a spend past a limit, or a phase an agent
call was refused or stopped for, **escalates** (decision-needed): option A raises the budget
and the flow goes on where it stopped — the interrupted delegations are done again, keeping
the tasks they had committed — option B ends the plan blocked.

Every decision is a memoized step, so a replay after a crash reaches the same point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from runwright.domain.budgets import (
    BreachMoment,
    Budget,
    BudgetBreach,
    BudgetGuard,
    BudgetScope,
    exceeded,
    exhausted,
)
from runwright.domain.plan_completion import ExecutionStatus
from runwright.domain.plan_records import Escalation, OptionEffect, PlanStatus
from runwright.domain.plans import GATE_AFTER, Stage
from runwright.domain.spend import SpendRow, SpendTotals
from runwright.patches.agent import BudgetExceeded
from runwright.plans.flow_end import FlowEnding
from runwright.plans.spend import PLAN_KEY, in_force, phase_key
from runwright.store.plans import SpendStore

#: ``launch(step_key, phase_ids)`` starts the phase runs, waits for them and returns their run
#: ids and their outcomes (by phase id).
Launch = Callable[[str, list[str]], tuple[list[str], dict[str, Any]]]
#: How many evidence refs (agent runs) a budget escalation names.
REFS = 10


class BudgetRounds(FlowEnding):
    """Holding delegations to the plan's and the phases' budgets."""

    # ---- the budgets in force ----------------------------------------------------------
    def plan_budget(self) -> Budget | None:
        """The plan's budget in force."""
        return in_force(self.plan.budget, self.budget_raises.get(PLAN_KEY))

    def phase_budget(self, pid: str) -> Budget | None:
        """A phase's budget in force."""
        return in_force(self.plan.phase(pid).budget, self.budget_raises.get(phase_key(pid)))

    def budget_guard(self, pid: str, round_: int) -> BudgetGuard | None:
        """What a delegation of ``pid`` is held to (None when nothing bounds it)."""
        plan, phase = self.plan_budget(), self.phase_budget(pid)
        if plan is None and phase is None:
            return None
        return BudgetGuard(run_id=self.run_id, phase_id=pid, round=round_, plan=plan, phase=phase)

    def carried_tasks(self, pid: str) -> list[dict[str, Any]]:
        """Tasks a budget-stopped delegation of ``pid`` committed before it was stopped."""
        return self.budget_carry.pop(pid, [])

    # ---- around a batch ------------------------------------------------------------------
    def delegate_batch(
        self, stage: Stage, tag: str, pids: list[str], launch: Launch
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """Delegate ``pids`` within budget: (phase, run, outcome) of every delegation made,
        in order (a delegation stopped by its budget, then the one that did it again)."""
        entries: list[tuple[str, str, dict[str, Any]]] = []
        todo = list(pids)
        n = 0
        while todo:
            self._hold(stage, f"{tag}:{n}", todo)
            ids, ended = launch(tag if n == 0 else f"{tag}:budget{n}", todo)
            entries += [(pid, rid, ended[pid]) for pid, rid in zip(todo, ids, strict=True)]
            agents = {pid: _agent_runs(ended.get(pid) or {}) for pid in todo}
            verdict = self.step(f"budget:{tag}:{n}", self._after_batch, todo, agents)
            if verdict is None:
                break
            self._settle(stage, f"{tag}:{n}", BudgetBreach.model_validate(verdict["breach"]), todo)
            todo = list(verdict["stopped"])
            for i, (pid, rid, outcome) in enumerate(entries):
                if pid in todo and rid in ids:  # done again: its commits travel with the redo
                    self.budget_carry[pid] = _committed_tasks(outcome)
                    entries[i] = (pid, rid, {**outcome, "commits": []})
            n += 1
        return entries

    def _hold(self, stage: Stage, key: str, pids: list[str]) -> None:
        """Before delegating: escalate while the plan or one of ``pids`` has nothing left."""
        i = 0
        while True:
            found = self.step(f"budget-check:{key}:{i}", self._exhausted, pids)
            if found is None:
                return
            self._settle(stage, f"{key}:{i}", BudgetBreach.model_validate(found), pids)
            i += 1

    def _rows(self) -> list[SpendRow]:
        return SpendStore(self.db).rows(self.run_id)

    def _exhausted(self, pids: list[str]) -> dict[str, Any] | None:
        rows = self._rows()
        breach = exhausted(self.plan_budget(), SpendTotals.of(rows), BudgetScope.PLAN)
        for pid in pids:
            mine = SpendTotals.of(r for r in rows if r.phase_id == pid)
            breach = breach or exhausted(self.phase_budget(pid), mine, BudgetScope.PHASE, pid)
        return breach.model_dump(mode="json") if breach else None

    def _after_batch(self, pids: list[str], agents: dict[str, list[str]]) -> dict[str, Any] | None:
        runs = {
            r.run_id: r for r in self.ctx.store.get_runs([a for v in agents.values() for a in v])
        }
        stopped = [
            pid
            for pid in pids
            if any(
                (run := runs.get(a)) is not None
                and run.failure is not None
                and run.failure.type == BudgetExceeded.__name__
                for a in agents[pid]
            )
        ]
        rows = self._rows()
        moment = BreachMoment.DURING_CALL if stopped else BreachMoment.AFTER_CALL
        totals = SpendTotals.of(rows)
        breach = exceeded(self.plan_budget(), totals, BudgetScope.PLAN, None, moment)
        for pid in pids:
            mine = SpendTotals.of(r for r in rows if r.phase_id == pid)
            phase = self.phase_budget(pid)
            breach = breach or exceeded(phase, mine, BudgetScope.PHASE, pid, moment)
        if breach is None and stopped:  # refused for want of budget, or stopped at its edge
            breach = exhausted(self.plan_budget(), totals, BudgetScope.PLAN)
            for pid in stopped:
                mine = SpendTotals.of(r for r in rows if r.phase_id == pid)
                breach = breach or exhausted(self.phase_budget(pid), mine, BudgetScope.PHASE, pid)
        if breach is None:
            return None
        return {"breach": breach.model_dump(mode="json"), "stopped": stopped}

    # ---- escalate, then raise or stop ------------------------------------------------------
    def _settle(self, stage: Stage, key: str, breach: BudgetBreach, pids: Sequence[str]) -> None:
        """Escalate ``breach``; on option A raise the budget, on B end the plan blocked."""
        esc = self._escalate_budget(stage, key, breach, pids)
        answer = self.await_answer(esc)
        effect = esc.option(answer.option).effect
        if effect is OptionEffect.BLOCK:
            why = f"budget: {answer.by} chose {answer.option} (stop): {breach.describe()}"
            self.finish(ExecutionStatus.BLOCKED, why, list(esc.defects))
        if effect is OptionEffect.RAISE_BUDGET and answer.budget is not None:
            raises = self.budget_raises
            raises[breach.key] = in_force(raises.get(breach.key), answer.budget) or answer.budget

    def _escalate_budget(
        self, stage: Stage, key: str, breach: BudgetBreach, pids: Sequence[str]
    ) -> Escalation:
        from runwright.plans import escalation as esc_mod

        def raise_it() -> dict[str, Any]:
            now = self.ctx.now()
            rows = [
                r
                for r in self._rows()
                if breach.scope is BudgetScope.PLAN or r.phase_id == breach.phase_id
            ]
            esc = esc_mod.build_budget(
                plan=self.plan,
                run_id=self.run_id,
                gate=GATE_AFTER[stage].value,
                breach=breach,
                phases=list(pids),
                evidence_refs=[f"run:{r.agent_run_id}" for r in rows[-REFS:]],
                now=now,
            )
            self.store.raise_escalation(esc, self.spec.project.project_id, now)
            self.escalations.append(esc)
            self._write(
                ExecutionStatus.ESCALATED, list(esc.defects), esc, PlanStatus.WAITING_DECISION
            )
            self.escalations.pop()
            return esc.model_dump(mode="json")

        esc = Escalation.model_validate(self.step(f"escalate-budget:{key}", raise_it))
        self.escalations.append(esc)
        return esc


def _agent_runs(outcome: dict[str, Any]) -> list[str]:
    found = [str(a) for a in outcome.get("agent_run_ids") or []]
    found += [str(t["agent_run_id"]) for t in outcome.get("tasks") or [] if t.get("agent_run_id")]
    return list(dict.fromkeys(found))


def _committed_tasks(outcome: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(t) for t in outcome.get("tasks") or [] if t.get("status") == "committed"]
