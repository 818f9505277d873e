"""Files under a root folder as a tool: atomic writes, reconciled by content hash.

``write_text``/``write_bytes`` write a temporary file in the same folder, fsync it, rename it
over the target (atomic), then fsync the folder; reconcile compares the file's sha256 with the
content that was to be written. Paths must stay inside the root (no ``..``, no absolute path,
no symlink out of it).
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from runwright.workflows.errors import (
    LogicError,
    PermissionDenied,
    TransientError,
    UncertainError,
)
from runwright.workflows.tools import MutationCall, Reconciliation, Tool, mutation, read


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


class FileTool(Tool):
    """Reads and atomic writes under ``root``."""

    def __init__(self, namespace: str, root: str | Path, *, encoding: str = "utf-8"):
        super().__init__(namespace)
        self.root = Path(root)
        self.encoding = encoding

    def path(self, rel: str) -> Path:
        """``rel`` resolved inside the root, or LogicError."""
        if not rel or Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise LogicError(f"path {rel!r} must be relative and stay inside {self.root}")
        root = self.root.resolve()
        full = (root / rel).resolve()
        if full != root and root not in full.parents:
            raise LogicError(f"path {rel!r} leaves {self.root} (a symlink?)")
        return full

    # ---- reads ------------------------------------------------------------------------
    @read
    def list_files(self, pattern: str = "*") -> list[str]:
        """Files matching ``pattern`` (relative paths, sorted)."""
        root = self.root.resolve()
        return sorted(str(p.relative_to(root)) for p in root.glob(pattern) if p.is_file())

    @read
    def read_text(self, path: str) -> str:
        """A file's text."""
        try:
            return self.path(path).read_text(encoding=self.encoding)
        except FileNotFoundError as exc:
            raise LogicError(f"{path}: no such file") from exc
        except PermissionError as exc:
            raise PermissionDenied(f"{path}: {exc.strerror}") from exc

    @read
    def exists(self, path: str) -> bool:
        """Whether the file exists."""
        return self.path(path).is_file()

    @read
    def sha256(self, path: str) -> str | None:
        """The file's sha256, or None if it does not exist."""
        target = self.path(path)
        return sha256_bytes(target.read_bytes()) if target.is_file() else None

    # ---- writes -----------------------------------------------------------------------
    def _atomic(self, path: str, data: bytes) -> dict[str, Any]:
        target = self.path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except PermissionError as exc:
            raise PermissionDenied(f"{path}: {exc.strerror}") from exc
        except OSError as exc:
            if exc.errno in {errno.ENOSPC, errno.EDQUOT, errno.EROFS}:
                raise TransientError(f"{path}: {exc.strerror}") from exc
            raise TransientError(f"{path}: {exc}") from exc
        try:
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise UncertainError(
                f"{path}: renamed but the folder could not be synced ({exc})"
            ) from exc
        return {"path": path, "sha256": sha256_bytes(data), "bytes": len(data)}

    @mutation
    def write_text(self, path: str, content: str) -> dict[str, Any]:
        """Replace a file's content atomically."""
        return self._atomic(path, content.encode(self.encoding))

    @mutation
    def delete(self, path: str) -> dict[str, Any]:
        """Delete a file (already gone counts as done)."""
        target = self.path(path)
        try:
            target.unlink(missing_ok=True)
        except PermissionError as exc:
            raise PermissionDenied(f"{path}: {exc.strerror}") from exc
        return {"path": path, "deleted": True}

    # ---- reconcile --------------------------------------------------------------------
    def reconcile(self, call: MutationCall) -> Reconciliation:
        """write_text: the file holds exactly that content → applied; else failed."""
        path = str(call.params.get("path", ""))
        try:
            target = self.path(path)
        except LogicError as exc:
            return Reconciliation.failed(str(exc))
        if call.method == "delete":
            if target.exists():
                return Reconciliation.failed(f"{path} still exists")
            return Reconciliation.applied({"path": path, "deleted": True})
        if call.method != "write_text":
            return Reconciliation.retry(f"cannot reconcile {call.method}")
        data = str(call.params.get("content", "")).encode(self.encoding)
        try:
            current = target.read_bytes()
        except FileNotFoundError:
            return Reconciliation.failed(f"{path} does not exist")
        except OSError as exc:
            return Reconciliation.retry(f"{path}: {exc}")
        if sha256_bytes(current) == sha256_bytes(data):
            return Reconciliation.applied(
                {"path": path, "sha256": sha256_bytes(data), "bytes": len(data)}
            )
        return Reconciliation.failed(f"{path} holds other content")
