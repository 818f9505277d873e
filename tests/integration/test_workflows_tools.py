"""The built-in tools against real systems: an HTTP server, SQLite and PostgreSQL, files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from workflows_http import Ledger, serve

from runwright import MutationCall
from runwright.workflows.builtin import FileTool, HttpJsonTool, SqlTool
from runwright.workflows.errors import (
    AuthError,
    LogicError,
    PermissionDenied,
    TransientError,
    UncertainError,
)
from runwright.workflows.tools import Verdict


@pytest.fixture
def http() -> Iterator[tuple[str, Ledger]]:
    """A JSON server on 127.0.0.1."""
    with serve() as found:
        yield found


def test_http_post_sends_the_idempotency_key_and_applies_once(http: tuple[str, Ledger]) -> None:
    """The mutation sends Idempotency-Key; the same key twice is one write on the server."""
    url, ledger = http
    api = HttpJsonTool("api", url, lookup="/items/by-key/{idempotency_key}")
    first = api.post("/items", {"item": "x"}, idempotency_key="k1")
    again = api.post("/items", {"item": "x"}, idempotency_key="k1")
    assert first == again
    assert ledger.seen_keys == ["k1", "k1"]
    assert ledger.items() == ["x"]


def test_http_reconcile_looks_the_write_up(http: tuple[str, Ledger]) -> None:
    """Reconcile: 200 on the lookup → applied with the body; 404 → failed."""
    url, _ = http
    api = HttpJsonTool("api", url, lookup="/items/by-key/{idempotency_key}")
    api.post("/items", {"item": "y"}, idempotency_key="k2")
    seen = api.reconcile(MutationCall("api", "post", {"path": "/items"}, "k2"))
    assert (seen.status, seen.result["item"]) == (Verdict.APPLIED, "y")
    assert api.reconcile(MutationCall("api", "post", {}, "nope")).status is Verdict.FAILED
    assert not HttpJsonTool("api", url).can_reconcile("post")


@pytest.mark.parametrize(
    ("code", "read_error", "write_error"),
    [
        (401, AuthError, AuthError),
        (403, PermissionDenied, PermissionDenied),
        (429, TransientError, TransientError),
        (503, TransientError, TransientError),
        (500, TransientError, UncertainError),
        (502, TransientError, UncertainError),
        (422, LogicError, LogicError),
    ],
)
def test_http_status_codes_map_to_error_classes(
    http: tuple[str, Ledger], code: int, read_error: type, write_error: type
) -> None:
    """A read that fails is retryable; an ambiguous 5xx on a write is uncertain; 4xx is the
    caller's fault except 401/403/429."""
    url, _ = http
    api = HttpJsonTool("api", url)
    with pytest.raises(read_error):
        api.get(f"/status/{code}")
    with pytest.raises(write_error):
        api.post(f"/status/{code}", {}, idempotency_key="k")


def test_http_timeout_after_sending_is_uncertain_and_refused_connection_transient(
    http: tuple[str, Ledger],
) -> None:
    """A write that timed out after it was sent may have happened (uncertain); a connection
    that never opened certainly did not (transient)."""
    url, _ = http
    with pytest.raises(UncertainError):
        HttpJsonTool("api", url, timeout=0.3).post("/slow", {"item": "z"}, idempotency_key="k")
    with pytest.raises(TransientError, match="could not connect"):
        HttpJsonTool("api", "http://127.0.0.1:9", timeout=1).post("/items", {}, idempotency_key="k")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A target database with a ``rows`` table (unique key ``name``)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'target.db'}"
    else:
        url = str(request.getfixturevalue("pg_url")).replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE rows (name VARCHAR(50) PRIMARY KEY, size INTEGER)"))
    engine.dispose()
    return url


_OPEN: list[SqlTool] = []


def request_close(tool: SqlTool) -> None:
    """Close the tool's pool at the end of the test."""
    _OPEN.append(tool)


@pytest.fixture(autouse=True)
def _close_tools() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def test_sql_insert_by_unique_key_and_reconcile(sql_url: str) -> None:
    """insert writes a row; the same row again counts as done; other values under the key
    are a logic error; reconcile finds the row (applied) or not (failed)."""
    db = SqlTool("db", sql_url, table="rows", key="name")
    request_close(db)
    assert db.insert({"name": "a", "size": 1}) == {"name": "a", "size": 1}
    assert db.insert({"name": "a", "size": 1}) == {"name": "a", "size": 1}
    with pytest.raises(LogicError, match="other values"):
        db.insert({"name": "a", "size": 2})
    assert db.get("a") == {"name": "a", "size": 1}
    found = db.reconcile(MutationCall("db", "insert", {"row": {"name": "a", "size": 1}}, "k"))
    assert found.status is Verdict.APPLIED
    missing = db.reconcile(MutationCall("db", "insert", {"row": {"name": "b", "size": 1}}, "k"))
    assert missing.status is Verdict.FAILED
    assert [r["name"] for r in db.select()] == ["a"]


