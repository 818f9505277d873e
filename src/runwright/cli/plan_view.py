"""Rendering plan runs for people: stages and their gates, phases and their rounds,
escalations with their options, and the completion contract."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from runwright.api.outputs import FailingOutput
from runwright.api.plans import PlanView
from runwright.cli.output import styled_state, to_jsonable
from runwright.cli.plan_spend import spend_renderables
from runwright.domain.plan_records import Escalation, GateResult
from runwright.domain.plans import GATE_AFTER, PlanSpec, Stage

STATUS_STYLES = {
    "committed": "green",
    "running": "bold blue",
    "failed": "bold red",
    "skipped": "dim",
    "complete": "bold green",
    "blocked": "bold red",
    "escalated": "bold yellow",
    "waiting_decision": "bold yellow",
    "passed": "green",
    "pending": "cyan",
}
STAGES = (Stage.PREFLIGHT, Stage.TESTS, Stage.IMPLEMENTATION, Stage.VALIDATION)


def styled(status: str) -> Text:
    """A plan or phase status, coloured."""
    return Text(status, style=STATUS_STYLES.get(status, ""))


def view_json(view: PlanView, outputs: list[FailingOutput] | None = None) -> dict[str, Any]:
    """A plan run as JSON (with ``failing_output`` when ``outputs`` are given)."""
    shown = {
        "run_id": view.run_id,
        "plan_id": view.record.plan_id,
        "state": view.run.state.value,
        "state_reason": view.run.state_reason,
        "status": view.record.status.value,
        "stage": view.record.stage,
        "record": to_jsonable(view.record),
        "phases": to_jsonable(view.phases),
        "gates": to_jsonable(view.gates),
        "escalations": to_jsonable(view.escalations),
        "open_escalation": to_jsonable(view.open_escalation()),
        "spend": to_jsonable(view.spend),
    }
    if outputs is not None:
        shown["failing_output"] = to_jsonable(outputs)
    return shown


def _gate_status(gates: list[GateResult], gate: str) -> tuple[str, int]:
    mine = [g for g in gates if g.gate == gate]
    if not mine:
        return "pending", 0
    last = mine[-1]
    if last.passed:
        return ("skipped" if last.skipped_reason else "passed"), len(mine) - 1
    return "failed", len(mine) - 1


def stages_table(view: PlanView) -> Table:
    """One row per stage: its phases and its gate (with correction rounds used)."""
    table = Table(title=f"plan {view.record.plan_id} — {view.record.title}", title_justify="left")
    for col in ("stage", "phases", "gate", "gate status", "corrections"):
        table.add_column(col)
    for stage in STAGES:
        if stage is Stage.PREFLIGHT:
            phases, gate = "-", "preflight"
        else:
            phases = ", ".join(p.phase_id for p in view.plan.phases_of(stage)) or "-"
            gate = GATE_AFTER[stage].value
        status, rounds = _gate_status(view.gates, gate)
        table.add_row(stage.value, phases, gate, styled(status), str(rounds) if rounds else "")
    return table


def _short(error: str, width: int = 90) -> str:
    line = error.splitlines()[0] if error else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def phases_table(view: PlanView) -> Table:
    """Every delegation: phase, round, status, commits, what went wrong."""
    table = Table(title="phases", title_justify="left")
    table.add_column("phase", no_wrap=True)
    table.add_column("owner", no_wrap=True)
    table.add_column("round", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("commit", no_wrap=True)
    table.add_column("why", overflow="fold", ratio=1)
    for d in view.phases:
        phase = view.plan.phase(d.phase_id) if _has(view.plan, d.phase_id) else None
        raw = d.outcome.get("commits")
        commits = [str(c) for c in raw] if isinstance(raw, list) else []
        table.add_row(
            d.phase_id,
            phase.owner_role if phase else "?",
            f"fix {d.round}" if d.round else "1st",
            styled(d.status.value),
            ", ".join(c[:8] for c in commits),
            _short(str(d.outcome.get("error") or "")),
        )
    return table


def _has(plan: PlanSpec, phase_id: str) -> bool:
    return any(p.phase_id == phase_id for p in plan.phases)


def defects_panel(gates: list[GateResult]) -> RenderableType | None:
    """The defects of the last failed evaluation of each gate."""
    failed = [g for g in gates if not g.passed]
    if not failed:
        return None
    out = Text()
    for g in failed[-3:]:
        out.append(f"{g.gate} gate, round {g.round}\n", style="bold")
        for d in g.defects:
            out.append(f"  • [{d.blocker_class.value}] ", style="red")
            out.append(_short(d.message, 160) + "\n")
    return Panel(out, title="gate defects", expand=False)


def output_panels(outputs: list[FailingOutput]) -> list[Panel]:
    """The end of each failing command's output, one panel each."""
    panels = []
    for o in outputs:
        where = f"{o.gate} gate, round {o.round}" + (f", phase {o.phase_id}" if o.phase_id else "")
        lines = o.output_tail.count("\n") + 1
        panels.append(
            Panel(
                Text(o.output_tail),
                title=f"output behind the failing {where} (last {lines} lines)",
                subtitle=o.evidence[:19] + "…",
                title_align="left",
                border_style="red",
                expand=False,
            )
        )
    return panels


