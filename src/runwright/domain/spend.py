"""What agent calls cost: the usage an agent reports about itself, the pricing that estimates a
cost it does not report, and the spend recorded for every call (pure types and sums).

Usage the agent did not report is **unknown** (``None``), never zero: totals count the calls
whose tokens or cost are unknown beside the sums of what is known.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

MTOK = 1_000_000


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class UsageFormat(StrEnum):
    """How an agent CLI reports its usage on standard output (which parser reads it)."""

    CLAUDE_JSON = "claude_json"  # claude -p --output-format json | stream-json
    CODEX_JSONL = "codex_jsonl"  # codex exec --json
    AIDER_TEXT = "aider_text"  # aider's "Tokens: … sent, … received. Cost: …" lines
    NONE = "none"  # reports nothing: usage unknown


class Pricing(_Frozen):
    """An app's prices, to estimate the cost of a call that reports tokens but no cost."""

    input_usd_per_mtok: float = Field(
        ge=0, le=10_000, allow_inf_nan=False, description="USD per million input tokens."
    )
    output_usd_per_mtok: float = Field(
        ge=0, le=10_000, allow_inf_nan=False, description="USD per million output tokens."
    )

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """The estimated cost of that many tokens."""
        return (
            input_tokens * self.input_usd_per_mtok + output_tokens * self.output_usd_per_mtok
        ) / MTOK


class Usage(_Frozen):
    """One agent call's usage as the agent reported it (None: not reported)."""

    input_tokens: int | None = Field(default=None, ge=0, description="Including cache tokens.")
    output_tokens: int | None = Field(default=None, ge=0)
    cost_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    cost_estimated: bool = Field(default=False, description="Computed from the app's pricing.")
    session_id: str | None = Field(default=None, max_length=200)

    @property
    def tokens(self) -> int | None:
        """Input plus output tokens, or None when the agent reported neither."""
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)

    def priced(self, pricing: Pricing | None) -> Usage:
        """This usage with its cost estimated from ``pricing`` when it reports tokens only."""
        if pricing is None or self.cost_usd is not None or self.tokens is None:
            return self
        cost = pricing.cost(self.input_tokens or 0, self.output_tokens or 0)
        return self.model_copy(update={"cost_usd": cost, "cost_estimated": True})


class SpendRow(_Frozen):
    """One agent call made for a plan delegation, and what it spent."""

    run_id: str = Field(description="The plan run the call was made for.")
    agent_run_id: str
    tool: str
    attempt: int = Field(ge=1)
    phase_id: str
    round: int = Field(ge=0, description="0 for the first delegation, n for correction n.")
    task_id: str | None = None
    input_tokens: int | None = Field(default=None, ge=0)
    output_tokens: int | None = Field(default=None, ge=0)
    cost_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    cost_estimated: bool = False
    wall_seconds: float = Field(ge=0, allow_inf_nan=False)
    session_id: str | None = None
    stopped_by: str | None = Field(
        default=None, description="The budget limit that stopped the call while it ran."
    )
    recorded_at: datetime

    @property
    def tokens(self) -> int | None:
        """Input plus output tokens, or None when unknown."""
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)


class SpendTotals(_Frozen):
    """Sums over agent calls: what is known, and how many calls left something unknown."""

    calls: int = Field(default=0, ge=0)
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    tokens: int = Field(default=0, ge=0, description="Known input plus output tokens.")
    unknown_tokens: int = Field(default=0, ge=0, description="Calls that reported no tokens.")
    cost_usd: float = Field(default=0.0, ge=0)
    cost_estimated: bool = Field(default=False, description="Some of the cost is estimated.")
    unknown_cost: int = Field(default=0, ge=0, description="Calls whose cost is unknown.")
    wall_seconds: float = Field(default=0.0, ge=0)

    @classmethod
    def of(cls, rows: Iterable[SpendRow]) -> SpendTotals:
        """The totals of ``rows``."""
        calls = inp = out = unknown_tokens = unknown_cost = 0
        cost = wall = 0.0
        estimated = False
        for r in rows:
            calls += 1
            wall += r.wall_seconds
            if r.tokens is None:
                unknown_tokens += 1
            else:
                inp += r.input_tokens or 0
                out += r.output_tokens or 0
            if r.cost_usd is None:
                unknown_cost += 1
            else:
                cost += r.cost_usd
                estimated = estimated or r.cost_estimated
        return cls(
            calls=calls,
            input_tokens=inp,
            output_tokens=out,
            tokens=inp + out,
            unknown_tokens=unknown_tokens,
            cost_usd=round(cost, 6),
            cost_estimated=estimated,
            unknown_cost=unknown_cost,
            wall_seconds=round(wall, 3),
        )
