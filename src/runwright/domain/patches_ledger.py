"""The patch ledger (UET patch_ledger_entry): ten states, their only legal moves, and the entry.

Every change of state goes through :meth:`PatchLedgerEntry.moved`, which checks the transition
table and the ledger's rules and appends to ``state_history``; the store only persists it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.ids import Ulid
from runwright.errors import InvalidTransition


class PatchState(StrEnum):
    """Where a patch is in its life."""

    CREATED = "created"
    VALIDATED = "validated"
    QUEUED = "queued"
    APPLIED = "applied"
    APPLY_FAILED = "apply_failed"
    VERIFIED = "verified"
    COMMITTED = "committed"
    ROLLED_BACK = "rolled_back"
    QUARANTINED = "quarantined"
    DROPPED = "dropped"


S = PatchState
PATCH_TRANSITIONS: dict[PatchState, frozenset[PatchState]] = {
    S.CREATED: frozenset({S.VALIDATED, S.APPLY_FAILED, S.QUARANTINED, S.DROPPED}),
    S.VALIDATED: frozenset({S.QUEUED, S.QUARANTINED, S.DROPPED}),
    S.QUEUED: frozenset({S.APPLIED, S.APPLY_FAILED, S.QUARANTINED, S.DROPPED}),
    S.APPLIED: frozenset({S.VERIFIED, S.APPLY_FAILED, S.ROLLED_BACK, S.QUARANTINED, S.DROPPED}),
    S.APPLY_FAILED: frozenset({S.QUEUED, S.QUARANTINED, S.DROPPED}),
    S.VERIFIED: frozenset({S.COMMITTED, S.ROLLED_BACK, S.QUARANTINED, S.DROPPED}),
    S.QUARANTINED: frozenset({S.DROPPED}),
    S.COMMITTED: frozenset(),
    S.ROLLED_BACK: frozenset(),
    S.DROPPED: frozenset(),
}
#: Moves allowed only with an explicit, recorded override.
OVERRIDE_TRANSITIONS: dict[PatchState, frozenset[PatchState]] = {
    S.QUARANTINED: frozenset({S.QUEUED}),
}
TERMINAL_PATCH_STATES = frozenset({S.COMMITTED, S.ROLLED_BACK, S.DROPPED})
#: States in which the patch owns a worktree with its change applied.
WORKTREE_STATES = frozenset({S.APPLIED, S.VERIFIED})
#: Default number of apply attempts before a failing patch must be quarantined.
DEFAULT_MAX_APPLY_ATTEMPTS = 3


def check_patch_transition(
    current: PatchState | str,
    target: PatchState | str,
    *,
    override: bool = False,
    patch_id: str = "",
) -> PatchState:
    """Return ``target`` if ``current → target`` is allowed (with ``override``), else raise."""
    cur, nxt = PatchState(current), PatchState(target)
    if nxt in PATCH_TRANSITIONS[cur]:
        return nxt
    if override and nxt in OVERRIDE_TRANSITIONS.get(cur, frozenset()):
        return nxt
    allowed = ", ".join(sorted(PATCH_TRANSITIONS[cur])) or "nothing (terminal)"
    hint = f"from {cur} a patch may move to: {allowed}"
    if nxt in OVERRIDE_TRANSITIONS.get(cur, frozenset()):
        hint = "a quarantined patch is re-applied only with an explicit override and a reason"
    raise InvalidTransition(
        f"patch {patch_id or ''} cannot move from {cur} to {nxt}".replace("  ", " "),
        hint=hint,
        patch_id=patch_id or None,
        current=str(cur),
        target=str(nxt),
    )


class PatchValidation(BaseModel):
    """What validation and verification found."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format_ok: bool = False
    scope_ok: bool = False
    constraints_ok: bool = False
    tests_ran: bool = False
    tests_passed: bool | None = None
    validation_errors: list[str] = Field(default_factory=list)
    # runwright fields
    tests_required: bool = Field(
        default=False, description="Verification must run tests that pass (policy decided)."
    )
    test_commands: list[list[str]] = Field(default_factory=list)
    test_exit_code: int | None = None
    test_log_sha256: str | None = None

    @property
    def all_ok(self) -> bool:
        """True when format, scope and constraints all passed."""
        return self.format_ok and self.scope_ok and self.constraints_ok


