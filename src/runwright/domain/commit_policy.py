"""How long a job's completed idempotent steps may wait to share one commit (group commit)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GroupCommit:
    """Limits of a group commit: a buffer is written once it holds ``max_steps`` steps or its
    oldest step is ``max_seconds`` old (and always before anything else is recorded)."""

    max_steps: int = 200
    max_seconds: float = 0.2

    def __post_init__(self) -> None:
        if self.max_steps < 1:
            raise ValueError("group_commit.max_steps must be at least 1")
        if self.max_seconds < 0:
            raise ValueError("group_commit.max_seconds must not be negative")
