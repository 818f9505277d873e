"""The last lines of a failing command's output, read back from the evidence recorded when it
ran: a patch's verification log, and the logs of the commands a failing plan gate ran."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.patches_context import PatchRecord
from runwright.errors import RunwrightError
from runwright.store.blobs import BlobStore

if TYPE_CHECKING:
    from runwright.api.client import Client
    from runwright.api.plans import PlanView
    from runwright.domain.plan_records import Defect

TAIL_LINES = 30
SHA_REF = "sha256:"
PATCH_REF = "patch:"


class FailingOutput(BaseModel):
    """The end of the output of a command that failed a plan gate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gate: str
    round: int
    phase_id: str | None = None
    code: str = Field(description="The defect's code (tests_fail, phase_failed…).")
    evidence: str = Field(description="The log it comes from: sha256:… of the evidence blob.")
    output_tail: str


def blob_tail(blobs: BlobStore, sha256: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of a text blob, or why they cannot be shown (missing, changed)."""
    try:
        problem = blobs.check(sha256)
        if problem is None:
            text = blobs.read(sha256).decode("utf-8", "replace")
            return "\n".join(text.rstrip().splitlines()[-lines:])
    except (OSError, RunwrightError) as exc:
        problem = str(exc)
    return f"(the output {sha256[:12]}… cannot be shown: {problem})"


def patch_test_log(record: PatchRecord) -> str | None:
    """The sha256 of a patch's verification output, when its tests failed."""
    v = record.entry.validation
    return v.test_log_sha256 if v.tests_passed is False and v.test_log_sha256 else None


def _gate_log(defect: Defect, logs: set[str]) -> str | None:
    """The last command log of the gate a defect points to."""
    shas = [r[len(SHA_REF) :] for r in defect.evidence_refs if r.startswith(SHA_REF)]
    shas = [s for s in shas if s in logs]
    return shas[-1] if shas else None


def _patch_log(client: Client, defect: Defect) -> str | None:
    """The verification log of the patch a defect points to, if its tests failed."""
    for ref in reversed(defect.evidence_refs):
        if ref.startswith(PATCH_REF):
            try:
                return patch_test_log(client.patches.get(ref[len(PATCH_REF) :]))
            except RunwrightError:
                return None
    return None


def failing_outputs(client: Client, view: PlanView, lines: int = TAIL_LINES) -> list[FailingOutput]:
    """For each gate whose latest evaluation failed: the last lines of each distinct command
    log its defects point to (the gate's suite, verify or parse runs; for a phase none of them
    covers, its patch's verification)."""
    latest = {g.gate: g for g in view.gates}
    failed = [g for g in latest.values() if not g.passed]
    if not failed:
        return []
    logs = {
        link.sha256
        for link in client.evidence(view.run_id)
        if link.artifact_path.endswith(".log") or link.media_type == "text/plain"
    }
    out: list[FailingOutput] = []
    seen: set[str] = set()
    for gate in failed:
        # the gate's own runs first; a patch's log only for a phase none of them covers
        found = [(d, _gate_log(d, logs)) for d in gate.defects]
        covered = {d.phase_id for d, sha in found if sha}
        found += [(d, _patch_log(client, d)) for d in gate.defects if d.phase_id not in covered]
        for defect, sha in found:
            if sha is None or sha in seen:
                continue
            seen.add(sha)
            blobs = client.blobs if sha in logs else client.patches.env.blobs
            out.append(
                FailingOutput(
                    gate=gate.gate,
                    round=gate.round,
                    phase_id=defect.phase_id,
                    code=defect.code,
                    evidence=f"{SHA_REF}{sha}",
                    output_tail=blob_tail(blobs, sha, lines),
                )
            )
    return out
