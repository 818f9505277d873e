"""Pointing the real agent CLIs at a model stub: where each binary is, and the environment (and,
for Codex, the config file) that sends its model calls to the stub and nowhere else.

    with ModelStub(load_script(path)) as stub:
        env = agent_env("claude", stub, home=tmp / "agent-home")   # for the agent's process

Each agent gets a private HOME, so a dry run never reads or writes your own agent settings.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from runwright.testing.models.server import ModelStub

AGENTS = ("claude", "codex", "aider")
#: What the scripted model calls itself to aider (which needs a provider prefix) and to Codex
#: (whose built-in catalog gives this name the apply_patch tool).
AIDER_MODEL = "stub-coder"
CODEX_MODEL = "gpt-5.5"
#: aider's model metadata (litellm's format): a context window and prices, so that aider neither
#: fetches the price list nor leaves the cost out of its "Tokens: … Cost: …" lines.
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


def agents_home() -> Path:
    """Where ``.ci/install-agents`` puts the agent CLIs (``$RUNWRIGHT_AGENTS_HOME``)."""
    default = Path.home() / ".cache" / "runwright" / "agents"
    return Path(os.environ.get("RUNWRIGHT_AGENTS_HOME") or default)


def find_agent(name: str) -> Path | None:
    """The agent CLI ``name``: installed by install-agents, else on PATH, else None."""
    home = agents_home()
    for candidate in (home / "npm" / "node_modules" / ".bin" / name, home / "aider" / "bin" / name):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def codex_config(stub: ModelStub, *, model: str = CODEX_MODEL) -> str:
    """A Codex ``config.toml`` whose model provider is the stub, with no traffic to other hosts
    (plugins, analytics and web search off), failing fast instead of retrying."""
    return "\n".join(
        [
            f'model = "{model}"',
            'model_provider = "stub"',
            'approval_policy = "never"',
            "check_for_update_on_startup = false",
            'web_search = "disabled"',
            "[analytics]",
            "enabled = false",
            "[agents]",
            "enabled = false",
            "[features]",
            "plugins = false",
            "remote_plugin = false",
            "apps = false",
            "tool_suggest = false",
            "goals = false",
            "[model_providers.stub]",
            'name = "runwright model stub"',
            f'base_url = "{stub.openai_base_url}"',
            'env_key = "RUNWRIGHT_STUB_KEY"',
            'wire_api = "responses"',
            "request_max_retries = 0",
            "stream_max_retries = 0",
            "",
        ]
    )


def agent_env(name: str, stub: ModelStub, home: Path) -> dict[str, str]:
    """Environment for agent ``name``'s process: the stub as its model server, ``home`` as HOME."""
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
            LITELLM_LOCAL_MODEL_COST_MAP="True",
        )
    else:
        raise ValueError(f"unknown agent {name!r}: one of {', '.join(AGENTS)}")
    return env


def router_app(
    name: str, stub: ModelStub, home: Path, binary: Path | None = None
) -> dict[str, object]:
    """A router.yaml app running agent ``name`` on its shipped adapter, pointed at the stub."""
    env = agent_env(name, stub, home)
    found = binary or find_agent(name)
    if found is not None:
        env["PATH"] = f"{found.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {
        "adapter": name,
        "env": env,
        "capabilities": {"task_kinds": ["code_edit", "test_write", "review", "documentation"]},
        "limits": {"timeout_seconds": 300},
    }
