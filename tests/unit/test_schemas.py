"""JSON Schemas: exported from the models, checked in, and never drifting from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runwright import schemas
from runwright.errors import NotFound

ROOT = Path(__file__).resolve().parents[2]
CHECKED_IN = ROOT / "schemas"


def test_checked_in_schemas_match_the_models(tmp_path: Path) -> None:
    """schemas/ holds exactly what the models export; regenerate with
    `runwright schema export schemas` after changing a model."""
    schemas.export(tmp_path)
    fresh = {p.name: p.read_text() for p in tmp_path.glob("*.schema.json")}
    kept = {p.name: p.read_text() for p in CHECKED_IN.glob("*.schema.json")}
    assert sorted(kept) == sorted(fresh), "run `runwright schema export schemas`"
    stale = [name for name in fresh if fresh[name] != kept[name]]
    assert stale == [], f"out of date: {stale}; run `runwright schema export schemas`"


def test_ids_are_ulid_patterns_and_states_are_enums() -> None:
    """The run record schema carries the ULID pattern and the state enum."""
    schema = schemas.json_schema("run_record")
    assert schema["properties"]["run_id"]["pattern"] == "^[0-9A-HJKMNP-TV-Z]{26}$"
    state = schema["$defs"]["RunState"]
    assert set(state["enum"]) == {
        "pending",
        "running",
        "waiting",
        "succeeded",
        "failed",
        "quarantined",
        "canceled",
    }


def test_a_valid_file_passes_and_a_bad_one_names_the_field(tmp_path: Path) -> None:
    """validate_file accepts a good run event and names the broken field of a bad one."""
    good = {
        "event_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "run_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "ts": "2026-01-01T00:00:00Z",
        "kind": "note",
        "seq": 1,
        "prev_hash": "0" * 64,
        "hash": "a" * 64,
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps(good))
    assert schemas.validate_file("run_event", path) == []
    path.write_text(json.dumps({**good, "kind": "exploded"}))
    problems = schemas.validate_file("run_event", path)
    assert len(problems) == 1
    assert problems[0].startswith("kind:")


def test_an_unknown_kind_lists_the_known_ones() -> None:
    """Asking for a kind that does not exist says which kinds do."""
    with pytest.raises(NotFound) as err:
        schemas.model_for("nope")
    assert "run_record" in (err.value.hint or "")
