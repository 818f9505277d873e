"""Time blocks on the store (SQLite and PostgreSQL): one mode per block, one active block per
project, runs carry the block's mode, and how blocks end (digest §5, behaviours 5 and 14)."""

from __future__ import annotations

from pathlib import Path

import engine_jobs as jobs
import pytest
from execmodel_ops import operator, write_op

from runwright.api.client import Client
from runwright.domain.execmodel.blocks import BlockStatus
from runwright.domain.execmodel.operators import Operator
from runwright.engine.clock import FakeClock
from runwright.errors import Conflict, NotFound, ValidationError


def _op(client: Client, **changes: object) -> Operator:
    spec = operator(**changes)
    source = write_op(client.settings.project_root / "ops", spec)
    return client.ops.operator(spec["op_id"], source).operator


def test_a_block_takes_its_mode_from_the_title(client: Client) -> None:
    """A FOCUS block titled "Backfill CSV export" is a PIPELINE block (classified, no override)."""
    block = client.ops.start_block("Backfill CSV export")
    assert block.mode_id == "PIPELINE"
    assert block.classified_mode_id == "PIPELINE"
    assert block.mode_override is False
    assert client.ops.active_block() is not None


@pytest.mark.parametrize("block_type", ["MAINT", "FOCUS"])
def test_maint_and_focus_without_a_mode_are_refused(client: Client, block_type: str) -> None:
    """Behaviour 14: no keyword and no --mode → refused with a hint to pick a mode."""
    with pytest.raises(ValidationError) as err:
        client.ops.start_block("Lunch", block_type=block_type)
    assert "--mode" in (err.value.hint or "")
    assert client.ops.active_block() is None


def test_an_explicit_mode_is_recorded_as_an_override(client: Client) -> None:
    """--mode against the keywords is kept, and marked as an override; a tag is accepted."""
    block = client.ops.start_block(
        "Backfill CSV export", block_type="MAINT", mode="contract", tags=["model/analyze"]
    )
    assert (block.mode_id, block.classified_mode_id, block.mode_override) == (
        "CONTRACT",
        "PIPELINE",
        True,
    )
    assert block.tags == ["MODEL/ANALYZE"]


def test_only_one_block_is_active_per_project(client: Client) -> None:
    """A second block while one is active is refused; another project may have its own."""
    client.ops.start_block("Backfill CSV export")
    with pytest.raises(Conflict, match="still active"):
        client.ops.start_block("Q3 roadmap triage")
    other = client.ops.start_block("Q3 roadmap triage", project_id="other")
    assert other.mode_id == "GOVERNANCE"


def test_runs_started_in_a_block_carry_its_mode(client: Client, tmp_path: Path) -> None:
    """An op run without --mode takes the block's mode; any job started in the block too."""
    block = client.ops.start_block("Backfill CSV export")
    [view] = client.ops.run_operator(_op(client), {})
    assert view.run.mode_id == "PIPELINE"
    assert view.run.block_id == block.block_id
    assert view.record.mode_source == "block"
    run = client.ops.start_in_block(jobs.leaf, str(tmp_path / "log"), "x")
    assert (run.mode_id, run.block_id) == ("PIPELINE", block.block_id)
    shown = client.ops.block(block.block_id)
    assert view.run.run_id in shown.run_ids
    assert run.run_id in shown.run_ids
    assert shown.evidence_links


def test_an_operator_illegal_in_the_block_mode_is_refused(client: Client) -> None:
    """Behaviour 5: a CONTRACT-only operator in a PIPELINE block is refused."""
    client.ops.start_block("Backfill CSV export")
    with pytest.raises(ValidationError, match="not legal in PIPELINE"):
        client.ops.run_operator(_op(client, mode_ids=["CONTRACT"]), {})