def test_sql_errors_are_classified(tmp_path: Path) -> None:
    """A missing table is a logic error; an unreachable server is transient."""
    empty = SqlTool("db", f"sqlite:///{tmp_path / 'empty.db'}", table="nope", key="id")
    down = SqlTool("db", "postgresql+psycopg://nobody@127.0.0.1:9/none", table="t", key="id")
    try:
        with pytest.raises(LogicError, match="does not exist"):
            empty.get(1)
        with pytest.raises(TransientError):
            down.insert({"id": 1})
    finally:
        empty.close()
        down.close()


def test_file_write_is_atomic_and_reconciled_by_hash(tmp_path: Path) -> None:
    """write_text replaces the file whole (no temporary file left); reconcile compares the
    content hash: the same content → applied, other content or no file → failed."""
    files = FileTool("files", tmp_path)
    out = files.write_text("out/report.txt", "hello\n")
    assert (tmp_path / "out" / "report.txt").read_text() == "hello\n"
    assert out["bytes"] == 6
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["report.txt"]
    call = MutationCall(
        "files", "write_text", {"path": "out/report.txt", "content": "hello\n"}, "k"
    )
    assert files.reconcile(call).status is Verdict.APPLIED
    other = MutationCall("files", "write_text", {"path": "out/report.txt", "content": "bye\n"}, "k")
    assert files.reconcile(other).status is Verdict.FAILED
    assert files.list_files("out/*") == ["out/report.txt"]


def test_file_paths_must_stay_inside_the_root(tmp_path: Path) -> None:
    """.., absolute paths and symlinks out of the root are logic errors."""
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(tmp_path, root / "escape")
    files = FileTool("files", root)
    for bad in ("../x", "/etc/passwd", "escape/x"):
        with pytest.raises(LogicError):
            files.write_text(bad, "x")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def pets_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A target database with ``pets`` (key ``name``): legs NOT NULL and CHECK >= 0, an owner
    that must exist in ``owners`` (foreign key), and a unique tag."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'pets.db'}"
    else:
        url = str(request.getfixturevalue("pg_url")).replace(
            "postgresql://", "postgresql+psycopg://", 1
        )
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE owners (id INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO owners (id) VALUES (1)"))
        conn.execute(
            text(
                "CREATE TABLE pets (name VARCHAR(50) PRIMARY KEY,"
                " legs INTEGER NOT NULL CONSTRAINT legs_not_negative CHECK (legs >= 0),"
                " owner INTEGER REFERENCES owners (id), tag VARCHAR(20) UNIQUE)"
            )
        )
    engine.dispose()
    return url


def test_sql_insert_names_the_constraint_a_row_breaks(pets_url: str) -> None:
    """A row refused by a CHECK, NOT NULL, foreign-key or other unique constraint is a logic
    error naming that kind of constraint, never "exists with other values" (which stays the
    answer for other values under an existing key); nothing is written."""
    db = SqlTool("db", pets_url, table="pets", key="name")
    request_close(db)
    db.insert({"name": "rex", "legs": 4, "owner": 1, "tag": "t-1"})
    cases = [
        ({"name": "a", "legs": -1}, "a CHECK constraint"),
        ({"name": "b", "legs": None}, "a NOT NULL constraint"),
        ({"name": "c", "legs": 4, "owner": 99}, "a foreign-key constraint"),
        ({"name": "d", "legs": 4, "tag": "t-1"}, "a unique constraint"),
    ]
    for row, kind in cases:
        with pytest.raises(LogicError) as caught:
            db.insert(row)
        message = str(caught.value)
        assert f"the row with name={row['name']!r} breaks {kind}" in message
        assert "exists with other values" not in message
    with pytest.raises(LogicError, match="name='rex' exists with other values"):
        db.insert({"name": "rex", "legs": 3})
    with pytest.raises(LogicError, match="the update of name='rex' breaks a CHECK constraint"):
        db.update("rex", {"legs": -2})
    assert [r["name"] for r in db.select()] == ["rex"]


def test_http_lookup_templates_and_functions(http: tuple[str, Ledger]) -> None:
    """A lookup template can pick a field of the body ({json[...]}); a lookup function that
    returns None, or a 500 on the lookup, means "cannot tell yet" (retry)."""
    url, _ = http
    HttpJsonTool("api", url).post("/items", {"item": "w"}, idempotency_key="k-w")
    by_field = HttpJsonTool("api", url, lookup="/items/by-key/{json[ref]}")
    call = MutationCall("api", "post", {"path": "/items", "json": {"ref": "k-w"}}, "other")
    found = by_field.reconcile(call)
    assert (found.status, found.result["item"]) == (Verdict.APPLIED, "w")
    assert HttpJsonTool("api", url, lookup=lambda c: None).reconcile(call).status is Verdict.RETRY
    broken = HttpJsonTool("api", url, lookup="/status/500")
    assert broken.reconcile(call).status is Verdict.RETRY
