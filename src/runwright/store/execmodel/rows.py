"""Execution-model rows become domain objects here (and domain objects become rows)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from runwright.domain.execmodel.blocks import Block, BlockStatus, BlockType, GovernanceArtifact
from runwright.domain.execmodel.checks import CheckResult
from runwright.domain.execmodel.debug import DebugPacket
from runwright.domain.execmodel.opruns import FailurePathTaken
from runwright.domain.execmodel.patterns import PatternFacts
from runwright.domain.execmodel.records import OpRunRecord, StopRuleFiring
from runwright.domain.execmodel.stoprules import FiredStopRule
from runwright.store.types import dumps, loads


def block_from_row(row: Row[Any]) -> Block:
    """A Block (without its runs and evidence) from a ``blocks`` row."""
    m = row._mapping
    artifact = loads(m["governance_artifact"])
    return Block.model_construct(
        block_id=m["block_id"],
        project_id=m["project_id"],
        title=m["title"],
        block_type=BlockType(m["block_type"]),
        mode_id=m["mode_id"],
        classified_mode_id=m["classified_mode_id"],
        mode_override=bool(m["mode_override"]),
        tags=loads(m["tags"]),
        status=BlockStatus(m["status"]),
        planned_minutes=m["planned_minutes"],
        started_at=m["started_at"],
        ended_at=m["ended_at"],
        next_pointer=m["next_pointer"],
        governance_artifact=None if artifact is None else GovernanceArtifact(**artifact),
        previous_block_id=m["previous_block_id"],
        run_ids=[],
        evidence_links=[],
    )


def block_row(block: Block, now: Any) -> dict[str, Any]:
    """The ``blocks`` row of a block."""
    active = block.status == "active"
    artifact = block.governance_artifact
    return {
        "block_id": block.block_id,
        "project_id": block.project_id,
        "title": block.title,
        "block_type": str(block.block_type),
        "mode_id": block.mode_id,
        "classified_mode_id": block.classified_mode_id,
        "mode_override": block.mode_override,
        "tags": dumps(block.tags),
        "status": str(block.status),
        "active_key": block.project_id if active else None,
        "planned_minutes": block.planned_minutes,
        "started_at": block.started_at,
        "ended_at": block.ended_at,
        "next_pointer": block.next_pointer,
        "governance_artifact": None if artifact is None else dumps(artifact.model_dump()),
        "previous_block_id": block.previous_block_id,
        "updated_at": now,
    }


def _list(text: str | None) -> list[Any]:
    value = loads(text)
    return list(value) if value else []


def op_run_from_row(row: Row[Any]) -> OpRunRecord:
    """An OpRunRecord from an ``op_runs`` row."""
    m = row._mapping
    pattern = loads(m["pattern"])
    failure_path = loads(m["failure_path"])
    return OpRunRecord(
        run_id=m["run_id"],
        op_id=m["op_id"],
        project_id=m["project_id"],
        mode_id=m["mode_id"],
        mode_source=m["mode_source"],
        block_id=m["block_id"],
        timestamp_start=m["timestamp_start"],
        timestamp_end=m["timestamp_end"],
        inputs_used=loads(m["inputs_used"]) or {},
        outputs_written=_list(m["outputs_written"]),
        acceptance_results=[CheckResult.model_validate(r) for r in _list(m["acceptance_results"])],
        result=m["result"],
        pattern=None if pattern is None else PatternFacts.model_validate(pattern),
        stop_rules=[FiredStopRule.model_validate(r) for r in _list(m["stop_rules"])],
        failure_path=None
        if failure_path is None
        else FailurePathTaken.model_validate(failure_path),
        over_timebox=bool(m["over_timebox"]),
        finalized=bool(m["finalized"]),
        retry_of=m["retry_of"],
    )


def op_run_row(rec: OpRunRecord) -> dict[str, Any]:
    """The ``op_runs`` row of a record."""
    return {
        "run_id": rec.run_id,
        "op_id": rec.op_id,
        "project_id": rec.project_id,
        "mode_id": rec.mode_id,
        "mode_source": str(rec.mode_source),
        "block_id": rec.block_id,
        "timestamp_start": rec.timestamp_start,
        "timestamp_end": rec.timestamp_end,
        "inputs_used": dumps(rec.inputs_used, what="inputs"),
        "outputs_written": dumps(rec.outputs_written),
        "acceptance_results": dumps([r.model_dump(mode="json") for r in rec.acceptance_results]),
        "result": None if rec.result is None else str(rec.result),
        "pattern": None if rec.pattern is None else dumps(rec.pattern.model_dump(mode="json")),
        "stop_rules": dumps([r.model_dump(mode="json") for r in rec.stop_rules]),
        "failure_path": (
            None if rec.failure_path is None else dumps(rec.failure_path.model_dump(mode="json"))
        ),
        "over_timebox": rec.over_timebox,
        "finalized": rec.finalized,
        "retry_of": rec.retry_of,
    }


def packet_from_row(row: Row[Any]) -> DebugPacket:
    """A DebugPacket from a ``debug_packets`` row."""
    m = row._mapping
    return DebugPacket.model_validate(
        {
            "packet_id": m["packet_id"],
            "project_id": m["project_id"],
            "mode_id": m["mode_id"],
            "status": m["status"],
            "version": m["version"],
            "symptom": m["symptom"],
            "context": m["context"],
            "minimal_repro": loads(m["minimal_repro"]),
            "hypotheses": _list(m["hypotheses"]),
            "experiments": _list(m["experiments"]),
            "decision": m["decision"],
            "resolution_or_next": m["resolution_or_next"],
            "regression_guard": m["regression_guard"],
            "time_spent_minutes": m["time_spent_minutes"],
            "next_pointer": m["next_pointer"],
            "source_run_id": m["source_run_id"],
            "block_id": m["block_id"],
            "opened_by": m["opened_by"],
            "opened_at": m["opened_at"],
            "concluded_at": m["concluded_at"],
            "closed_at": m["closed_at"],
        }
    )


def packet_row(packet: DebugPacket, now: Any) -> dict[str, Any]:
    """The ``debug_packets`` row of a packet."""
    data = packet.model_dump(mode="json")
    repro = packet.minimal_repro
    return {
        "packet_id": packet.packet_id,
        "project_id": packet.project_id,
        "mode_id": packet.mode_id,
        "status": str(packet.status),
        "version": packet.version,
        "symptom": packet.symptom,
        "context": packet.context,
        "minimal_repro": None if repro is None else dumps(repro.model_dump(mode="json")),
        "hypotheses": dumps(data["hypotheses"]),
        "experiments": dumps(data["experiments"]),
        "decision": packet.decision,
        "resolution_or_next": packet.resolution_or_next,
        "regression_guard": packet.regression_guard,
        "time_spent_minutes": packet.time_spent_minutes,
        "next_pointer": packet.next_pointer,
        "source_run_id": packet.source_run_id,
        "block_id": packet.block_id,
        "opened_by": packet.opened_by,
        "opened_at": packet.opened_at,
        "concluded_at": packet.concluded_at,
        "closed_at": packet.closed_at,
        "updated_at": now,
    }


def firing_from_row(row: Row[Any]) -> StopRuleFiring:
    """A StopRuleFiring from a ``stop_rule_firings`` row."""
    m = row._mapping
    return StopRuleFiring(
        firing_id=m["firing_id"],
        rule_id=m["rule_id"],
        mode_id=m["mode_id"],
        project_id=m["project_id"],
        run_id=m["run_id"],
        block_id=m["block_id"],
        packet_id=m["packet_id"],
        action=m["action"],
        detail=m["detail"],
        then=m["remedy"],
        fired_at=m["fired_at"],
    )


def firing_row(f: StopRuleFiring) -> dict[str, Any]:
    """The ``stop_rule_firings`` row of a firing."""
    return {
        "firing_id": f.firing_id,
        "rule_id": f.rule_id,
        "mode_id": f.mode_id,
        "project_id": f.project_id,
        "run_id": f.run_id,
        "block_id": f.block_id,
        "packet_id": f.packet_id,
        "action": str(f.action),
        "detail": f.detail,
        "remedy": f.then,
        "fired_at": f.fired_at,
    }
