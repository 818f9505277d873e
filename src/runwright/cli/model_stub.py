"""`runwright model-stub`: a scripted model server for dry-running agent CLIs offline."""

from __future__ import annotations

from pathlib import Path

import click

from runwright.cli.output import err_console


@click.command("model-stub")
@click.option(
    "--script",
    "script_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The script to answer from (YAML or JSON; see docs/agents.md).",
)
@click.option("--port", default=8788, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (loopback: agents on this machine only).",
)
@click.option(
    "--record",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Append every request (JSON lines) to this file.",
)
def model_stub(script_path: Path, port: int, host: str, record: Path | None) -> None:
    """Answer Claude Code, Codex CLI and aider from a script, with no model and no network.

    Serves the Anthropic Messages API, the OpenAI Responses API and Chat Completions until
    interrupted; prints the settings that point each agent at it.
    """
    from runwright.testing.models import ModelStub, load_script

    stub = ModelStub(load_script(script_path), host=host, port=port, record=record)
    base = stub.base_url
    err_console.print(f"model stub on {base} answering from {script_path}", soft_wrap=True)
    err_console.print(
        f"  Claude Code: ANTHROPIC_BASE_URL={base} ANTHROPIC_API_KEY=stub", soft_wrap=True
    )
    err_console.print(
        f'  Codex:       a model provider with base_url = "{stub.openai_base_url}"', soft_wrap=True
    )
    err_console.print(
        f"  aider:       --openai-api-base {stub.openai_base_url} --openai-api-key stub",
        soft_wrap=True,
    )
    err_console.print(f"  requests:    {base}/_stub/requests", soft_wrap=True)
    try:
        stub.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stub.stop()


def register(cli: click.Group) -> None:
    """Add the model-stub command to the CLI."""
    cli.add_command(model_stub)
