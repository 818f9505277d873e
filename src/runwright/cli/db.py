"""`runwright db upgrade|current`: the store's schema."""

from __future__ import annotations

import click

from runwright.api.client import open_database
from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import console, print_json
from runwright.store.migrate import head_revisions, read_current, upgrade


@click.group("db")
def db_group() -> None:
    """The store's schema: upgrade it, or show where it is."""


@db_group.command("upgrade")
@pass_app
def db_upgrade(app: AppContext) -> None:
    """Create or upgrade the store's schema to this runwright's version."""
    db = open_database(app.settings)
    try:
        before, after = upgrade(db)
    finally:
        db.dispose()
    if before == after:
        console.print(f"schema already current at {', '.join(sorted(after))} ({db.display_url})")
    else:
        old = ", ".join(sorted(before)) or "empty"
        console.print(f"upgraded {db.display_url}: {old} → {', '.join(sorted(after))}")


@db_group.command("current")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def db_current(app: AppContext, as_json: bool) -> None:
    """Show the schema revision of the store and whether it is current."""
    db = open_database(app.settings)
    try:
        current = read_current(db)
    finally:
        db.dispose()
    heads = head_revisions()
    up_to_date = current == heads
    if as_json:
        print_json(
            {
                "database": db.display_url,
                "current": sorted(current),
                "head": sorted(heads),
                "up_to_date": up_to_date,
            }
        )
        return
    state = "up to date" if up_to_date else "behind: run `runwright db upgrade`"
    console.print(f"{db.display_url}: {', '.join(sorted(current)) or 'empty'} ({state})")


def register(cli: click.Group) -> None:
    """Add the db commands to the CLI."""
    cli.add_command(db_group)
