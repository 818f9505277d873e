"""`runwright evidence verify|list|show`: what a run left behind, whether it is intact, and
one artifact's content."""

from __future__ import annotations

import sys

import click
from rich.table import Table

from runwright.api.artifacts import checked_bytes, checked_path, find_artifact
from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import console, print_json


@click.group("evidence")
def evidence_group() -> None:
    """Evidence of runs: list it, print one artifact, verify it has not been tampered with."""


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
        manifest = "manifest ok" if report.manifest_checked else "no manifest"
        if not report.manifest_checked:  # manifests are written when a run succeeds
            manifest += (
                " (no artifacts)" if not report.artifacts_checked else " (run did not succeed)"
            )
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


@evidence_group.command("show")
@click.argument("run_id")
@click.argument("name")
@click.option("--path", "as_path", is_flag=True, help="Print the artifact's file path instead.")
@pass_app
def show(app: AppContext, run_id: str, name: str, as_path: bool) -> None:
    """Print one artifact of RUN_ID to stdout, after checking its hash.

    NAME is the artifact's path or file name, its label, or a prefix of its sha256
    (`runwright evidence list RUN_ID` shows them).
    """
    client = app.client()
    client.get(run_id)
    link = find_artifact(run_id, client.evidence(run_id), name)
    if as_path:
        click.echo(str(checked_path(client.blobs, link)))
        return
    sys.stdout.flush()
    sys.stdout.buffer.write(checked_bytes(client.blobs, link))
    sys.stdout.buffer.flush()


def register(cli: click.Group) -> None:
    """Add the evidence commands to the CLI."""
    cli.add_command(evidence_group)
