"""Block rules, pure: a mode for MAINT/FOCUS, how a block may end (digest §5, behaviour 14)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError as PydanticValidationError

from runwright.domain.execmodel.blocks import (
    Block,
    BlockStatus,
    BlockType,
    check_block_transition,
    end_status,
    needs_new_block,
    require_mode,
)
from runwright.domain.ids import new_id
from runwright.errors import InvalidTransition, ValidationError

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("block_type", ["MAINT", "FOCUS"])
def test_maint_and_focus_blocks_need_a_mode(block_type: str) -> None:
    """Behaviour 14: a FOCUS/MAINT block with no mode is invalid."""
    with pytest.raises(PydanticValidationError, match="needs exactly one mode"):
        Block(
            block_id=new_id(),
            project_id="p",
            title="t",
            block_type=BlockType(block_type),
            started_at=NOW,
        )
    with pytest.raises(ValidationError, match="--mode"):
        require_mode(BlockType(block_type), None, "t", ["PIPELINE"])


@pytest.mark.parametrize("block_type", ["ADMIN", "FREE"])
def test_admin_and_free_blocks_may_have_no_mode(block_type: str) -> None:
    """ADMIN and FREE blocks are valid without a mode."""
    block = Block(
        block_id=new_id(),
        project_id="p",
        title="t",
        block_type=BlockType(block_type),
        started_at=NOW,
    )
    assert block.mode_id is None


def test_free_needs_no_evidence_and_no_next_pointer() -> None:
    """Behaviour 14: FREE completes with neither evidence nor next pointer."""
    status = end_status(
        BlockType.FREE,
        has_evidence=False,
        has_artifact=False,
        next_pointer=None,
        allow_incomplete=False,
    )
    assert status == BlockStatus.COMPLETED


def test_a_block_completes_only_with_evidence_or_an_artifact_plus_a_next_pointer() -> None:
    """Evidence or a governance artifact, plus a next pointer, completes a block; without
    evidence it is refused unless ended as incomplete; without a pointer it is refused."""
    for evidence, artifact in ((True, False), (False, True)):
        assert (
            end_status(
                BlockType.FOCUS,
                has_evidence=evidence,
                has_artifact=artifact,
                next_pointer="next",
                allow_incomplete=False,
            )
            == BlockStatus.COMPLETED
        )
    with pytest.raises(ValidationError, match="cannot complete"):
        end_status(
            BlockType.MAINT,
            has_evidence=False,
            has_artifact=False,
            next_pointer="next",
            allow_incomplete=False,
        )
    assert (
        end_status(
            BlockType.MAINT,
            has_evidence=False,
            has_artifact=False,
            next_pointer="next",
            allow_incomplete=True,
        )
        == BlockStatus.INCOMPLETE
    )
    with pytest.raises(ValidationError, match="next pointer"):
        end_status(
            BlockType.ADMIN,
            has_evidence=True,
            has_artifact=False,
            next_pointer=None,
            allow_incomplete=True,
        )


def test_a_completed_block_record_without_evidence_is_invalid() -> None:
    """The artifact itself refuses a completed non-FREE block with no evidence or artifact."""
    with pytest.raises(PydanticValidationError, match="evidence"):
        Block(
            block_id=new_id(),
            project_id="p",
            title="t",
            block_type=BlockType.FOCUS,
            mode_id="PIPELINE",
            status=BlockStatus.COMPLETED,
            next_pointer="n",
            started_at=NOW,
        )


def test_block_transitions_are_a_table() -> None:
    """active → completed | incomplete; an ended block never moves again."""
    assert check_block_transition("active", "completed") == BlockStatus.COMPLETED
    with pytest.raises(InvalidTransition):
        check_block_transition("completed", "active")
    with pytest.raises(InvalidTransition):
        check_block_transition("incomplete", "completed")


def test_a_different_mode_inside_a_block_is_a_mode_switch() -> None:
    """Behaviour 14: working in another mode than the block's needs a new block."""
    assert needs_new_block("PIPELINE", "CONTRACT") is True
    assert needs_new_block("PIPELINE", "PIPELINE") is False
    assert needs_new_block(None, "PIPELINE") is False
