"""`runwright demo`: run the example durable job on the embedded SQLite store and show it."""

from __future__ import annotations

import click
from rich.table import Table

from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import console, duration, styled_state


@click.command("demo")
@pass_app
def demo(app: AppContext) -> None:
    """Run a small durable job (tally a CSV by category) and print its run and evidence."""
    from runwright.examples.tally import tally, write_sample

    client = app.client()
    settings = app.settings
    work = settings.home / "demo"
    source = write_sample(work / "expenses.csv")
    report = work / "report.csv"
    console.print(f"store: [bold]{client.store.db.display_url}[/bold]")
    run = client.start(tally, str(source), str(report))
    console.print(f"started run [bold]{run.run_id}[/bold] of job {run.job_name}")
    with console.status("working…"):
        run = client.wait(run.run_id, timeout=120)
    steps = client.steps(run.run_id)
    table = Table("#", "step", "state", "took", title=f"run {run.run_id}: {run.state.value}")
    for s in steps:
        table.add_row(
            str(s.sequence),
            s.step_key,
            styled_state(s.state.value),
            duration(s.started_at, s.ended_at),
        )
    console.print(table)
    console.print(f"result: {run.result}")
    links = client.evidence(run.run_id)
    report_check = client.verify(run.run_id)
    for link in links:
        console.print(
            f"evidence: {link.artifact_path} ({link.size} bytes, {link.counts.rows} rows) "
            f"sha256 {link.sha256}"
        )
    status = "[green]verified[/green]" if report_check.ok else "[red]FAILED[/red]"
    console.print(
        f"hash chain of {report_check.events_checked} events and "
        f"{report_check.artifacts_checked} artifact(s): {status}"
    )
    next_line = f"review {report.name} and file the totals"
    client.set_next_pointer(run.run_id, next_line)
    console.print(f"next pointer: {next_line}")
    console.print(
        "\nlook closer:\n"
        f"  runwright run show {run.run_id}\n"
        f"  runwright run events {run.run_id}\n"
        f"  runwright evidence verify {run.run_id}\n"
        "  runwright run list"
    )
    if not report_check.ok or run.state.value != "succeeded":
        raise SystemExit(1)


def register(cli: click.Group) -> None:
    """Add the demo command to the CLI."""
    cli.add_command(demo)
