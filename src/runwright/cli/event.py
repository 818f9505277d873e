"""`runwright event publish|show|skip`: publish from outside; one event; skip is the only
action on it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import console, print_json
from runwright.cli.topic import print_event
from runwright.errors import ValidationError


def read_payload(payload: str | None, payload_file: str | None) -> Any:
    """The event's payload: JSON text, or a JSON file (``-``: stdin); null when neither."""
    if payload is not None and payload_file is not None:
        raise ValidationError(
            "--payload and --payload-file both given", hint="pass one of them", field="payload"
        )
    source = "--payload"
    text = payload
    if payload_file is not None:
        source = "stdin" if payload_file == "-" else payload_file
        try:
            text = sys.stdin.read() if payload_file == "-" else Path(payload_file).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(
                f"{source}: cannot read the payload ({exc})",
                hint="pass a readable UTF-8 JSON file",
                field="payload_file",
            ) from None
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{source}: the payload is not JSON ({exc.msg} at line {exc.lineno} column "
            f"{exc.colno})",
            hint="write JSON, e.g. '{\"id\": 42}'",
            field="payload",
        ) from None


@click.group("event")
def event_group() -> None:
    """Events of event workflows."""


@event_group.command("publish")
@click.argument("topic")
@click.argument("message_id")
@click.option("--workflow", help="The workflow (needed if several have this topic).")
@click.option("--payload", help="The payload as JSON text (default: null).")
@click.option(
    "--payload-file", metavar="FILE", help="Read the payload as JSON from FILE (- for stdin)."
)
@click.option(
    "--input",
    "input_key",
    nargs=3,
    metavar="SOURCE TYPE ID",
    help="The outside thing that caused it, registered as an input (found again if known).",
)
@click.option("--title", default="", help="The input's title (with --input).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def publish(
    app: AppContext,
    topic: str,
    message_id: str,
    workflow: str | None,
    payload: str | None,
    payload_file: str | None,
    input_key: tuple[str, str, str] | None,
    title: str,
    as_json: bool,
) -> None:
    """Publish an event from outside a run (TOPIC or WORKFLOW:TOPIC).

    The event is unique by (workflow, topic, MESSAGE_ID): publishing the same id again
    replaces its payload and inputs and keeps its status. Subscribed consumers run at the
    next worker tick.
    """
    if not message_id.strip():
        raise ValidationError(
            "MESSAGE_ID is empty",
            hint="use a stable outside identifier, e.g. order:42",
            field="message_id",
        )
    data = read_payload(payload, payload_file)
    if title and not input_key:
        raise ValidationError(
            "--title names an input", hint="pass --input SOURCE TYPE ID too", field="title"
        )
    cause = (*input_key, title) if input_key else None
    client = app.client()
    wf, name = client.workflows.resolve_topic(topic, workflow)
    event = client.workflows.publish(wf, name, message_id, data, input=cause)
    if as_json:
        print_json(event)
        return
    console.print(
        f"published {event.workflow}/{event.topic} {event.message_id} as event "
        f"{event.event_id} ({event.status})"
    )


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
