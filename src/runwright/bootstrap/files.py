"""Listing a project's files the way git sees them, and reading small ones safely.

In a git work tree the listing is ``git ls-files --cached --others --exclude-standard`` (so
``.gitignore``, ``.git/info/exclude`` and the global excludes all apply); elsewhere a walk that
honours every ``.gitignore`` on the way down. Either way ``.git``, ``.runwright``,
virtualenvs, ``node_modules`` and tool caches are skipped, symlinks are never followed, and
only regular files are listed. Reading opens without following symlinks, refuses anything
that is not a regular file (FIFOs, devices) and reads at most a given number of bytes.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from runwright.bootstrap.gitignore import IgnoreRules
from runwright.domain.bootstrap import SkippedPath

#: Directory names never listed (runwright's own, VCS, virtualenvs, dependency and tool caches).
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".runwright",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".terraform",
        ".eggs",
        "site-packages",
    }
)
MAX_FILES = 200_000
GIT_TIMEOUT_SECONDS = 30.0
SNIFF_BYTES = 4096
PARSE_BYTES = 1024 * 1024


@dataclass
class FileListing:
    """The project's files (repository-relative POSIX paths) and what was left out."""

    root: Path
    files: list[str] = field(default_factory=list)
    skipped: list[SkippedPath] = field(default_factory=list)
    via: str = "walk"
    is_git: bool = False

    def skip(self, path: str, reason: str) -> None:
        """Record a path left out, once."""
        if not any(s.path == path for s in self.skipped[-5:]):
            self.skipped.append(SkippedPath(path=path, reason=reason))


def _skipped_dir(parts: list[str]) -> bool:
    return any(p in SKIP_DIRS or p.endswith(".egg-info") for p in parts)


def git_toplevel(root: Path, env: dict[str, str] | None = None) -> Path | None:
    """The work tree ``root`` belongs to, or None when it is not in one (or git is missing)."""
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    return Path(proc.stdout.strip())


def _git_paths(root: Path, env: dict[str, str] | None) -> list[str] | None:
    try:
        proc = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=root,
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    names = proc.stdout.decode("utf-8", errors="surrogateescape").split("\0")
    return sorted({n for n in names if n})


def _classify(root: Path, rel: str, listing: FileListing) -> bool:
    """True when ``rel`` is a regular file to list; otherwise record why it is not."""
    path = root / rel
    try:
        st = path.lstat()
    except FileNotFoundError:
        return False  # deleted in the work tree but still in the index
    except OSError as exc:
        listing.skip(rel, f"cannot stat ({exc.strerror})")
        return False
    if stat.S_ISLNK(st.st_mode):
        listing.skip(rel, symlink_reason(root, path))
        return False
    if stat.S_ISDIR(st.st_mode):
        return False  # a submodule or nested repository
    if not stat.S_ISREG(st.st_mode):
        listing.skip(rel, "not a regular file")
        return False
    return True


def symlink_reason(root: Path, path: Path) -> str:
    """Why a symlink is skipped: it leaves the project, dangles, or is just a link."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return "dangling or looping symlink"
    if not target.is_relative_to(root.resolve()):
        return "symlink pointing outside the project"
    return "symlink (its target is listed itself)"


def _walk(root: Path, listing: FileListing) -> Iterator[str]:
    rules = IgnoreRules()
    for current, dirnames, filenames in os.walk(root, topdown=True, followlinks=False):
        here = Path(current)
        rel_dir = "" if here == root else here.relative_to(root).as_posix()
        text = read_text(root, f"{rel_dir}/.gitignore".lstrip("/"), PARSE_BYTES, listing)
        if text is not None:
            rules.add(rel_dir, text)
        keep = []
        for name in sorted(dirnames):
            rel = f"{rel_dir}/{name}".lstrip("/")
            sub = here / name
            if name in SKIP_DIRS or name.endswith(".egg-info"):
                continue
            if sub.is_symlink():
                listing.skip(rel, symlink_reason(root, sub))
                continue
            if (sub / "pyvenv.cfg").is_file() or rules.ignored(rel, is_dir=True):
                continue
            keep.append(name)
        dirnames[:] = keep
        for name in sorted(filenames):
            rel = f"{rel_dir}/{name}".lstrip("/")
            if not rules.ignored(rel, is_dir=False):
                yield rel


def list_files(root: Path, *, env: dict[str, str] | None = None) -> FileListing:
    """Every file of the project at ``root`` that git would consider (see the module doc)."""
    root = root.resolve()
    listing = FileListing(root=root)
    names: list[str] | None = None
    if git_toplevel(root, env) is not None:
        names = _git_paths(root, env)
        if names is not None:
            listing.via, listing.is_git = "git ls-files", True
    if names is None:
        names = list(itertools.islice(_walk(root, listing), MAX_FILES + 1))
    venvs = {n.rsplit("/", 1)[0] for n in names if n.endswith("/pyvenv.cfg")}
    for rel in names:
        parts = rel.split("/")
        if _skipped_dir(parts[:-1]) or any(rel.startswith(v + "/") for v in venvs):
            continue
        if len(listing.files) >= MAX_FILES:
            listing.skip(rel, f"listing stopped at {MAX_FILES} files")
            break
        if _classify(root, rel, listing):
            listing.files.append(rel)
    listing.files.sort()
    return listing


def _open_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink (not followed)"
    if exc.errno in {errno.EACCES, errno.EPERM}:
        return "unreadable (permission denied)"
    return f"cannot open ({exc.strerror})"


def _read_fd(fd: int, limit: int) -> bytes:
    chunks, left = [], limit
    while left > 0:
        chunk = os.read(fd, min(left, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_bytes(
    root: Path, rel: str, limit: int, listing: FileListing | None = None
) -> bytes | None:
    """At most ``limit`` bytes of the regular file ``rel`` under ``root``; None (and the reason
    recorded) when it is a symlink, not a regular file, unreadable or missing."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(root / rel, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if listing is not None:
            listing.skip(rel, _open_reason(exc))
        return None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            if listing is not None and not stat.S_ISDIR(mode):
                listing.skip(rel, "not a regular file")
            return None
        return _read_fd(fd, limit)
    except OSError as exc:
        if listing is not None:
            listing.skip(rel, f"unreadable ({exc.strerror})")
        return None
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def read_text(
    root: Path, rel: str, limit: int = PARSE_BYTES, listing: FileListing | None = None
) -> str | None:
    """The text of a small file (see read_bytes); a file longer than ``limit`` is refused."""
    data = read_bytes(root, rel, limit + 1, listing)
    if data is None:
        return None
    if len(data) > limit:
        if listing is not None:
            listing.skip(rel, f"larger than {limit} bytes (not parsed)")
        return None
    return data.decode("utf-8", errors="replace")


def sniff(root: Path, rel: str, listing: FileListing | None = None) -> str:
    """The first few kilobytes of a file as text ('' when it cannot be read)."""
    data = read_bytes(root, rel, SNIFF_BYTES, listing)
    return "" if data is None else data.decode("utf-8", errors="replace")
