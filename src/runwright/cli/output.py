"""Printing for the CLI: Rich tables for people, --json for programs, one-line errors."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.errors import MarkupError
from rich.text import Text


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _Console(Console):
    """A console whose messages (strings and Text) are wrapped to the terminal's width for
    people, but printed whole, one line each, to a pipe or a file (a script, a log, CI).
    Tables and panels are laid out as usual. Text that is not valid markup prints as written."""

    def print(self, *objects: Any, **options: Any) -> None:
        if (
            options.get("soft_wrap") is None
            and all(isinstance(o, str | Text) for o in objects)
            and not _is_terminal(self.file)
        ):
            options["soft_wrap"] = True
        super().print(*objects, **options)

    def render_str(self, text: str, **options: Any) -> Text:
        """``text`` with its markup, or as written when it is not valid markup (a name from a
        spec file or a diff such as ``[/x]`` in a table cell)."""
        try:
            return super().render_str(text, **options)
        except MarkupError:
            return super().render_str(text, **{**options, "markup": False})


console = _Console(highlight=False)
err_console = _Console(stderr=True, highlight=False)

STATE_STYLES = {
    "pending": "cyan",
    "running": "bold blue",
    "waiting": "yellow",
    "succeeded": "green",
    "failed": "bold red",
    "quarantined": "magenta",
    "canceled": "dim",
    "completed": "green",
    "error": "red",
    "PASS": "green",
    "WARN": "yellow",
    "FAIL": "bold red",
}


def styled_state(state: str) -> Text:
    """A state name coloured by what it means."""
    return Text(state, style=STATE_STYLES.get(state, ""))


def one_line(text: str) -> str:
    """``text`` with control characters written as escapes (``\\n``, ``\\x1b``), so that a
    name from a diff or a spec prints as one line and cannot steer the terminal."""
    if all(c.isprintable() or c == " " for c in text):
        return text
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def to_jsonable(value: Any) -> Any:
    """Models, lists and dicts of models as plain JSON data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def print_json(value: Any) -> None:
    """Write ``value`` as indented JSON to stdout."""
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False) + "\n")


def ago(when: datetime | None, now: datetime) -> str:
    """'3s ago', '5m ago', '2h ago' or '4d ago'."""
    if when is None:
        return "-"
    seconds = max((now - when).total_seconds(), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"


def duration(start: datetime | None, end: datetime | None) -> str:
    """A short human duration between two times ('-' if unknown)."""
    if start is None or end is None:
        return "-"
    seconds = (end - start).total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 120:
        return f"{seconds:.1f}s"
    return f"{seconds / 60:.1f}m"
