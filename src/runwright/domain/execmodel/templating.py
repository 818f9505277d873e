"""Templates in operator specs: ``{name}`` placeholders filled from inputs, one argument at a time.

Values are substituted into each argv element separately, never joined into a shell string;
``{{`` and ``}}`` stand for literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from runwright.errors import ValidationError

PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|\{|\}")

#: Names every template may use besides the operator's inputs.
BUILTIN_NAMES = frozenset(
    {"python", "project_root", "home", "workdir", "run_id", "op_id", "mode_id", "project_id"}
)


def placeholders(template: str, *, field: str = "template") -> list[str]:
    """The placeholder names in ``template``; a stray brace raises naming ``field``."""
    names: list[str] = []
    for m in PLACEHOLDER.finditer(template):
        piece = m.group(0)
        if piece in {"{{", "}}"}:
            continue
        if m.group(1) is None:
            raise ValidationError(
                f"{field}: stray {piece!r} in {template!r}",
                hint="write {name} for an input, {{ or }} for a literal brace",
                field=field,
            )
        names.append(m.group(1))
    return names


def render(template: str, values: Mapping[str, Any], *, field: str = "template") -> str:
    """``template`` with every ``{name}`` replaced by ``str(values[name])``."""

    def sub(m: re.Match[str]) -> str:
        piece = m.group(0)
        if piece == "{{":
            return "{"
        if piece == "}}":
            return "}"
        name = m.group(1)
        if name is None:
            raise ValidationError(f"{field}: stray {piece!r} in {template!r}", field=field)
        if name not in values or values[name] is None:
            raise ValidationError(
                f"{field}: no value for {{{name}}}",
                hint=f"give it with --input {name}=VALUE or a default in the operator",
                field=field,
            )
        value = values[name]
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return PLACEHOLDER.sub(sub, template)


def render_value(value: Any, values: Mapping[str, Any], *, field: str) -> Any:
    """Render every string inside ``value`` (lists and dicts recursively)."""
    if isinstance(value, str):
        return render(value, values, field=field)
    if isinstance(value, list):
        return [render_value(v, values, field=f"{field}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: render_value(v, values, field=f"{field}.{k}") for k, v in value.items()}
    return value


def walk_strings(value: Any, field: str) -> Iterator[tuple[str, str]]:
    """Every (field path, string) inside ``value``."""
    if isinstance(value, str):
        yield field, value
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk_strings(v, f"{field}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from walk_strings(v, f"{field}.{k}")
