"""Git worktrees under ``.runwright/worktrees/``: where patches are applied, verified and where
agent tools edit; the user's checkout is never touched here.

Every worktree is created detached at a commit and removed with ``git worktree remove`` (or,
for a half-made one left by a crash, deleted and pruned). Names are ``patch-<id>`` and
``agent-<run id>-<attempt>``. Creating, removing and pruning hold the repository lock
(:func:`~runwright.patches.git.repo_lock`), so runs in other threads or processes making
worktrees of the same repository at the same time never collide on git's locks.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from runwright.errors import ValidationError
from runwright.patches.git import GitError, git, repo_lock
from runwright.patches.paths import inside

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


def patch_worktree_name(patch_id: str) -> str:
    """The worktree name of a patch."""
    return f"patch-{patch_id}"


def agent_worktree_name(run_id: str, attempt: str) -> str:
    """The worktree name of one agent-tool attempt of a run."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", attempt).strip("-")[:60] or "x"
    return f"agent-{run_id}-{safe}"


class Worktrees:
    """Worktrees of one repository, kept under one directory."""

    def __init__(self, repo: Path, root: Path):
        self.repo = repo
        self.root = root

    def path(self, name: str) -> Path:
        """Where the worktree ``name`` lives."""
        if not _NAME.match(name):
            raise ValidationError(f"bad worktree name {name!r}", field="name")
        return self.root / name

    def create(self, name: str, commit: str) -> Path:
        """A fresh worktree at ``commit`` (an old one of the same name is removed first)."""
        path = self.path(name)
        with repo_lock(self.repo):
            self.remove(name)
            self.root.mkdir(parents=True, exist_ok=True)
            git(self.repo, "worktree", "add", "--detach", "--force", str(path), commit)
        return path

    def exists(self, name: str) -> bool:
        """True when the worktree's directory exists."""
        return self.path(name).exists()

    def registered(self) -> dict[Path, str]:
        """Worktrees git knows about under our root, by path."""
        out = git(self.repo, "worktree", "list", "--porcelain").stdout
        found: dict[Path, str] = {}
        for line in out.splitlines():
            if line.startswith("worktree "):
                where = Path(line[len("worktree ") :])
                if inside(self.root, where) and where.resolve() != self.root.resolve():
                    found[where.resolve()] = where.name
        return found

    def remove(self, name: str) -> bool:
        """Remove the worktree ``name`` if it exists (registered, half-made or stray)."""
        with repo_lock(self.repo):
            return self._remove(self.path(name))

    def _remove(self, path: Path) -> bool:
        removed = False
        if path.resolve() in self.registered():
            try:
                git(self.repo, "worktree", "remove", "--force", "--force", str(path))
                removed = True
            except GitError:
                pass  # half-made: delete the directory and prune below
        if path.exists() or path.is_symlink():
            if not inside(self.root, path.parent):
                raise ValidationError(f"refusing to delete {path}: outside {self.root}")
            if path.is_symlink() or path.is_file():
                path.unlink()
            else:
                shutil.rmtree(path)
            removed = True
        git(self.repo, "worktree", "prune")
        return removed

    def names(self) -> list[str]:
        """Names of every worktree directory (or registration) under our root."""
        names = {p.name for p in self.root.iterdir()} if self.root.is_dir() else set()
        names |= set(self.registered().values())
        return sorted(n for n in names if _NAME.match(n))

    def prune(self, keep: set[str]) -> list[str]:
        """Remove every worktree not in ``keep``; return the removed names."""
        with repo_lock(self.repo):
            removed = [name for name in self.names() if name not in keep and self.remove(name)]
            git(self.repo, "worktree", "prune")
        return removed
