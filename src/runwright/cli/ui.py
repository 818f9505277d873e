"""`runwright ui`: the dashboard in a browser, on loopback unless told otherwise."""

from __future__ import annotations

import click

from runwright.api.client import whoami
from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import err_console
from runwright.web import security


@click.command("ui")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--token",
    envvar="RUNWRIGHT_UI_TOKEN",
    help="Access token (env RUNWRIGHT_UI_TOKEN, or [ui] token in config.toml; default: a new one).",
)
@pass_app
def ui(app: AppContext, host: str, port: int, token: str | None) -> None:
    """Serve the dashboard: runs, evidence, events, the inbox, and the human-only actions."""
    import uvicorn

    from runwright.web import create_app

    section = app.settings.file.get("ui", {})
    token = (
        token
        or (section.get("token") if isinstance(section, dict) else None)
        or security.new_token()
    )
    if not security.is_loopback(host):
        err_console.print(
            f"[yellow]warning: listening on {host}, not loopback: anyone who can reach it and has "
            "the token can act on your runs[/yellow]"
        )
    client = app.client()
    web = create_app(client, token=token, actor=f"{whoami()} (dashboard)")
    shown = "127.0.0.1" if host in {"0.0.0.0", "::"} else host  # noqa: S104 - only for the printed link
    err_console.print(f"runwright dashboard on {client.store.db.display_url}")
    err_console.print(
        f"open [bold]http://{shown}:{port}/login?token={token}[/bold]", soft_wrap=True
    )
    uvicorn.run(web, host=host, port=port, log_level="warning")


def register(cli: click.Group) -> None:
    """Add the ui command to the CLI."""
    cli.add_command(ui)
