"""Evidence: content-addressed artifacts linked from runs and checks."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.ids import Ulid

SHA256_PATTERN = r"^[0-9a-f]{64}$"


class EvidenceCounts(BaseModel):
    """Cheap facts about an artifact's content, useful to gates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lines: int | None = Field(default=None, ge=0)
    rows: int | None = Field(default=None, ge=0, description="Data rows (CSV: lines minus header).")


class EvidenceLink(BaseModel):
    """A link from a run (and optionally a step or check) to one stored artifact.

    The first six fields are the Execution Model's EvidenceLink; the rest are runwright's.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    artifact_path: str = Field(min_length=1, description="Logical path or name of the artifact.")
    manifest_path: str | None = None
    log_path: str | None = None
    commit_hash: str | None = None
    sheet_row: str | None = None
    created_at: datetime
    evidence_id: Ulid
    run_id: Ulid
    step_attempt_id: Ulid | None = None
    label: str | None = Field(default=None, description="What the artifact shows, e.g. 'stdout'.")
    sha256: str = Field(pattern=SHA256_PATTERN)
    size: int = Field(ge=0)
    media_type: str = "application/octet-stream"
    counts: EvidenceCounts = Field(default_factory=EvidenceCounts)


class ManifestEntry(BaseModel):
    """One artifact in a run's manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=SHA256_PATTERN)
    media_type: str
    counts: EvidenceCounts
    label: str | None = None
    evidence_id: Ulid


class Manifest(BaseModel):
    """Everything a run left behind, with sizes and hashes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: Ulid
    generated_at: datetime
    artifacts: list[ManifestEntry]
    counts: dict[str, int] = Field(description="artifacts, bytes, events: totals for quick checks.")
    last_event_hash: str | None = None
