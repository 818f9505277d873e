"""Loading a plan contract from YAML, with every problem named by file, field and fix."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from runwright import specfiles
from runwright.domain.plans import PlanSpec
from runwright.errors import ConfigError

HINT = "fix the plan file (the plan contract is described in docs/plans.md)"


class PlanInvalid(ConfigError):
    """A plan file is not a valid plan contract; ``problems`` lists every reason."""

    code = "plan_invalid"

    def __init__(self, path: str, problems: list[str]):
        first = problems[0] if problems else "invalid"
        more = (
            f" (and {len(problems) - 1} more: run `runwright plan validate`)"
            if len(problems) > 1
            else ""
        )
        super().__init__(f"{path}: {first}{more}", hint=HINT, path=path)
        self.problems = problems


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def problems_of(exc: PydanticValidationError) -> list[str]:
    """Pydantic's errors as ``field: message`` lines (structural ones split per problem)."""
    lines = []
    for err in exc.errors():
        msg = str(err["msg"]).removeprefix("Value error, ")
        where = _loc(tuple(err["loc"]))
        if where:
            lines.append(f"{where}: {msg}")
        else:
            lines.extend(part.strip() for part in msg.split("; ") if part.strip())
    return lines


def parse_plan(data: Any, *, source: str) -> PlanSpec:
    """``data`` as a PlanSpec, or PlanInvalid naming ``source`` and every problem."""
    if not isinstance(data, dict):
        raise PlanInvalid(source, ["(root): a plan is a mapping with plan_id, phases, …"])
    try:
        return PlanSpec.model_validate(data)
    except PydanticValidationError as exc:
        raise PlanInvalid(source, problems_of(exc)) from exc


def read_plan_text(path: Path) -> str:
    """The plan file's text, or ConfigError naming it (not UTF-8 text included)."""
    if not path.exists():
        raise ConfigError(
            f"{path}: no such plan file", hint="give the path of a plan YAML", path=str(path)
        )
    return specfiles.read_text(path)


def load_plan_text(text: str, *, source: str) -> PlanSpec:
    """Parse plan YAML text."""
    try:
        data = specfiles.parse_yaml(text, source)
    except specfiles.SpecFileError as exc:
        raise PlanInvalid(source, [f"{exc.where}: {exc.detail}"]) from None
    return parse_plan(data, source=source)


def load_plan(path: Path | str) -> PlanSpec:
    """Read and validate a plan file."""
    p = Path(path)
    return load_plan_text(read_plan_text(p), source=str(p))


def plan_digest(text: str) -> str:
    """The sha256 of a plan file's text (recorded at intake)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
