"""Migrations reach exactly the declared schema, and the version guard holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from runwright.errors import SchemaMismatch
from runwright.store.database import Database
from runwright.store.migrate import (
    SCHEMA_HEADS,
    current_revisions,
    ensure_schema,
    head_revisions,
    read_current,
    script_heads,
    upgrade,
)
from runwright.store.schema import metadata


def test_the_migrated_schema_equals_the_declared_one(db_url: str) -> None:
    """`upgrade heads` on an empty database builds exactly the tables, columns and indexes
    declared in schema.py (Alembic finds no difference)."""
    db = Database(db_url)
    try:
        upgrade(db)
        with db.transaction() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), metadata
            )
            tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert set(metadata.tables) <= tables
    finally:
        db.dispose()


def test_the_declared_heads_are_the_heads_of_the_migration_scripts() -> None:
    """The schema version the store checks on opening (without loading Alembic) is the one the
    migration scripts end at: a new migration that forgets to update it fails here."""
    assert script_heads() == SCHEMA_HEADS


def test_the_revision_read_without_alembic_is_the_one_alembic_reads(db_url: str) -> None:
    """On a fresh database and on a migrated one, the plain query of the version table gives
    the revisions Alembic's own migration context gives."""
    db = Database(db_url)
    try:
        for _ in range(2):
            with db.transaction() as conn:
                ours = current_revisions(conn)
                theirs = frozenset(MigrationContext.configure(conn).get_current_heads())
            assert ours == theirs
            upgrade(db)
        assert read_current(db) == SCHEMA_HEADS
    finally:
        db.dispose()


def test_opening_a_current_store_does_not_load_alembic(db_url: str, tmp_path: Path) -> None:
    """A command on a store whose schema is current starts without importing Alembic."""
    db = Database(db_url)
    try:
        upgrade(db)
    finally:
        db.dispose()
    code = (
        "import sys\n"
        "from runwright.store.database import Database\n"
        "from runwright.store.migrate import ensure_schema\n"
        f"db = Database({db_url!r})\n"
        "ensure_schema(db, auto_migrate=True)\n"
        "db.dispose()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip() == "[]"


def test_upgrading_twice_changes_nothing(db_url: str) -> None:
    """A second upgrade is a no-op that reports the same revisions before and after."""
    db = Database(db_url)
    try:
        upgrade(db)
        before, after = upgrade(db)
        assert before == after == head_revisions()
    finally:
        db.dispose()


def test_a_schema_newer_than_the_code_is_refused(db_url: str) -> None:
    """If the database was migrated by a newer runwright, we refuse instead of corrupting it."""
    db = Database(db_url)
    try:
        upgrade(db)
        with db.transaction() as conn:  # one row per Alembic branch head: replace them all
            conn.execute(text("DELETE FROM alembic_version"))
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('9999_future')"))
        with pytest.raises(SchemaMismatch, match="newer"):
            ensure_schema(db, auto_migrate=True)
    finally:
        db.dispose()


def test_a_behind_schema_without_auto_migrate_says_to_upgrade(db_url: str) -> None:
    """With auto-migration off, an empty database is refused with the command to run."""
    db = Database(db_url)
    try:
        with pytest.raises(SchemaMismatch) as err:
            ensure_schema(db, auto_migrate=False)
        assert "runwright db upgrade" in (err.value.hint or "")
        assert read_current(db) == frozenset()
    finally:
        db.dispose()


def test_many_processes_opening_a_fresh_database_migrate_it_once(
    db_url: str, tmp_path: Path
) -> None:
    """Workers starting together on an empty database all succeed; the schema ends current."""
    code = (
        "import sys; from runwright.store.database import Database; "
        "from runwright.store.migrate import ensure_schema; "
        "db = Database(sys.argv[1]); ensure_schema(db, auto_migrate=True); print('ok')"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, db_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [o[1][-500:] for o in outputs]
    db = Database(db_url)
    try:
        assert read_current(db) == head_revisions()
    finally:
        db.dispose()
