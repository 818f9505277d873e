"""Building escalation payloads: blocked gate, blocker class, evidence, schedule impact and
options A/B with the preferred one — routed by class (plan and package defects to tech-lead,
decisions to the decision owner, implementation defects back from the members). A budget that
ran out is a decision too: raise it (A) or stop (B)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from runwright.domain.budgets import BudgetBreach
from runwright.domain.ids import new_id
from runwright.domain.plan_records import (
    ROUTED_TO,
    BlockerClass,
    Defect,
    Escalation,
    EscalationOption,
    OptionEffect,
)
from runwright.domain.plans import GATE_ORDER, PlanSpec


def rounds_text(corrections: int) -> str:
    """ "no correction round", "1 correction round", "2 correction rounds"."""
    if corrections == 0:
        return "no correction round"
    return f"{corrections} correction round{'' if corrections == 1 else 's'}"


def outcome_text(gate: str, cls: BlockerClass, corrections: int) -> str:
    """What happened at the gate, with the correction rounds actually done."""
    if cls is BlockerClass.IMPLEMENTATION_DEFECT:
        if corrections == 0:
            return f"the {gate} gate failed and no correction round was allowed"
        return f"the {gate} gate still failed after {rounds_text(corrections)}"
    after = f" (after {rounds_text(corrections)})" if corrections else ""
    return f"the {gate} gate failed{after} on a {cls.value}, which no correction round can fix"


def _options(cls: BlockerClass, gate: str, corrections: int) -> tuple[list[EscalationOption], str]:
    if cls is BlockerClass.IMPLEMENTATION_DEFECT:
        return [
            EscalationOption(
                id="A",
                summary=f"grant one more correction round (round {corrections + 1}), carrying "
                "your guidance (`runwright plan decide RUN --option A --note '…'`)",
                effect=OptionEffect.RETRY,
            ),
            EscalationOption(
                id="B",
                summary=f"stop: {outcome_text(gate, cls, corrections)}; end the plan as "
                "blocked and send the defects back with the evidence",
                effect=OptionEffect.BLOCK,
            ),
        ], "B"
    if cls is BlockerClass.DECISION_NEEDED:
        return [
            EscalationOption(
                id="A",
                summary="accept the open decision(s) / exception(s) for this execution and go on",
                effect=OptionEffect.ACCEPT,
            ),
            EscalationOption(
                id="B",
                summary="block until the decision owner closes them upstream",
                effect=OptionEffect.BLOCK,
            ),
        ], "B"
    return [
        EscalationOption(
            id="A",
            summary="the plan or package has been fixed on disk: check the gate again",
            effect=OptionEffect.RETRY,
        ),
        EscalationOption(
            id="B",
            summary="block and return the defects to tech-lead",
            effect=OptionEffect.BLOCK,
        ),
    ], "B"


def schedule_impact(plan: PlanSpec, gate: str, corrections: int) -> str:
    """What waits behind the blocked gate."""
    order = [g.value for g in GATE_ORDER]
    later = order[order.index(gate) + 1 :] if gate in order else order
    blocked = [p.phase_id for p in plan.phases if _waits_on(p.gate_before.value, gate)]
    used = f" after {rounds_text(corrections)}" if corrections else ""
    if blocked:
        phases = f"phase{'s' if len(blocked) > 1 else ''} {', '.join(blocked)} cannot start"
    else:
        phases = "no later phase waits on it"
    gates = f"the {', '.join(later)} gate{'s wait' if len(later) > 1 else ' waits'}"
    return (
        f"the {gate} gate is blocked{used}; {phases} and {gates if later else 'completion waits'}"
        "; nothing more is delegated until a human answers"
    )


def _waits_on(before: str, gate: str) -> bool:
    order = [g.value for g in GATE_ORDER]
    if gate not in order:
        return True
    return order.index(before) >= order.index(gate)


def build(
    *,
    plan: PlanSpec,
    run_id: str,
    gate: str,
    cls: BlockerClass,
    defects: Sequence[Defect],
    corrections: int,
    evidence_refs: Sequence[str],
    now: datetime,
) -> Escalation:
    """The escalation payload for a blocked gate, after ``corrections`` correction rounds
    (the rounds actually delegated: every text says that number, never the budget)."""
    options, preferred = _options(cls, gate, corrections)
    refs = sorted({*evidence_refs, *(r for d in defects for r in d.evidence_refs)}) or [
        f"run:{run_id}"
    ]
    first = defects[0].message if defects else f"the {gate} gate is blocked"
    more = f" (and {len(defects) - 1} more)" if len(defects) > 1 else ""
    return Escalation(
        escalation_id=new_id(),
        run_id=run_id,
        plan_id=plan.plan_id,
        blocked_gate=gate,
        blocker_class=cls,
        routed_to=ROUTED_TO[cls],
        summary=f"{outcome_text(gate, cls, corrections)}: {first}{more}",
        defects=list(defects),
        evidence_refs=refs,
        schedule_impact=schedule_impact(plan, gate, corrections),
        options=options,
        preferred=preferred,
        round=corrections,
        raised_at=now,
    )


def budget_options(breach: BudgetBreach) -> list[EscalationOption]:
    """A: raise the budget that ran out (and go on where it stopped); B: stop."""
    return [
        EscalationOption(
            id="A",
            summary=f"raise {breach.whose()}'s budget and go on where it stopped (the "
            f"interrupted delegation is done again): `runwright plan decide RUN --option A "
            f"--budget {breach.limit}=NEW`",
            effect=OptionEffect.RAISE_BUDGET,
        ),
        EscalationOption(
            id="B",
            summary="stop: end the plan as blocked, with what was done so far",
            effect=OptionEffect.BLOCK,
        ),
    ]


def build_budget(
    *,
    plan: PlanSpec,
    run_id: str,
    gate: str,
    breach: BudgetBreach,
    phases: Sequence[str],
    evidence_refs: Sequence[str],
    now: datetime,
) -> Escalation:
    """The escalation of a budget that ran out before, during or after an agent call."""
    defect = Defect(
        gate=gate,
        code="budget_exceeded",
        message=f"budget {breach.limit}: {breach.describe()}",
        required_correction=f"raise {breach.whose()}'s {breach.limit} (option A) or stop "
        "(option B)",
        blocker_class=BlockerClass.DECISION_NEEDED,
        phase_id=breach.phase_id,
        evidence_refs=sorted(set(evidence_refs)),
    )
    waiting = ", ".join(phases) or "none"
    return Escalation(
        escalation_id=new_id(),
        run_id=run_id,
        plan_id=plan.plan_id,
        blocked_gate=gate,
        blocker_class=BlockerClass.DECISION_NEEDED,
        routed_to=ROUTED_TO[BlockerClass.DECISION_NEEDED],
        summary=defect.message,
        defects=[defect],
        evidence_refs=sorted({*evidence_refs, f"run:{run_id}"}),
        schedule_impact=f"phases {waiting} wait for budget; the {gate} gate and everything "
        "after it wait; nothing more is delegated until a human answers",
        options=budget_options(breach),
        preferred="B",
        round=0,
        raised_at=now,
        budget=breach,
    )
