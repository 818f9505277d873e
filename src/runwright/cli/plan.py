"""`runwright plan validate|run|status|show|decide|list`: test-first plans through gates."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from runwright.api.plans import PlanView
from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import ago, console, print_json, to_jsonable
from runwright.cli.plan_view import (
    escalation_panel,
    plan_renderable,
    styled,
    view_json,
)
from runwright.domain.budgets import Budget, parse_assignments
from runwright.domain.plan_schedule import schedule
from runwright.domain.plans import PlanSpec, Stage
from runwright.errors import ValidationError
from runwright.plans.contract import PlanInvalid

JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group("plan")
def plan_group() -> None:
    """Plans: phases delegated test-first through gates, with retries and escalation."""


def _schedule_table(plan: PlanSpec) -> Table:
    table = Table(title=f"plan {plan.plan_id}: {plan.title}", title_justify="left")
    for col in ("stage", "batch", "phases (run together)", "serialized because"):
        table.add_column(col, overflow="fold")
    for stage in (Stage.TESTS, Stage.IMPLEMENTATION, Stage.VALIDATION):
        phases = plan.phases_of(stage)
        if not phases:
            continue
        sched = schedule(phases, plan.max_parallel)
        reasons = {s.phase_id: s.reason for s in sched.serialized}
        for i, batch in enumerate(sched.batches, 1):
            why = "; ".join(f"{p}: {reasons[p]}" for p in batch.phase_ids if p in reasons)
            table.add_row(stage.value, str(i), ", ".join(batch.phase_ids), why)
    return table


@plan_group.command("validate")
@click.argument("plan_file", type=click.Path(path_type=Path))
@JSON
@pass_app
def validate_cmd(app: AppContext, plan_file: Path, as_json: bool) -> None:
    """Check a plan file: structure, roles, cycles, narrowing scopes; show its schedule."""
    from runwright.plans.contract import load_plan

    try:
        plan = load_plan(plan_file)
    except PlanInvalid as exc:
        if as_json:
            print_json({"valid": False, "path": str(plan_file), "problems": exc.problems})
            sys.exit(1)
        console.print(f"[bold red]{escape(str(plan_file))} is not a valid plan[/bold red]")
        for problem in exc.problems:
            console.print(f"  • {problem}", markup=False)
        console.print("[dim]the plan contract is described in docs/plans.md[/dim]")
        sys.exit(1)
    from runwright.plans.routability import route_warnings

    warnings = route_warnings(plan, app.settings.home)
    if as_json:
        stages = {
            s.value: schedule(plan.phases_of(s), plan.max_parallel).model_dump(mode="json")
            for s in (Stage.TESTS, Stage.IMPLEMENTATION, Stage.VALIDATION)
            if plan.phases_of(s)
        }
        print_json(
            {
                "valid": True,
                "path": str(plan_file),
                "plan": plan,
                "schedule": stages,
                "warnings": warnings,
            }
        )
        return
    console.print(
        f"[green]{escape(str(plan_file))} is a valid plan[/green] ({len(plan.phases)} phases, "
        f"{len(plan.requirements)} requirements, retry budget {plan.retry_budget})"
    )
    for warning in warnings:
        console.print(f"[yellow]! {escape(warning)}[/yellow]", markup=True, soft_wrap=True)
    console.print(_schedule_table(plan))


def _drive(app: AppContext, run_id: str, as_json: bool, timeout: float) -> PlanView:
    plans = app.client().plans
    if as_json:
        return plans.drive(run_id, timeout=timeout)
    holder: dict[str, PlanView] = {"view": plans.get(run_id)}

    def update(view: PlanView) -> None:
        holder["view"] = view

    with Live(
        get_renderable=lambda: plan_renderable(holder["view"], detail=False),
        console=console,
        refresh_per_second=4,
        transient=True,
    ):
        return plans.drive(run_id, timeout=timeout, on_progress=update)


def _report(app: AppContext, view: PlanView, as_json: bool) -> None:
    outputs = app.client().plans.failing_output(view)
    if as_json:
        print_json(view_json(view, outputs))
    else:
        console.print(plan_renderable(view, outputs=outputs))
    if view.run.state.value == "failed":
        sys.exit(1)


@plan_group.command("run")
@click.argument("plan_file", type=click.Path(path_type=Path))
@click.option(
    "--acknowledge",
    multiple=True,
    metavar="PHASE",
    help="Acknowledge a phase's test_not_applicable exception at preflight (repeatable).",
)
@click.option("--no-wait", is_flag=True, help="Only start the run (a `runwright worker` runs it).")
@click.option(
    "--timeout", type=float, default=3600.0, show_default=True, help="Seconds to run here."
)
@JSON
@pass_app
def run_cmd(
    app: AppContext,
    plan_file: Path,
    acknowledge: tuple[str, ...],
    no_wait: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Run a plan here: intake, preflight, tests, implementation, validation, completion.

    Stops when the plan completes, blocks, or escalates (answer with `runwright plan decide`).
    """
    plans = app.client().plans
    run = plans.start(plan_file, acknowledge=acknowledge)
    if no_wait:
        if as_json:
            print_json({"run_id": run.run_id, "state": run.state.value})
        else:
            console.print(f"started plan run {run.run_id}; `runwright worker` will run it")
        return
    _report(app, _drive(app, run.run_id, as_json, timeout), as_json)


