"""The patch ledger service, part one: submit, validate, drop, quarantine, read.

Decisions come from the domain (transition table, policy, validation); this layer gathers
their inputs (the policy file, the repository), writes files (quarantine) and hands each state
change to the store as one transaction with its events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from runwright.domain.events import EventKind
from runwright.domain.ids import new_id
from runwright.domain.patches import UNIFIED_DIFF, PatchArtifact, PatchOrigin, PatchScope
from runwright.domain.patches_context import PatchContext, PatchRecord
from runwright.domain.patches_ledger import (
    PatchLedgerEntry,
    PatchRelations,
    PatchState,
    QuarantineRecord,
    check_patch_transition,
)
from runwright.domain.policy import EffectivePolicy, PolicyLevel, effective_policy, policy_at
from runwright.errors import NotFound, ValidationError
from runwright.patches.diffs import DiffError, change_signature, diff_sha256, parse_diff
from runwright.patches.env import PatchEnv
from runwright.patches.git import resolve_commit, symlinks_in_tree
from runwright.patches.quarantine import quarantine_files
from runwright.patches.validation import judge
from runwright.patches.worktrees import patch_worktree_name
from runwright.store.core import NewEvent, SystemDatabase
from runwright.store.database import Database
from runwright.store.patches import PatchFilter, PatchLedgerStore

#: The event each target state is announced with.
STATE_EVENTS = {
    PatchState.VALIDATED: EventKind.PATCH_VALIDATED,
    PatchState.QUEUED: EventKind.PATCH_APPLY_STARTED,
    PatchState.APPLIED: EventKind.PATCH_APPLY_SUCCEEDED,
    PatchState.APPLY_FAILED: EventKind.PATCH_APPLY_FAILED,
    PatchState.VERIFIED: EventKind.PATCH_VERIFIED,
    PatchState.COMMITTED: EventKind.PATCH_COMMITTED,
    PatchState.ROLLED_BACK: EventKind.PATCH_ROLLED_BACK,
    PatchState.QUARANTINED: EventKind.PATCH_QUARANTINED,
    PatchState.DROPPED: EventKind.PATCH_DROPPED,
}


def state_event(
    entry: PatchLedgerEntry, previous: PatchState, reason: str | None, **extra: Any
) -> NewEvent:
    """The event announcing ``entry``'s new state."""
    payload = {
        "patch_id": entry.patch_id,
        "from": previous.value,
        "to": entry.state.value,
        "reason": reason,
        **extra,
    }
    return NewEvent(STATE_EVENTS.get(entry.state, EventKind.PATCH_STATE_CHANGED), payload)


