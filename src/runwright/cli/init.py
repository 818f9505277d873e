"""`runwright init [PATH]`: discover a repository, pick its profile, write `.runwright/`,
validate it and print the bootstrap report. Needs no database."""

from __future__ import annotations

from pathlib import Path

import click
from rich.panel import Panel
from rich.table import Table

from runwright.cli.output import console, err_console, print_json
from runwright.domain.bootstrap import BootstrapReport, BootstrapStatus, Discovery

STATUS_STYLES = {
    "ready": "bold green",
    "partial": "yellow",
    "needs_human": "bold magenta",
    "failed": "bold red",
}
ACTION_STYLES = {
    "created": "green",
    "updated": "cyan",
    "unchanged": "dim",
    "kept": "yellow",
    "replaced": "magenta",
    "removed": "dim",
}


def show_discovery(d: Discovery) -> None:
    """Languages, frameworks and tools, briefly."""
    langs = ", ".join(f"{lang.language} {lang.percentage:.0f}%" for lang in d.languages[:6])
    console.print(f"[bold]{d.project_name}[/bold]  {d.file_count} files ({d.listed_via})")
    console.print(f"  languages: {langs or 'none'}", soft_wrap=True)
    if d.frameworks:
        console.print(
            f"  frameworks: {', '.join(h.framework for h in d.frameworks)}", soft_wrap=True
        )
    tools = ", ".join(f"{t.tool_id} {t.version or ''}".strip() for t in d.available_tools)
    console.print(f"  tools: {tools or 'none'}", soft_wrap=True)
    if d.existing_ci:
        console.print(f"  CI: {', '.join(d.existing_ci)}", soft_wrap=True)
    conf = f"{d.domain_confidence:.2f}" if d.domain_confidence is not None else "-"
    console.print(f"  domain: {d.domain.value} ({conf}, rule {d.domain_rule}: {d.domain_reason})")
    if d.skipped:
        console.print(
            f"  [dim]skipped {len(d.skipped)} path(s): "
            f"{d.skipped[0].path} ({d.skipped[0].reason})…[/dim]"
        )


def show_report(report: BootstrapReport, discovery: Discovery) -> None:
    """The bootstrap report for people."""
    show_discovery(discovery)
    style = STATUS_STYLES[report.status.value]
    title = f"profile [bold]{report.profile_id}[/bold] → [{style}]{report.status.value}[/{style}]"
    if report.dry_run:
        title += " [dim](dry run: nothing written)[/dim]"
    console.print(Panel.fit(title, subtitle=report.selection_reason or ""))
    if report.profile_mapping and len(report.profile_mapping.mappings) > 1:
        table = Table("path", "profile", "source", "max lines", title="Profiles by path")
        for m in report.profile_mapping.mappings:
            table.add_row(
                m.path or ".",
                m.profile_id,
                m.source.value,
                str(m.constraints.max_lines_changed or "-"),
            )
        console.print(table)
    table = Table("file", "action", "status")
    for a in report.generated_artifacts:
        act = ACTION_STYLES.get(a.action.value, "")
        table.add_row(a.path, f"[{act}]{a.action.value}[/{act}]", a.status.value)
    console.print(table)
    v = report.validation_results
    if v is not None:
        for e in v.errors:
            console.print(f"[red]✘ {e.code}[/red] {e.message}", soft_wrap=True)
        for w in v.warnings:
            console.print(f"[yellow]! {w.code}[/yellow] {w.message}", soft_wrap=True)
        for fix in v.auto_fixes_applied:
            console.print(f"[dim]↻ {fix}[/dim]", soft_wrap=True)
    if report.next_steps.for_human:
        console.print("[bold]Next, for you:[/bold]")
        for step in report.next_steps.for_human:
            console.print(f"  • {step}", soft_wrap=True)
    console.print(
        "[bold]For an AI agent:[/bold] [dim](also in .runwright/bootstrap_report.json)[/dim]"
    )
    for step in report.next_steps.for_ai_agent:
        console.print(f"  • {step}", soft_wrap=True)


@click.command("init")
@click.argument(
    "path", required=False, default=".", type=click.Path(path_type=Path, file_okay=False)
)
@click.option("--profile", "profile_id", help="Use this profile instead of discovery's pick.")
@click.option("--force", is_flag=True, help="Also replace files you edited since init wrote them.")
@click.option("--dry-run", is_flag=True, help="Discover, generate and validate; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the bootstrap report as JSON.")
def init(path: Path, profile_id: str | None, force: bool, dry_run: bool, as_json: bool) -> None:
    """Discover the repository at PATH and set up .runwright/ for it.

    Exits 0 when ready or partial, 1 when validation failed or a human must decide.
    """
    from runwright.bootstrap.runner import init_project

    if not path.is_dir():
        raise click.UsageError(f"{path} is not a folder")
    with err_console.status("discovering the project…"):
        result = init_project(path, profile=profile_id, force=force, dry_run=dry_run)
    if as_json:
        print_json(result.report)
    else:
        show_report(result.report, result.discovery.discovery)
    if result.report.status in {BootstrapStatus.FAILED, BootstrapStatus.NEEDS_HUMAN}:
        raise SystemExit(1)


def register(cli: click.Group) -> None:
    """Add `runwright init` to the CLI."""
    cli.add_command(init)
