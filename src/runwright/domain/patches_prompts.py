"""Prompt instances (UET prompt_instance): the sections a tool is given, rendered per tool."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runwright.domain.ids import Ulid

SECTION_NAMES = (
    "HEADER",
    "OBJECTIVE",
    "CONTEXT",
    "CONSTRAINTS",
    "FILES_SCOPE",
    "OUTPUT_SPEC",
    "VALIDATION",
)


class PromptKind(StrEnum):
    """What the prompt asks for."""

    CODE_EDIT = "code_edit"
    ANALYSIS = "analysis"
    REVIEW = "review"
    DOCUMENTATION = "documentation"
    OTHER = "other"


class PromptSections(BaseModel):
    """The sections of a prompt; OBJECTIVE is required."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    OBJECTIVE: str = Field(min_length=1)
    HEADER: str | None = None
    CONTEXT: str | None = None
    CONSTRAINTS: str | None = None
    FILES_SCOPE: str | None = None
    OUTPUT_SPEC: str | None = None
    VALIDATION: str | None = None


class PromptInstance(BaseModel):
    """A prompt rendered for one target tool, kept with the run that used it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt_instance_id: Ulid
    template_id: str = Field(min_length=1)
    target_tool: str = Field(min_length=1)
    kind: PromptKind
    sections: PromptSections
    # runwright fields
    rendered: str = Field(default="", description="The text given to the tool.")
    request_id: Ulid | None = None
    run_id: Ulid | None = None
    created_at: datetime | None = None

    @model_validator(mode="after")
    def _code_edit_wants_a_diff(self) -> PromptInstance:
        if self.kind is PromptKind.CODE_EDIT:
            spec = (self.sections.OUTPUT_SPEC or "").lower()
            if "unified diff" not in spec:
                raise ValueError(
                    "a code_edit prompt's OUTPUT_SPEC must demand a unified diff "
                    "(or edits captured as one)"
                )
        return self


def prompt_kind_for(task_kind: str) -> PromptKind:
    """The prompt kind for a task kind (edits of any sort are code edits)."""
    known = {k.value: k for k in PromptKind}
    if task_kind in known:
        return known[task_kind]
    editing = {"refactor", "code_fix", "bug_fix", "test_write", "implementation", "doc_write"}
    return PromptKind.CODE_EDIT if task_kind in editing else PromptKind.OTHER
