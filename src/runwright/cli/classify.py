"""`runwright classify "TITLE" [--mode M] [--json]`: a session title → a mode by keywords."""

from __future__ import annotations

import click
from rich.markup import escape

from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import console, print_json


@click.command("classify")
@click.argument("title")
@click.option("--mode", help="Override the classifier (recorded as an override).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def classify(app: AppContext, title: str, mode: str | None, as_json: bool) -> None:
    """Map a session title to a mode: whole words, first mode in table order wins."""
    found = app.client().ops.classify(title, mode=mode)
    if as_json:
        print_json(found)
        return
    if found.mode_id is None:
        console.print(f"[yellow]no mode[/yellow] for {escape(repr(found.title))}")
    else:
        how = "override" if found.override else "classifier"
        console.print(f"[bold]{escape(found.mode_id)}[/bold] ({how})")
    if found.matches:
        words = ", ".join(f"{m.keyword} → {m.mode_id}" for m in found.matches)
        console.print(f"[dim]matched: {escape(words)}[/dim]")
    if found.hint:
        console.print(f"[dim]{escape(found.hint)}[/dim]")


def register(cli: click.Group) -> None:
    """Add the classify command to the CLI."""
    cli.add_command(classify)
