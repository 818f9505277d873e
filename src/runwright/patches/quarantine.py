"""The quarantine directory: a quarantined patch's diff and why, kept under
``.runwright/quarantine/`` for analysis; nothing there is ever applied again automatically.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def quarantine_files(
    directory: Path,
    patch_id: str,
    diff_text: str,
    *,
    reason: str,
    at: datetime,
    details: dict[str, Any] | None = None,
) -> Path:
    """Write ``<patch_id>.diff`` and ``<patch_id>.json`` (the reason); return the diff's path."""
    diff_path = directory / f"{patch_id}.diff"
    _atomic_write(diff_path, diff_text.encode("utf-8", errors="surrogateescape"))
    note = {"patch_id": patch_id, "reason": reason, "quarantined_at": at.isoformat()}
    note.update(details or {})
    _atomic_write(directory / f"{patch_id}.json", (json.dumps(note, indent=2) + "\n").encode())
    return diff_path
