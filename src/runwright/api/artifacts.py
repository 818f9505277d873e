"""One evidence artifact of a run, named the way people name it — its path, its file name, its
label or a prefix of its sha256 — and its bytes, checked against their hash before use."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from runwright.domain.evidence import EvidenceLink
from runwright.errors import EvidenceError, NotFound, ValidationError
from runwright.store.blobs import BlobStore

MIN_PREFIX = 4
SHOWN = 12


def _describe(link: EvidenceLink) -> str:
    label = f" [{link.label}]" if link.label else ""
    return f"{link.artifact_path}{label} sha256:{link.sha256[:SHOWN]}"


def _hex_prefix(name: str) -> str | None:
    text = name.lower().removeprefix("sha256:")
    ok = len(text) >= MIN_PREFIX and all(c in "0123456789abcdef" for c in text)
    return text if ok else None


def find_artifact(run_id: str, links: Sequence[EvidenceLink], name: str) -> EvidenceLink:
    """The artifact of run ``run_id`` that ``name`` names: an exact path, file name or label,
    else a sha256 prefix (at least four hex digits). Several artifacts with different content
    are ambiguous: the error lists them."""
    exact = [
        link
        for link in links
        if name in (link.artifact_path, Path(link.artifact_path).name, link.label)
    ]
    prefix = _hex_prefix(name)
    found = exact or [link for link in links if prefix and link.sha256.startswith(prefix)]
    if not found:
        known = ", ".join(_describe(link) for link in links[:20]) or "none"
        raise NotFound(
            f"run {run_id} has no evidence named {name!r}; its artifacts: {known}",
            hint=f"runwright evidence list {run_id}",
            run_id=run_id,
            field="name",
        )
    if len({link.sha256 for link in found}) > 1:
        listed = "; ".join(_describe(link) for link in found)
        raise ValidationError(
            f"{name!r} names {len(found)} artifacts of run {run_id}: {listed}",
            hint="name one by its full path or a longer sha256 prefix",
            run_id=run_id,
            field="name",
        )
    return found[0]


def checked_path(blobs: BlobStore, link: EvidenceLink) -> Path:
    """The blob file of ``link``, after checking it still hashes to the recorded sha256."""
    problem = blobs.check(link.sha256)
    if problem:
        raise EvidenceError(
            f"evidence {link.artifact_path} of run {link.run_id} failed its hash check: "
            f"blob {problem}",
            hint=f"runwright evidence verify {link.run_id}",
            run_id=link.run_id,
            field="sha256",
        )
    return blobs.path_for(link.sha256)


def checked_bytes(blobs: BlobStore, link: EvidenceLink) -> bytes:
    """The content of ``link``, refused if it no longer hashes to the recorded sha256."""
    path = checked_path(blobs, link)
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != link.sha256:  # changed between the check and the read
        raise EvidenceError(
            f"evidence {link.artifact_path} of run {link.run_id} failed its hash check: "
            f"blob content changed (now hashes to {actual[:SHOWN]}…)",
            hint=f"runwright evidence verify {link.run_id}",
            run_id=link.run_id,
            field="sha256",
        )
    return data
