"""`runwright event show|skip`: one event; skip is the only action on it."""

from __future__ import annotations

import click

from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import console, print_json
from runwright.cli.topic import print_event


@click.group("event")
def event_group() -> None:
    """Events of event workflows."""


@event_group.command("show")
@click.argument("event_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def show(app: AppContext, event_id: str, as_json: bool) -> None:
    """One event in detail."""
    client = app.client()
    event = client.workflows.event(event_id)
    if as_json:
        print_json(event)
        return
    print_event(client, event)


@event_group.command("skip")
@click.argument("event_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def skip(app: AppContext, event_id: str, as_json: bool) -> None:
    """Skip an event for good: a pending one is never delivered; a reserved one's run stops
    before its write. Work already done is not undone."""
    event = app.client().workflows.skip_event(event_id)
    if as_json:
        print_json(event)
        return
    console.print(f"event {event.event_id} ({event.topic}/{event.message_id}) is {event.status}")


def register(cli: click.Group) -> None:
    """Add the event group to the CLI."""
    cli.add_command(event_group)
