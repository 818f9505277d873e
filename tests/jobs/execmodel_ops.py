"""Helpers for the execution-model tests: operator specs and step callables (importable by
worker subprocesses too, since tests/jobs is on their path)."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

import runwright

PY = sys.executable


def operator(**changes: Any) -> dict[str, Any]:
    """A small valid PIPELINE operator as a dict; ``changes`` replace top-level fields
    (a value of None removes the field)."""
    spec: dict[str, Any] = {
        "op_id": "WriteRows",
        "name": "Write a CSV of rows",
        "purpose": "Write N rows and check them.",
        "mode_ids": ["PIPELINE"],
        "preconditions": ["nothing"],
        "inputs": {"rows": {"type": "int", "default": 3}},
        "steps": [
            {
                "id": "write",
                "run": [
                    "{python}",
                    "-c",
                    "import sys\nprint('id,value')\n"
                    "for i in range(int(sys.argv[1])): print(f'{{i}},v')",
                    "{rows}",
                ],
                "stdout_to": "{workdir}/rows.csv",
                "idempotent": True,
            }
        ],
        "outputs": [{"path": "{workdir}/rows.csv"}],
        "acceptance_checks": [
            {
                "id": "rows",
                "check_type": "content_validation",
                "probes": [
                    {
                        "probe": "file",
                        "path": "{workdir}/rows.csv",
                        "non_empty": True,
                        "min_rows": 1,
                    }
                ],
            }
        ],
        "timebox_minutes": 2,
        "next_pointer_rule": "file rows.csv ({result})",
    }
    for key, value in changes.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = copy.deepcopy(value)
    return spec


def write_op(directory: Path, spec: dict[str, Any], name: str | None = None) -> Path:
    """Write ``spec`` as YAML into ``directory``; return the file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name or spec.get('op_id', 'op')}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def note(path: str, text: str) -> str:
    """A call step: write ``text`` to ``path`` and attach it as evidence."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text + "\n")
    runwright.attach_evidence(target, label="note")
    return text


def boom(message: str) -> None:
    """A call step that fails."""
    raise RuntimeError(message)


def quiet() -> str:
    """A call step that succeeds and attaches nothing."""
    return "ok"
