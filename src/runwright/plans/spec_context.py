"""The plan's test spec as a delegation hands it to the tool: its text in the prompt (a "Test
spec" section, cut to a sane size with a note) and the whole file as a context file, written
into the tool's worktree at the spec's project-relative path before the tool runs and taken out
again before its edits are captured (so the spec never becomes part of a patch).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.plans import PlanSpec
from runwright.errors import RunwrightError
from runwright.execmodel.paths import confine

#: How much of the test spec the prompt quotes; the whole file is in the worktree.
SPEC_PROMPT_LIMIT = 12_000
#: A test spec larger than this is not copied into the worktree.
SPEC_FILE_LIMIT = 1024 * 1024


class PlanTestSpec(BaseModel):
    """The plan's test spec as a delegation hands it on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(description="Project-relative path (also its path in the worktree).")
    text: str | None = Field(default=None, description="The whole text; None if unreadable.")
    problem: str | None = None

    def section(self) -> str:
        """The prompt's "Test spec" section: the text (cut with a note if long) and where the
        whole file is."""
        head = f"## Test spec ({self.path})"
        if self.text is None:
            return f"{head}\nThe test spec could not be read: {self.problem}."
        if self.files():
            where = f"The whole spec is the file {self.path} in your working directory."
            rest = f"read the rest in {self.path}"
        else:
            where = f"The spec is not in your working directory: {self.problem}."
            rest = "the rest is not shown"
        text = self.text.strip("\n")
        if len(text) > SPEC_PROMPT_LIMIT:
            cut = text[:SPEC_PROMPT_LIMIT]
            cut = cut[: cut.rfind("\n")] if "\n" in cut else cut
            note = f"[… cut here: the prompt quotes {len(cut)} of {len(text)} characters; {rest}]"
            text = f"{cut}\n{note}"
        return f"{head}\n{where}\n\n{text}"

    def files(self) -> dict[str, str]:
        """The context files that put the spec into the worktree."""
        if self.text is None or len(self.text.encode()) > SPEC_FILE_LIMIT:
            return {}
        return {self.path: self.text}


def read_test_spec(plan: PlanSpec, project_root: Path) -> PlanTestSpec:
    """The plan's test spec, read from the project (its path must stay inside it)."""
    root = project_root.resolve()
    try:
        path = confine(plan.test_spec, (root,), base=root, field="test_spec")
        rel = path.relative_to(root).as_posix()
    except RunwrightError as exc:
        return PlanTestSpec(path=plan.test_spec, problem=exc.message)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return PlanTestSpec(path=rel, problem=exc.strerror or str(exc))
    if len(text.encode()) > SPEC_FILE_LIMIT:
        return PlanTestSpec(
            path=rel,
            text=text,
            problem=f"larger than {SPEC_FILE_LIMIT} bytes, so it is not copied into the worktree",
        )
    return PlanTestSpec(path=rel, text=text)
