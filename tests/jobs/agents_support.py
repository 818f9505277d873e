"""Helpers for the tests that drive the real agent CLIs (Claude Code, Codex CLI, aider) against
the scripted model server (``runwright.testing.models.agents`` points each at the stub).

The binaries are installed by ``.ci/install-agents`` into ``$RUNWRIGHT_AGENTS_HOME`` (default
``~/.cache/runwright/agents``), outside the project's virtualenv. Under ``CI=true`` a missing
binary fails the test; elsewhere it skips with the command that installs it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from runwright.testing.models import ModelStub
from runwright.testing.models.agents import find_agent, router_app

INSTALL_HINT = "install the agent CLIs with: bash .ci/install-agents"


def agent_binary(name: str) -> Path:
    """The real binary of agent ``name``; fails under CI=true, skips elsewhere, when missing."""
    found = find_agent(name)
    if found is not None:
        return found
    message = f"the real {name} CLI is not installed ({INSTALL_HINT})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def agent_app(name: str, stub: ModelStub, home: Path, **extra: Any) -> dict[str, Any]:
    """A router app running the real agent ``name`` on its shipped adapter, pointed at the stub."""
    app: dict[str, Any] = router_app(name, stub, home, agent_binary(name))
    app.update(extra)
    return app


def write_router(repo: Path, apps: dict[str, dict[str, Any]]) -> None:
    """Replace the repository's router.yaml with ``apps`` and no rules."""
    data = {"version": "1", "apps": apps, "routing": {"rules": []}}
    path = repo / ".runwright" / "router.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
