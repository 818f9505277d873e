"""The test spec a delegation hands on: quoted in the prompt (cut, with a note, when long)
and copied whole into the agent's worktree at its project-relative path."""

from __future__ import annotations

from pathlib import Path

from plans_support import example_plan

from runwright.domain.plans import PlanSpec
from runwright.plans.spec_context import SPEC_PROMPT_LIMIT, PlanTestSpec, read_test_spec


def plan_with_spec(path: str) -> PlanSpec:
    data = example_plan("greet")
    data["test_spec"] = path
    return PlanSpec.model_validate(data)


def test_a_short_spec_is_quoted_whole_and_named_by_its_path(tmp_path: Path) -> None:
    """The section names the path, says the file is in the working directory, quotes it."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "spec.md").write_text("# Spec\n- R1 greet\n")
    spec = read_test_spec(plan_with_spec("./docs/../docs/spec.md"), tmp_path)
    assert spec.path == "docs/spec.md"
    section = spec.section()
    assert section.startswith("## Test spec (docs/spec.md)\n")
    assert "in your working directory" in section
    assert section.endswith("# Spec\n- R1 greet")
    assert spec.files() == {"docs/spec.md": "# Spec\n- R1 greet\n"}


def test_a_long_spec_is_cut_at_a_line_with_a_note_but_copied_whole() -> None:
    """A spec over the prompt limit is cut at a line end, with a note saying how much is
    shown and where the rest is; the worktree copy is the whole text."""
    text = "".join(f"- line {n}: {'x' * 60}\n" for n in range(1000))
    spec = PlanTestSpec(path="docs/spec.md", text=text)
    section = spec.section()
    assert len(section) < SPEC_PROMPT_LIMIT + 400
    assert "[… cut here: the prompt quotes" in section
    assert f"of {len(text.strip())} characters; read the rest in docs/spec.md]" in section
    body = section.split("\n\n", 1)[1]
    assert all(line.startswith("- line") for line in body.splitlines()[:-1])
    assert spec.files() == {"docs/spec.md": text}


def test_an_unreadable_spec_is_said_so_and_not_copied(tmp_path: Path) -> None:
    """A missing spec: the section says it could not be read; nothing is copied."""
    spec = read_test_spec(plan_with_spec("docs/missing.md"), tmp_path)
    assert "could not be read" in spec.section()
    assert spec.files() == {}


def test_a_spec_outside_the_project_is_refused(tmp_path: Path) -> None:
    """A spec path that escapes the project is not read."""
    spec = read_test_spec(plan_with_spec("../outside.md"), tmp_path / "project")
    assert spec.text is None
    assert "escapes the project" in (spec.problem or "")
