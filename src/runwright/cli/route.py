"""`runwright route …` explains which tool a request goes to; `runwright patch agent …` runs it.

Both build an execution request from options (or read one with --request FILE) and route it
with `.runwright/router.yaml`; the phase comes from --phase-spec FILE or `.runwright/phases/`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import console, err_console, print_json
from runwright.domain.router_decision import RouteDecision, RouteRejected
from runwright.domain.router_specs import Complexity, ExecutionRequest, RequestConstraints
from runwright.errors import ConfigError
from runwright.patches.config_files import read_yaml, validate_data


def request_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options that describe an execution request."""
    options = [
        click.option("--task-kind", "task_kind", help="What kind of work (code_edit, analysis…)."),
        click.option("--risk", "risk_tier", default="medium", show_default=True, help="Risk tier."),
        click.option(
            "--complexity",
            type=click.Choice([c.value for c in Complexity]),
            default=Complexity.MODERATE.value,
            show_default=True,
        ),
        click.option("--domain", help="Domain (matched against app capabilities)."),
        click.option("--phase", "phase_id", default="adhoc", show_default=True, help="Phase id."),
        click.option(
            "--phase-spec",
            type=click.Path(path_type=Path, dir_okay=False, exists=True),
            help="A phase spec file (default: .runwright/phases/<phase>.yaml).",
        ),
        click.option("--tool", "allowed_tools", multiple=True, help="Allowed tool (repeatable)."),
        click.option(
            "--max-lines", type=click.IntRange(min=1), help="constraints.max_lines_changed."
        ),
        click.option(
            "--request",
            "request_file",
            type=click.Path(path_type=Path, dir_okay=False, exists=True),
            help="Read the whole execution request from a JSON/YAML file instead.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def build_request(app: AppContext, options: dict[str, Any]) -> ExecutionRequest | dict[str, Any]:
    """The request the options describe (a dict when read from a file, to be validated)."""
    patches = app.client().patches
    request_file: Path | None = options.pop("request_file", None)
    if request_file is not None:
        data = read_yaml(request_file)
        if not isinstance(data, dict):
            raise ConfigError(f"{request_file}: an execution request must be a mapping")
        return data
    if not options.get("task_kind"):
        raise click.UsageError("give --task-kind (or --request FILE)")
    max_lines = options.pop("max_lines", None)
    constraints = (
        RequestConstraints(max_lines_changed=max_lines) if max_lines else RequestConstraints()
    )
    return patches.request(
        options["task_kind"],
        objective=options.get("objective"),
        files=options.get("files", ()),
        phase_id=options["phase_id"],
        risk_tier=options["risk_tier"],
        complexity=options["complexity"],
        domain=options.get("domain"),
        allowed_tools=options.get("allowed_tools", ()),
        constraints=constraints,
    )


def show_decision(decision: RouteDecision) -> None:
    """A decision for people: the tool, the rule, the reasons."""
    if decision.accepted:
        rule = f"rule {decision.rule_id}" if decision.rule_id else "capability (no rule matched)"
        strategy = decision.strategy.value if decision.strategy else "-"
        console.print(
            f"[green]→ {escape(decision.selected or '')}[/green] "
            + escape(f"for {decision.task_kind} ({rule}, strategy {strategy})")
        )
        if decision.fallbacks:
            console.print(f"  fallbacks: {', '.join(decision.fallbacks)}", markup=False)
        if decision.validate_with:
            console.print(f"  validate with: {', '.join(decision.validate_with)}", markup=False)
        console.print(f"  attempts {decision.max_attempts}, timeout {decision.timeout_seconds}s")
    else:
        console.print(
            f"[red]✘ rejected: {escape(str(decision.rejection_code))}[/red] "
            + escape(decision.message or "")
        )
    for line in decision.explanation:
        console.print(f"  [dim]• {escape(line)}[/dim]", soft_wrap=True)


@click.command("route")
@request_options
@click.option("--dry-run", is_flag=True, help="Do not advance round-robin counters.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def route(app: AppContext, /, dry_run: bool, as_json: bool, **options: Any) -> None:
    """Explain which tool a request is routed to, and why (exit 1 when rejected)."""
    phase_spec: Path | None = options.pop("phase_spec", None)
    request = build_request(app, options)
    decision = app.client().patches.route(request, phase_file=phase_spec, dry_run=dry_run)
    if as_json:
        print_json(decision)
    else:
        show_decision(decision)
    if not decision.accepted:
        raise SystemExit(1)


@click.command("agent")
@request_options
@click.option("--objective", required=True, help="What the tool should achieve.")
@click.option("--file", "files", multiple=True, help="A file to focus on (repeatable).")
@click.option("--commit", "auto_commit", is_flag=True, help="Commit the patch once verified.")
@click.option("--approved-by", multiple=True, help="Reviewer approving the commit (repeatable).")
@click.option("--no-wait", is_flag=True, help="Only start the run (a worker executes it).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def agent_command(
    app: AppContext,
    /,
    auto_commit: bool,
    approved_by: tuple[str, ...],
    no_wait: bool,
    as_json: bool,
    **options: Any,
) -> None:
    """Route a task to an agent tool, run it in a worktree, send its patch through the ledger."""
    phase_spec: Path | None = options.pop("phase_spec", None)
    patches = app.client().patches
    request = build_request(app, options)
    if isinstance(request, dict):
        request = validate_data(
            request,
            ExecutionRequest,
            source="--request",
            hint="see schemas/execution_request.schema.json",
        )
    try:
        with err_console.status("routing, then running the agent tool in a worktree…"):
            result = patches.run_agent_tool(
                request,
                phase_file=phase_spec,
                auto_commit=auto_commit,
                approved_by=approved_by,
                wait=not no_wait,
            )
    except RouteRejected as exc:
        if as_json:
            print_json(exc.decision)
        else:
            show_decision(exc.decision)
        raise SystemExit(1) from exc
    if as_json:
        print_json(result)
    else:
        run = result.run
        console.print(f"run {run.run_id} ({result.decision.selected}): {run.state.value}")
        if run.failure:
            console.print(f"  [red]{escape(run.failure.message)}[/red]", soft_wrap=True)
        if result.patch:
            patch = result.patch
            console.print(f"patch {patch.patch_id}: {patch.entry.state.value}")
            console.print(f"  [dim]{escape(patch.entry.state_history[-1].reason or '')}[/dim]")
    if not no_wait and result.run.state.value != "succeeded":
        raise SystemExit(1)


def register(cli: click.Group) -> None:
    """Add the route command to the CLI."""
    cli.add_command(route)