class LedgerBase:
    """Submitting, validating, dropping and quarantining patches of one project."""

    def __init__(self, db: Database, env: PatchEnv):
        self.env = env
        self.store = PatchLedgerStore(db)
        self.core = SystemDatabase(db)

    # ---- reading ------------------------------------------------------------------------
    def get(self, patch_id: str) -> PatchRecord:
        """One patch with its ledger entry."""
        return self.store.get(patch_id)

    def find(
        self,
        *,
        states: Sequence[str] = (),
        run_id: str | None = None,
        before: str | None = None,
        limit: int = 50,
    ) -> list[PatchRecord]:
        """The project's patches, newest first."""
        flt = PatchFilter(self.env.project_id, tuple(states), run_id, before, limit)
        return self.store.find(flt)

    def policy(self, context: PatchContext | None = None) -> EffectivePolicy:
        """The effective policy for a patch with ``context`` (raises constraint_weakened)."""
        levels = self.env.policy_file().policies(self.env.project_id)
        if context is not None:
            levels += policy_at(
                PolicyLevel.PHASE,
                context.phase_constraints,
                name="phase",
                phase_id=context.phase_id,
            )
            levels += policy_at(
                PolicyLevel.TASK, context.task_constraints, name="task", task_id=context.task_id
            )
        return effective_policy(levels)

    # ---- submit -------------------------------------------------------------------------
    def _replacing(self, replaced_id: str, relations: PatchRelations | None) -> PatchRelations:
        """The relations of a patch that replaces ``replaced_id`` (which must exist)."""
        try:
            old = self.store.get(replaced_id)
        except NotFound as exc:
            raise NotFound(
                f"patch {replaced_id} (to be replaced) not found",
                hint="name an existing patch (`runwright patch list`) or leave --replaces out",
                field="replaces",
                patch_id=replaced_id,
            ) from exc
        chain = old.entry.relations.chain_id or old.patch_id
        return (relations or PatchRelations()).model_copy(
            update={"replaces_patch_id": old.patch_id, "chain_id": chain}
        )

    def submit(
        self,
        diff_text: str,
        *,
        format: str = UNIFIED_DIFF,
        summary: str | None = None,
        tool_id: str = "manual",
        base_ref: str | None = None,
        base_commit: str | None = None,
        declared_scope: PatchScope | None = None,
        patch_id: str | None = None,
        run_id: str | None = None,
        execution_request_id: str | None = None,
        prompt_id: str | None = None,
        phase_id: str | None = None,
        workstream_id: str | None = None,
        context: PatchContext | None = None,
        relations: PatchRelations | None = None,
        replaces: str | None = None,
    ) -> PatchRecord:
        """Record a proposed diff as a patch in ``created`` (nothing is applied).

        Refuses a diff larger than ``max_diff_bytes`` outright (nothing is stored); an
        unreadable one is recorded and then dropped by validation. With a ``patch_id`` that is
        already recorded, that patch is returned unchanged (a retried submission). With
        ``replaces`` (an existing patch id) the new patch records it as ``replaces_patch_id``
        and joins its chain (``chain_id``: the replaced patch's chain, else its id).
        """
        if replaces is not None:
            relations = self._replacing(replaces, relations)
        context = context or PatchContext(phase_id=phase_id)
        try:
            diff_text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationError(
                "the diff is not valid UTF-8 text",
                hint="patches are UTF-8 unified diffs; binary changes come as `git diff --binary`",
                field="diff_text",
            ) from exc
        policy = self.policy(context)
        limit = policy.constraints.max_diff_bytes
        size = len(diff_text.encode("utf-8"))
        if limit is not None and size > limit:
            raise ValidationError(
                f"the diff is {size:,} bytes, over the {limit:,}-byte limit (max_diff_bytes)",
                hint="split the change into smaller patches, or raise max_diff_bytes in "
                ".runwright/policy.yaml",
                field="diff_text",
            )
        if patch_id is not None:
            try:
                return self.store.get(patch_id)
            except NotFound:
                pass  # not there yet: create it below
        repo = self.env.repo
        base = resolve_commit(repo, base_commit or base_ref or "HEAD")
        try:
            parsed = parse_diff(diff_text)
            computed, signature = parsed.scope, change_signature(parsed)
        except DiffError:
            computed, signature = None, None
        now = self.env.clock.now()
        artifact = PatchArtifact(
            patch_id=patch_id or new_id(),
            format=format,
            target_repo=str(repo),
            origin=PatchOrigin(
                execution_request_id=execution_request_id,
                tool_id=tool_id,
                created_at=now,
                prompt_id=prompt_id,
                phase_id=phase_id or context.phase_id,
                workstream_id=workstream_id,
                tool_run_id=run_id,
            ),
            diff_text=diff_text,
            base_ref=base_ref,
            base_commit=base,
            summary=summary,
            scope=declared_scope or computed,
        )
        entry = PatchLedgerEntry.new(
            ledger_id=new_id(),
            patch_id=artifact.patch_id,
            project_id=self.env.project_id,
            at=now,
            run_id=run_id,
            relations=relations,
        )
        scope = artifact.scope or PatchScope()
        created = NewEvent(
            EventKind.PATCH_CREATED,
            {
                "patch_id": artifact.patch_id,
                "tool_id": tool_id,
                "files": scope.files_touched,
                "insertions": scope.line_insertions,
                "deletions": scope.line_deletions,
            },
        )
        return self.store.insert(
            artifact,
            entry,
            context=context,
            diff_sha256=diff_sha256(diff_text),
            signature=signature,
            events=[created],
            now=now,
        )

    # ---- validate -----------------------------------------------------------------------
    def validate(self, patch_id: str) -> PatchRecord:
        """Judge a ``created`` patch: validated, dropped (format) or quarantined."""
        record = self.store.get(patch_id)
        check_patch_transition(record.entry.state, PatchState.VALIDATED, patch_id=patch_id)
        policy = self.policy(record.context)
        window = policy.constraints.oscillation_window or 1
        recent = self.store.signatures_before(self.env.project_id, patch_id, max(window - 1, 0))
        base = record.artifact.base_commit

        def symlinked(dirs: list[str]) -> list[str]:
            return symlinks_in_tree(self.env.repo, base, dirs) if base else []

        verdict = judge(
            record.artifact,
            policy=policy,
            scope=record.context.scope(),
            recent_signatures=recent,
            signature=record.signature,
            symlinked_dirs=symlinked,
            tests_required_by_context=record.context.tests_required,
        )
        now = self.env.clock.now()
        quarantine = None
        if verdict.target is PatchState.QUARANTINED:
            quarantine = self._quarantine_record(record, verdict.reason, now)
        oscillating = verdict.oscillation is not None and verdict.oscillation.oscillating

        def decide(entry: PatchLedgerEntry) -> tuple[PatchLedgerEntry, list[NewEvent]]:
            changes: dict[str, Any] = {"validation": verdict.validation}
            if quarantine is not None:
                changes["quarantine"] = quarantine
            nxt = entry.moved(verdict.target, now, verdict.reason, **changes)
            events = [state_event(nxt, entry.state, verdict.reason, errors=verdict.problems)]
            if oscillating and verdict.oscillation is not None:
                events.append(
                    NewEvent(
                        EventKind.ERROR_PIPELINE_TRIGGERED,
                        {
                            "patch_id": patch_id,
                            "cause": "oscillation",
                            **verdict.oscillation.model_dump(mode="json"),
                        },
                    )
                )
            return nxt, events

        return self.store.transition(
            patch_id, decide, now, expect=PatchState.CREATED, counters={"errors": int(oscillating)}
        )

    # ---- drop and quarantine ------------------------------------------------------------
    def drop(self, patch_id: str, reason: str = "dropped by request") -> PatchRecord:
        """Drop a patch that is not yet terminal; its worktree goes too."""
        record = self.store.get(patch_id)
        check_patch_transition(record.entry.state, PatchState.DROPPED, patch_id=patch_id)
        self.env.worktrees.remove(patch_worktree_name(patch_id))
        return self._move(record, PatchState.DROPPED, reason)

    def quarantine(
        self, patch_id: str, reason: str, *, error_pipeline: bool = False
    ) -> PatchRecord:
        """Quarantine a patch: keep its diff and reason; never re-applied without override."""
        record = self.store.get(patch_id)
        check_patch_transition(record.entry.state, PatchState.QUARANTINED, patch_id=patch_id)
        if not reason.strip():
            raise ValidationError("a quarantine needs a reason", field="reason")
        now = self.env.clock.now()
        self.env.worktrees.remove(patch_worktree_name(patch_id))
        quarantine = self._quarantine_record(record, reason, now)
        extra = []
        if error_pipeline:
            extra.append(
                NewEvent(
                    EventKind.ERROR_PIPELINE_TRIGGERED, {"patch_id": patch_id, "cause": reason}
                )
            )
        return self._move(
            record,
            PatchState.QUARANTINED,
            reason,
            extra_events=extra,
            counters={"errors": int(error_pipeline)},
            quarantine=quarantine,
        )

    # ---- helpers ------------------------------------------------------------------------
    def _quarantine_record(
        self, record: PatchRecord, reason: str, now: datetime
    ) -> QuarantineRecord:
        path = quarantine_files(
            self.env.quarantine_dir,
            record.patch_id,
            record.artifact.diff_text,
            reason=reason,
            at=now,
            details={"summary": record.artifact.summary, "state_before": record.entry.state.value},
        )
        return QuarantineRecord(
            is_quarantined=True,
            quarantine_reason=reason,
            quarantine_path=str(path),
            quarantined_at=now,
        )

    def _move(
        self,
        record: PatchRecord,
        target: PatchState,
        reason: str,
        *,
        override: bool = False,
        extra_events: Sequence[NewEvent] = (),
        counters: dict[str, int] | None = None,
        event_extra: dict[str, Any] | None = None,
        **changes: Any,
    ) -> PatchRecord:
        """One state change of ``record`` (expected still in its current state)."""
        now = self.env.clock.now()
        max_attempts = self.policy(record.context).constraints.max_apply_attempts or 1

        def decide(entry: PatchLedgerEntry) -> tuple[PatchLedgerEntry, list[NewEvent]]:
            fields = {k: (v(entry) if callable(v) else v) for k, v in changes.items()}
            nxt = entry.moved(
                target, now, reason, override=override, max_apply_attempts=max_attempts, **fields
            )
            return nxt, [
                state_event(nxt, entry.state, reason, **(event_extra or {})),
                *extra_events,
            ]

        return self.store.transition(
            record.patch_id, decide, now, expect=record.entry.state, counters=counters
        )
