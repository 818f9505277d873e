"""The script a model stub answers from: conversations of ordered turns, each a text and/or
tool calls, with the token usage reported on every answer.

A script is YAML or JSON::

    model: claude-sonnet-4-5          # echoed when a request names none
    usage: {input_tokens: 1200, output_tokens: 150}   # every answer's default usage
    conversations:
      - name: tests                   # shown in the request log
        match: ["Tests for greet"]    # all must appear in the agent's prompt; [] matches any
        turns:
          - text: "Writing the tests."
            actions:
              - write_file: {path: tests/test_greet.py, content: "..."}
              - run: {command: "python -m pytest -q"}
          - text: "Tests written."    # a turn without actions ends the agent's work
    fallback: {text: "Nothing is scripted for this prompt."}

Actions are written once for every agent: each API renders them as that agent's own tools
(Claude Code's ``Write``/``Edit``/``Bash``, Codex's ``apply_patch``/``shell``, aider's
SEARCH/REPLACE blocks). ``tool`` sends a call to a tool by the agent's own name and input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from runwright.errors import ConfigError

MAX_DELAY_SECONDS = 600.0


class Usage(BaseModel):
    """Tokens one answer reports."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_tokens: int = Field(default=100, ge=0, le=10_000_000)
    output_tokens: int = Field(default=20, ge=0, le=10_000_000)
    cache_read_input_tokens: int = Field(default=0, ge=0, le=10_000_000)


class WriteFile(BaseModel):
    """Create or overwrite a file (path relative to the agent's working directory)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(min_length=1)
    content: str


class EditFile(BaseModel):
    """Replace one occurrence of ``old`` by ``new`` in an existing file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(min_length=1)
    old: str = Field(min_length=1)
    new: str


class RunCommand(BaseModel):
    """Run a shell command in the agent's working directory."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    command: str = Field(min_length=1)


class RawTool(BaseModel):
    """A call to a tool by the agent's own name, with its own input."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    input: dict[str, Any] = Field(default_factory=dict)


class Action(BaseModel):
    """One tool call: exactly one of the fields is set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    write_file: WriteFile | None = None
    edit_file: EditFile | None = None
    run: RunCommand | None = None
    tool: RawTool | None = None

    @model_validator(mode="after")
    def _one(self) -> Action:
        set_fields = [n for n in ("write_file", "edit_file", "run", "tool") if getattr(self, n)]
        if len(set_fields) != 1:
            raise ValueError(
                "an action sets exactly one of write_file, edit_file, run, tool"
                f" (this one sets {', '.join(set_fields) or 'none'})"
            )
        return self


class Turn(BaseModel):
    """One answer of the model: text, tool calls, or both."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str | None = None
    actions: list[Action] = Field(default_factory=list)
    usage: Usage | None = None
    delay_seconds: float = Field(default=0.0, ge=0.0, le=MAX_DELAY_SECONDS)
    error_status: int | None = Field(
        default=None, ge=400, le=599, description="Answer with this HTTP error instead."
    )

    @model_validator(mode="after")
    def _something(self) -> Turn:
        if self.text is None and not self.actions and self.error_status is None:
            raise ValueError("a turn needs text, actions or error_status")
        return self


class Conversation(BaseModel):
    """The turns answered to one agent session whose prompt matches."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    match: list[str] = Field(default_factory=list)
    repeat: bool = Field(default=False, description="May serve more than one session.")
    turns: list[Turn] = Field(min_length=1)
    final: str = Field(default="Done.", description="Answered after the last turn.")


class Script(BaseModel):
    """A whole model-stub script."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = "stub-model"
    usage: Usage = Field(default_factory=Usage)
    conversations: list[Conversation] = Field(default_factory=list)
    fallback: Turn = Field(
        default_factory=lambda: Turn(text="Nothing is scripted for this prompt.")
    )

    def label(self, index: int) -> str:
        """A conversation's name, or its position."""
        c = self.conversations[index]
        return c.name or f"conversation {index + 1}"


def load_script(path: Path) -> Script:
    """Read a script file (YAML or JSON); ConfigError naming the file and the field."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the model script ({exc})", path=str(path)) from exc
    return parse_script(text, source=str(path))


def parse_script(text: str, *, source: str = "<script>") -> Script:
    """A script from YAML or JSON text; ConfigError naming ``source`` and the field."""
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError, RecursionError) as exc:
        raise ConfigError(
            f"{source}: not valid YAML/JSON ({str(exc).splitlines()[0]})", path=source
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: a model script is a mapping with `conversations:`",
            hint="see docs/agents.md for the script format",
            path=source,
        )
    try:
        return Script.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise ConfigError(
            f"{source}: {where}: {first['msg']}",
            hint="see docs/agents.md for the script format",
            path=source,
            field=where,
        ) from exc
