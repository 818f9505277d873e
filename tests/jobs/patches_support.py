"""Helpers for the patch tests: real git repositories, real diffs, router files, agent commands."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

AGENTS = Path(__file__).with_name("patches_agents.py")


def git(root: Path, *args: str, stdin: str | None = None) -> str:
    """Run git in ``root`` and return its stdout (raises on failure)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    proc = subprocess.run(
        ["git", "-C", str(root), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def init_repo(root: Path, files: Mapping[str, str] | None = None) -> Path:
    """A git repository at ``root`` with ``files`` committed (and .runwright ignored)."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    git(root, "config", "commit.gpgsign", "false")
    content = {".gitignore": ".runwright/\n", **(files or {"src/app.py": "x = 1\n"})}
    for name, text in content.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def make_diff(root: Path, edits: Mapping[str, str | bytes | None]) -> str:
    """The git diff that ``edits`` (path → new text, bytes, or None to delete) would make.

    The checkout is restored afterwards.
    """
    for name, value in edits.items():
        path = root / name
        if value is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, bytes):
            path.write_bytes(value)
        else:
            path.write_text(value)
    git(root, "add", "-A")
    diff = git(root, "diff", "--cached", "--binary", "--no-renames")
    git(root, "reset", "-q", "--hard")
    git(root, "clean", "-fdq", "-e", ".runwright")
    return diff


def head(root: Path) -> str:
    """The commit id of HEAD."""
    return git(root, "rev-parse", "HEAD").strip()


def agent(mode: str, *args: str) -> list[str]:
    """The argv template of a test agent (a real script that edits files in its cwd)."""
    return [sys.executable, str(AGENTS), mode, "{prompt_file}", *args]


def write_router(
    home: Path, apps: Mapping[str, Any], rules: Sequence[Mapping[str, Any]] = (), **extra: Any
) -> Path:
    """Write ``.runwright/router.yaml``."""
    home.mkdir(parents=True, exist_ok=True)
    doc = {"version": "1", "apps": dict(apps), "routing": {"rules": list(rules)}, **extra}
    path = home / "router.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def write_policy(home: Path, **levels: Any) -> Path:
    """Write ``.runwright/policy.yaml`` (keys: global, project, verify)."""
    home.mkdir(parents=True, exist_ok=True)
    doc = {("global" if k == "global_" else k): v for k, v in levels.items()}
    path = home / "policy.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def fake_agent_clis(bin_dir: Path) -> dict[str, str]:
    """Executables named aider, claude and codex that behave like those CLIs in batch mode.

    Each checks the flags the shipped adapter passes, reads the prompt the way the real tool
    would (message file or standard input), and edits the files the prompt focuses on.
    Returns an environment with ``bin_dir`` first on PATH.
    """
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in ("aider", "claude", "codex"):
        script = bin_dir / name
        script.write_text(
            f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(AGENTS.parent)!r})\n"
            f"import patches_agents\nsys.exit(patches_agents.as_cli({name!r}, sys.argv[1:]))\n"
        )
        script.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