class StateChange(BaseModel):
    """One entry of ``state_history``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: PatchState
    at: datetime
    reason: str | None = None


class ApplyRecord(BaseModel):
    """Apply attempts and where the patch is applied."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attempts: int = Field(default=0, ge=0)
    last_attempt_at: datetime | None = None
    last_error_code: str | None = None
    last_error_message: str | None = None
    workspace_path: str | None = None
    applied_files: list[str] = Field(default_factory=list)
    # runwright fields
    owner: str | None = Field(
        default=None, description="host:pid of the process applying it right now, if any."
    )
    commit_hash: str | None = Field(default=None, description="The commit on the user's branch.")


class QuarantineRecord(BaseModel):
    """Why and where a quarantined patch is kept."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    is_quarantined: bool = False
    quarantine_reason: str | None = None
    quarantine_path: str | None = None
    quarantined_at: datetime | None = None


class PatchRelations(BaseModel):
    """How a patch relates to others."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    replaces_patch_id: Ulid | None = None
    rollback_of_patch_id: Ulid | None = None
    chain_id: str | None = None


class PatchLedgerEntry(BaseModel):
    """The life of one patch: state, history, validation, apply attempts, quarantine."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ledger_id: Ulid
    patch_id: Ulid
    project_id: str = Field(min_length=1)
    state: PatchState
    validation: PatchValidation = Field(default_factory=PatchValidation)
    state_history: list[StateChange] = Field(default_factory=list)
    apply: ApplyRecord = Field(default_factory=ApplyRecord)
    quarantine: QuarantineRecord = Field(default_factory=QuarantineRecord)
    relations: PatchRelations = Field(default_factory=PatchRelations)
    # runwright fields
    run_id: Ulid | None = Field(default=None, description="The run whose log records its events.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def new(
        cls,
        *,
        ledger_id: str,
        patch_id: str,
        project_id: str,
        at: datetime,
        run_id: str | None = None,
        relations: PatchRelations | None = None,
    ) -> PatchLedgerEntry:
        """A fresh entry in ``created``, with its first history line."""
        return cls(
            ledger_id=ledger_id,
            patch_id=patch_id,
            project_id=project_id,
            state=PatchState.CREATED,
            state_history=[StateChange(state=PatchState.CREATED, at=at, reason="submitted")],
            relations=relations or PatchRelations(),
            run_id=run_id,
            created_at=at,
            updated_at=at,
        )

    def moved(
        self,
        target: PatchState | str,
        at: datetime,
        reason: str | None = None,
        *,
        override: bool = False,
        max_apply_attempts: int = DEFAULT_MAX_APPLY_ATTEMPTS,
        **changes: Any,
    ) -> PatchLedgerEntry:
        """This entry moved to ``target`` (with field ``changes``), or InvalidTransition.

        Rules beyond the table: ``validated`` needs all three ``*_ok`` flags; a patch whose
        apply attempts reached ``max_apply_attempts`` cannot be queued again (it must be
        quarantined); ``quarantined → queued`` needs ``override`` and a reason.
        """
        nxt = check_patch_transition(self.state, target, override=override, patch_id=self.patch_id)
        updated = self.model_copy(update=changes)
        if nxt is PatchState.VALIDATED and not updated.validation.all_ok:
            raise InvalidTransition(
                f"patch {self.patch_id} cannot be validated: format_ok, scope_ok and "
                "constraints_ok must all be true",
                hint="a patch failing validation is dropped (format) or quarantined",
                patch_id=self.patch_id,
                current=self.state.value,
                target=nxt.value,
            )
        exhausted = self.apply.attempts >= max_apply_attempts
        if nxt is PatchState.QUEUED and self.state is PatchState.APPLY_FAILED and exhausted:
            raise InvalidTransition(
                f"patch {self.patch_id} failed to apply {self.apply.attempts} times "
                f"(the maximum is {max_apply_attempts}); it must be quarantined",
                hint="quarantine it, or drop it and submit a corrected patch",
                patch_id=self.patch_id,
                current=self.state.value,
                target=nxt.value,
            )
        if override and self.state is PatchState.QUARANTINED and not (reason or "").strip():
            raise InvalidTransition(
                f"overriding the quarantine of patch {self.patch_id} needs a reason",
                hint="say why it is safe to re-apply it",
                patch_id=self.patch_id,
            )
        history = [*self.state_history, StateChange(state=nxt, at=at, reason=reason)]
        return updated.model_copy(update={"state": nxt, "state_history": history, "updated_at": at})

    @property
    def is_terminal(self) -> bool:
        """True for committed, rolled_back and dropped."""
        return self.state in TERMINAL_PATCH_STATES
