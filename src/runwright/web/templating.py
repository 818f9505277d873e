"""Jinja2 environment and the filters the templates use."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"

STATE_CLASS = {
    "pending": "st-pending",
    "running": "st-running",
    "waiting": "st-waiting",
    "succeeded": "st-ok",
    "failed": "st-bad",
    "quarantined": "st-quarantined",
    "canceled": "st-muted",
    "completed": "st-ok",
    "error": "st-bad",
    "PASS": "st-ok",
    "WARN": "st-waiting",
    "FAIL": "st-bad",
    # workflows: labels, topic events, inputs, handler runs, the mutation ledger
    "Running": "st-running",
    "Idle": "st-idle",
    "Needs attention": "st-attn",
    "Stopped": "st-muted",
    "reserved": "st-running",
    "consumed": "st-ok",
    "skipped": "st-muted",
    "done": "st-ok",
    "active": "st-running",
    "committed": "st-ok",
    "released": "st-waiting",
    "applied": "st-ok",
    "in_flight": "st-running",
    "needs_reconcile": "st-waiting",
    "indeterminate": "st-attn",
    "paused:reconciliation": "st-attn",
    "paused:transient": "st-waiting",
    "paused:approval": "st-attn",
    "failed:logic": "st-bad",
    "failed:internal": "st-bad",
    "crashed": "st-bad",
    "paused": "st-waiting",
    # plans: plan status, gates, escalations, requirement traces, defect severities
    "complete": "st-ok",
    "blocked": "st-bad",
    "waiting_decision": "st-waiting",
    "escalated": "st-attn",
    "passed": "st-ok",
    "correcting": "st-running",
    "open": "st-attn",
    "answered": "st-ok",
    "traced": "st-ok",
    "partial": "st-waiting",
    "untraced": "st-bad",
    "exception": "st-muted",
    "not-run": "st-muted",
    "not-delegated": "st-muted",
    "full": "st-ok",
    "critical": "st-bad",
    "high": "st-attn",
    "medium": "st-waiting",
    "low": "st-muted",
    "stage-complete": "st-ok",
    "stage-blocked": "st-bad",
    "stage-escalated": "st-attn",
}


def ago(when: datetime | None) -> str:
    """'3s ago', '5m ago', '2h ago', '4d ago'."""
    if when is None:
        return "—"
    seconds = max((datetime.now(UTC) - when).total_seconds(), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"


def until(when: datetime | None) -> str:
    """'in 5m', 'in 2h' for a future time; 'now' or 'overdue 3m' for a past one."""
    if when is None:
        return "—"
    seconds = (when - datetime.now(UTC)).total_seconds()
    if -60 < seconds <= 1:
        return "now"
    late, seconds = seconds < 0, abs(seconds)
    text = f"{int(seconds)}s"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            text = f"{int(seconds // size)}{unit}"
            break
    return f"overdue {text}" if late else f"in {text}"


def took(start: datetime | None, end: datetime | None) -> str:
    """A short duration between two times."""
    if start is None:
        return "—"
    seconds = ((end or datetime.now(UTC)) - start).total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def short_json(value: Any, limit: int = 160) -> str:
    """Compact JSON, cut to ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pretty_json(value: Any, limit: int = 20_000) -> str:
    """Indented JSON for a payload or call parameters, cut to ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_line(text: str | None, limit: int = 220) -> str:
    """The first line of ``text``, cut to ``limit`` characters."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def more_lines(text: str | None) -> bool:
    """True when ``text`` has more than its first line to show."""
    return len((text or "").strip().splitlines()) > 1


def environment() -> Environment:
    """The template environment (autoescaping on)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ago"] = ago
    env.filters["took"] = took
    env.filters["short_json"] = short_json
    env.filters["pretty_json"] = pretty_json
    env.filters["until"] = until
    env.filters["first_line"] = first_line
    env.filters["more_lines"] = more_lines
    env.filters["state_class"] = lambda s: STATE_CLASS.get(str(s), "")
    env.filters["iso"] = lambda d: d.isoformat(timespec="seconds") if d else ""
    return env
