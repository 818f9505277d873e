"""Patch artifacts (UET patch_artifact): a unified diff, where it came from, and what it touches.

The model is deliberately lenient about ``format`` and ``diff_text``: a submission with another
format or an empty diff is still recorded, and validation then drops it with ``format_ok=false``
(UET behaviour 28). Whether ``scope`` agrees with the diff is checked by parsing the diff
(``runwright.patches.diffs``), never by trusting what the submitter declared.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from runwright.domain.ids import Ulid

#: The only format validation accepts.
UNIFIED_DIFF = "unified_diff"
#: UET caps a patch summary at 512 characters.
MAX_SUMMARY = 512


class PatchScope(BaseModel):
    """What a diff touches, computed from the diff itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    files_touched: list[str] = Field(
        default_factory=list, description="Repository-relative paths, each once, in diff order."
    )
    line_insertions: int = Field(default=0, ge=0)
    line_deletions: int = Field(default=0, ge=0)
    hunks: int = Field(default=0, ge=0)

    @field_validator("files_touched")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("files_touched must not repeat a path")
        return value

    @property
    def lines_changed(self) -> int:
        """Insertions plus deletions (UET's definition of lines changed)."""
        return self.line_insertions + self.line_deletions


class PatchOrigin(BaseModel):
    """Who produced the patch, for which request, tool, prompt and phase."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    execution_request_id: Ulid | None = Field(
        default=None, description="The execution request it answers (none for a manual patch)."
    )
    tool_id: str = Field(min_length=1, description="The tool that produced it, or 'manual'.")
    created_at: datetime
    prompt_id: str | None = None
    phase_id: str | None = None
    workstream_id: str | None = None
    tool_run_id: str | None = Field(
        default=None, description="The run that produced it (a runwright run id for agent tools)."
    )


class PatchArtifact(BaseModel):
    """A proposed change to a repository, as a unified diff with its origin and scope."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patch_id: Ulid
    format: str = Field(
        default=UNIFIED_DIFF,
        min_length=1,
        description="Only 'unified_diff' passes validation; anything else is dropped.",
    )
    target_repo: str = Field(min_length=1, description="The repository root the diff applies to.")
    origin: PatchOrigin
    diff_text: str = Field(description="The diff; an empty one is dropped by validation.")
    base_ref: str | None = None
    base_commit: str | None = Field(default=None, description="The commit the diff was made on.")
    summary: str | None = Field(default=None, max_length=MAX_SUMMARY)
    scope: PatchScope | None = Field(
        default=None, description="Declared scope; validation refuses one the diff contradicts."
    )
