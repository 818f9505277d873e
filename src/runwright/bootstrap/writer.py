"""Writing `.runwright/` idempotently: what init wrote is remembered by hash, so a re-run can
tell "ours, unchanged" (regenerated) from "edited by the user" (kept unless --force).

Files are written atomically (a temporary file in the same folder, then rename) and never
through a symlink; the manifest, the report and the JSONL log live beside them.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runwright.bootstrap.artifacts import HOME, PlannedFile
from runwright.bootstrap.files import read_bytes
from runwright.domain.bootstrap import ArtifactAction
from runwright.errors import ConfigError

MANIFEST = f"{HOME}/bootstrap_manifest.json"
REPORT = f"{HOME}/bootstrap_report.json"
LOG = f"{HOME}/bootstrap.log"
DIRS = ("evidence", "worktrees", "quarantine", "operators", "plans", "phases")
MAX_MANAGED_BYTES = 16 * 1024 * 1024


def sha256(text: str) -> str:
    """The sha256 of a text as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Decision:
    """What happens to one file, and the text it will hold afterwards."""

    rel: str
    type: str
    action: ArtifactAction
    planned: str | None
    effective: str | None  # what the file holds after this run (None: removed / unreadable)
    regenerated: bool = False  # it was ours and had been deleted

    @property
    def writes(self) -> bool:
        """True when init writes this file."""
        return self.action in {
            ArtifactAction.CREATED,
            ArtifactAction.UPDATED,
            ArtifactAction.REPLACED,
        }


def check_home(root: Path) -> Path:
    """``root/.runwright`` as a real folder inside the project (never a symlink)."""
    home = root / HOME
    if home.is_symlink():
        raise ConfigError(
            f"{home} is a symlink; runwright init will not write through it",
            hint="replace it with a real folder (or remove it) and rerun init",
            path=str(home),
        )
    if home.exists() and not home.is_dir():
        raise ConfigError(
            f"{home} exists and is not a folder",
            hint="move the file away and rerun init",
            path=str(home),
        )
    return home


def load_manifest(root: Path) -> dict[str, str]:
    """The hashes of the files init wrote last time ({} when there is no valid manifest)."""
    data = read_bytes(root, MANIFEST, MAX_MANAGED_BYTES)
    if data is None:
        return {}
    try:
        parsed = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    files = parsed.get("files") if isinstance(parsed, dict) else None
    if not isinstance(files, dict):
        return {}
    return {str(k): str(v) for k, v in files.items()}


def current_text(root: Path, rel: str) -> tuple[bool, str | None]:
    """(something exists at ``rel``, its text when it is a readable regular file)."""
    path = root / rel
    try:
        st = path.lstat()
    except FileNotFoundError:
        return False, None
    if not stat.S_ISREG(st.st_mode):
        return True, None
    data = read_bytes(root, rel, MAX_MANAGED_BYTES)
    return True, None if data is None else data.decode("utf-8", errors="replace")


def decide(
    root: Path, planned: list[PlannedFile], manifest: Mapping[str, str], *, force: bool
) -> list[Decision]:
    """The action for every planned file, and for files init wrote before but no longer plans."""
    decisions = []
    for pf in planned:
        exists, text = current_text(root, pf.rel)
        if not exists:
            decisions.append(
                Decision(
                    pf.rel,
                    pf.type,
                    ArtifactAction.CREATED,
                    pf.content,
                    pf.content,
                    pf.rel in manifest,
                )
            )
        elif text is None:
            decisions.append(Decision(pf.rel, pf.type, ArtifactAction.KEPT, pf.content, None))
        elif text == pf.content:
            decisions.append(Decision(pf.rel, pf.type, ArtifactAction.UNCHANGED, pf.content, text))
        elif manifest.get(pf.rel) == sha256(text):
            decisions.append(
                Decision(pf.rel, pf.type, ArtifactAction.UPDATED, pf.content, pf.content)
            )
        elif force:
            decisions.append(
                Decision(pf.rel, pf.type, ArtifactAction.REPLACED, pf.content, pf.content)
            )
        else:
            decisions.append(Decision(pf.rel, pf.type, ArtifactAction.KEPT, pf.content, text))
    planned_rels = {pf.rel for pf in planned}
    for rel, digest in sorted(manifest.items()):
        if rel in planned_rels:
            continue
        exists, text = current_text(root, rel)
        if exists and text is not None and sha256(text) == digest:
            decisions.append(Decision(rel, "stale", ArtifactAction.REMOVED, None, None))
    return decisions


def atomic_write(root: Path, rel: str, text: str) -> None:
    """Write ``text`` to ``root/rel`` atomically, refusing to follow a symlink."""
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.parent.is_symlink():
        raise ConfigError(f"{target} is a symlink; not written through", path=str(target))
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def apply(root: Path, decisions: list[Decision], manifest: Mapping[str, str]) -> dict[str, str]:
    """Create the folders, write and remove files as decided; the new manifest."""
    home = check_home(root)
    for name in DIRS:
        (home / name).mkdir(parents=True, exist_ok=True)
    new = dict(manifest)
    for d in decisions:
        if d.writes and d.planned is not None:
            atomic_write(root, d.rel, d.planned)
            new[d.rel] = sha256(d.planned)
        elif d.action is ArtifactAction.UNCHANGED and d.planned is not None:
            new[d.rel] = sha256(d.planned)
        elif d.action is ArtifactAction.REMOVED:
            (root / d.rel).unlink(missing_ok=True)
            new.pop(d.rel, None)
    body = {"written_by": "runwright init", "files": dict(sorted(new.items()))}
    atomic_write(root, MANIFEST, json.dumps(body, indent=2) + "\n")
    return new


def log(root: Path, entries: list[dict[str, Any]]) -> None:
    """Append entries to the JSONL bootstrap log."""
    path = root / LOG
    if path.is_symlink():
        raise ConfigError(f"{path} is a symlink; not written through", path=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).isoformat()
    with path.open("a", encoding="utf-8") as fh:
        for entry in entries:
            fh.write(json.dumps({"ts": now, **entry}, ensure_ascii=False, default=str) + "\n")
