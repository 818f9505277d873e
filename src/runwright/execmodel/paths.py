"""Paths from operator specs: resolved, and refused when they leave the project."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from runwright.errors import ValidationError


def confine(path: str | Path, roots: Iterable[Path], *, base: Path, field: str) -> Path:
    """``path`` resolved against ``base`` (symlinks followed); it must stay inside one of
    ``roots``, else a ValidationError naming ``field``."""
    raw = Path(path).expanduser()
    resolved = (raw if raw.is_absolute() else base / raw).resolve()
    allowed = [r.resolve() for r in roots]
    for root in allowed:
        if resolved == root or resolved.is_relative_to(root):
            return resolved
    raise ValidationError(
        f"{field}: path {str(path)!r} escapes the project (resolves to {resolved})",
        hint="use a path inside " + " or ".join(str(r) for r in allowed),
        field=field,
        path=str(path),
    )


def user_base(project_root: Path) -> Path:
    """Where a relative path typed by a user starts: the working folder when it is inside
    the project, else the project root."""
    cwd = Path.cwd().resolve()
    root = project_root.resolve()
    return cwd if cwd.is_relative_to(root) else root
