"""The plan's test spec reaches the agent, on SQLite and PostgreSQL: its text is in the
prompt's "Test spec" section, and the file is in the agent's worktree at the path the prompt
names — even when git does not hold it — yet it never becomes part of a patch or a commit."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from plans_support import git, make_repo, open_client, variant, write_plan

from runwright.api.client import Client
from runwright.domain.states import RunState
from runwright.patches.agent import AGENT_JOB

pytestmark = pytest.mark.slow

SPEC_AGENT = Path(__file__).resolve().parents[1] / "jobs" / "spec_agent.py"
MARK = "# Test spec: greet (kept outside git)"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The example repository with a test writer that must read the spec to work."""
    made = make_repo(tmp_path / "repo")
    path = made / ".runwright" / "router.yaml"
    config = yaml.safe_load(path.read_text())
    scripted = config["apps"]["tests-writer"]["command"][1]
    config["apps"]["spec-reader"] = {
        **config["apps"]["tests-writer"],
        "command": [sys.executable, str(SPEC_AGENT), scripted, "{worktree}", "{prompt_file}"],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return made


@pytest.fixture
def pc(repo: Path, db_url: str) -> Iterator[Client]:
    """A client on the repository, SQLite or PostgreSQL."""
    client = open_client(repo, db_url)
    yield client
    client.close()


@pytest.mark.parametrize("spec_path", ["specs/greet-spec.md", ".runwright/plans/test-spec.md"])
def test_the_agent_gets_the_spec_text_and_reads_the_file_in_its_worktree(
    pc: Client, repo: Path, spec_path: str
) -> None:
    """A spec git does not hold (untracked, or under the ignored .runwright/): the prompt
    quotes it under "Test spec (PATH)", the agent reads PATH from its working directory (its
    tests carry the spec's first line), and no patch or commit contains the spec."""
    text = (repo / "docs" / "test-spec.md").read_text().replace("# Test spec: greet", MARK, 1)
    spec = repo / spec_path
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(text)

    def edit(data: dict[str, Any]) -> None:
        data["test_spec"] = spec_path
        data["roles"]["test-implementer"] = {"tools": ["spec-reader"]}

    plan = write_plan(repo, "spec-ctx", variant("greet", "spec-ctx", edit))
    view = pc.plans.run(plan, timeout=300)
    assert view.run.state is RunState.SUCCEEDED

    (t1,) = [d for d in view.phases if d.phase_id == "T1"]
    assert t1.child_run_id is not None
    (agent,) = [r for r in pc.children(t1.child_run_id) if r.job_name == AGENT_JOB]
    (prompt,) = pc.patches.prompts(agent.run_id)
    assert f"## Test spec ({spec_path})" in prompt.rendered
    assert text.strip() in prompt.rendered

    assert f"# spec: {MARK}" in git(repo, "show", "HEAD:tests/test_greet.py")
    touched = git(repo, "log", "--format=", "--name-only").split()
    assert spec_path not in touched
    for d in view.phases:
        for patch_id in d.outcome.get("patch_ids", []) if d.outcome else []:
            assert spec_path not in pc.patches.get(str(patch_id)).artifact.diff_text
    assert spec.read_text() == text
