"""What every model API's request and answer have in common, as the stub sees them.

A request is read into an :class:`Exchange` (its messages normalised to role, text and the ids
of tool calls), and the stub's answer for it is an :class:`Answer` (text, tool calls in the
script's terms, usage). Each API module turns one into the other for its own wire format.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass, field
from typing import Any

from runwright.testing.models.script import Action, Usage


@dataclass(frozen=True)
class Message:
    """One message of a conversation, whatever the API: role, its text and tool-call ids."""

    role: str  # user | assistant | tool | system
    text: str
    call_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exchange:
    """A request as the stub needs it."""

    api: str
    model: str | None
    stream: bool
    messages: list[Message]
    cwd: str | None = None
    tools: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolCall:
    """A tool call ready for the wire: the agent's tool name and its input."""

    call_id: str
    name: str
    input: dict[str, Any]
    custom_input: str | None = None  # a free-form tool's raw input (Codex's apply_patch)


@dataclass(frozen=True)
class Answer:
    """What the stub answers: text and/or tool calls, with usage."""

    text: str | None
    actions: list[Action]
    usage: Usage
    model: str
    turn_key: str  # unique per (session, turn); tool-call ids derive from it

    def call_id(self, index: int, prefix: str = "call") -> str:
        """A tool-call id the stub recognises when the agent sends it back."""
        return f"{prefix}_rw{self.turn_key}_{index}"


def fingerprint_text(text: str) -> str:
    """A stable fingerprint of an assistant text (whitespace at the ends ignored)."""
    return "text:" + hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:24]


def resolve_path(cwd: str | None, path: str) -> str:
    """``path`` made absolute against the agent's working directory when it is known."""
    if cwd is None or posixpath.isabs(path):
        return path
    return posixpath.normpath(posixpath.join(cwd, path))


def text_of(content: Any) -> str:
    """The text of a message's content, whatever its shape (string, parts, nested results)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(t for t in (text_of(part) for part in content) if t)
    if isinstance(content, dict):
        for key in ("text", "content", "output", "input"):
            if key in content:
                return text_of(content[key])
    return ""
