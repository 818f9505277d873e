"""`runwright tour`: the quickstart — init, an operator run, a plan, a workflow — in a
throwaway folder, then where to look."""

from __future__ import annotations

from pathlib import Path

import click

from runwright.cli.output import console, print_json


@click.command("tour")
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where to put the tour (default: a new temporary folder).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what each step did as JSON.")
def tour(folder: Path | None, as_json: bool) -> None:
    """Tour runwright on a throwaway copy of an example repository (about ten seconds)."""
    from runwright.api.tour import Tour, TourStep

    def show(step: TourStep) -> None:
        if not as_json:
            console.print(
                f"[green]✓[/green] [bold]{step.name:<20}[/bold] {step.summary} "
                f"[dim]({step.seconds:.1f}s)[/dim]",
                soft_wrap=True,
            )

    if not as_json:
        console.print("[bold]runwright tour[/bold] — everything happens in one temporary folder")
    result = Tour(folder, on_step=show).run()
    if as_json:
        print_json(
            {
                "folder": str(result.folder),
                "repo": str(result.repo),
                "steps": [
                    {
                        "name": s.name,
                        "summary": s.summary,
                        "seconds": round(s.seconds, 3),
                        "details": s.details,
                    }
                    for s in result.steps
                ],
            }
        )
        return
    total = sum(s.seconds for s in result.steps)
    console.print(f"\n[bold]Done in {total:.1f}s.[/bold] Everything is in {result.folder}")
    console.print("Where to look:")
    for line in result.where_to_look():
        console.print(f"  {line}", soft_wrap=True)
    console.print(f"[dim]Remove it all with: rm -rf {result.folder}[/dim]", soft_wrap=True)


def register(cli: click.Group) -> None:
    """Add the tour command."""
    cli.add_command(tour)
