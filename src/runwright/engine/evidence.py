"""Attaching evidence from job code: blobs go to disk, links go to the store with the step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from runwright.domain.evidence import EvidenceLink
from runwright.domain.ids import new_id
from runwright.engine.steps import current_step
from runwright.errors import EvidenceError, ValidationError
from runwright.store.blobs import BlobStore, count_content, guess_media_type
from runwright.store.core import SystemDatabase


class EvidenceWriter:
    """Stores artifacts for one run; inside a step the link commits with the step's result."""

    def __init__(
        self,
        store: SystemDatabase,
        blobs: BlobStore,
        run_id: str,
        now: Callable[[], datetime],
        project_root: Path | None = None,
    ):
        self._store = store
        self.blobs = blobs
        self.run_id = run_id
        self._now = now
        self._root = project_root
        self.attached = 0

    def _display_path(self, path: Path) -> str:
        resolved = path.resolve()
        if self._root is not None:
            try:
                return str(resolved.relative_to(self._root.resolve()))
            except ValueError:
                pass
        return str(resolved)

    def attach(
        self,
        source: Path | str | bytes,
        *,
        name: str | None = None,
        label: str | None = None,
        media_type: str | None = None,
    ) -> EvidenceLink:
        """Store ``source`` (a file path or bytes) and link it to the run."""
        if isinstance(source, bytes):
            if not name:
                raise ValidationError("evidence given as bytes needs a name", field="name")
            sha, size, blob = self.blobs.put_bytes(source)
            artifact = name
        else:
            path = Path(source)
            if not path.is_file():
                raise EvidenceError(
                    f"evidence file {path} does not exist",
                    hint="attach the file after the step that writes it",
                    path=str(path),
                )
            sha, size, blob = self.blobs.put_file(path)
            artifact = name or self._display_path(path)
        media = media_type or guess_media_type(artifact)
        step = current_step()
        in_step = step is not None and step.run_id == self.run_id
        link = EvidenceLink(
            evidence_id=new_id(),
            run_id=self.run_id,
            step_attempt_id=step.step_attempt_id if in_step and step else None,
            artifact_path=artifact,
            label=label,
            sha256=sha,
            size=size,
            media_type=media,
            counts=count_content(blob, media),
            created_at=self._now(),
        )
        if in_step and step is not None:
            step.evidence.append(link)
        else:
            self._store.add_evidence(self.run_id, [link], self._now())
        self.attached += 1
        return link


def attach_evidence(
    source: Path | str | bytes, *, name: str | None = None, label: str | None = None
) -> EvidenceLink:
    """Attach evidence from inside a running step (committed with the step's result)."""
    step = current_step()
    if step is None:
        raise EvidenceError(
            "attach_evidence() was called outside a durable step",
            hint="call it inside a function run by ctx.step, or use ctx.attach",
        )
    return step.attach(source, name=name, label=label)
