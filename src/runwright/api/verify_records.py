"""What a run's own log records about its evidence: each artifact when it was linked, and the
manifest when the run ended. Verification checks the run's rows against these records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runwright.domain.events import EventKind, StoredEvent

#: Events written when a step's result (with the evidence attached inside it) is recorded.
_STEP_ENDS = frozenset({EventKind.TOOL_CALL_COMPLETED.value, EventKind.TOOL_CALL_ERROR.value})


@dataclass
class ChainRecords:
    """Artifacts by evidence id (seq of the recording event, sha256 if recorded) and the
    manifest the finishing event recorded."""

    artifacts: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    manifest_path: str | None = None
    manifest_sha256: str | None = None
    manifest_seq: int | None = None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def chain_records(events: list[StoredEvent]) -> ChainRecords:
    """The log's records of artifacts and of the manifest (unreadable events are skipped:
    the chain check reports them)."""
    found = ChainRecords()
    for event in events:
        if event.kind not in _STEP_ENDS and event.kind not in {
            EventKind.EVIDENCE_ATTACHED.value,
            EventKind.RUN_STATE_CHANGED.value,
        }:
            continue
        payload = event.parsed_payload()
        if payload is None:
            continue
        if event.kind in _STEP_ENDS:
            shas = payload.get("evidence_sha256")
            shas = shas if isinstance(shas, dict) else {}
            for evidence_id in payload.get("evidence") or []:
                if isinstance(evidence_id, str):
                    found.artifacts[evidence_id] = (event.seq, _text(shas.get(evidence_id)))
        elif event.kind == EventKind.EVIDENCE_ATTACHED.value:
            evidence_id = _text(payload.get("evidence_id"))
            if evidence_id:
                found.artifacts[evidence_id] = (event.seq, _text(payload.get("sha256")))
        else:
            manifest = payload.get("manifest")
            if isinstance(manifest, dict) and _text(manifest.get("path")):
                found.manifest_path = _text(manifest.get("path"))
                found.manifest_sha256 = _text(manifest.get("sha256"))
                found.manifest_seq = event.seq
    return found
