"""The execution model's configuration: ``[execmodel]`` in config.toml and ``modes.yaml``.

```toml
[execmodel]
debug_minutes = 40          # the ~40-minute rule for failing CONTRACT work
max_hypotheses = 3          # hypotheses per debug packet before the stop rule fires
debug_modes = ["CONTRACT"]  # modes whose failing streak the 40-minute rule watches
operators_dir = ".runwright/operators"
modes_file = ".runwright/modes.yaml"
tags = ["MODEL/ANALYZE"]

[execmodel.modes.RESEARCH]  # a new mode (or changes to a built-in one)
intent = "…"
primary_risk = "…"
keywords = ["spike", "investigate"]
```
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from runwright import specfiles
from runwright.config import Settings
from runwright.domain.execmodel.modes import ModeExtension
from runwright.domain.execmodel.registry import DEFAULT_REGISTRY, ModeRegistry
from runwright.domain.execmodel.stoprules import Thresholds
from runwright.domain.execmodel.validation import describe
from runwright.domain.limits import Minutes
from runwright.errors import ConfigError
from runwright.errors import ValidationError as RunwrightValidationError


class ExecModelConfig(BaseModel):
    """Settings of the execution model for one project."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    debug_minutes: Minutes = 40.0
    max_hypotheses: int = Field(default=3, ge=1, le=20)
    debug_modes: list[str] = Field(default_factory=lambda: ["CONTRACT"])
    operators_dir: str = ".runwright/operators"
    modes_file: str = ".runwright/modes.yaml"
    tags: list[str] = Field(default_factory=list)
    modes: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @property
    def thresholds(self) -> Thresholds:
        """The stop-rule thresholds."""
        return Thresholds(debug_minutes=self.debug_minutes, max_hypotheses=self.max_hypotheses)


def load_config(settings: Settings) -> ExecModelConfig:
    """The ``[execmodel]`` table of the project's config.toml (defaults if absent)."""
    raw = settings.file.get("execmodel", {})
    where = settings.home / "config.toml"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: [execmodel] must be a table", path=str(where))
    try:
        return ExecModelConfig.model_validate(dict(raw))
    except PydanticValidationError as exc:
        field, message = describe(exc)
        raise ConfigError(
            f"{where}: [execmodel] {field}: {message}",
            hint="see docs/execmodel.md (configuration) for the keys",
            path=str(where),
            field=f"execmodel.{field}",
        ) from None


def _extensions(source: str, modes: Any) -> list[ModeExtension]:
    if not isinstance(modes, Mapping):
        raise ConfigError(f"{source}: modes must be a table of modes by id", path=source)
    found = []
    for mode_id, body in modes.items():
        if not isinstance(body, Mapping):
            raise ConfigError(f"{source}: modes.{mode_id} must be a table", path=source)
        try:
            found.append(ModeExtension.model_validate({"mode_id": mode_id, **body}))
        except PydanticValidationError as exc:
            field, message = describe(exc)
            raise ConfigError(
                f"{source}: modes.{mode_id}.{field}: {message}",
                path=source,
                field=f"modes.{mode_id}.{field}",
            ) from None
    return found


def _tags(source: str, tags: Any) -> list[str]:
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise ConfigError(f"{source}: tags must be a list of tag names", path=source, field="tags")
    return list(tags)


def _extend(source: str, registry: ModeRegistry, extensions: Any, tags: Any) -> ModeRegistry:
    """``registry`` extended by one file's modes and tags; errors name that file."""
    try:
        return registry.extended(_extensions(source, extensions), tags=_tags(source, tags))
    except PydanticValidationError as exc:
        field, message = describe(exc)
        raise ConfigError(f"{source}: {field}: {message}", path=source, field=field) from None
    except RunwrightValidationError as exc:
        raise ConfigError(
            f"{source}: {exc.message}", hint=exc.hint, path=source, **exc.fields
        ) from None


def _modes_file(path: Path) -> dict[str, Any]:
    data = specfiles.load_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: must be a mapping with modes/tags", path=str(path))
    unknown = sorted(str(k) for k in data if k not in {"modes", "tags"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {unknown[0]!r}",
            hint="modes.yaml holds `modes:` (by mode id) and `tags:`",
            path=str(path),
            field=unknown[0],
        )
    return dict(data)


def load_registry(settings: Settings, config: ExecModelConfig | None = None) -> ModeRegistry:
    """The built-in modes extended by config.toml's ``[execmodel.modes]`` and modes.yaml."""
    config = config or load_config(settings)
    where = str(settings.home / "config.toml")
    registry = _extend(where, DEFAULT_REGISTRY, config.modes, list(config.tags))
    modes_file = resolve_in_project(settings, config.modes_file)
    if not modes_file.is_file():
        return registry
    data = _modes_file(modes_file)
    return _extend(str(modes_file), registry, data.get("modes") or {}, data.get("tags") or [])


def resolve_in_project(settings: Settings, path: str) -> Path:
    """``path`` relative to the project root (absolute paths stay as they are)."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else settings.project_root / p
