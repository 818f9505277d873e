"""Agent adapters: ready-made command templates for common agent CLIs (package data under
``adapters/*.yaml``): ``aider``, ``claude``, ``codex`` and ``generic`` (a command you name).

A router app says ``adapter: aider`` to take the adapter's command, standard-input mode and
prompt template; anything it sets itself (``command``, ``stdin``…) wins.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.router import AppCapabilities, RouterApp
from runwright.domain.spend import UsageFormat
from runwright.errors import ConfigError
from runwright.patches.config_files import load_model

ADAPTERS_DIR = Path(__file__).parent / "adapters"


class AgentAdapter(BaseModel):
    """How to run one agent CLI non-interactively."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    description: str = ""
    command: list[str] | None = Field(default=None, description="argv template (None: generic).")
    stdin: Literal["prompt"] | None = None
    prompt_template: str = "default"
    capabilities: AppCapabilities = Field(default_factory=AppCapabilities)
    env: dict[str, str] = Field(default_factory=dict)
    usage: UsageFormat = Field(
        default=UsageFormat.NONE, description="How the CLI reports its usage on stdout."
    )


@lru_cache(maxsize=1)
def adapters() -> dict[str, AgentAdapter]:
    """Every shipped adapter, by id."""
    found = {}
    for path in sorted(ADAPTERS_DIR.glob("*.yaml")):
        adapter = load_model(path, AgentAdapter, hint="a shipped adapter file is broken")
        found[adapter.id] = adapter
    return found


def adapter(name: str) -> AgentAdapter:
    """One adapter, or ConfigError listing the known ones."""
    known = adapters()
    if name not in known:
        raise ConfigError(
            f"unknown adapter {name!r}",
            hint=f"use one of: {', '.join(sorted(known))}",
            field="adapter",
        )
    return known[name]


def resolve_app(name: str, app: RouterApp, *, source: str) -> RouterApp:
    """``app`` with its adapter's defaults filled in; ConfigError when it has no command."""
    updates: dict[str, object] = {}
    if app.adapter:
        base = adapter(app.adapter)
        if app.command is None:
            updates["command"] = base.command
        if app.stdin is None and base.stdin is not None:
            updates["stdin"] = base.stdin
        if app.prompt_template is None:
            updates["prompt_template"] = base.prompt_template
        if not app.capabilities.task_kinds and base.capabilities.task_kinds:
            updates["capabilities"] = base.capabilities
        if base.env:
            updates["env"] = {**base.env, **app.env}
        if app.usage is None:
            updates["usage"] = base.usage
    resolved = app.model_copy(update=updates)
    if not resolved.command:
        raise ConfigError(
            f"{source}: apps.{name}: no command",
            hint="give `command: [program, arg, …]` or `adapter: aider|claude|codex`",
            path=source,
            field=f"apps.{name}.command",
        )
    return resolved
