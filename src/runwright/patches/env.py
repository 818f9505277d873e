"""Where the patch part lives on disk and what it runs with: one project, one repository."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from runwright.config import Settings
from runwright.engine.clock import Clock, SystemClock
from runwright.patches.config_files import PolicyFile, load_policy_file
from runwright.patches.git import repo_root
from runwright.patches.worktrees import Worktrees
from runwright.store.blobs import BlobStore


def process_owner() -> str:
    """``host:pid`` of this process, recorded while it applies a patch."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str | None) -> bool | None:
    """True/False when ``owner`` (``host:pid``) is / is not running here; None if unknowable."""
    if not owner or ":" not in owner:
        return False
    host, _, pid_text = owner.rpartition(":")
    if host != socket.gethostname():
        return None
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class PatchEnv:
    """A project's paths, clock and evidence blobs, as the patch services need them."""

    project_id: str
    project_root: Path
    home: Path
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> PatchEnv:
        """The environment of the project ``settings`` describe."""
        return cls(
            project_id=settings.project_id,
            project_root=settings.project_root,
            home=settings.home,
            clock=clock or SystemClock(),
        )

    @cached_property
    def repo(self) -> Path:
        """The top of the project's git work tree."""
        return repo_root(self.project_root)

    @cached_property
    def worktrees(self) -> Worktrees:
        """Worktrees under ``.runwright/worktrees``."""
        return Worktrees(self.repo, self.home / "worktrees")

    @property
    def quarantine_dir(self) -> Path:
        """Where quarantined diffs are kept."""
        return self.home / "quarantine"

    @property
    def scratch_dir(self) -> Path:
        """Where command output is collected before it becomes evidence."""
        return self.home / "patches"

    @cached_property
    def blobs(self) -> BlobStore:
        """The evidence blob store."""
        return BlobStore(self.home / "evidence")

    def policy_file(self) -> PolicyFile:
        """``.runwright/policy.yaml`` (read each time: it may change between commands)."""
        return load_policy_file(self.home, self.project_id)
