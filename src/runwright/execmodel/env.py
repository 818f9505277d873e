"""Everything the execution model's services need, built once by the client."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from runwright.config import Settings
from runwright.domain.execmodel.registry import ModeRegistry
from runwright.engine.clock import Clock
from runwright.execmodel.config import ExecModelConfig, load_config, load_registry
from runwright.store.blobs import BlobStore
from runwright.store.core import SystemDatabase
from runwright.store.execmodel import ExecModelStore


@dataclass
class ExecEnv:
    """The core store, the execution model's store, settings, clock and evidence blobs."""

    store: SystemDatabase
    settings: Settings
    clock: Clock
    blobs: BlobStore
    who: str

    @cached_property
    def em(self) -> ExecModelStore:
        """The execution model's tables."""
        return ExecModelStore(self.store.db)

    @cached_property
    def config(self) -> ExecModelConfig:
        """``[execmodel]`` of the project's config."""
        return load_config(self.settings)

    @cached_property
    def registry(self) -> ModeRegistry:
        """The modes: built-ins extended by the project's config."""
        return load_registry(self.settings, self.config)

    def project(self, project_id: str | None) -> str:
        """The project to act on: the one given, else the settings' one."""
        value = (project_id or self.settings.project_id).strip()
        if not value or "," in value or "\n" in value:
            from runwright.errors import ValidationError

            raise ValidationError(
                f"project {project_id!r}: exactly one project is needed",
                hint="give one project id with --project P",
                field="project_id",
            )
        return value
