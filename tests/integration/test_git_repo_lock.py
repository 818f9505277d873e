"""Concurrent git work on one repository — worktrees made and removed, commits to the
checkout — from several real processes never meets git's own locks: runwright's repository
lock serialises the commands that take them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runwright.patches.git import LOCK_FILE, common_dir, git, repo_lock

pytestmark = pytest.mark.slow

WORKER = Path(__file__).resolve().parents[1] / "jobs" / "git_lock_worker.py"
PROCESSES = 6
ROUNDS = 8


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one commit and runwright's home ignored."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / ".gitignore").write_text(".runwright/\n")
    git(path, "add", ".gitignore")
    git(path, "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-q", "-m", "init")
    return path


def test_processes_making_worktrees_and_commits_at_once_meet_no_git_lock(repo: Path) -> None:
    """Six processes, each making and removing eight worktrees and committing eight times in
    the checkout, all at once: every git command succeeds, every commit lands, no worktree
    is left behind."""
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(repo), str(n), str(ROUNDS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * PROCESSES, "\n".join(outputs)
    commits = git(repo, "rev-list", "--count", "HEAD").stdout.strip()
    assert int(commits) == 1 + PROCESSES * ROUNDS
    listed = git(repo, "worktree", "list", "--porcelain").stdout
    assert listed.count("worktree ") == 1


def test_the_lock_is_reentrant_and_lives_in_the_common_git_directory(repo: Path) -> None:
    """A holder can take the lock again (a commit inside a phase's commit lock); the lock file
    is in .git, shared by every worktree of the repository."""
    with repo_lock(repo), repo_lock(repo):
        git(repo, "status", "--short")
    assert (repo / ".git" / LOCK_FILE).is_file()
    assert common_dir(repo) == (repo / ".git").resolve()
