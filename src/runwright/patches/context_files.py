"""Read-only context for an agent's worktree: files the tool should be able to read (a plan's
test spec, say) that the base commit may not hold. They are written before the tool runs and
put back to the base commit's content (or removed) before its edits are captured, so they never
become part of the patch.
"""

from __future__ import annotations

from pathlib import Path

from runwright.errors import ValidationError
from runwright.patches.git import git
from runwright.patches.paths import inside


def place_context_files(worktree: Path, files: dict[str, str]) -> list[str]:
    """Write ``files`` into ``worktree``; the relative paths that differ from the base commit."""
    placed: list[str] = []
    for rel, text in sorted(files.items()):
        target = worktree / rel
        if Path(rel).is_absolute() or not inside(worktree, target.parent):
            raise ValidationError(f"context file {rel!r} is outside the worktree")
        if target.is_file() and target.read_text(encoding="utf-8", errors="replace") == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        placed.append(rel)
    return placed


def remove_context_files(worktree: Path, placed: list[str]) -> None:
    """Put each placed file back as the base commit has it, or delete it if it has none."""
    for rel in placed:
        tracked = git(worktree, "ls-files", "--", rel, check=False).stdout.strip()
        if tracked:
            git(worktree, "checkout", "HEAD", "--", rel)
        else:
            (worktree / rel).unlink(missing_ok=True)