def _target(app: AppContext, run_id: str | None) -> str:
    return run_id or app.client().plans.latest().run_id


@plan_group.command("status")
@click.argument("run_id", required=False)
@JSON
@pass_app
def status_cmd(app: AppContext, run_id: str | None, as_json: bool) -> None:
    """Where a plan run stands (the newest if RUN_ID is left out)."""
    view = app.client().plans.get(_target(app, run_id))
    if as_json:
        print_json(view_json(view))
        return
    console.print(plan_renderable(view, detail=False))


@plan_group.command("show")
@click.argument("run_id", required=False)
@click.option("--contract", is_flag=True, help="Print only the completion contract (JSON).")
@JSON
@pass_app
def show_cmd(app: AppContext, run_id: str | None, contract: bool, as_json: bool) -> None:
    """Everything a plan run did: stages, phases, gates, escalations, contract."""
    plans = app.client().plans
    target = _target(app, run_id)
    if contract:
        print_json(plans.completion(target))
        return
    view = plans.get(target)
    outputs = plans.failing_output(view)
    if as_json:
        print_json(view_json(view, outputs))
        return
    console.print(plan_renderable(view, outputs=outputs))
    for esc in view.escalations:
        if esc.answer is not None:
            console.print(escalation_panel(esc, view.run_id))


@plan_group.command("decide")
@click.argument("target")
@click.option("--option", "option", type=click.Choice(["A", "B"]), required=True)
@click.option("--note", help="Guidance carried into the next correction, or why.")
@click.option(
    "--budget",
    "budget",
    multiple=True,
    metavar="KEY=VALUE",
    help="A raised limit for option A of a budget escalation (repeatable), e.g. "
    "max_tokens=400000; keys: max_tokens, max_cost_usd, max_wall_seconds, max_agent_calls.",
)
@click.option("--no-wait", is_flag=True, help="Only record the answer (a worker resumes the run).")
@click.option("--timeout", type=float, default=3600.0, show_default=True)
@JSON
@pass_app
def decide_cmd(
    app: AppContext,
    target: str,
    option: str,
    note: str | None,
    budget: tuple[str, ...],
    no_wait: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Answer a plan's escalation (TARGET: the escalation id or the plan run id) and resume."""
    plans = app.client().plans
    esc = plans.decide(target, option=option, note=note, budget=budget_option(budget))
    if no_wait:
        if as_json:
            print_json(esc)
        else:
            console.print(f"answered {esc.escalation_id} with {option}; the run resumes")
        return
    _report(app, _drive(app, esc.run_id, as_json, timeout), as_json)


def budget_option(items: tuple[str, ...]) -> Budget | None:
    """``--budget KEY=VALUE`` items as a Budget (None when none are given)."""
    if not items:
        return None
    try:
        return parse_assignments(items)
    except ValueError as exc:
        raise ValidationError(str(exc), field="budget") from None


@plan_group.command("list")
@click.option("--before", help="Page: only runs older than this run id.")
@click.option("--limit", type=int, default=30, show_default=True)
@JSON
@pass_app
def list_cmd(app: AppContext, before: str | None, limit: int, as_json: bool) -> None:
    """Plan runs, newest first."""
    client = app.client()
    records = client.plans.list(before=before, limit=limit)
    if as_json:
        print_json(to_jsonable(records))
        return
    if not records:
        console.print("no plan runs yet; start one with `runwright plan run PLAN`")
        return
    now = client.clock.now()
    table = Table()
    for col in ("run", "plan", "status", "stage", "started", "contract"):
        table.add_column(col, overflow="fold")
    for r in records:
        table.add_row(
            r.run_id,
            r.plan_id,
            styled(r.status.value),
            r.stage,
            ago(r.created_at, now),
            r.completion_path or "-",
        )
    console.print(table)


def register(cli: click.Group) -> None:
    """Add the plan commands to the CLI."""
    cli.add_command(plan_group)
