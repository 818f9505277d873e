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
    env.filters["state_class"] = lambda s: STATE_CLASS.get(str(s), "")
    env.filters["iso"] = lambda d: d.isoformat(timespec="seconds") if d else ""
    return env
