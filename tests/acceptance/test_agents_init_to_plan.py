"""A new user's path with a real agent: a fresh Python repository, the real Claude Code on PATH
(answering from the scripted model server), `runwright init`, the plan template's objective and
the test spec filled in — no generated file edited otherwise — and `runwright plan run` ends
`complete`, with the agent's commits on the branch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from agents_support import agent_binary

from runwright.testing.models import ModelStub, parse_script

pytestmark = pytest.mark.slow

TESTS = """from pkg.slug import slugify


def test_lowercases_and_joins_words_with_dashes():
    assert slugify("Hello Big World") == "hello-big-world"


def test_drops_punctuation():
    assert slugify("Ready, set: go!") == "ready-set-go"
"""
CODE = '''"""Slugs for titles."""

import re


def slugify(text: str) -> str:
    """Lowercase words of ``text`` joined by dashes, punctuation dropped."""
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))
'''
TRACE = "# R1 trace\n\n- test: tests/test_example_change.py\n- code: src/pkg/slug.py\n"
SPEC = """# Test spec: slugs

## R1

- Given: a title such as "Hello Big World".
- When: `pkg.slug.slugify(title)` is called.
- Then: it returns "hello-big-world"; punctuation is dropped ("Ready, set: go!" → "ready-set-go").
"""
SCRIPT = f"""
model: claude-sonnet-4-5
usage: {{input_tokens: 2400, output_tokens: 300}}
conversations:
  - name: tests
    match: ["Write tests that fail until R1 holds"]
    turns:
      - actions:
          - write_file: {{path: tests/test_example_change.py, content: {json.dumps(TESTS)}}}
      - text: "Wrote the R1 tests."
  - name: code
    match: ["Make the T1 tests pass"]
    turns:
      - actions:
          - write_file: {{path: src/pkg/slug.py, content: {json.dumps(CODE)}}}
          - run: {{command: "python -m pytest -q -p no:cacheprovider"}}
      - text: "slugify implemented; the tests pass."
  - name: trace
    match: ["Check that R1 is traced"]
    turns:
      - actions:
          - write_file: {{path: docs/trace-R1.md, content: {json.dumps(TRACE)}}}
      - text: "Traced R1."
"""


def git(repo: Path, *args: str) -> str:
    """git's stdout in ``repo``."""
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def fresh_repository(repo: Path) -> None:
    """A small Python package with one passing test, committed."""
    (repo / "src" / "pkg").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "pkg"\nversion = "0.1.0"\n\n'
        '[tool.pytest.ini_options]\npythonpath = ["src"]\n'
    )
    (repo / "src" / "pkg" / "__init__.py").write_text('"""A package that gains slugs."""\n')
    (repo / "tests" / "test_pkg.py").write_text(
        "import pkg\n\n\ndef test_documented():\n    assert pkg.__doc__\n"
    )
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "dev@localhost")
    git(repo, "config", "user.name", "A developer")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a package")


@pytest.fixture
def stub(tmp_path: Path) -> Iterator[ModelStub]:
    """The scripted model server."""
    with ModelStub(parse_script(SCRIPT), record=tmp_path / "model-requests.jsonl") as s:
        yield s


def test_init_then_the_plan_template_runs_to_complete_with_the_real_claude_code(
    tmp_path: Path, stub: ModelStub
) -> None:
    """init routes the plan's roles to the claude it found; with only the objective and the spec
    filled in, `runwright plan run` completes: tests, code and trace committed by Claude Code."""
    claude = agent_binary("claude")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").symlink_to(claude)
    repo = tmp_path / "repo"
    repo.mkdir()
    fresh_repository(repo)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNWRIGHT_", "GIT_"))} | {
        "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), "/usr/bin:/bin"]),
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": stub.base_url,
        "ANTHROPIC_API_KEY": "stub-key",
        "RUNWRIGHT_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
    }

    def runwright(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "runwright", *args],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    init = runwright("init")
    assert init.returncode == 0, init.stderr
    router = yaml.safe_load((repo / ".runwright" / "router.yaml").read_text())
    assert "claude" in router["apps"]

    # Fill in only the template's objective and the spec; commit .runwright/ as init says.
    template = repo / ".runwright" / "plans" / "example-change.yaml"
    plan = yaml.safe_load(template.read_text())
    assert all(role["tools"] == ["claude"] for role in plan["roles"].values())
    plan["description"] = "Add pkg.slug.slugify for URL slugs of titles."
    plan["requirements"][0]["text"] = "slugify(title) lowercases words and joins them with dashes"
    template.write_text(yaml.safe_dump(plan, sort_keys=False))
    (repo / ".runwright" / "plans" / "test-spec.md").write_text(SPEC)
    git(repo, "add", ".runwright")
    git(repo, "commit", "-qm", "runwright configuration and the slug plan")
    assert not git(repo, "status", "--porcelain", "--ignored", "--", ".runwright/router.yaml")

    done = runwright("plan", "run", str(template.relative_to(repo)), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "complete", done.stdout

    subjects = git(repo, "log", "--format=%s").splitlines()
    assert subjects[:3] == ["docs: trace R1", "feat: R1", "test: cover R1"]
    assert git(repo, "show", "HEAD:src/pkg/slug.py") == CODE
    assert [r["conversation"] for r in stub.requests if r["turn"] == 0] == [
        "tests",
        "code",
        "trace",
    ]
    # The spec's text reached Claude Code in its prompt.
    assert "Ready, set: go!" in stub.requests_for("tests")[0]["prompt"]
