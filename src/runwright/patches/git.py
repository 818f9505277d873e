"""Running ``git`` as argv, with an environment that cannot be redirected by the caller's,
and the repository lock that keeps concurrent runs from tripping over git's own locks."""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

from runwright.errors import ConfigError, RunwrightError

#: Variables that would make git act on another repository, index or object store.
_REDIRECTING = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)
#: Identity for runwright's own commits when the repository has none configured.
FALLBACK_IDENTITY = ("-c", "user.name=runwright", "-c", "user.email=runwright@localhost")


class GitError(RunwrightError):
    """A git command failed; the message carries git's own explanation."""

    code = "git_error"


def git_env() -> dict[str, str]:
    """The environment for git subprocesses: no redirection, never a password prompt."""
    env = {k: v for k, v in os.environ.items() if k not in _REDIRECTING}
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def git(
    repo: Path,
    *args: str,
    stdin: str | None = None,
    check: bool = True,
    timeout: float = 300.0,
) -> subprocess.CompletedProcess[str]:
    """Run ``git -C repo args…``; GitError with git's message when it fails and ``check``."""
    argv = ["git", "-C", str(repo), *args]
    try:
        proc = subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            env=git_env(),
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ConfigError("git is not installed", hint="install git and put it on PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"git {args[0]} timed out after {timeout:.0f}s in {repo}") from exc
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise GitError(
            f"git {' '.join(args[:2])} failed: {' / '.join(detail[-3:]) or 'no message'}",
            exit_code=proc.returncode,
            path=str(repo),
        )
    return proc


def repo_root(path: Path) -> Path:
    """The top of the git work tree containing ``path``; ConfigError when there is none."""
    proc = git(path, "rev-parse", "--show-toplevel", check=False)
    if proc.returncode != 0:
        raise ConfigError(
            f"{path} is not inside a git repository",
            hint="patches are applied with git: run `git init` and commit your files first",
            path=str(path),
        )
    return Path(proc.stdout.strip()).resolve()


def resolve_commit(repo: Path, ref: str) -> str:
    """The full commit id ``ref`` names; GitError when it names none."""
    proc = git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise GitError(
            f"{ref!r} does not name a commit in {repo}",
            hint="commit your work first, or pass an existing branch, tag or commit",
            field="base_ref",
        )
    return proc.stdout.strip()


def symlinks_in_tree(repo: Path, commit: str, paths: Sequence[str]) -> list[str]:
    """Which of ``paths`` are symbolic links in ``commit``'s tree."""
    found: list[str] = []
    for start in range(0, len(paths), 200):
        chunk = list(paths[start : start + 200])
        if not chunk:
            continue
        out = git(repo, "ls-tree", "-z", commit, "--", *chunk).stdout
        for entry in out.split("\0"):
            if not entry:
                continue
            meta, _, name = entry.partition("\t")
            if meta.split(" ")[0] == "120000":
                found.append(name)
    return found


def has_identity(repo: Path) -> bool:
    """True when the repository (or the user) configured a committer identity."""
    name = git(repo, "config", "user.name", check=False).stdout.strip()
    email = git(repo, "config", "user.email", check=False).stdout.strip()
    return bool(name and email)


def dirty_paths(repo: Path, paths: Iterable[str]) -> list[str]:
    """Of ``paths``, those with uncommitted changes or untracked files in the checkout."""
    names = list(paths)
    if not names:
        return []
    out = git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *names).stdout
    dirty = []
    for entry in out.split("\0"):
        if len(entry) > 3 and entry[2] == " ":
            dirty.append(entry[3:])
    return dirty


# ---- the repository lock ---------------------------------------------------------------------
#: The lock file, in the repository's common git directory (shared by all its worktrees).
LOCK_FILE = "runwright.lock"


class _RepoLock:
    """One repository's lock: a thread lock inside this process and an ``flock`` across
    processes, re-entrant for the thread that holds it."""

    def __init__(self, path: Path):
        self.path = path
        self.thread_lock = threading.RLock()
        self.depth = 0
        self.handle: IO[str] | None = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self.thread_lock:
            if self.depth == 0:
                handle = self.path.open("a")
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX)
                except BaseException:
                    handle.close()
                    raise
                self.handle = handle
            self.depth += 1
            try:
                yield
            finally:
                self.depth -= 1
                if self.depth == 0 and self.handle is not None:
                    fcntl.flock(self.handle, fcntl.LOCK_UN)
                    self.handle.close()
                    self.handle = None


_LOCKS: dict[Path, _RepoLock] = {}
_GUARD = threading.Lock()


def common_dir(repo: Path) -> Path:
    """The git directory the repository's worktrees share (``.git`` of the main checkout)."""
    out = git(repo, "rev-parse", "--git-common-dir").stdout.strip()
    path = Path(out)
    return (path if path.is_absolute() else repo / path).resolve()


@contextlib.contextmanager
def repo_lock(repo: Path) -> Iterator[None]:
    """Hold the repository's lock (``<git common dir>/runwright.lock``).

    Git commands that take repository-wide locks — ``worktree add``/``remove``/``prune``, and
    ``apply --index`` + ``commit`` in the checkout — run inside it, one at a time across
    threads and processes, so concurrent runs never meet an ``index.lock`` or a ``could not
    lock`` error. Re-entrant: a holder may take it again.
    """
    path = common_dir(repo) / LOCK_FILE
    with _GUARD:
        lock = _LOCKS.setdefault(path, _RepoLock(path))
    with lock.held():
        yield
