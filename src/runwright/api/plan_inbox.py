"""The inbox section of plans: open escalations, each with its two options.

Answering one (here, in the dashboard, or with `runwright plan decide`) records who chose
what and wakes the plan run that waits on it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from runwright.api.inbox import ActionField, InboxOptions, ItemAction, Provider
from runwright.domain.budgets import Budget, parse_assignments
from runwright.domain.states import TERMINAL_RUN_STATES
from runwright.domain.workflows.models import InboxAction, InboxItem
from runwright.errors import ValidationError

if TYPE_CHECKING:
    from runwright.api.client import Client

SECTION = "plan_escalations"


def escalations_section(client: Client, opts: InboxOptions) -> list[InboxItem]:
    """Every open plan escalation of this project."""
    items = []
    for esc in client.plans.escalations()[: opts.limit]:
        if client.get(esc.run_id).state in TERMINAL_RUN_STATES:
            continue  # the run was canceled while it waited: nothing is left to decide
        options = {o.id: o for o in esc.options}
        detail = f"{esc.summary}\nschedule: {esc.schedule_impact}\n" + "\n".join(
            f"option {o.id}{' (preferred)' if o.id == esc.preferred else ''}: {o.summary}"
            for o in esc.options
        )
        items.append(
            InboxItem(
                section=SECTION,
                item_id=esc.escalation_id,
                title=f"plan {esc.plan_id}: the {esc.blocked_gate} gate is blocked "
                f"({esc.blocker_class.value}, routed to {esc.routed_to})",
                detail=detail,
                run_id=esc.run_id,
                created_at=esc.raised_at,
                params={
                    "blocked_gate": esc.blocked_gate,
                    "blocker_class": esc.blocker_class.value,
                    "routed_to": esc.routed_to,
                    "evidence_refs": esc.evidence_refs,
                    "schedule_impact": esc.schedule_impact,
                    "preferred": esc.preferred,
                    "options": {k: o.summary for k, o in options.items()},
                },
                actions=[
                    InboxAction(
                        name=f"Answer {o.id}",
                        command=f"runwright plan decide {esc.run_id} --option {o.id} --note '…'"
                        + (
                            f" --budget {esc.budget.limit}=NEW"
                            if esc.budget is not None and o.id == "A"
                            else ""
                        ),
                    )
                    for o in esc.options
                ],
            )
        )
    return items


def budget_value(text: str | None) -> Budget | None:
    """A form's ``KEY=VALUE …`` budget text (spaces or commas between) as a Budget."""
    items = [i for i in re.split(r"[\s,]+", text or "") if i]
    if not items:
        return None
    try:
        return parse_assignments(items, option="budget")
    except ValueError as exc:
        raise ValidationError(str(exc), field="budget") from None


def _answer(option: str) -> ItemAction:
    def run(client: Client, item_id: str, values: Mapping[str, str], by: str) -> str:
        esc = client.plans.decide(
            item_id,
            option=option,
            note=values.get("note") or None,
            by=by,
            budget=budget_value(values.get("budget")) if option == "A" else None,
        )
        return (
            f"escalation {esc.escalation_id[-6:]} answered {option}; plan run {esc.run_id} resumes"
        )

    return ItemAction(
        run,
        fields=(
            ActionField(
                "note",
                "guidance or reason (carried into the next correction)",
                kind="textarea",
            ),
            *(
                (
                    ActionField(
                        "budget",
                        "new limits, for a budget escalation (e.g. max_tokens=400000)",
                        placeholder="max_tokens=400000",
                    ),
                )
                if option == "A"
                else ()
            ),
        ),
        danger=option == "B",
        help=f"choose option {option}",
    )


SECTIONS: dict[str, Provider] = {SECTION: escalations_section}
ACTIONS: dict[tuple[str, str], ItemAction] = {
    (SECTION, "Answer A"): _answer("A"),
    (SECTION, "Answer B"): _answer("B"),
}
