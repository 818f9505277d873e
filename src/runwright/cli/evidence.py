"""`runwright evidence verify|list`: what a run left behind, and whether it is intact."""

from __future__ import annotations

import click
from rich.table import Table

from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import console, print_json


@click.group("evidence")
def evidence_group() -> None:
    """Evidence of runs: list it, verify it has not been tampered with."""


@evidence_group.command("verify")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def verify(app: AppContext, run_id: str, as_json: bool) -> None:
    """Re-hash RUN_ID's evidence, check its manifest and its event hash chain."""
    report = app.client().verify(run_id)
    if as_json:
        print_json(report)
    elif report.ok:
        manifest = "manifest ok" if report.manifest_checked else "no manifest (no artifacts)"
        console.print(
            f"[green]✔ run {run_id} verified[/green]: {report.events_checked} events chained, "
            f"{report.artifacts_checked} artifacts re-hashed, {manifest}"
        )
    else:
        console.print(
            f"[red]✘ run {run_id} failed verification — evidence was tampered with or lost:[/red]"
        )
        for p in report.problems:
            console.print(
                f"  [red]•[/red] {p.what} [bold]{p.where}[/bold]: {p.problem}", markup=True
            )
    if not report.ok:
        raise SystemExit(1)


@evidence_group.command("list")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_evidence(app: AppContext, run_id: str, as_json: bool) -> None:
    """List the artifacts RUN_ID linked, with sizes and hashes."""
    client = app.client()
    client.get(run_id)
    links = client.evidence(run_id)
    if as_json:
        print_json(links)
        return
    table = Table("artifact", "label", "size", "lines", "sha256", "step attempt")
    for link in links:
        table.add_row(
            link.artifact_path,
            link.label or "",
            f"{link.size:,}",
            "" if link.counts.lines is None else str(link.counts.lines),
            link.sha256[:16] + "…",
            link.step_attempt_id or "",
        )
    console.print(table if links else "no evidence linked")


def register(cli: click.Group) -> None:
    """Add the evidence commands to the CLI."""
    cli.add_command(evidence_group)
