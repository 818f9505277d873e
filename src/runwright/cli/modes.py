"""`runwright modes [MODE] [--json]`: the mode registry (intent, outputs, risk, evidence, stops)."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import console, print_json
from runwright.domain.execmodel.modes import Mode


def _pattern(mode: Mode) -> str:
    return "\n".join(
        f"{r.id}{'' if r.required else ' (optional)'}: {r.description}"
        for r in mode.evidence_pattern
    )


@click.command("modes")
@click.argument("mode_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def modes(app: AppContext, mode_id: str | None, as_json: bool) -> None:
    """List the modes (or show one): intent, typical outputs, risk, evidence and stop rules."""
    ops = app.client().ops
    registry = ops.registry
    chosen = [registry.get(mode_id, field="MODE")] if mode_id else list(registry.modes)
    if as_json:
        data = [m.model_dump(mode="json") for m in chosen]
        if mode_id:
            print_json(data[0])
        else:
            print_json(
                {
                    "modes": data,
                    "tags": list(registry.tags),
                    "universal_stop_rules": [
                        r.model_dump(mode="json") for r in registry.universal_rules
                    ],
                }
            )
        return
    table = Table(
        "mode", "intent", "typical outputs", "primary risk", "evidence pattern", "stops when"
    )
    for m in chosen:
        table.add_row(
            f"[bold]{escape(m.mode_id)}[/bold]" + ("" if m.builtin else "\n[dim](project)[/dim]"),
            *(
                Text(text)
                for text in (
                    m.intent,
                    ", ".join(m.typical_outputs),
                    m.primary_risk,
                    _pattern(m),
                    "\n".join(f"{r.when} → {r.then}" for r in m.stop_rules),
                )
            ),
        )
    console.print(table)
    if mode_id:
        console.print(f"keywords: {', '.join(chosen[0].keywords) or '—'}", markup=False)
        return
    console.print(f"tags (not modes): {', '.join(registry.tags) or '—'}", markup=False)
    for rule in registry.universal_rules:
        console.print(f"[dim]every mode stops when {escape(f'{rule.when} → {rule.then}')}[/dim]")


def register(cli: click.Group) -> None:
    """Add the modes command to the CLI."""
    cli.add_command(modes)
