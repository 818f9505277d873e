"""What a patch is judged against beyond the project's policy file: phase and task levels,
the narrowed resource scope, and how to verify it. Stored with the patch, so that validating it
again later gives the same answer.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.patches import PatchArtifact
from runwright.domain.patches_ledger import PatchLedgerEntry
from runwright.domain.policy import PatchConstraints
from runwright.domain.router_specs import EffectiveScope, ResourceScope, narrow


class PatchContext(BaseModel):
    """Phase and task policy levels, resource scopes and verification of one patch."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    phase_id: str | None = None
    task_id: str | None = None
    phase_constraints: PatchConstraints | None = Field(
        default=None, description="The phase level of the patch policy."
    )
    task_constraints: PatchConstraints | None = Field(
        default=None, description="The task level of the patch policy."
    )
    scopes: list[ResourceScope] = Field(
        default_factory=list, description="Resource scopes to intersect (phase, task, request)."
    )
    test_commands: list[list[str]] = Field(
        default_factory=list, description="argv of each verification command, run in order."
    )
    test_timeout_seconds: int | None = Field(default=None, ge=1)
    tests_required: bool = Field(
        default=False, description="Verification must run tests (e.g. a rule's `required`)."
    )

    def scope(self) -> EffectiveScope:
        """The intersection of the scopes."""
        return narrow(*self.scopes)


class PatchRecord(BaseModel):
    """A patch as the ledger knows it: the artifact, its ledger entry and its context."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    artifact: PatchArtifact
    entry: PatchLedgerEntry
    context: PatchContext = Field(default_factory=PatchContext)
    signature: str | None = Field(default=None, description="Direction-free change hash.")
    diff_sha256: str

    @property
    def patch_id(self) -> str:
        """The patch's id."""
        return self.artifact.patch_id
