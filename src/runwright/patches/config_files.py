"""Loading the patch part's files (policy.yaml, router.yaml, phase specs) with errors that name
the file, the field and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from runwright import specfiles
from runwright.domain.limits import WholeSeconds
from runwright.domain.policy import (
    ConstraintWeakened,
    PatchConstraints,
    PatchPolicy,
    PolicyLevel,
    PolicyScope,
    effective_policy,
)
from runwright.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

POLICY_FILE = "policy.yaml"
ROUTER_FILE = "router.yaml"
PHASES_DIR = "phases"


def read_yaml(path: Path) -> Any:
    """Parse a YAML (or JSON) file, naming it on errors."""
    return specfiles.load_yaml(path)


def validate_data(data: Any, model: type[M], *, source: str, hint: str) -> M:
    """``data`` as ``model``; ConfigError naming ``source`` and the first bad field."""
    try:
        return model.model_validate(data if data is not None else {})
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(root)"
        more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(
            f"{source}: {field}: {message}{more}", hint=hint, path=source, field=field
        ) from exc


def load_model(path: Path, model: type[M], *, hint: str) -> M:
    """Read ``path`` and validate it as ``model``."""
    return validate_data(read_yaml(path), model, source=str(path), hint=hint)


class VerifySettings(BaseModel):
    """How patches are verified when nothing more specific says."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    test_command: list[str] | None = Field(default=None, description="argv, run in the worktree.")
    timeout_seconds: WholeSeconds = 900


class PolicyFile(BaseModel):
    """``.runwright/policy.yaml``: the global and project levels, and verification."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    global_: PatchConstraints | None = Field(default=None, alias="global")
    project: PatchConstraints | None = None
    verify: VerifySettings = Field(default_factory=VerifySettings)

    def policies(self, project_id: str) -> list[PatchPolicy]:
        """The file's levels as patch policies."""
        out = []
        if self.global_ is not None:
            out.append(
                PatchPolicy(
                    patch_policy_id="policy.yaml#global",
                    scope=PolicyScope(level=PolicyLevel.GLOBAL),
                    constraints=self.global_,
                )
            )
        if self.project is not None:
            out.append(
                PatchPolicy(
                    patch_policy_id="policy.yaml#project",
                    scope=PolicyScope(level=PolicyLevel.PROJECT, project_id=project_id),
                    constraints=self.project,
                )
            )
        return out


def load_policy_file(home: Path, project_id: str) -> PolicyFile:
    """The project's policy file (defaults when absent), refusing a project level that
    weakens the global one."""
    path = home / POLICY_FILE
    if not path.is_file():
        return PolicyFile()
    policy = load_model(
        path,
        PolicyFile,
        hint="see docs/patches.md: top-level keys are global, project and verify",
    )
    try:
        effective_policy(policy.policies(project_id))
    except ConstraintWeakened as exc:
        raise ConstraintWeakened(
            f"{path}: {exc.message}", hint=exc.hint, path=str(path), **exc.fields
        ) from exc
    return policy
