"""Helpers for the plan tests: the example repository (real git, real scripted agent), plan
files derived from the example plans, and a client that runs plans in-process."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from runwright.api.client import Client
from runwright.config import load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plans"


def _setup_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("plans_setup_demo", EXAMPLE / "setup_demo.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_repo(dest: Path) -> Path:
    """The example repository in ``dest``, committed, with its router.yaml."""
    made: Path = _setup_module().make(dest)
    return made


def git(repo: Path, *args: str) -> str:
    """git's stdout (raises on failure)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env
    )
    return done.stdout


def example_plan(name: str) -> dict[str, Any]:
    """One of the example plans as data."""
    data: dict[str, Any] = yaml.safe_load((EXAMPLE / "plans" / f"{name}.yaml").read_text())
    return data


def write_plan(repo: Path, name: str, data: dict[str, Any]) -> Path:
    """Write a plan file into the repository (uncommitted: plans need not be committed)."""
    path = repo / "plans" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def variant(base: str, name: str, edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """An example plan changed by ``edit`` and renamed ``name``."""
    data = example_plan(base)
    data["plan_id"] = name
    edit(data)
    return data


def add_app(repo: Path, name: str, *args: str) -> None:
    """Add a router app running the scripted agent with ``args`` (e.g. code --mode cheat)."""
    path = repo / ".runwright" / "router.yaml"
    config = yaml.safe_load(path.read_text())
    template = config["apps"]["coder"]["command"]
    config["apps"][name] = {
        **config["apps"]["coder"],
        "command": [template[0], template[1], *args, "{worktree}", "{prompt_file}"],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def open_client(repo: Path, db_url: str) -> Client:
    """A client on the repository's project, on ``db_url``, with the real clock."""
    return Client.open(
        load_settings(env={}, overrides={"home": repo / ".runwright", "database_url": db_url})
    )


def commits_touching(repo: Path, path: str) -> list[str]:
    """Commit subjects that changed ``path``, oldest first."""
    out = git(repo, "log", "--reverse", "--format=%s", "--", path)
    return [line for line in out.splitlines() if line]


def files_of(repo: Path, commit: str) -> list[str]:
    """Files a commit changed."""
    out = git(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", commit)
    return [line for line in out.splitlines() if line]
