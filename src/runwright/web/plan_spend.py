"""The Spend card of a plan's page: its agent calls' spend against its budgets (plan, then
each phase), and one row per call."""

from __future__ import annotations

from dataclasses import dataclass

from runwright.domain.budgets import LIMITS, Budget, PlanSpend
from runwright.domain.spend import SpendRow, SpendTotals

UNKNOWN = "unknown"
LABELS = {
    "max_tokens": "tokens",
    "max_cost_usd": "cost",
    "max_wall_seconds": "agent time",
    "max_agent_calls": "calls",
}


@dataclass(frozen=True)
class Gauge:
    """One quantity spent, against its limit (if any)."""

    key: str
    label: str
    spent: str
    limit: str | None
    percent: int | None
    note: str = ""

    @property
    def over(self) -> bool:
        """The spend went past the limit."""
        return self.percent is not None and self.percent > 100


@dataclass(frozen=True)
class Scope:
    """The plan's or a phase's spend."""

    name: str
    gauges: list[Gauge]


def _value(key: str, value: float) -> str:
    if key == "max_cost_usd":
        return f"${value:,.4f}"
    if key == "max_wall_seconds":
        return f"{value:,.1f}s"
    return f"{int(value):,}"


def gauges(totals: SpendTotals, budget: Budget | None) -> list[Gauge]:
    """Each quantity of ``totals`` against ``budget``."""
    spent = {
        "max_tokens": float(totals.tokens),
        "max_cost_usd": totals.cost_usd,
        "max_wall_seconds": totals.wall_seconds,
        "max_agent_calls": float(totals.calls),
    }
    notes = {
        "max_tokens": f"+{totals.unknown_tokens} call(s) unknown" if totals.unknown_tokens else "",
        "max_cost_usd": ", ".join(
            x
            for x in (
                "estimated" if totals.cost_estimated else "",
                f"+{totals.unknown_cost} call(s) unknown" if totals.unknown_cost else "",
            )
            if x
        ),
    }
    limits = budget.limits() if budget else {}
    out = []
    for key in LIMITS:
        limit = limits.get(key)
        out.append(
            Gauge(
                key=key,
                label=LABELS[key],
                spent=_value(key, spent[key]),
                limit=None if limit is None else _value(key, float(limit)),
                percent=None if not limit else round(100 * spent[key] / float(limit)),
                note=notes.get(key, ""),
            )
        )
    return out


def scopes(spend: PlanSpend) -> list[Scope]:
    """The plan's spend, then each phase's that spent or has a budget."""
    out = [Scope("plan", gauges(spend.totals, spend.budget))]
    for pid in sorted(set(spend.phases) | set(spend.phase_budgets)):
        totals = spend.phases.get(pid, SpendTotals())
        out.append(Scope(f"phase {pid}", gauges(totals, spend.phase_budgets.get(pid))))
    return out


def tokens(value: int | None) -> str:
    """A token count, or 'unknown'."""
    return UNKNOWN if value is None else f"{value:,}"


def cost(row: SpendRow) -> str:
    """A call's cost, marked when estimated, or 'unknown'."""
    if row.cost_usd is None:
        return UNKNOWN
    return f"${row.cost_usd:,.4f}" + (" (estimated)" if row.cost_estimated else "")
