"""Rows of the patch tables to domain objects and back (the only place they meet)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from runwright.domain.patches import PatchArtifact, PatchOrigin, PatchScope
from runwright.domain.patches_context import PatchContext, PatchRecord
from runwright.domain.patches_ledger import (
    ApplyRecord,
    PatchLedgerEntry,
    PatchRelations,
    PatchState,
    PatchValidation,
    QuarantineRecord,
    StateChange,
)
from runwright.domain.patches_prompts import PromptInstance, PromptKind, PromptSections
from runwright.store.types import dumps, loads


def artifact_row(
    artifact: PatchArtifact,
    *,
    project_id: str,
    run_id: str | None,
    diff_sha256: str,
    signature: str | None,
    context: PatchContext,
) -> dict[str, Any]:
    """The ``patches`` row of an artifact."""
    return {
        "patch_id": artifact.patch_id,
        "project_id": project_id,
        "run_id": run_id,
        "format": artifact.format,
        "target_repo": artifact.target_repo,
        "base_ref": artifact.base_ref,
        "base_commit": artifact.base_commit,
        "summary": artifact.summary,
        "origin": dumps(artifact.origin.model_dump(mode="json"), what="patch origin"),
        "scope": dumps(artifact.scope.model_dump(mode="json"), what="patch scope")
        if artifact.scope
        else None,
        "diff_text": artifact.diff_text,
        "diff_sha256": diff_sha256,
        "signature": signature,
        "context": dumps(context.model_dump(mode="json"), what="patch context"),
        "created_at": artifact.origin.created_at,
    }


def entry_row(entry: PatchLedgerEntry) -> dict[str, Any]:
    """The ``patch_ledger`` row of an entry."""
    return {
        "ledger_id": entry.ledger_id,
        "patch_id": entry.patch_id,
        "project_id": entry.project_id,
        "run_id": entry.run_id,
        "state": entry.state.value,
        "validation": dumps(entry.validation.model_dump(mode="json"), what="validation"),
        "state_history": dumps(
            [h.model_dump(mode="json") for h in entry.state_history], what="state_history"
        ),
        "apply": dumps(entry.apply.model_dump(mode="json"), what="apply"),
        "quarantine": dumps(entry.quarantine.model_dump(mode="json"), what="quarantine"),
        "relations": dumps(entry.relations.model_dump(mode="json"), what="relations"),
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
    }


def entry_from_row(row: Row[Any]) -> PatchLedgerEntry:
    """A ledger entry from its row."""
    return PatchLedgerEntry(
        ledger_id=row.ledger_id,
        patch_id=row.patch_id,
        project_id=row.project_id,
        run_id=row.run_id,
        state=PatchState(row.state),
        validation=PatchValidation.model_validate(loads(row.validation)),
        state_history=[StateChange.model_validate(h) for h in loads(row.state_history)],
        apply=ApplyRecord.model_validate(loads(row.apply)),
        quarantine=QuarantineRecord.model_validate(loads(row.quarantine)),
        relations=PatchRelations.model_validate(loads(row.relations)),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def artifact_from_row(row: Row[Any]) -> PatchArtifact:
    """An artifact from its ``patches`` row."""
    scope = loads(row.scope)
    return PatchArtifact(
        patch_id=row.patch_id,
        format=row.format,
        target_repo=row.target_repo,
        origin=PatchOrigin.model_validate(loads(row.origin)),
        diff_text=row.diff_text,
        base_ref=row.base_ref,
        base_commit=row.base_commit,
        summary=row.summary,
        scope=PatchScope.model_validate(scope) if scope is not None else None,
    )


def record_from_rows(patch: Row[Any], ledger: Row[Any]) -> PatchRecord:
    """A whole patch record from its two rows."""
    return PatchRecord(
        artifact=artifact_from_row(patch),
        entry=entry_from_row(ledger),
        context=PatchContext.model_validate(loads(patch.context)),
        signature=patch.signature,
        diff_sha256=patch.diff_sha256,
    )


def prompt_row(prompt: PromptInstance, *, project_id: str) -> dict[str, Any]:
    """The ``patch_prompts`` row of a prompt instance."""
    return {
        "prompt_instance_id": prompt.prompt_instance_id,
        "project_id": project_id,
        "run_id": prompt.run_id,
        "request_id": prompt.request_id,
        "template_id": prompt.template_id,
        "target_tool": prompt.target_tool,
        "kind": prompt.kind.value,
        "sections": dumps(prompt.sections.model_dump(mode="json"), what="prompt sections"),
        "rendered": prompt.rendered,
        "created_at": prompt.created_at,
    }


def prompt_from_row(row: Row[Any]) -> PromptInstance:
    """A prompt instance from its row."""
    return PromptInstance(
        prompt_instance_id=row.prompt_instance_id,
        template_id=row.template_id,
        target_tool=row.target_tool,
        kind=PromptKind(row.kind),
        sections=PromptSections.model_validate(loads(row.sections)),
        rendered=row.rendered,
        request_id=row.request_id,
        run_id=row.run_id,
        created_at=row.created_at,
    )
