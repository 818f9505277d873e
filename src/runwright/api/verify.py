"""Evidence verification: walk the event chain, re-hash every blob, check the manifest, and
check the log's record of each artifact and of the manifest against what the run links."""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, ConfigDict, Field

from runwright.api.verify_records import ChainRecords, chain_records
from runwright.domain.events import StoredEvent, verify_chain
from runwright.domain.evidence import EvidenceLink, Manifest
from runwright.domain.runs import Run
from runwright.store.blobs import BlobStore
from runwright.store.core import SystemDatabase


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


def verify_run(store: SystemDatabase, blobs: BlobStore, run_id: str) -> VerifyReport:
    """Check a run's event chain, its evidence blobs and its manifest for tampering."""
    run = store.get_run(run_id)
    events = store.list_stored_events(run_id)
    problems = [
        Problem(what="events", where=f"seq {p.seq}", problem=p.problem)
        for p in verify_chain(events)
    ]
    problems += _end_of_log(run, events)
    links = store.list_evidence(run_id)
    for link in links:
        issue = blobs.check(link.sha256)
        if issue:
            problems.append(
                Problem(what="evidence", where=link.artifact_path, problem=f"blob {issue}")
            )
    records = chain_records(events)
    problems += _recorded_artifacts(records, links)
    problems += _recorded_manifest(run, records)
    manifest = records.manifest_path or run.manifest_path
    if manifest:
        sha = records.manifest_sha256 or run.manifest_sha256
        recorded = records.manifest_path is not None
        problems += _manifest_file(blobs, manifest, sha, links, events, recorded=recorded)
    return VerifyReport(
        run_id=run_id,
        ok=not problems,
        events_checked=len(events),
        artifacts_checked=len(links),
        manifest_checked=bool(manifest),
        problems=problems,
    )


def _end_of_log(run: Run, events: list[StoredEvent]) -> list[Problem]:
    """The log ends where the run says it does (events removed or added at the end)."""
    last = events[-1].seq if events else 0
    if last < run.event_seq:
        missing = (
            f"seq {last + 1}" if last + 1 == run.event_seq else f"seq {last + 1} to {run.event_seq}"
        )
        problem = (
            f"the run records {run.event_seq} events; {missing} missing (the log was cut short)"
        )
        return [Problem(what="events", where="end of log", problem=problem)]
    if last > run.event_seq:
        problem = f"the run records {run.event_seq} events; events after it were added"
        return [Problem(what="events", where="end of log", problem=problem)]
    if events and events[-1].hash != run.last_event_hash:
        problem = "the last event's hash differs from the one the run recorded"
        return [Problem(what="events", where=f"seq {last}", problem=problem)]
    return []


def _recorded_artifacts(records: ChainRecords, links: list[EvidenceLink]) -> list[Problem]:
    """Each artifact the log recorded is still linked, with the same hash; nothing else is."""
    problems: list[Problem] = []
    linked = {link.evidence_id: link for link in links}
    for evidence_id, (seq, sha) in sorted(records.artifacts.items()):
        link = linked.get(evidence_id)
        if link is None:
            recorded = f" ({sha[:12]}…)" if sha else ""
            problems.append(
                Problem(
                    what="evidence",
                    where=evidence_id,
                    problem=f"the log records it at seq {seq}{recorded} but the run no longer "
                    "links it (its evidence row was removed)",
                )
            )
        elif sha and sha != link.sha256:
            problems.append(
                Problem(
                    what="evidence",
                    where=link.artifact_path,
                    problem=f"the log records sha256 {sha[:12]}… at seq {seq} but the evidence "
                    f"row says {link.sha256[:12]}… (the row was edited)",
                )
            )
    for link in links:
        if link.evidence_id not in records.artifacts:
            problems.append(
                Problem(
                    what="evidence",
                    where=link.artifact_path,
                    problem=f"linked as {link.evidence_id} but the run's log does not record it "
                    "(the row was added afterwards, or the event recording it was edited)",
                )
            )
    return problems


def _recorded_manifest(run: Run, records: ChainRecords) -> list[Problem]:
    """The manifest the run names is the one its finishing event recorded."""
    if records.manifest_path is None:
        return []
    recorded = (records.manifest_path, records.manifest_sha256)
    if (run.manifest_path, run.manifest_sha256) == recorded:
        return []
    sha = records.manifest_sha256 or ""
    named = (
        "names none (its manifest columns were cleared)"
        if not run.manifest_path
        else f"names {run.manifest_path} ({(run.manifest_sha256 or '')[:12]}…)"
    )
    return [
        Problem(
            what="manifest",
            where=records.manifest_path,
            problem=f"the log records this manifest ({sha[:12]}…) at seq {records.manifest_seq} "
            f"but the run {named}",
        )
    ]


def _manifest_file(
    blobs: BlobStore,
    relative: str,
    sha: str | None,
    links: list[EvidenceLink],
    events: list[StoredEvent],
    *,
    recorded: bool,
) -> list[Problem]:
    """The manifest file: present, unchanged, listing what the run links, anchored in its log
    (and, if it anchors the log, recorded by it)."""
    path = blobs.manifest_path(relative)
    if not path.is_file():
        return [Problem(what="manifest", where=relative, problem="file is missing")]
    problems: list[Problem] = []
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:
        problems.append(
            Problem(what="manifest", where=relative, problem="content changed since the run ended")
        )
    try:
        manifest = Manifest.model_validate(json.loads(data))
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        return [*problems, Problem(what="manifest", where=relative, problem=f"unreadable: {first}")]
    listed = {(a.evidence_id, a.sha256) for a in manifest.artifacts}
    linked = {(link.evidence_id, link.sha256) for link in links}
    for evidence_id, digest in sorted(linked - listed):
        problems.append(
            Problem(
                what="manifest",
                where=evidence_id,
                problem=f"evidence {digest[:12]}… is not in the manifest",
            )
        )
    for evidence_id, digest in sorted(listed - linked):
        problems.append(
            Problem(
                what="manifest",
                where=evidence_id,
                problem=f"lists {digest[:12]}… which the run does not link",
            )
        )
    if not recorded and manifest.last_event_hash is not None:
        problems.append(
            Problem(
                what="manifest",
                where=relative,
                problem="the run names this manifest but its log never recorded it "
                "(the run's manifest columns were set afterwards)",
            )
        )
    return problems + _anchor(relative, manifest, events)


def _anchor(relative: str, manifest: Manifest, events: list[StoredEvent]) -> list[Problem]:
    """The event the manifest was written after is in the log with the hash it names."""
    seq, anchor = manifest.counts.get("events"), manifest.last_event_hash
    if seq is None or anchor is None:
        return []  # written before manifests anchored the log
    found = next((e for e in events if e.seq == seq), None)
    if found is None:
        problem = f"anchors the log at seq {seq}, which the log no longer has"
    elif found.hash != anchor:
        problem = (
            f"anchors the log at seq {seq} with hash {anchor[:12]}… but that event's hash is "
            f"{found.hash[:12]}… (the log was rewritten)"
        )
    else:
        return []
    return [Problem(what="manifest", where=relative, problem=problem)]
