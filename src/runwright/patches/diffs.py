"""Parsing unified diffs with ``unidiff``: files, paths, line counts, binaries, symlinks.

Paths are taken the way ``git apply`` (``-p1``) takes them: the first component of every
``a/…``/``b/…`` name is stripped, quoted names are unquoted, and ``rename``/``copy`` header
lines count as paths too, so what we check is exactly what git would write.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from runwright.domain.patches import PatchScope

DEV_NULL = "/dev/null"
SYMLINK_MODE = "120000"
SUBMODULE_MODE = "160000"
_MODE_LINE = re.compile(r"^(?:new file mode|deleted file mode|old mode|new mode) (\d{6})\s*$")
_INDEX_MODE = re.compile(r"^index [0-9a-fA-F]+\.\.[0-9a-fA-F]+ (\d{6})\s*$")
_HEADER_PATH = re.compile(r"^(rename from|rename to|copy from|copy to) (.+?)\s*$")
_OCTAL = re.compile(r"\\([0-7]{3}|.)")
_ESCAPES = {"n": b"\n", "t": b"\t", '"': b'"', "\\": b"\\", "a": b"\a", "b": b"\b", "f": b"\f"}


class DiffError(ValueError):
    """The text is not a unified diff runwright can read."""


@dataclass(frozen=True)
class FileChange:
    """One file of a diff, with paths as git would apply them."""

    path: str
    old_path: str | None
    new_path: str | None
    added: int
    removed: int
    hunks: int
    binary: bool
    modes: tuple[str, ...]
    header_paths: tuple[str, ...]
    added_lines: tuple[str, ...] = field(repr=False)
    removed_lines: tuple[str, ...] = field(repr=False)
    path_problems: tuple[str, ...] = ()

    @property
    def is_new(self) -> bool:
        """The diff creates this file."""
        return self.old_path is None

    @property
    def is_deleted(self) -> bool:
        """The diff deletes this file."""
        return self.new_path is None

    @property
    def is_symlink(self) -> bool:
        """The file is (or becomes) a symbolic link."""
        return SYMLINK_MODE in self.modes

    @property
    def is_submodule(self) -> bool:
        """The entry is a git submodule pointer."""
        return SUBMODULE_MODE in self.modes

    @property
    def symlink_target(self) -> str | None:
        """Where a created or changed symlink points (its one added line)."""
        if not self.is_symlink or self.is_deleted or not self.added_lines:
            return None
        return self.added_lines[0]

    @property
    def all_paths(self) -> list[str]:
        """Every path the change names (old, new, rename/copy lines), each once."""
        names = [p for p in (self.old_path, self.new_path, *self.header_paths) if p]
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class ParsedDiff:
    """A parsed diff: its files and totals."""

    files: tuple[FileChange, ...]

    @property
    def scope(self) -> PatchScope:
        """Files touched (in order), insertions, deletions and hunks."""
        touched: list[str] = []
        for f in self.files:
            for p in (f.old_path, f.new_path):
                if p and p not in touched:
                    touched.append(p)
        return PatchScope(
            files_touched=touched,
            line_insertions=sum(f.added for f in self.files),
            line_deletions=sum(f.removed for f in self.files),
            hunks=sum(f.hunks for f in self.files),
        )

    @property
    def has_binary(self) -> bool:
        """True when any file is a binary change."""
        return any(f.binary for f in self.files)

    @property
    def path_problems(self) -> list[str]:
        """Problems with the way paths are written (missing a/ b/ prefix…)."""
        return [p for f in self.files for p in f.path_problems]


def unquote(name: str) -> str:
    """A git path name without its C-style quoting (``"a/caf\\303\\251"`` → ``a/café``)."""
    if not (len(name) >= 2 and name.startswith('"') and name.endswith('"')):
        return name
    body = name[1:-1]
    out = bytearray()
    pos = 0
    for m in _OCTAL.finditer(body):
        out += body[pos : m.start()].encode()
        code = m.group(1)
        out += bytes([int(code, 8)]) if len(code) == 3 else _ESCAPES.get(code, code.encode())
        pos = m.end()
    out += body[pos:].encode()
    return out.decode("utf-8", errors="surrogateescape")


def strip_component(raw: str | None) -> tuple[str | None, str | None]:
    """``(path, problem)`` for a diff file name: ``-p1`` applied, /dev/null → None."""
    if raw is None:
        return None, None
    name = unquote(raw.strip())
    if name == DEV_NULL or not name:
        return None, None
    if "/" not in name:
        return name, f"{name!r} has no a/ or b/ prefix (diffs must come from git diff or diff -u)"
    first, rest = name.split("/", 1)
    if not first:  # an absolute path: keep it whole so the safety check refuses it
        return name, None
    return rest, None


def _file_change(pf: object) -> FileChange:
    patched = pf  # unidiff.PatchedFile (untyped)
    info = [str(line).rstrip("\n") for line in (getattr(patched, "patch_info", None) or [])]
    modes = [m.group(1) for line in info for m in [_MODE_LINE.match(line)] if m]
    modes += [m.group(1) for line in info for m in [_INDEX_MODE.match(line)] if m]
    for attr in ("source_mode", "target_mode"):
        mode = getattr(patched, attr, None)
        if mode:
            modes.append(str(mode))
    header_paths = [unquote(m.group(2)) for line in info for m in [_HEADER_PATH.match(line)] if m]
    old, problem_old = strip_component(getattr(patched, "source_file", None))
    new, problem_new = strip_component(getattr(patched, "target_file", None))
    hunks = list(patched)  # type: ignore[call-overload]
    added = [ln.value.rstrip("\r\n") for h in hunks for ln in h if ln.is_added]
    removed = [ln.value.rstrip("\r\n") for h in hunks for ln in h if ln.is_removed]
    return FileChange(
        path=new or old or "",
        old_path=old,
        new_path=new,
        added=len(added),
        removed=len(removed),
        hunks=len(hunks),
        binary=bool(getattr(patched, "is_binary_file", False)),
        modes=tuple(dict.fromkeys(modes)),
        header_paths=tuple(header_paths),
        added_lines=tuple(added),
        removed_lines=tuple(removed),
        path_problems=tuple(p for p in (problem_old, problem_new) if p),
    )


def parse_diff(text: str) -> ParsedDiff:
    """Parse a unified diff; DiffError when it is empty or not a diff."""
    if not text.strip():
        raise DiffError("the diff is empty")
    if "\x00" in text:
        raise DiffError("the diff contains NUL bytes (raw binary content is not a unified diff)")
    try:
        patch = PatchSet(text)
    except UnidiffParseError as exc:
        raise DiffError(f"not a valid unified diff: {exc}") from exc
    if len(patch) == 0:
        raise DiffError("no file changes found (expected '--- a/…' / '+++ b/…' headers)")
    files = tuple(_file_change(pf) for pf in patch)
    for f in files:
        if not f.binary and f.hunks == 0 and not f.modes and not f.header_paths:
            raise DiffError(f"file {f.path!r} has a header but no changes")
    return ParsedDiff(files=files)


def scope_mismatch(declared: PatchScope, computed: PatchScope) -> list[str]:
    """How a declared scope disagrees with the one computed from the diff."""
    problems = []
    if sorted(declared.files_touched) != sorted(computed.files_touched):
        problems.append(
            f"declared files_touched {sorted(declared.files_touched)} ≠ the diff's "
            f"{sorted(computed.files_touched)}"
        )
    for name in ("line_insertions", "line_deletions", "hunks"):
        said, real = getattr(declared, name), getattr(computed, name)
        if said != real:
            problems.append(f"declared {name} {said} ≠ the diff's {real}")
    return problems


def change_signature(parsed: ParsedDiff) -> str:
    """A hash of what the diff changes, the same for a change and its revert.

    Per file: its paths and the pair (added lines, removed lines), each sorted, the pair in
    canonical order; line numbers and context do not count.
    """
    entries = []
    for f in parsed.files:
        paths = sorted({p for p in (f.old_path, f.new_path) if p})
        sides = sorted([sorted(f.added_lines), sorted(f.removed_lines)])
        entries.append([paths, sides, f.binary])
    entries.sort(key=json.dumps)
    body = json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8", errors="surrogateescape")).hexdigest()


def diff_sha256(text: str) -> str:
    """sha256 of the diff text."""
    return hashlib.sha256(text.encode("utf-8", errors="surrogateescape")).hexdigest()
