"""The tests' databases: copies of a template migrated once per session, as good as migrated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, make_url, text

from runwright.store.database import Database
from runwright.store.migrate import head_revisions, read_current, upgrade
from tests import pg
from tests.pg_schemas import Schemas


def _shape(url: str) -> dict[str, Any]:
    """Every table's columns, keys, constraints and indexes, and the Alembic revisions."""
    db = Database(url)
    try:
        with db.transaction(write=False) as conn:
            insp = inspect(conn)
            shape: dict[str, Any] = {}
            for table in sorted(insp.get_table_names()):
                columns = [
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in insp.get_columns(table)
                ]
                shape[table] = {
                    "columns": columns,
                    "pk": insp.get_pk_constraint(table),
                    "fks": insp.get_foreign_keys(table),
                    "unique": insp.get_unique_constraints(table),
                    "checks": insp.get_check_constraints(table),
                    "indexes": insp.get_indexes(table),
                }
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            shape["alembic_version"] = sorted(rows)
        return shape
    finally:
        db.dispose()


@pytest.mark.postgres
def test_a_replayed_postgres_schema_equals_one_migrated_by_alembic(
    pg_url: str, empty_pg_url: str
) -> None:
    """A test's PostgreSQL schema (the recorded migration replayed) has the same tables,
    columns, keys, constraints, indexes and Alembic revisions as one Alembic migrates."""
    db = Database(empty_pg_url)
    try:
        upgrade(db)
    finally:
        db.dispose()
    replayed, migrated = _shape(pg_url), _shape(empty_pg_url)
    assert len(replayed) > 20
    assert replayed == migrated


def test_every_test_gets_a_fresh_database_at_head(db_url: str, tmp_path: Path) -> None:
    """``db_url`` is at the head revision, holds no runs, and on SQLite is a file in the
    test's own temp dir."""
    db = Database(db_url)
    try:
        assert read_current(db) == head_revisions()
        with db.transaction(write=False) as conn:
            assert conn.execute(text("SELECT count(*) FROM runs")).scalar_one() == 0
    finally:
        db.dispose()
    if db.is_sqlite:
        assert Path(str(make_url(db_url).database)).parent == tmp_path


def _tables(url: str) -> set[str]:
    db = Database(url)
    try:
        with db.transaction(write=False) as conn:
            return set(inspect(conn).get_table_names())
    finally:
        db.dispose()


def test_a_tests_changes_stay_in_its_own_copy(db_url: str, request: pytest.FixtureRequest) -> None:
    """A table a test creates is in its database only: the next copy made from the same
    template (the SQLite file, or the PostgreSQL schema replayed) does not have it."""
    db = Database(db_url)
    try:
        with db.transaction() as conn:
            conn.execute(text("CREATE TABLE scratch (x INTEGER)"))
    finally:
        db.dispose()
    assert "scratch" in _tables(db_url)
    if db.is_sqlite:
        template: Path = request.getfixturevalue("sqlite_template")
        assert "runs" in _tables(f"sqlite:///{template}")
        assert "scratch" not in _tables(f"sqlite:///{template}")
        return
    base: str = request.getfixturevalue("pg_base_url")
    schemas: Schemas = request.getfixturevalue("pg_schemas")
    schema = schemas.create(request.getfixturevalue("pg_template"))
    try:
        assert "runs" in _tables(pg.schema_url(base, schema))
        assert "scratch" not in _tables(pg.schema_url(base, schema))
    finally:
        schemas.drop(schema)
