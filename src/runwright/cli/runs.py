"""`runwright run list|show|events|cancel|resolve|next`: look at runs and act on them."""

from __future__ import annotations

import json
import time
from typing import Any

import click
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from runwright.api.client import Client
from runwright.api.subjects import run_subject, with_subject
from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import ago, console, duration, print_json, styled_state
from runwright.domain.events import RunEvent
from runwright.domain.runs import Run, RunKind
from runwright.domain.states import TERMINAL_RUN_STATES, RunState
from runwright.store.core import RESOLVE_ACTIONS, RunFilter


@click.group("run")
def run_group() -> None:
    """Runs: list them, show one, follow its events, cancel or resolve it."""


@run_group.command("list")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice([s.value for s in RunState]),
    help="Only runs in this state (repeatable).",
)
@click.option("--kind", help="Only runs of this kind (job, operator, plan, consumer…).")
@click.option("--job", "job_name", help="Only runs of this job name.")
@click.option("--parent", "parent_run_id", help="Only children of this run.")
@click.option("--search", help="Text to find in the run id, job, reason or next pointer.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--before", "before_run_id", help="Page: runs older than this run id.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_runs(app: AppContext, /, as_json: bool, **filters: Any) -> None:
    """List runs, newest first."""
    client = app.client()
    filters["states"] = tuple(filters["states"])
    runs = client.list_runs(RunFilter(**filters))
    if as_json:
        print_json([with_subject(r) for r in runs])
        return
    if not runs:
        console.print("no runs yet — start one with `runwright demo` or from Python")
        return
    now = client.clock.now()
    table = Table("job", "subject", "state", "steps", "started", "took", "next pointer")
    table.add_column("run", no_wrap=True, min_width=26)
    for r in runs:
        state = styled_state(r.state.value)
        if r.state_reason:
            state.append(f" ({r.state_reason})", style="dim")
        table.add_row(
            r.job_name,
            run_subject(r),
            state,
            str(r.counters.step_attempts),
            ago(r.started_at or r.created_at, now),
            duration(r.started_at, r.ended_at),
            r.next_pointer or "",
            r.run_id,
        )
    console.print(table)
    if len(runs) == filters["limit"]:
        console.print(f"[dim]more: runwright run list --before {runs[-1].run_id}[/dim]")


def _run_panel(client: Client, run: Run) -> Panel:
    now = client.clock.now()
    lines = Text()

    def row(label: str, value: Any, style: str = "") -> None:
        lines.append(f"{label:<14}", style="bold")
        lines.append(f"{value}\n", style=style)

    row("job", run.job_name)
    subject = run_subject(run)
    if subject:
        row("subject", subject)
    state = run.state.value + (f" ({run.state_reason})" if run.state_reason else "")
    row("state", state, style=str(styled_state(run.state.value).style))
    row("project", run.project_id)
    row("created", f"{run.created_at.isoformat(timespec='seconds')} ({ago(run.created_at, now)})")
    if run.started_at:
        row("took", duration(run.started_at, run.ended_at or now))
    c = run.counters
    row("attempts", f"{run.attempt} execution(s), {c.step_attempts} step(s), {c.errors} error(s)")
    if run.parent_run_id:
        row("parent", run.parent_run_id)
    if run.depends_on:
        row("depends on", ", ".join(run.depends_on))
    if run.args or run.kwargs:
        row("input", json.dumps({"args": run.args, "kwargs": run.kwargs})[:300])
    if run.state == RunState.SUCCEEDED:
        row("result", json.dumps(run.result)[:500])
    if run.failure:
        row("failure", f"{run.failure.type}: {run.failure.message}", style="red")
    if run.lease_owner and run.state == RunState.RUNNING:
        row("worker", run.lease_owner)
    row("next pointer", run.next_pointer or '— (none yet: `runwright run next RUN "…"`)')
    return Panel(lines, title=f"run {run.run_id}", expand=False)


@run_group.command("show")
@click.argument("run_id")
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON (run, steps, evidence, children)."
)
@pass_app
def show(app: AppContext, run_id: str, as_json: bool) -> None:
    """Show a run: its record, steps, children and evidence."""
    from runwright.cli.op import op_run_section, view_json

    client = app.client()
    op_view = client.ops.op_run(run_id) if client.ops.is_op_run(run_id) else None
    run = client.get(run_id)
    steps = client.steps(run_id)
    links = client.evidence(run_id)
    children = client.children(run_id)
    if as_json:
        shown = {
            "run": run,
            "subject": run_subject(run),
            "steps": steps,
            "evidence": links,
            "children": [c.run_id for c in children],
        }
        if op_view is not None:
            shown["op_run"] = view_json(op_view)
        if run.kind is RunKind.PLAN:
            from runwright.cli.plan_view import view_json as plan_json

            shown["plan"] = plan_json(client.plans.get(run_id))
        print_json(shown)
        return
    console.print(_run_panel(client, run))
    if op_view is not None:
        console.print(*op_run_section(op_view))
    if run.kind is RunKind.PLAN:
        from runwright.cli.plan_view import plan_renderable

        console.print(plan_renderable(client.plans.get(run_id), detail=False))
        console.print(f"[dim]details: runwright plan show {run_id}[/dim]")
    if steps:
        table = Table("#", "step", "try", "state", "took", "tool", "error", title="steps")
        for s in steps:
            table.add_row(
                str(s.sequence),
                s.step_key,
                str(s.attempt),
                styled_state(s.state.value),
                duration(s.started_at, s.ended_at),
                s.tool_id,
                f"{s.failure.type}: {s.failure.message}"[:80] if s.failure else "",
            )
        console.print(table)
    if children:
        counts: dict[str, int] = {}
        for c in children:
            counts[c.state.value] = counts.get(c.state.value, 0) + 1
        summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        console.print(
            f"children: {len(children)} ({summary}) — `runwright run list --parent {run_id}`"
        )
    if links:
        table = Table("artifact", "size", "sha256", title="evidence")
        for link in links:
            table.add_row(link.artifact_path, f"{link.size:,}", link.sha256[:16] + "…")
        console.print(table)
        console.print(f"[dim]verify: runwright evidence verify {run_id}[/dim]")


