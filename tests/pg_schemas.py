"""The tests' PostgreSQL schemas: each fresh, migrated by replaying a recorded migration.

Migrating a schema through Alembic costs a test about half a second, and every migration on
the server queues for runwright's server-wide migration lock. Instead, one schema per test
session is migrated through Alembic while every statement the driver receives is recorded;
the statements, rendered with their parameters, make a :class:`SchemaTemplate`'s script.
Each test's schema is then created and migrated by that script in one transaction and one
round trip, over a connection kept for the session: under load, the round trips and the new
connections, not the server's work, were what a schema cost.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import event

from runwright.store.database import Database
from runwright.store.migrate import upgrade
from tests.pg import create_schema, drop_schema, libpq, schema_url

_SEPARATOR = "\n;\n"  # on its own line: a statement may end in a -- comment


@dataclass(frozen=True)
class SchemaTemplate:
    """The SQL that migrating an empty schema to the head revision sent, as one script."""

    script: str


def record_migration(base: str) -> SchemaTemplate:
    """Migrate a scratch schema to the head revision and record every statement it sent.

    Statements are rendered with their parameters as the driver would bind them. The
    migration lock (a server-wide advisory lock) is left out: a schema being made for one
    test is seen by no one else. Everything else, ``alembic_version`` included, is kept.
    """
    schema = create_schema(base)
    recorded: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        if "pg_advisory" in sql:
            return
        recorded.extend((sql, p) for p in (params if many else [params]))

    db = Database(schema_url(base, schema))
    try:
        event.listen(db.engine, "before_cursor_execute", record)
        upgrade(db)
    finally:
        db.dispose()
        drop_schema(base, schema)
    with psycopg.connect(libpq(base)) as conn:
        render = psycopg.ClientCursor(conn)
        script = _SEPARATOR.join(render.mogrify(sql, params) for sql, params in recorded)
    return SchemaTemplate(script)


class Schemas:
    """Creates and drops the tests' schemas over one connection kept for the test session."""

    def __init__(self, base: str):
        self.base = base
        self._conn: psycopg.Connection[Any] | None = None

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(libpq(self.base), autocommit=True)
        return self._conn

    def create(self, template: SchemaTemplate | None = None) -> str:
        """A fresh schema, migrated by ``template``'s script if given; return its name."""
        name = f"rw_{uuid.uuid4().hex[:12]}"
        sql = f'CREATE SCHEMA "{name}"'
        if template is not None:
            sql += f'{_SEPARATOR}SET LOCAL search_path TO "{name}"{_SEPARATOR}{template.script}'
        conn = self._connection()
        with conn.transaction():
            conn.execute(sql)
        return name

    def drop(self, name: str) -> None:
        """Drop a schema and everything in it."""
        self._connection().execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    def close(self) -> None:
        """Close the session's connection."""
        if self._conn is not None:
            self._conn.close()
