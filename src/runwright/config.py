"""Settings: defaults < .runwright/config.toml < RUNWRIGHT_* environment < explicit overrides.

Built once at the edge (CLI, client) and passed explicitly; never read from globals.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from runwright import specfiles
from runwright.errors import ConfigError

HOME_DIR_NAME = ".runwright"
CONFIG_FILE_NAME = "config.toml"

#: Environment variable → settings field.
ENV_VARS = {
    "RUNWRIGHT_HOME": "home",
    "RUNWRIGHT_DATABASE_URL": "database_url",
    "RUNWRIGHT_PROJECT_ID": "project_id",
    "RUNWRIGHT_LEASE_SECONDS": "lease_seconds",
    "RUNWRIGHT_POLL_SECONDS": "poll_seconds",
    "RUNWRIGHT_SQLITE_SYNCHRONOUS": "sqlite_synchronous",
    "RUNWRIGHT_AUTO_MIGRATE": "auto_migrate",
}


class Settings(BaseModel):
    """Everything runwright needs to know about where it runs and how."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    home: Path = Field(description="The .runwright directory: state, evidence, worktrees.")
    project_root: Path = Field(description="The directory that holds .runwright.")
    database_url: str = Field(description="SQLAlchemy URL; defaults to SQLite at home/state.db.")
    project_id: str = Field(min_length=1, description="Project name recorded on every run.")
    lease_seconds: float = Field(default=30.0, gt=0, description="How long a worker's claim lasts.")
    poll_seconds: float = Field(default=0.5, gt=0, description="Idle wait between claim attempts.")
    sqlite_synchronous: str = Field(
        default="FULL",
        pattern="^(FULL|NORMAL|EXTRA)$",
        description="SQLite durability; FULL by default, NORMAL is an opt-in trade of safety.",
    )
    auto_migrate: bool = Field(default=True, description="Upgrade the schema when opening a store.")
    file: Mapping[str, Any] = Field(
        default_factory=dict, description="The whole parsed config.toml, for other parts."
    )

    @property
    def evidence_dir(self) -> Path:
        """Where content-addressed evidence blobs and manifests live."""
        return self.home / "evidence"

    @property
    def heartbeat_seconds(self) -> float:
        """How often a worker renews its lease: a third of the lease."""
        return self.lease_seconds / 3


def find_project_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` that holds .runwright, else ``start``."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / HOME_DIR_NAME).is_dir():
            return candidate
    return start


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    return specfiles.parse_toml(specfiles.read_text(path), str(path))


def load_settings(
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build Settings from defaults, the project's config file, the environment and overrides."""
    env = os.environ if env is None else env
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    values: dict[str, Any] = {}
    home_override = overrides.get("home") or env.get("RUNWRIGHT_HOME")
    if home_override:
        home = Path(home_override).expanduser().resolve()
        project_root = home.parent
    else:
        project_root = find_project_root(cwd or Path.cwd())
        home = project_root / HOME_DIR_NAME
    file_data = _read_config_file(home / CONFIG_FILE_NAME)
    core = file_data.get("core", {})
    if not isinstance(core, dict):
        raise ConfigError(
            f"{home / CONFIG_FILE_NAME}: [core] must be a table",
            path=str(home / CONFIG_FILE_NAME),
            field="core",
        )
    values.update(core)
    for var, field in ENV_VARS.items():
        if var in env and field != "home":
            values[field] = env[var]
    values.update({k: v for k, v in overrides.items() if k != "home"})
    values.setdefault("database_url", f"sqlite:///{home / 'state.db'}")
    values.setdefault("project_id", project_root.name or "default")
    try:
        return Settings(home=home, project_root=project_root, file=file_data, **values)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"setting {field!r} is invalid: {first['msg']}",
            hint=f"check {home / CONFIG_FILE_NAME} [core] and the RUNWRIGHT_* environment",
            field=field,
        ) from exc
