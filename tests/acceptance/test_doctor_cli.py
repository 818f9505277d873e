"""`runwright doctor` when something is wrong: an unreachable store, a schema behind the code."""

from __future__ import annotations

import json
from pathlib import Path

from tests.acceptance.test_cli import rw


def test_an_unreachable_store_is_reported_with_what_to_do(tmp_path: Path) -> None:
    """Nothing listens at the database URL: doctor exits 1, says the store is not reachable
    and stops there (no schema or stranded-run verdicts it could not make)."""
    home = tmp_path / ".runwright"
    url = "postgresql://nobody@127.0.0.1:1/nowhere"
    proc = rw(home, "doctor", "--json", db_url=url, check=False)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["ok"] is False
    [check] = report["checks"]
    assert check["name"] == "store reachable"
    assert check["ok"] is False
    assert check["hint"]


def test_a_schema_behind_the_code_says_to_upgrade(tmp_path: Path, empty_db_url: str) -> None:
    """On an empty database doctor reports the schema as not current with the command that
    fixes it (exit 1, also in the human output); after `db upgrade` every check passes."""
    home = tmp_path / ".runwright"
    proc = rw(home, "doctor", "--json", db_url=empty_db_url, check=False)
    assert proc.returncode == 1
    checks = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
    assert checks["store reachable"]["ok"] is True
    assert checks["schema current"]["ok"] is False
    assert "database at nothing" in checks["schema current"]["detail"]
    assert checks["schema current"]["hint"] == "run `runwright db upgrade`"
    human = rw(home, "doctor", db_url=empty_db_url, check=False)
    assert human.returncode == 1
    assert "runwright db upgrade" in human.stdout
    rw(home, "db", "upgrade", db_url=empty_db_url)
    healthy = json.loads(rw(home, "doctor", "--json", db_url=empty_db_url).stdout)
    assert healthy["ok"] is True
    assert [c["name"] for c in healthy["checks"]] == [
        "store reachable",
        "schema current",
        "workers",
        "stranded runs",
    ]
