"""`runwright evidence show RUN NAME` as a user runs it (a subprocess), on SQLite and
PostgreSQL: an artifact's bytes or its path, by path, file name, label or sha256 prefix; an
ambiguous name lists the candidates; a tampered blob is refused, named."""

from __future__ import annotations

import hashlib
from pathlib import Path

import evidence_jobs
import pytest

from runwright.api.client import Client
from tests.acceptance.test_cli import rw


@pytest.fixture
def run_id(real_client: Client) -> str:
    """A finished run with three artifacts, two of them named alike (run.log, label log)."""
    run = real_client.start(evidence_jobs.two_logs)
    real_client.run_until_idle()
    return run.run_id


def test_show_prints_an_artifacts_bytes(real_client: Client, run_id: str) -> None:
    """By path, label or sha256 prefix, the exact bytes go to stdout."""
    home, db = real_client.settings.home, real_client.settings.database_url
    assert rw(home, "evidence", "show", run_id, "other/run.log", db_url=db).stdout == (
        "second log\n"
    )
    assert rw(home, "evidence", "show", run_id, "table", db_url=db).stdout == "a,b\n1,2\n"
    sha = hashlib.sha256(b"first log\nline two\n").hexdigest()
    out = rw(home, "evidence", "show", run_id, sha[:8], db_url=db).stdout
    assert out == "first log\nline two\n"


def test_show_path_prints_where_the_checked_blob_is(real_client: Client, run_id: str) -> None:
    """--path prints the blob's file path, whose content is the artifact."""
    home, db = real_client.settings.home, real_client.settings.database_url
    out = rw(home, "evidence", "show", run_id, "table.csv", "--path", db_url=db).stdout
    path = Path(out.strip())
    assert path.is_file()
    assert path.read_bytes() == b"a,b\n1,2\n"


def test_an_ambiguous_name_lists_the_candidates(real_client: Client, run_id: str) -> None:
    """`log` labels two different artifacts: exit 1, one line naming both and what to do."""
    home, db = real_client.settings.home, real_client.settings.database_url
    proc = rw(home, "evidence", "show", run_id, "log", db_url=db, check=False)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0
    assert "'log' names 2 artifacts" in proc.stderr
    assert "run.log" in proc.stderr
    assert "other/run.log" in proc.stderr
    assert "longer sha256 prefix" in proc.stderr
    unknown = rw(home, "evidence", "show", run_id, "nope", db_url=db, check=False)
    assert unknown.returncode == 1
    assert "no evidence named 'nope'" in unknown.stderr


def test_a_tampered_blob_is_refused_and_named(real_client: Client, run_id: str) -> None:
    """A blob edited after the run: nothing printed, the artifact named, exit 1."""
    home, db = real_client.settings.home, real_client.settings.database_url
    path = Path(rw(home, "evidence", "show", run_id, "table", "--path", db_url=db).stdout.strip())
    path.write_bytes(b"a,b\n9,9\n")
    for extra in ((), ("--path",)):
        proc = rw(home, "evidence", "show", run_id, "table", *extra, db_url=db, check=False)
        assert proc.returncode == 1
        assert proc.stdout == ""
        assert "evidence table.csv" in proc.stderr
        assert "failed its hash check" in proc.stderr