def _summary(event: RunEvent) -> str:
    p = dict(event.payload)
    if "from" in p and "to" in p:
        text = f"{p.pop('from')} → {p.pop('to')}"
        return text + (" " + json.dumps(p) if p else "")
    return json.dumps(p)[:160] if p else ""


@run_group.command("events")
@click.argument("run_id")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events until the run ends.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def events(app: AppContext, run_id: str, follow: bool, as_json: bool) -> None:
    """Show a run's hash-chained event log."""
    client = app.client()
    evs = client.events(run_id)
    if as_json:
        print_json(evs)
        return
    for ev in evs:
        _print_event(ev)
    last = evs[-1].seq if evs else 0
    while follow and client.get(run_id).state not in TERMINAL_RUN_STATES:
        time.sleep(0.5)
        for ev in client.events(run_id, after_seq=last):
            _print_event(ev)
            last = ev.seq


def _print_event(ev: RunEvent) -> None:
    console.print(
        f"[dim]{ev.seq:>4} {ev.ts.isoformat(timespec='milliseconds')}[/dim] "
        f"[bold]{ev.kind.value:<22}[/bold] {_summary(ev)}",
        markup=True,
        highlight=False,
    )


@run_group.command("cancel")
@click.argument("run_id")
@pass_app
def cancel(app: AppContext, run_id: str) -> None:
    """Cancel a run and its children (a running run stops at its next step or sooner)."""
    run = app.client().cancel(run_id)
    if run.state == RunState.CANCELED:
        console.print(f"run {run_id} canceled")
    else:
        console.print(f"run {run_id} asked to stop; its worker cancels it within one heartbeat")


@run_group.command("resolve")
@click.argument("run_id")
@click.argument("step_key")
@click.option(
    "--rerun", "action", flag_value="rerun", help="The effect did not happen: run the step again."
)
@click.option(
    "--mark-done",
    "action",
    flag_value="mark-done",
    help="The effect happened: record RESULT and go on.",
)
@click.option("--fail", "action", flag_value="fail", help="Give up on the step: it fails.")
@click.option(
    "--result", "result_json", default="null", help="With --mark-done: the step's result as JSON."
)
@pass_app
def resolve(
    app: AppContext, run_id: str, step_key: str, action: str | None, result_json: str
) -> None:
    """Settle a step whose outcome is unknown (the run waits for this), then resume the run."""
    if action not in RESOLVE_ACTIONS:
        raise click.UsageError("choose one of --rerun, --mark-done or --fail")
    try:
        result = json.loads(result_json)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--result") from exc
    app.client().resolve_step(run_id, step_key, action, result=result)
    console.print(
        f"step {step_key!r} of run {run_id} resolved ({action}); a worker resumes the run"
    )


@run_group.command("next")
@click.argument("run_id")
@click.argument("next_pointer")
@pass_app
def next_pointer(app: AppContext, run_id: str, next_pointer: str) -> None:
    """Record a run's one-line next pointer: what to do next."""
    app.client().set_next_pointer(run_id, next_pointer)
    console.print(f"next pointer of {run_id} set")


def register(cli: click.Group) -> None:
    """Add the run commands to the CLI."""
    cli.add_command(run_group)
