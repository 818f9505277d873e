"""Content-addressed evidence blobs on disk: ``evidence/blobs/ab/abcdef…`` by sha256.

Writes go to a temporary file in the same directory, are fsynced, then renamed into place,
so a blob is either absent or complete; writing the same content twice is a no-op.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from runwright.domain.evidence import EvidenceCounts, Manifest
from runwright.errors import EvidenceError

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """sha256 of a file's content, read in chunks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def count_content(path: Path, media_type: str) -> EvidenceCounts:
    """Line (and, for CSV, data-row) counts of a text artifact; empty counts for binaries."""
    if not (media_type.startswith("text/") or media_type in _TEXTUAL):
        return EvidenceCounts()
    lines = 0
    last = b"\n"
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    rows = max(lines - 1, 0) if media_type == "text/csv" else None
    return EvidenceCounts(lines=lines, rows=rows)


_TEXTUAL = {"application/json", "application/x-ndjson", "application/jsonl", "application/yaml"}


def guess_media_type(name: str) -> str:
    """A media type from a file name's extension."""
    suffix = Path(name).suffix.lower()
    return {
        ".csv": "text/csv",
        ".txt": "text/plain",
        ".log": "text/plain",
        ".md": "text/markdown",
        ".json": "application/json",
        ".jsonl": "application/jsonl",
        ".ndjson": "application/x-ndjson",
        ".yaml": "application/yaml",
        ".yml": "application/yaml",
        ".html": "text/html",
        ".diff": "text/x-diff",
        ".patch": "text/x-diff",
        ".py": "text/x-python",
        ".png": "image/png",
    }.get(suffix, "application/octet-stream")


class BlobStore:
    """Evidence blobs and run manifests under one directory."""

    def __init__(self, root: Path):
        self.root = root

    @property
    def blobs_dir(self) -> Path:
        """Where blobs live."""
        return self.root / "blobs"

    @property
    def manifests_dir(self) -> Path:
        """Where run manifests live."""
        return self.root / "manifests"

    def path_for(self, sha256: str) -> Path:
        """The path a blob with this hash has (or would have)."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise EvidenceError(f"{sha256!r} is not a sha256 hex digest", field="sha256")
        return self.blobs_dir / sha256[:2] / sha256

    def put_bytes(self, data: bytes) -> tuple[str, int, Path]:
        """Store ``data``; return (sha256, size, blob path)."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if not target.exists():
            self._write_atomic(target, [data])
        return digest, len(data), target

    def put_file(self, source: Path) -> tuple[str, int, Path]:
        """Copy a file into the store; return (sha256, size, blob path)."""
        digest = sha256_file(source)
        target = self.path_for(digest)
        if not target.exists():
            self._write_atomic(target, _read_chunks(source))
        return digest, source.stat().st_size, target

    def _write_atomic(self, target: Path, chunks: Iterator[bytes] | list[bytes]) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, sha256: str) -> bytes:
        """A blob's content."""
        path = self.path_for(sha256)
        if not path.is_file():
            raise EvidenceError(
                f"evidence blob {sha256} is missing from {self.blobs_dir}", field="sha256"
            )
        return path.read_bytes()

    def check(self, sha256: str) -> str | None:
        """None if the blob exists and still hashes to its name, else what is wrong."""
        path = self.path_for(sha256)
        if not path.is_file():
            return "missing"
        actual = sha256_file(path)
        if actual != sha256:
            return f"content changed (now hashes to {actual[:12]}…)"
        return None

    def write_manifest(self, manifest: Manifest) -> tuple[str, str]:
        """Write a run's manifest; return (path relative to the evidence root, sha256)."""
        data = manifest.model_dump_json(indent=2).encode() + b"\n"
        target = self.manifests_dir / f"{manifest.run_id}.json"
        self._write_atomic(target, [data])
        return str(target.relative_to(self.root)), hashlib.sha256(data).hexdigest()

    def manifest_path(self, relative: str) -> Path:
        """The absolute path of a manifest recorded relative to the evidence root."""
        return self.root / relative


def _read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        yield from iter(lambda: fh.read(_CHUNK), b"")
