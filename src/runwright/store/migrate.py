"""Schema migrations with Alembic: upgrade, current revision, and the version guard.

Migrations run under a lock (SQLite's write lock, a PostgreSQL advisory lock) so that many
workers starting at once on a fresh database upgrade it exactly once.

Opening a store whose schema is current reads ``alembic_version`` with one plain query and
compares it with ``SCHEMA_HEADS``; Alembic itself (a third of a second to import) is only
loaded to upgrade a database or to name the revisions of one that is not current.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text

from runwright.errors import SchemaMismatch
from runwright.store.database import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_PG_LOCK_KEY = 0x52756E77  # "Runw"

#: The revisions this version of runwright expects the database to be at: the heads of the
#: migration scripts, one per branch (a test checks that they agree; a new migration updates
#: its branch's entry here).
SCHEMA_HEADS: frozenset[str] = frozenset(
    {
        "0002_execmodel",
        "0004_patches",
        "0008_plan_spend",
        "0009_wf_skipped_mutations",
        "0011_run_features",
    }
)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at runwright's migrations, bound to ``connection``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revisions() -> frozenset[str]:
    """The revisions this version of runwright expects the database to be at."""
    return SCHEMA_HEADS


@lru_cache(maxsize=1)
def script_heads() -> frozenset[str]:
    """The heads of the migration scripts, as Alembic reads them."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


@lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    """Every revision this version of runwright knows."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(rev.revision for rev in script.walk_revisions())


_HAS_VERSION_TABLE = {
    "sqlite": text(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ),
    "postgresql": text(
        "SELECT count(*) FROM (SELECT to_regclass('alembic_version') AS t) v WHERE t IS NOT NULL"
    ),
}
_VERSIONS = text("SELECT version_num FROM alembic_version")


def current_revisions(conn: Connection) -> frozenset[str]:
    """The revisions the database is at (empty for a fresh database)."""
    probe = _HAS_VERSION_TABLE.get(conn.dialect.name)
    if probe is None:  # another dialect: ask Alembic
        from alembic.runtime.migration import MigrationContext

        return frozenset(MigrationContext.configure(conn).get_current_heads())
    if not conn.execute(probe).scalar_one():
        return frozenset()
    return frozenset(str(v) for v in conn.execute(_VERSIONS).scalars())


def read_current(db: Database) -> frozenset[str]:
    """The database's current revisions, read in their own transaction."""
    with db.transaction(write=False) as conn:
        return current_revisions(conn)


def upgrade(db: Database) -> tuple[frozenset[str], frozenset[str]]:
    """Upgrade the database to the newest schema; return (before, after) revisions."""
    with db.transaction(write=True) as conn:
        if not db.is_sqlite:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        before = current_revisions(conn)
        _refuse_newer(before)
        if before != head_revisions():
            from alembic import command

            command.upgrade(alembic_config(conn), "heads")
        after = current_revisions(conn)
    return before, after


def _refuse_newer(current: frozenset[str]) -> None:
    unknown = current - known_revisions()
    if unknown:
        raise SchemaMismatch(
            f"the database schema ({', '.join(sorted(unknown))}) is newer than this runwright",
            hint="upgrade runwright (pip install -U runwright) before using this database",
        )


def ensure_schema(db: Database, *, auto_migrate: bool) -> None:
    """Make sure the schema is current: upgrade it if allowed, refuse if it is newer."""
    current = read_current(db)
    if current == head_revisions():
        return
    _refuse_newer(current)
    if not auto_migrate:
        raise SchemaMismatch(
            "the database schema is behind this version of runwright",
            hint="run `runwright db upgrade`",
        )
    upgrade(db)
