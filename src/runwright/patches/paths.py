"""Path safety: every path a patch names must stay inside the repository, checked before any
file is written.

Refused: absolute paths, ``..`` components, backslashes, NUL bytes and every other control
character (newline, tab, escape: C0, DEL and C1), bidirectional controls, bytes that are not
UTF-8, anything under ``.git`` or runwright's own ``.runwright``, symlinks whose target leaves
the repository, and paths that go through a directory which is a symlink (in the base commit
or in the checkout).
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from runwright.patches.diffs import FileChange

PROTECTED_TOP = frozenset({".runwright"})
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_DRIVE = re.compile(r"^[A-Za-z]:")


def _unprintable(char: str) -> str | None:
    """What ``char`` is when a path may not hold it: a control character (C0, DEL, C1), a
    bidirectional control (which makes a name read differently than it is) or a byte that is
    not UTF-8 (read as a lone surrogate)."""
    if char in _BIDI:
        return "a bidirectional control character"
    return {"Cc": "a control character", "Cs": "a byte that is not UTF-8"}.get(
        unicodedata.category(char)
    )


def path_problem(path: str) -> str | None:
    """Why ``path`` may not be touched by a patch, or None when it is safe."""
    if not path:
        return "an empty path"
    if "\x00" in path:
        return f"{path!r} contains a NUL byte"
    for char in path:
        what = _unprintable(char)
        if what:
            return f"{path!r} contains {what} ({char!r})"
    if path.startswith(("/", "\\")) or _DRIVE.match(path):
        return f"{path!r} is an absolute path (patches may only name paths inside the repository)"
    if "\\" in path:
        return f"{path!r} contains a backslash"
    parts = path.split("/")
    if ".." in parts:
        return f"{path!r} escapes the repository through '..'"
    if any(part in {"", "."} for part in parts):
        return f"{path!r} has an empty or '.' component"
    if any(part.lower() == ".git" for part in parts):
        return f"{path!r} is inside .git"
    if parts[0] in PROTECTED_TOP:
        return f"{path!r} is inside runwright's own {parts[0]}/"
    return None


def symlink_problem(link: str, target: str) -> str | None:
    """Why a symlink at ``link`` pointing to ``target`` is unsafe, or None."""
    if not target:
        return f"symlink {link!r} has an empty target"
    if target.startswith("/") or _DRIVE.match(target):
        return f"symlink {link!r} points to the absolute path {target!r}, outside the repository"
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(link), target))
    if resolved == ".." or resolved.startswith("../"):
        return f"symlink {link!r} points to {target!r}, which leads out of the repository"
    top = resolved.split("/")[0]
    if top.lower() == ".git" or top in PROTECTED_TOP:
        return f"symlink {link!r} points into {top}/"
    return None


def change_problems(change: FileChange) -> list[str]:
    """Every safety problem of one file change."""
    problems = list(change.path_problems)
    for path in change.all_paths:
        problem = path_problem(path)
        if problem:
            problems.append(problem)
    if change.is_submodule:
        problems.append(f"{change.path!r} is a submodule change, which patches may not make")
    target = change.symlink_target
    if target is not None:
        problem = symlink_problem(change.path, target)
        if problem:
            problems.append(problem)
    return problems


def parent_dirs(paths: Iterable[str]) -> list[str]:
    """Every proper parent directory of ``paths`` (``a/b/c`` → ``a``, ``a/b``), each once."""
    dirs: dict[str, None] = {}
    for path in paths:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs["/".join(parts[:i])] = None
    return list(dirs)


def symlinked_parents_on_disk(root: Path, paths: Iterable[str]) -> list[str]:
    """Problems for paths that go through a symlinked directory under ``root`` (read only)."""
    problems = []
    for directory in parent_dirs(paths):
        if (root / directory).is_symlink():
            problems.append(
                f"{directory!r} is a symlink in the checkout; patches may not write through it"
            )
    return problems


def inside(root: Path, candidate: Path) -> bool:
    """True when ``candidate`` resolves to ``root`` or a path beneath it."""
    try:
        candidate.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
