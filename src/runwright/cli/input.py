"""`runwright input list|show|skip`: what came in from outside, and what happened to it."""

from __future__ import annotations

import json

import click
from rich.table import Table

from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import ago, console, print_json
from runwright.domain.workflows.topics import InputStatus, is_stale

INPUT_STYLES = {"pending": "cyan", "done": "green", "skipped": "dim"}
MARKS = {"pending": "●", "done": "✓", "skipped": "⊘"}


@click.group("input")
def input_group() -> None:
    """Inputs of event workflows: pending, done or skipped."""


@input_group.command("list")
@click.option("--workflow", help="Only this workflow's inputs.")
@click.option(
    "--status", "statuses", multiple=True, type=click.Choice([s.value for s in InputStatus])
)
@click.option("--search", help="Text to find in the title or the external id.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--before", help="Page: inputs older than this input id.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_inputs(
    app: AppContext,
    workflow: str | None,
    statuses: tuple[str, ...],
    search: str | None,
    limit: int,
    before: str | None,
    as_json: bool,
) -> None:
    """Inputs, pending first, then newest first."""
    client = app.client()
    items = client.workflows.inputs(
        workflow, statuses=statuses, search=search, limit=limit, before=before
    )
    items.sort(key=lambda i: i.status is not InputStatus.PENDING)
    if as_json:
        print_json(items)
        return
    if not items:
        console.print("no inputs")
        return
    now = client.clock.now()
    table = Table("", "input", "workflow", "source/type", "id", "title", "events", "created")
    for i in items:
        style = INPUT_STYLES.get(i.status.value, "")
        note = " [red](stale)[/red]" if is_stale(i.status, i.created_at, now) else ""
        table.add_row(
            f"[{style}]{MARKS[i.status.value]}[/{style}]",
            i.input_id,
            i.workflow,
            f"{i.source}/{i.type}",
            i.id,
            i.title + note,
            str(i.events),
            ago(i.created_at, now),
        )
    console.print(table)


@input_group.command("show")
@click.argument("input_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def show(app: AppContext, input_id: str, as_json: bool) -> None:
    """An input and what happened: its events and the mutations made for them."""
    detail = app.client().workflows.input(input_id)
    if as_json:
        print_json({"input": detail.input, "events": detail.events, "mutations": detail.mutations})
        return
    i = detail.input
    where = f"{i.source}/{i.type}/{i.id}"
    mark = MARKS[i.status.value]
    console.print(f"{mark} [bold]{i.title or i.id}[/bold] ({where}) — {i.status.value}")
    for e in detail.events:
        console.print(f"  event {e.topic}/{e.message_id}: {e.status}")
    if not detail.mutations:
        console.print("  no external changes")
    for m in detail.mutations:
        console.print(
            f"  {m.tool_namespace}.{m.tool_method} {m.status.value}: "
            f"{json.dumps(m.result)[:100] if m.result is not None else m.error[:100]}"
        )


@input_group.command("skip")
@click.argument("input_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def skip(app: AppContext, input_id: str, as_json: bool) -> None:
    """Skip an input for good: its open events are skipped where they still can be."""
    item = app.client().workflows.skip_input(input_id)
    if as_json:
        print_json(item)
        return
    console.print(f"input {item.input_id} is {item.status.value}")


def register(cli: click.Group) -> None:
    """Add the input group to the CLI."""
    cli.add_command(input_group)
