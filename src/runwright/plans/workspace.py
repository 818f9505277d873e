"""The repository as a plan run sees it: commands in throwaway worktrees at HEAD, the files a
commit changed, and evidence of every command it ran."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from runwright.engine.evidence import attach_evidence
from runwright.patches.commands import CommandResult, run_command
from runwright.patches.env import PatchEnv
from runwright.patches.git import git, repo_lock, resolve_commit

LOG_LIMIT = 256 * 1024


@dataclass(frozen=True)
class Ran:
    """A command a gate ran, with where its log went."""

    argv: list[str]
    ok: bool
    exit_code: int | None
    summary: str
    evidence: str

    def describe(self) -> str:
        """One line: what ran and how it ended."""
        return f"`{' '.join(self.argv)}` {self.summary}"


class Workspace:
    """Git and command helpers for one plan run."""

    def __init__(self, env: PatchEnv, run_id: str):
        self.env = env
        self.run_id = run_id

    @property
    def scratch(self) -> Path:
        """Where this run's command output is collected."""
        return self.env.home / "plans" / self.run_id

    def head(self) -> str:
        """The commit at HEAD of the project's checkout."""
        return resolve_commit(self.env.repo, "HEAD")

    @contextlib.contextmanager
    def at_head(self, name: str) -> Iterator[Path]:
        """A fresh worktree at HEAD, removed afterwards."""
        label = f"plan-{self.run_id}-{name}".lower()
        tree = self.env.worktrees.create(label, self.head())
        try:
            yield tree
        finally:
            self.env.worktrees.remove(label)

    def run(self, argv: Sequence[str], *, cwd: Path, name: str, timeout: float) -> Ran:
        """Run ``argv`` in ``cwd``; its output becomes evidence (call inside a step)."""
        result: CommandResult = run_command(
            list(argv), cwd=cwd, timeout=timeout, output_dir=self.scratch, name=name
        )
        log = b"$ " + " ".join(argv).encode() + b"\n"
        for stream in (result.stdout_path, result.stderr_path):
            data = stream.read_bytes()
            log += data[-LOG_LIMIT:]
        link = attach_evidence(log, name=f"{name}.log", label=name)
        summary = "passed" if result.ok else result.describe()
        return Ran(list(argv), result.ok, result.exit_code, summary, f"sha256:{link.sha256}")

    def changed_files(self, commit: str) -> list[str]:
        """Paths a commit added, changed or deleted."""
        out = git(
            self.env.repo, "diff-tree", "--no-commit-id", "--name-only", "-r", "--root", commit
        ).stdout
        return [line for line in out.splitlines() if line]

    def exists_at_head(self, path: str) -> bool:
        """True when ``path`` is a file in HEAD's tree."""
        done = git(self.env.repo, "cat-file", "-e", f"HEAD:{path}", check=False)
        return done.returncode == 0

    @contextlib.contextmanager
    def commit_lock(self) -> Iterator[None]:
        """Serialize commits to the checkout (parallel phases commit one at a time): the
        repository lock, which worktree changes and every ledger commit also hold."""
        with repo_lock(self.env.repo):
            yield
