"""JSON Schemas for every artifact. The Pydantic models are the single source of truth.

Each part lists its artifacts in a ``SCHEMAS`` dict (kind name → model) in one of
``PART_MODULES``; this module collects them, exports one ``<kind>.schema.json`` per kind, and
validates files against the models.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from runwright import specfiles
from runwright.errors import ConfigError, NotFound

PART_MODULES = (
    "runwright.domain.schemas",
    "runwright.execmodel.schemas",
    "runwright.workflows.schemas",
    "runwright.patches.schemas",
    "runwright.plans.schemas",
    "runwright.bootstrap.schemas",
)
SCHEMA_BASE_URI = "https://runwright.dev/schemas/"


def registry() -> dict[str, type[BaseModel]]:
    """Every artifact kind and its model, from each part that exists."""
    found: dict[str, type[BaseModel]] = {}
    for name in PART_MODULES:
        if not _exists(name):
            continue
        module = importlib.import_module(name)
        for kind, model in getattr(module, "SCHEMAS", {}).items():
            if kind in found and found[kind] is not model:
                raise ConfigError(f"schema kind {kind!r} is declared twice", field=kind)
            found[kind] = model
    return dict(sorted(found.items()))


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is not there (a part not built yet)
        return False


def model_for(kind: str) -> type[BaseModel]:
    """The model of an artifact kind, or NotFound listing the kinds."""
    models = registry()
    if kind not in models:
        raise NotFound(
            f"no artifact kind {kind!r}",
            hint="known kinds: " + ", ".join(models),
            field="kind",
        )
    return models[kind]


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one artifact kind."""
    schema = model_for(kind).model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE_URI}{kind}.schema.json",
        **schema,
    }


def render(kind: str) -> str:
    """The exported text of one schema (stable: sorted keys, two-space indent)."""
    return json.dumps(json_schema(kind), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export(directory: Path) -> list[Path]:
    """Write one ``<kind>.schema.json`` per artifact kind into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in registry():
        path = directory / f"{kind}.schema.json"
        path.write_text(render(kind))
        written.append(path)
    return written


def load_document(path: Path) -> Any:
    """Read a JSON or YAML file, naming the file on a parse error."""
    if path.suffix.lower() in {".yaml", ".yml"}:
        return specfiles.load_yaml(path)
    return specfiles.load_json(path)


def validate_file(kind: str, path: Path) -> list[str]:
    """Problems of ``path`` as a ``kind`` artifact, one line each as ``field: message``."""
    model = model_for(kind)
    data = load_document(path)
    try:
        model.model_validate(data)
    except PydanticValidationError as exc:
        return [
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors()
        ]
    return []
