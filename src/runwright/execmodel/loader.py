"""Loading operators from YAML: every error names the file, the field and the fix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from runwright import specfiles
from runwright.domain.execmodel.operators import Operator
from runwright.domain.execmodel.patterns import known_items
from runwright.domain.execmodel.registry import ModeRegistry
from runwright.errors import ConfigError, NotFound, ValidationError

SUFFIXES = (".yaml", ".yml")

#: What to say when a required part of an operator is missing, by field.
_MISSING_HINTS = {
    "mode_ids": "the operator has no mode: list the modes where it is legal in mode_ids",
    "acceptance_checks": "the operator has no check: give at least one acceptance check",
    "timebox_minutes": "the operator has no timebox: give timebox_minutes (e.g. 30)",
}


@dataclass(frozen=True, slots=True)
class LoadedOperator:
    """An operator and the file it came from."""

    operator: Operator
    path: Path


def _fail(path: Path, field: str, message: str, hint: str | None = None) -> ConfigError:
    return ConfigError(f"{path}: {field}: {message}", hint=hint, path=str(path), field=field)


def _translate(path: Path, exc: PydanticValidationError) -> ConfigError:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    field = ""
    for part in loc:
        field += f"[{part}]" if part.isdigit() else (f".{part}" if field else part)
    field = field or "(root)"
    message = str(err["msg"]).removeprefix("Value error, ")
    top = loc[0] if loc else ""
    if top in _MISSING_HINTS and len(loc) == 1 and err["type"] in {"missing", "too_short"}:
        return _fail(path, field, _MISSING_HINTS[top], hint="see docs/execmodel.md (operators)")
    if field == "(root)" and ":" in message and message.split(":", 1)[0].strip():
        head, rest = message.split(":", 1)
        if " " not in head.strip():
            return _fail(path, head.strip(), rest.strip())
    return _fail(path, field, message)


def parse_operator(data: Any, path: Path, registry: ModeRegistry) -> Operator:
    """Validate ``data`` (parsed YAML) as an operator from ``path`` against the registry."""
    if not isinstance(data, dict):
        raise _fail(path, "(root)", "an operator file must hold a mapping of fields")
    try:
        op = Operator.model_validate(data)
    except PydanticValidationError as exc:
        raise _translate(path, exc) from None
    for i, mode in enumerate(op.mode_ids):
        if mode not in registry:
            raise _fail(
                path,
                f"mode_ids[{i}]",
                f"{mode!r} is not a mode",
                hint=f"known modes: {', '.join(registry.ids())}",
            )
    modes = {m.mode_id: m for m in registry.modes}
    items = known_items(modes, op.mode_ids) | set(op.item_ids())
    for field, item in op.satisfied_claims():
        if item not in items:
            raise _fail(
                path,
                field,
                f"{item!r} is not an evidence-pattern item of {', '.join(op.mode_ids)}",
                hint=f"known items: {', '.join(sorted(items))} (or add it to evidence_pattern)",
            )
    for i, fp in enumerate(op.failure_paths):
        if fp.to_mode is not None and fp.to_mode not in registry:
            raise _fail(path, f"failure_paths[{i}].to_mode", f"{fp.to_mode!r} is not a mode")
    return op


def load_operator_file(path: Path, registry: ModeRegistry) -> Operator:
    """Read and validate one operator YAML file."""
    return parse_operator(specfiles.load_yaml(path), path, registry)


def operator_files(source: Path) -> list[Path]:
    """The operator files of ``source``: itself if a file, else its *.yaml/*.yml files."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise NotFound(
            f"no operators at {source}",
            hint="create .runwright/operators/NAME.yaml or pass --ops PATH (a file or folder)",
            path=str(source),
        )
    return sorted(p for p in source.iterdir() if p.suffix in SUFFIXES and p.is_file())


def load_operators(source: Path, registry: ModeRegistry) -> list[LoadedOperator]:
    """Every operator under ``source``; a duplicate op_id names both files."""
    found: dict[str, LoadedOperator] = {}
    for path in operator_files(source):
        op = load_operator_file(path, registry)
        if op.op_id in found:
            raise _fail(
                path,
                "op_id",
                f"{op.op_id!r} is already defined in {found[op.op_id].path}",
                hint="op_id must be unique and stable; rename one of them",
            )
        found[op.op_id] = LoadedOperator(op, path)
    return sorted(found.values(), key=lambda lo: lo.operator.op_id)


def _import_problem(path: Path, op: Operator) -> str | None:
    from runwright.execmodel.stepping import resolve_callable

    for i, step in enumerate(op.steps):
        if step.call is None:
            continue
        try:
            resolve_callable(step.call, field=f"steps[{i}].call")
        except ValidationError as exc:
            return f"{path}: {exc}"
    return None


def validate_files(source: Path, registry: ModeRegistry) -> list[tuple[Path, str | None]]:
    """Each operator file under ``source`` with its first problem (None when valid); the
    callables of ``call`` steps are imported to check that they exist."""
    results: list[tuple[Path, str | None]] = []
    seen: dict[str, Path] = {}
    for path in operator_files(source):
        try:
            op = load_operator_file(path, registry)
        except ConfigError as exc:
            results.append((path, str(exc)))
            continue
        if op.op_id in seen:
            results.append((path, f"{path}: op_id: {op.op_id!r} is already in {seen[op.op_id]}"))
            continue
        seen[op.op_id] = path
        results.append((path, _import_problem(path, op)))
    return results
