"""The Spend section of a plan run: what its agent calls spent against its budgets, and every
call (phase, round, tool, attempt, tokens in/out, cost, wall time, session)."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from runwright.domain.budgets import Budget, PlanSpend
from runwright.domain.spend import SpendRow, SpendTotals

UNKNOWN = "unknown"


def tokens_text(value: int | None) -> str:
    """A token count, or 'unknown'."""
    return UNKNOWN if value is None else f"{value:,}"


def cost_text(value: float | None, estimated: bool = False) -> str:
    """A cost in USD (marked when estimated), or 'unknown'."""
    if value is None:
        return UNKNOWN
    return f"${value:,.4f}" + (" (estimated)" if estimated else "")


def totals_line(label: str, totals: SpendTotals, budget: Budget | None) -> Text:
    """``label``: each quantity spent, against its limit when there is one."""
    limits = budget.limits() if budget else {}

    def of(key: str, text: str) -> str:
        limit = limits.get(key)
        if limit is None:
            return text
        shown = f"{limit:,.4f}".rstrip("0").rstrip(".") if key == "max_cost_usd" else f"{limit:,g}"
        return f"{text} / {'$' if key == 'max_cost_usd' else ''}{shown}"

    tokens = f"{totals.tokens:,}" + (
        f" (+{totals.unknown_tokens} call(s) unknown)" if totals.unknown_tokens else ""
    )
    cost = cost_text(totals.cost_usd, totals.cost_estimated) + (
        f" (+{totals.unknown_cost} call(s) unknown)" if totals.unknown_cost else ""
    )
    out = Text()
    out.append(f"{label}: ", style="bold")
    out.append(
        f"tokens {of('max_tokens', tokens)} · cost {of('max_cost_usd', cost)} · "
        f"agent time {of('max_wall_seconds', f'{totals.wall_seconds:,.1f}s')} · "
        f"calls {of('max_agent_calls', str(totals.calls))}"
    )
    return out


def calls_table(rows: list[SpendRow]) -> Table:
    """One row per agent call."""
    table = Table(title="spend per agent call", title_justify="left")
    for col in ("phase", "round", "tool", "attempt", "tokens in", "tokens out", "cost", "wall"):
        table.add_column(col, no_wrap=True)
    table.add_column("session / stopped by", overflow="fold")
    for r in rows:
        table.add_row(
            r.phase_id + (f" [{r.task_id}]" if r.task_id and r.task_id != r.phase_id else ""),
            f"fix {r.round}" if r.round else "1st",
            r.tool,
            str(r.attempt),
            tokens_text(r.input_tokens),
            tokens_text(r.output_tokens),
            cost_text(r.cost_usd, r.cost_estimated),
            f"{r.wall_seconds:,.1f}s",
            " · ".join(
                x for x in (r.session_id, f"stopped: {r.stopped_by}" if r.stopped_by else "") if x
            )
            or "-",
        )
    return table


def spend_renderables(spend: PlanSpend) -> list[RenderableType]:
    """The Spend section (nothing when no call was made and no budget is set)."""
    if not spend.rows and spend.budget is None and not spend.phase_budgets:
        return []
    parts: list[RenderableType] = [
        Text("Spend", style="bold underline"),
        totals_line("plan", spend.totals, spend.budget),
    ]
    for pid in sorted(set(spend.phases) | set(spend.phase_budgets)):
        parts.append(
            totals_line(
                f"phase {pid}", spend.phases.get(pid, SpendTotals()), spend.phase_budgets.get(pid)
            )
        )
    if spend.rows:
        parts.append(calls_table(spend.rows))
    return parts