def escalation_panel(esc: Escalation, run_id: str) -> Panel:
    """An escalation with what to do about it."""
    out = Text()

    def row(label: str, value: str, style: str = "") -> None:
        out.append(f"{label:<22}", style="bold")
        out.append(f"{value}\n", style=style)

    row("escalation", esc.escalation_id)
    row("blocked gate", esc.blocked_gate)
    row("blocker class", esc.blocker_class.value, "yellow")
    row("routed to", esc.routed_to)
    row("summary", _short(esc.summary, 200))
    row("schedule", esc.schedule_impact)
    row("evidence", ", ".join(esc.evidence_refs[:6]) + (" …" if len(esc.evidence_refs) > 6 else ""))
    if esc.budget is not None:
        row("budget", esc.budget.describe(), "yellow")
    for o in esc.options:
        mark = " (preferred)" if o.id == esc.preferred else ""
        row(f"option {o.id}{mark}", o.summary)
    if esc.answer is not None:
        row("answered", f"{esc.answer.option} by {esc.answer.by}: {esc.answer.note or ''}", "green")
        if esc.answer.budget is not None:
            raised = ", ".join(f"{k}={v:g}" for k, v in esc.answer.budget.limits().items())
            row("budget raised", raised, "green")
    else:
        out.append(
            f"\nanswer: runwright plan decide {run_id} --option A|B [--note '…']"
            + (f" [--budget {esc.budget.limit}=NEW]" if esc.budget else ""),
            style="dim",
        )
    return Panel(out, title="escalation", border_style="yellow", expand=False)


def summary(view: PlanView) -> Text:
    """One line: state and where the contract is."""
    out = Text()
    out.append(f"plan run {view.run_id}: ", style="bold")
    out.append_text(styled(view.record.status.value))
    out.append(" (run ")
    out.append_text(styled_state(view.run.state.value))
    out.append(")")
    if view.record.completion_path:
        out.append(f"\ncompletion contract: {view.record.completion_path}")
    return out


def plan_renderable(
    view: PlanView, *, detail: bool = True, outputs: list[FailingOutput] | None = None
) -> RenderableType:
    """The whole picture of a plan run (with the failing commands' output, when given)."""
    parts: list[RenderableType] = [stages_table(view)]
    if view.phases:
        parts.append(phases_table(view))
    if detail:
        panel = defects_panel(view.gates)
        if panel is not None and view.record.status.value != "complete":
            parts.append(panel)
            parts += output_panels(outputs or [])
    if detail:
        parts += spend_renderables(view.spend)
    esc = view.open_escalation()
    if esc is not None:
        parts.append(escalation_panel(esc, view.run_id))
    parts.append(summary(view))
    return Group(*parts)
