"""`runwright mutation list|show|resolve`: the mutation ledger and the three human actions."""

from __future__ import annotations

import json

import click
from rich.table import Table

from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import ago, console, print_json
from runwright.domain.workflows.models import Mutation
from runwright.domain.workflows.mutations import HumanAction, MutationStatus
from runwright.errors import ValidationError


def print_mutation(m: Mutation) -> None:
    """A ledger row in detail, with the real call parameters."""
    console.print(
        f"[bold]{m.ui_title or m.tool_namespace + '.' + m.tool_method}[/bold] — {m.status.value}"
    )
    console.print(f"mutation {m.mutation_id} of run {m.handler_run_id} ({m.workflow}/{m.handler})")
    console.print(f"call {m.tool_namespace}.{m.tool_method}, idempotency key {m.idempotency_key}")
    console.print_json(json.dumps(m.params))
    if m.result is not None:
        console.print(f"result {json.dumps(m.result)[:300]}")
    if m.error:
        console.print(f"[red]{m.error}[/red]")
    console.print(f"reconcile attempts {m.reconcile_attempts}, can reconcile: {m.can_reconcile}")
    if m.resolved_by:
        console.print(f"resolved by {m.resolved_by.value} at {m.resolved_at}")


@click.group("mutation")
def mutation_group() -> None:
    """External writes made by workflows, and decisions on those in doubt."""


@mutation_group.command("list")
@click.option("--workflow", help="Only this workflow's mutations.")
@click.option(
    "--status", "statuses", multiple=True, type=click.Choice([s.value for s in MutationStatus])
)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_mutations(
    app: AppContext, workflow: str | None, statuses: tuple[str, ...], limit: int, as_json: bool
) -> None:
    """Ledger rows, newest first."""
    client = app.client()
    items = client.workflows.mutations(workflow, statuses=statuses, limit=limit)
    if as_json:
        print_json(items)
        return
    now = client.clock.now()
    table = Table("mutation", "workflow", "call", "status", "attempts", "created", "title")
    for m in items:
        table.add_row(
            m.mutation_id,
            m.workflow,
            f"{m.tool_namespace}.{m.tool_method}",
            m.status.value,
            str(m.reconcile_attempts),
            ago(m.created_at, now),
            m.ui_title,
        )
    console.print(table)


@mutation_group.command("show")
@click.argument("mutation_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def show(app: AppContext, mutation_id: str, as_json: bool) -> None:
    """One ledger row with its call parameters."""
    m = app.client().workflows.mutation(mutation_id)
    if as_json:
        print_json(m)
        return
    print_mutation(m)


@mutation_group.command("resolve")
@click.argument("mutation_id")
@click.option(
    "--try-again",
    "action",
    flag_value=HumanAction.TRY_AGAIN.value,
    help="Reconcile again from attempt 1.",
)
@click.option(
    "--did-not-happen",
    "action",
    flag_value=HumanAction.DID_NOT_HAPPEN.value,
    help="It did not happen: release the events; a fresh run may write again.",
)
@click.option(
    "--skip", "action", flag_value=HumanAction.SKIP.value, help="Skip it: next runs with 'skipped'."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def resolve(app: AppContext, mutation_id: str, action: str | None, as_json: bool) -> None:
    """Decide a mutation whose outcome is unknown (indeterminate)."""
    if action is None:
        raise ValidationError(
            "choose what to do with the mutation",
            hint="pass one of --try-again, --did-not-happen or --skip",
            field="action",
        )
    m = app.client().workflows.resolve(mutation_id, action)
    if as_json:
        print_json(m)
        return
    console.print(f"mutation {m.mutation_id} is now {m.status.value} ({action})")


def register(cli: click.Group) -> None:
    """Add the mutation group to the CLI."""
    cli.add_command(mutation_group)
