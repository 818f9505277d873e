"""Evidence verification: re-hash every blob, check the manifest, walk the event chain."""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.events import verify_chain
from runwright.domain.evidence import Manifest
from runwright.store.base import Store
from runwright.store.blobs import BlobStore


class Problem(BaseModel):
    """One thing that does not check out."""

    model_config = ConfigDict(frozen=True)

    what: str = Field(description="events | evidence | manifest")
    where: str = Field(description="The event seq, artifact path or file concerned.")
    problem: str


class VerifyReport(BaseModel):
    """The outcome of `runwright evidence verify RUN`."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    ok: bool
    events_checked: int
    artifacts_checked: int
    manifest_checked: bool
    problems: list[Problem]


def verify_run(store: Store, blobs: BlobStore, run_id: str) -> VerifyReport:
    """Check a run's event chain, its evidence blobs and its manifest for tampering."""
    run = store.get_run(run_id)
    events = store.list_events(run_id)
    problems = [
        Problem(what="events", where=f"seq {p.seq}", problem=p.problem)
        for p in verify_chain(events)
    ]
    if len(events) != run.event_seq:
        problems.append(
            Problem(
                what="events",
                where="end of log",
                problem=f"the run records {run.event_seq} events but {len(events)} are stored "
                "(events were removed or added)",
            )
        )
    elif events and events[-1].hash != run.last_event_hash:
        problems.append(
            Problem(
                what="events",
                where=f"seq {events[-1].seq}",
                problem="the last event's hash differs from the one the run recorded",
            )
        )
    links = store.list_evidence(run_id)
    for link in links:
        issue = blobs.check(link.sha256)
        if issue:
            problems.append(
                Problem(what="evidence", where=link.artifact_path, problem=f"blob {issue}")
            )
    manifest_checked = False
    if run.manifest_path:
        manifest_checked = True
        path = blobs.manifest_path(run.manifest_path)
        if not path.is_file():
            problems.append(
                Problem(what="manifest", where=run.manifest_path, problem="file is missing")
            )
        else:
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != run.manifest_sha256:
                problems.append(
                    Problem(
                        what="manifest",
                        where=run.manifest_path,
                        problem="content changed since the run ended",
                    )
                )
            try:
                manifest = Manifest.model_validate(json.loads(data))
            except ValueError as exc:
                problems.append(
                    Problem(what="manifest", where=run.manifest_path, problem=f"unreadable: {exc}")
                )
            else:
                listed = {(a.evidence_id, a.sha256) for a in manifest.artifacts}
                linked = {(link.evidence_id, link.sha256) for link in links}
                for evidence_id, sha in sorted(linked - listed):
                    problems.append(
                        Problem(
                            what="manifest",
                            where=evidence_id,
                            problem=f"evidence {sha[:12]}… is not in the manifest",
                        )
                    )
                for evidence_id, sha in sorted(listed - linked):
                    problems.append(
                        Problem(
                            what="manifest",
                            where=evidence_id,
                            problem=f"lists {sha[:12]}… which the run does not link",
                        )
                    )
    return VerifyReport(
        run_id=run_id,
        ok=not problems,
        events_checked=len(events),
        artifacts_checked=len(links),
        manifest_checked=manifest_checked,
        problems=problems,
    )
