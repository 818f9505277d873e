"""Content checks that profiles' operators and router validators run:
``python -m runwright.bootstrap.checks {sql|docs|manifests|smoke|tidy} [--root DIR]
[--paths a,b] [--report FILE]``.

Each lists the project's files the way git does (ignored files never count), reads them
through the safe readers (no symlinks, no FIFOs, bounded sizes), and reports problems as
``path:line: message``; the JSON report (``--report``) holds ``check``, ``files_checked``,
``problems`` and ``notes``. The exit code is 1 when there is a problem, 0 otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runwright.bootstrap.files import FileListing, list_files, read_text

MAX_CHECKED_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one file."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass
class CheckReport:
    """What a check looked at and found."""

    check: str
    files_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, path: str, line: int | None, message: str) -> None:
        """Record a problem."""
        self.problems.append(Problem(path, line, message))

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON data."""
        return {
            "check": self.check,
            "files_checked": self.files_checked,
            "problems": [asdict(p) for p in self.problems],
            "notes": self.notes,
        }


@dataclass
class Workspace:
    """The files a check may look at: under ``paths`` of the project at ``root``."""

    root: Path
    listing: FileListing
    paths: list[str]

    @classmethod
    def open(cls, root: Path, paths: list[str] | None = None) -> Workspace:
        """List the project's files once."""
        root = root.resolve()
        wanted = [p.strip().strip("/") for p in (paths or ["."]) if p.strip()]
        return cls(root, list_files(root), [("" if p in {".", ""} else p) for p in wanted])

    def files(self, *suffixes: str) -> list[str]:
        """Listed files under the wanted paths, ending with one of ``suffixes`` (any if none)."""
        out = []
        for f in self.listing.files:
            if suffixes and not f.lower().endswith(suffixes):
                continue
            if any(p in ("", f) or f.startswith(p + "/") for p in self.paths):
                out.append(f)
        return out

    def text(self, rel: str, report: CheckReport) -> str | None:
        """A file's text, or None with a note when it cannot be checked."""
        text = read_text(self.root, rel, MAX_CHECKED_BYTES)
        if text is None:
            report.notes.append(f"{rel}: not checked (unreadable or larger than 5 MiB)")
        return text


def conflict_markers(text: str) -> list[int]:
    """Line numbers of merge-conflict blocks (a ``<<<<<<<`` line with a later ``>>>>>>>``)."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines, start=1) if line.startswith("<<<<<<< ")]
    ends = [i for i, line in enumerate(lines, start=1) if line.startswith(">>>>>>> ")]
    return [s for s in starts if any(e > s for e in ends)]


def line_of(text: str, offset: int) -> int:
    """The 1-based line of a character offset."""
    return text.count("\n", 0, offset) + 1
