"""`runwright workflow deploy|list|show|runs|pause|resume|run-now`: event workflows."""

from __future__ import annotations

import click
from rich.table import Table

from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import ago, console, print_json, styled_state
from runwright.domain.workflows.models import WorkflowRecord

LABEL_STYLES = {
    "Running": "bold blue",
    "Idle": "green",
    "Needs attention": "bold red",
    "Stopped": "dim",
}


def _line(wf: WorkflowRecord) -> str:
    style = LABEL_STYLES.get(wf.label.value, "")
    extra = f" — {wf.error}" if wf.error else ""
    return f"[{style}]{wf.label.value}[/{style}] {wf.name} v{wf.version}{extra}"


@click.group("workflow")
def workflow_group() -> None:
    """Event workflows: deploy them, see their state, pause, resume, run now."""


@workflow_group.command("deploy")
@click.argument("ref", metavar="MODULE:ATTR")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def deploy(app: AppContext, ref: str, as_json: bool) -> None:
    """Import MODULE, validate the Workflow ATTR, and record it (workers import it by REF)."""
    record = app.client().workflows.deploy(ref)
    if as_json:
        print_json(record)
        return
    spec = record.spec
    console.print(
        f"deployed {record.name} v{record.version} ({len(spec.handlers)} handler(s), "
        f"topics: {', '.join(spec.topics) or '-'}) — start `runwright worker` to run it"
    )


@workflow_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_workflows(app: AppContext, as_json: bool) -> None:
    """Deployed workflows with their label: Running, Idle, Needs attention or Stopped."""
    client = app.client()
    items = client.workflows.list_workflows()
    if as_json:
        print_json(items)
        return
    if not items:
        console.print("no workflows yet — deploy one with `runwright workflow deploy MODULE:ATTR`")
        return
    now = client.clock.now()
    table = Table("workflow", "label", "version", "handlers", "deployed", "error")
    for wf in items:
        style = LABEL_STYLES.get(wf.label.value, "")
        table.add_row(
            wf.name,
            f"[{style}]{wf.label.value}[/{style}]",
            str(wf.version),
            ", ".join(h.name for h in wf.spec.handlers),
            ago(wf.deployed_at, now),
            wf.error,
        )
    console.print(table)


@workflow_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def show(app: AppContext, name: str, as_json: bool) -> None:
    """A workflow: its label, handlers, schedules, state and recent runs."""
    client = app.client()
    wf = client.workflows.get(name)
    states = client.workflows.states(name)
    runs = client.workflows.runs(name, limit=10)
    if as_json:
        print_json({"workflow": wf, "handlers": states, "runs": runs})
        return
    console.print(_line(wf))
    console.print(f"ref {wf.ref}, status {wf.status.value}, maintenance {wf.maintenance}")
    now = client.clock.now()
    table = Table("handler", "type", "schedule", "next run / wake", "dirty", "state")
    for st in states:
        spec = wf.spec.handler(st.handler)
        sched = spec.schedule if spec else None
        when = st.next_run_at or st.wake_at
        table.add_row(
            st.handler,
            st.type.value,
            (sched.every or sched.cron or "")
            if sched
            else "subscribe: " + ", ".join(spec.subscribe if spec else []),
            when.isoformat(timespec="seconds") if when else "-",
            "yes" if st.dirty else "",
            str(st.state)[:60],
        )
    console.print(table)
    if runs:
        rt = Table("run", "handler", "phase", "status", "created", "error")
        for r in runs:
            rt.add_row(
                r.run_id,
                r.handler,
                r.phase.value,
                styled_state(r.status.value),
                ago(r.created_at, now),
                r.error[:80],
            )
        console.print(rt)


@workflow_group.command("runs")
@click.argument("name")
@click.option(
    "--status", "statuses", multiple=True, help="Only runs with this status (repeatable)."
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def runs(app: AppContext, name: str, statuses: tuple[str, ...], limit: int, as_json: bool) -> None:
    """A workflow's handler runs, newest first."""
    client = app.client()
    client.workflows.get(name)
    items = client.workflows.runs(name, statuses=statuses, limit=limit)
    if as_json:
        print_json(items)
        return
    now = client.clock.now()
    table = Table("run", "handler", "phase", "status", "retry of", "created", "error")
    for r in items:
        table.add_row(
            r.run_id,
            r.handler,
            r.phase.value,
            r.status.value,
            r.retry_of or "",
            ago(r.created_at, now),
            r.error[:80],
        )
    console.print(table)


def _simple(name: str, verb: str, doc: str) -> click.Command:
    @click.command(name, help=doc)
    @click.argument("workflow")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @pass_app
    def cmd(app: AppContext, workflow: str, as_json: bool) -> None:
        client = app.client()
        record: WorkflowRecord = getattr(client.workflows, verb)(workflow)
        if as_json:
            print_json(record)
        else:
            console.print(_line(record))

    return cmd


workflow_group.add_command(
    _simple("pause", "pause", "Start no new runs (a run in progress finishes).")
)
workflow_group.add_command(
    _simple("resume", "resume", "Run again: clears the error, maintenance and the backoff.")
)
workflow_group.add_command(
    _simple(
        "run-now", "run_now", "Run every producer at the next tick (refused while a run is active)."
    )
)


def register(cli: click.Group) -> None:
    """Add the workflow group to the CLI."""
    cli.add_command(workflow_group)
