"""Helpers for the budget tests: router apps whose agent reports its usage as Claude Code
does (tests/jobs/budget_agent.py around the example's scripted agent), and plans on them."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from plans_support import variant, write_plan

AGENT = Path(__file__).resolve().parent / "budget_agent.py"


def reporting_app(
    repo: Path, name: str, base: str, *options: str, usage: str = "claude_json"
) -> None:
    """Router app ``name``: the budget agent with ``options`` around the scripted agent that
    app ``base`` runs, its usage read as ``usage``."""
    path = repo / ".runwright" / "router.yaml"
    config = yaml.safe_load(path.read_text())
    inner = config["apps"][base]["command"]
    config["apps"][name] = {
        **config["apps"][base],
        "command": [sys.executable, str(AGENT), *options, "--", *inner],
        "usage": usage,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def budget_plan(repo: Path, name: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    """The greet plan with its roles on the apps ``tests-reporting`` and ``coder-reporting``,
    changed by ``edit``, written as ``plans/<name>.yaml``."""

    def change(data: dict[str, Any]) -> None:
        data["roles"]["test-implementer"] = {"tools": ["tests-reporting"]}
        data["roles"]["implement-plan"] = {"tools": ["coder-reporting"]}
        edit(data)

    return write_plan(repo, name, variant("greet", name, change))


def calls_plan(repo: Path) -> Path:
    """Reporting agents (1,100 tokens a call) and a plan budget of two agent calls: the tests
    use both, so the implementation phases wait on a budget escalation."""
    reporting_app(repo, "tests-reporting", "tests-writer", "--cost", "0.01")
    reporting_app(repo, "coder-reporting", "coder", "--cost", "0.01")

    def limits(data: dict[str, Any]) -> None:
        data["budget"] = {"max_agent_calls": 2}

    return budget_plan(repo, "calls", limits)
