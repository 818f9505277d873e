"""What an operator run needs at execution time: its context, template values, the
environment of its commands, and the settings bound by the client that executes it."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from runwright.config import Settings
from runwright.domain.execmodel.operators import InputType, Operator
from runwright.errors import ValidationError
from runwright.execmodel.paths import confine

_BOUND: ContextVar[Settings | None] = ContextVar("runwright_execmodel_settings", default=None)


@contextmanager
def bound(settings: Settings) -> Iterator[None]:
    """Make ``settings`` the ones child commands inherit while operators run in this context."""
    token = _BOUND.set(settings)
    try:
        yield
    finally:
        _BOUND.reset(token)


def bound_settings() -> Settings | None:
    """The settings bound by the client executing op runs in this context, if any."""
    return _BOUND.get()


class RunContext(BaseModel):
    """Where an op run executes: stored with the run so any worker can replay it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    op_id: str
    mode_id: str
    project_id: str
    project_root: str
    home: str
    workdir: str
    evidence_dir: str
    #: The operator file or folder it was loaded from, when not the project's default
    #: (``op run --ops``): a repro command names it again.
    operators: str | None = None

    @property
    def roots(self) -> tuple[Path, Path]:
        """Where spec paths may point: the project and runwright's home."""
        return Path(self.project_root), Path(self.home)

    def confine(self, path: str, *, field: str) -> Path:
        """A spec path resolved against the project root and kept inside it (or the home)."""
        return confine(path, self.roots, base=Path(self.project_root), field=field)

    def values(self, inputs: Mapping[str, Any], run_id: str) -> dict[str, Any]:
        """Template values: the inputs plus the built-in names."""
        return {
            **inputs,
            "python": sys.executable,
            "project_root": self.project_root,
            "home": self.home,
            "workdir": self.workdir,
            "run_id": run_id,
            "op_id": self.op_id,
            "mode_id": self.mode_id,
            "project_id": self.project_id,
        }

    def child_env(self, run_id: str, extra: Mapping[str, str]) -> dict[str, str]:
        """The environment of a command: ours, the store's location, the run's ids, ``extra``."""
        env = dict(os.environ)
        settings = _BOUND.get()
        env["RUNWRIGHT_HOME"] = self.home
        if settings is not None:
            env["RUNWRIGHT_DATABASE_URL"] = settings.database_url
        env.update(
            RUNWRIGHT_PROJECT_ID=self.project_id,
            RUNWRIGHT_RUN_ID=run_id,
            RUNWRIGHT_OP_ID=self.op_id,
            RUNWRIGHT_MODE=self.mode_id,
        )
        env.update(extra)
        return env


def _parse(name: str, kind: InputType, raw: Any) -> Any:
    field = f"--input {name}"
    text = str(raw).strip() if not isinstance(raw, bool | int | float) else raw
    try:
        match kind:
            case InputType.INT:
                return int(text)
            case InputType.NUMBER:
                number = float(text)
                if not math.isfinite(number):
                    raise ValueError("expected a finite number")
                return number
            case InputType.BOOL:
                if isinstance(text, bool):
                    return text
                lowered = str(text).lower()
                if lowered not in {"true", "false", "1", "0", "yes", "no"}:
                    raise ValueError("expected true or false")
                return lowered in {"true", "1", "yes"}
            case InputType.URL:
                if not str(text).startswith(("http://", "https://")):
                    raise ValueError("expected an http:// or https:// URL")
                return str(text)
            case _:
                return str(text)
    except ValueError as exc:
        raise ValidationError(
            f"{field}: {raw!r} is not a valid {kind} ({exc})", field=f"inputs.{name}"
        ) from None


def resolve_inputs(op: Operator, given: Mapping[str, Any], ctx: RunContext) -> dict[str, Any]:
    """The operator's inputs with defaults applied, types checked and paths confined."""
    unknown = sorted(set(given) - set(op.inputs))
    if unknown:
        raise ValidationError(
            f"operator {op.op_id} has no input {unknown[0]!r}",
            hint=f"its inputs: {', '.join(op.inputs) or 'none'}",
            field=f"inputs.{unknown[0]}",
        )
    resolved: dict[str, Any] = {}
    for name, spec in op.inputs.items():
        raw = given.get(name, spec.default)
        if raw is None:
            if spec.required:
                raise ValidationError(
                    f"operator {op.op_id} needs input {name!r}",
                    hint=f"give it with --input {name}=VALUE",
                    field=f"inputs.{name}",
                )
            continue
        value = _parse(name, spec.type, raw)
        if spec.type == InputType.PATH:
            value = str(ctx.confine(str(value), field=f"inputs.{name}"))
        resolved[name] = value
    return resolved