def test_another_mode_inside_a_block_is_a_mode_switch(client: Client) -> None:
    """Behaviour 14: --mode CONTRACT inside a PIPELINE block is refused: switch blocks first."""
    client.ops.start_block("Backfill CSV export")
    op = _op(client, mode_ids=["PIPELINE", "CONTRACT"])
    with pytest.raises(Conflict) as err:
        client.ops.run_operator(op, {}, mode="CONTRACT")
    assert "block switch --mode CONTRACT" in (err.value.hint or "")


def test_a_mode_switch_ends_the_block_and_starts_a_new_one(client: Client) -> None:
    """Behaviour 14: switching ends the current block (with its next pointer) and starts a new
    one in the other mode, linked to the old one, in one step."""
    old = client.ops.start_block("Backfill CSV export")
    client.ops.run_operator(_op(client), {})
    ended, started = client.ops.switch_block("CONTRACT", next_pointer="repro the empty rows")
    assert ended.block_id == old.block_id
    assert ended.status == BlockStatus.COMPLETED
    assert ended.next_pointer == "repro the empty rows"
    assert started.mode_id == "CONTRACT"
    assert started.previous_block_id == old.block_id
    assert client.ops.active_block().block_id == started.block_id  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="already in CONTRACT"):
        client.ops.switch_block("CONTRACT", next_pointer="x")


def test_a_block_completes_only_with_evidence_and_a_next_pointer(client: Client) -> None:
    """Without a next pointer, or without evidence, a block cannot complete; --incomplete ends
    it as incomplete; with op-run evidence and a pointer it completes."""
    client.ops.start_block("Backfill CSV export")
    with pytest.raises(ValidationError, match="next pointer"):
        client.ops.end_block(next_pointer=None)
    with pytest.raises(ValidationError, match="cannot complete"):
        client.ops.end_block(next_pointer="tomorrow")
    ended = client.ops.end_block(next_pointer="tomorrow", incomplete=True)
    assert ended.status == BlockStatus.INCOMPLETE
    client.ops.start_block("Backfill CSV export")
    client.ops.run_operator(_op(client), {})
    done = client.ops.end_block(next_pointer="export the rest")
    assert done.status == BlockStatus.COMPLETED
    assert done.evidence_links
    with pytest.raises(NotFound, match="no active block"):
        client.ops.end_block(next_pointer="again")


def test_a_governance_artifact_closes_a_block(client: Client) -> None:
    """A decision file (inside the project) completes a block without run evidence; one
    outside the project is refused."""
    client.ops.start_block("Q3 roadmap triage")
    decision = client.settings.project_root / "decision.md"
    decision.write_text("WIP limit: 2\n")
    with pytest.raises(ValidationError, match="escapes the project"):
        client.ops.end_block(next_pointer="n", artifact="/etc/hostname")
    ended = client.ops.end_block(next_pointer="review in a week", artifact=str(decision))
    assert ended.status == BlockStatus.COMPLETED
    assert ended.governance_artifact is not None
    assert ended.governance_artifact.path == "decision.md"
    assert client.blobs.read(ended.governance_artifact.sha256) == b"WIP limit: 2\n"


def test_a_free_block_needs_neither_evidence_nor_next_pointer(client: Client) -> None:
    """Behaviour 14: FREE needs no evidence and no next pointer."""
    client.ops.start_block("Lunch", block_type="FREE")
    ended = client.ops.end_block(next_pointer=None)
    assert ended.status == BlockStatus.COMPLETED
    assert ended.next_pointer is None


def test_block_status_reports_the_40_minute_rule_as_due(client: Client, clock: FakeClock) -> None:
    """Behaviour 11: 41 minutes into a CONTRACT block with no passing op run, the debugging
    rule is due; at 10 minutes it is not."""
    client.ops.start_block("postgres integration flakes")
    clock.advance(10 * 60)
    report = client.ops.block_report()
    assert report is not None
    assert report.due == []
    clock.advance(31 * 60)
    report = client.ops.block_report()
    assert report is not None
    assert [r.rule_id for r in report.due] == ["universal.debugging"]
    assert report.elapsed_minutes == pytest.approx(41)
