"""`runwright topic list|events|show`: topics → events → details."""

from __future__ import annotations

import json

import click
from rich.table import Table

from runwright.api.client import Client
from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import ago, console, print_json
from runwright.domain.workflows.models import TopicEvent
from runwright.domain.workflows.topics import EventStatus

EVENT_STYLES = {"pending": "cyan", "reserved": "yellow", "consumed": "green", "skipped": "dim"}


def event_table(client: Client, events: list[TopicEvent]) -> Table:
    """Events as a table."""
    now = client.clock.now()
    table = Table(
        "event", "workflow", "topic", "message id", "status", "attempt", "updated", "payload"
    )
    for e in events:
        style = EVENT_STYLES.get(e.status, "")
        table.add_row(
            e.event_id,
            e.workflow,
            e.topic,
            e.message_id,
            f"[{style}]{e.status}[/{style}]",
            str(e.attempt_number),
            ago(e.updated_at, now),
            json.dumps(e.payload)[:60],
        )
    return table


def print_event(client: Client, event: TopicEvent) -> None:
    """One event in detail: payload, inputs, the run holding it and its mutation."""
    console.print(
        f"[bold]{event.workflow}/{event.topic}[/bold] {event.message_id} — {event.status}"
    )
    created = event.created_at.isoformat(timespec="seconds")
    console.print(f"event {event.event_id}, attempt {event.attempt_number}, created {created}")
    for input_id in event.caused_by:
        item = client.workflows.store.get_input(input_id)
        console.print(
            f"caused by input {input_id}: {item.title or item.id} ({item.source}/{item.type})"
        )
    if event.reserved_by_run_id:
        console.print(f"reserved by run {event.reserved_by_run_id}")
        mutation = client.workflows.store.mutation_of(event.reserved_by_run_id)
        if mutation is not None:
            tool = f"{mutation.tool_namespace}.{mutation.tool_method}"
            console.print(f"its mutation {mutation.mutation_id}: {tool} {mutation.status.value}")
    console.print_json(json.dumps(event.payload))


@click.group("topic")
def topic_group() -> None:
    """Topics of event workflows and their events."""


@topic_group.command("list")
@click.option("--workflow", help="Only this workflow's topics.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_topics(app: AppContext, workflow: str | None, as_json: bool) -> None:
    """Topics: publishers, subscribers and events per status."""
    items = app.client().workflows.topics(workflow)
    if as_json:
        print_json([t.to_dict() for t in items])
        return
    if not items:
        console.print("no topics — deploy a workflow first")
        return
    table = Table("workflow", "topic", "publishers", "subscribers", *[s.value for s in EventStatus])
    for t in items:
        table.add_row(
            t.workflow,
            t.topic,
            ", ".join(t.publishers),
            ", ".join(t.subscribers),
            *[str(t.counts.get(s.value, 0)) for s in EventStatus],
        )
    console.print(table)


@topic_group.command("events")
@click.argument("topic")
@click.option("--workflow", help="The workflow (needed if several have this topic).")
@click.option(
    "--status", "statuses", multiple=True, type=click.Choice([s.value for s in EventStatus])
)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--before", help="Page: events older than this event id.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def events(
    app: AppContext,
    topic: str,
    workflow: str | None,
    statuses: tuple[str, ...],
    limit: int,
    before: str | None,
    as_json: bool,
) -> None:
    """A topic's events, newest first (TOPIC or WORKFLOW:TOPIC)."""
    client = app.client()
    wf, name = client.workflows.resolve_topic(topic, workflow)
    items = client.workflows.events(wf, name, statuses=statuses, limit=limit, before=before)
    if as_json:
        print_json(items)
        return
    console.print(event_table(client, items))


@topic_group.command("show")
@click.argument("event_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def show(app: AppContext, event_id: str, as_json: bool) -> None:
    """One event: payload, the inputs that caused it, the run and mutation handling it."""
    client = app.client()
    event = client.workflows.event(event_id)
    if as_json:
        print_json(event)
        return
    print_event(client, event)


def register(cli: click.Group) -> None:
    """Add the topic group to the CLI."""
    cli.add_command(topic_group)
