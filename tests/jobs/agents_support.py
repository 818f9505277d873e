"""Helpers for the tests that drive the real agent CLIs (Claude Code, Codex CLI, aider) against
the scripted model server: where the binaries are, the environment that points each one at the
stub, and router apps for them.

The binaries are installed by ``.ci/install-agents`` into ``$RUNWRIGHT_AGENTS_HOME`` (default
``~/.cache/runwright/agents``), outside the project's virtualenv. Under ``CI=true`` a missing
binary fails the test; elsewhere it skips with the command that installs it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from runwright.testing.models import ModelStub

AGENTS = ("claude", "codex", "aider")
INSTALL_HINT = "install the agent CLIs with: bash .ci/install-agents"


def agents_home() -> Path:
    """Where .ci/install-agents puts the agent CLIs."""
    default = Path.home() / ".cache" / "runwright" / "agents"
    return Path(os.environ.get("RUNWRIGHT_AGENTS_HOME") or default)


def agent_binary(name: str) -> Path:
    """The real binary of agent ``name``; fails under CI=true, skips elsewhere, when missing."""
    home = agents_home()
    candidates = [
        home / "npm" / "node_modules" / ".bin" / name,
        home / "aider" / "bin" / name,
    ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    message = f"the real {name} CLI is not installed ({INSTALL_HINT})"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def agent_env(name: str, stub: ModelStub, home: Path) -> dict[str, str]:
    """Environment for the agent process: the stub as its model server, a private HOME."""
    home.mkdir(parents=True, exist_ok=True)
    env = {"HOME": str(home), "NO_COLOR": "1"}
    if name == "claude":
        env.update(
            ANTHROPIC_BASE_URL=stub.base_url,
            ANTHROPIC_API_KEY="stub-key",
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        )
    elif name == "codex":
        codex_home = home / ".codex"
        codex_home.mkdir(exist_ok=True)
        (codex_home / "config.toml").write_text(codex_config(stub), encoding="utf-8")
        env.update(CODEX_HOME=str(codex_home), RUNWRIGHT_STUB_KEY="stub-key")
    elif name == "aider":
        metadata = home / "aider-models.json"
        metadata.write_text(json.dumps(AIDER_METADATA), encoding="utf-8")
        env.update(
            AIDER_MODEL=f"openai/{AIDER_MODEL}",
            AIDER_OPENAI_API_BASE=stub.openai_base_url,
            AIDER_OPENAI_API_KEY="stub-key",
            AIDER_MODEL_METADATA_FILE=str(metadata),
        )
    return env


AIDER_MODEL = "stub-coder"
#: aider's model metadata (litellm's format): a context window and prices, so that aider
#: neither fetches the price list nor leaves the cost out of its "Tokens: … Cost: …" lines.
AIDER_METADATA = {
    f"openai/{AIDER_MODEL}": {
        "max_input_tokens": 128000,
        "max_output_tokens": 16384,
        "max_tokens": 16384,
        "input_cost_per_token": 0.000003,
        "output_cost_per_token": 0.000015,
        "litellm_provider": "openai",
        "mode": "chat",
    }
}


def codex_config(stub: ModelStub) -> str:
    """A Codex config.toml whose model provider is the stub, with no traffic to other hosts."""
    return (
        'model = "gpt-5.5"\n'
        'model_provider = "stub"\n'
        'approval_policy = "never"\n'
        "check_for_update_on_startup = false\n"
        'web_search = "disabled"\n'
        "[analytics]\nenabled = false\n"
        "[agents]\nenabled = false\n"
        "[features]\nplugins = false\nremote_plugin = false\napps = false\n"
        "tool_suggest = false\ngoals = false\n"
        "[model_providers.stub]\n"
        'name = "runwright model stub"\n'
        f'base_url = "{stub.openai_base_url}"\n'
        'env_key = "RUNWRIGHT_STUB_KEY"\n'
        'wire_api = "responses"\n'
        "request_max_retries = 0\n"
        "stream_max_retries = 0\n"
    )


def agent_app(name: str, stub: ModelStub, home: Path, **extra: Any) -> dict[str, Any]:
    """A router app running the real agent ``name`` on its shipped adapter, pointed at the stub."""
    binary = agent_binary(name)
    env = agent_env(name, stub, home)
    env["PATH"] = f"{binary.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    app: dict[str, Any] = {
        "adapter": name,
        "env": env,
        "capabilities": {"task_kinds": ["code_edit", "test_write"]},
        "limits": {"timeout_seconds": 180},
    }
    app.update(extra)
    return app


def write_router(repo: Path, apps: dict[str, dict[str, Any]]) -> None:
    """Replace the repository's router.yaml with ``apps`` and no rules."""
    data = {"version": "1", "apps": apps, "routing": {"rules": []}}
    path = repo / ".runwright" / "router.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
