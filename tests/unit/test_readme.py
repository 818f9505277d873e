"""The README's two set-up commands stay true to what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    head = text[: text.index("\n## ")]
    return re.findall(r"```(?:sh|bash)\n(.+?)\n```", head, flags=re.S)


def test_the_readme_opens_with_the_two_commands() -> None:
    """Before the first section: one command runs the main job, one runs the tests."""
    main_job, tests = _commands()[:2]
    assert "runwright tour" in main_job
    assert "pip install" in main_job
    assert "pytest" in tests
    assert "pip install" in tests


def test_ci_runs_exactly_the_readme_test_command() -> None:
    """.ci/run contains the README's test command verbatim."""
    tests = _commands()[1].strip()
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci.splitlines()
