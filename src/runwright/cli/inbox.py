"""`runwright inbox`: every decision only a person can take."""

from __future__ import annotations

import json

import click

from runwright.api.inbox import Inbox
from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import ago, console, print_json

TITLES = {
    "mutations": "⚠ ACTION REQUIRED: writes nobody could confirm",
    "escalations": "Escalations",
    "blocked": "Blocked workflows",
    "stale_inputs": "Stale inputs",
    "steps_in_doubt": "Steps in doubt",
    "plan_escalations": "Plan escalations",
}


@click.command("inbox")
@click.option(
    "--stale-days",
    type=click.FloatRange(min=0),
    help="Inputs pending longer are stale (default: [workflows] stale_days or 7).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def inbox(app: AppContext, stale_days: float | None, as_json: bool) -> None:
    """What needs a person: indeterminate mutations, escalations, stale inputs, steps in doubt."""
    client = app.client()
    items = Inbox(client).items(stale_days=stale_days)
    if as_json:
        print_json(items)
        return
    if not items:
        console.print("inbox empty — nothing needs a decision")
        return
    now = client.clock.now()
    section = None
    for item in items:
        if item.section != section:
            section = item.section
            title = TITLES.get(section, section.replace("_", " ").capitalize())
            console.print(f"\n[bold]{title}[/bold]")
        console.print(f"• {item.title} [dim]({ago(item.created_at, now)}, {item.item_id})[/dim]")
        if item.detail:
            console.print(f"  {item.detail}")
        if item.params:
            console.print(f"  [dim]{json.dumps(item.params)[:300]}[/dim]")
        for action in item.actions:
            console.print(f"  [{action.name}] {action.command}")


def register(cli: click.Group) -> None:
    """Add the inbox command to the CLI."""
    cli.add_command(inbox)
