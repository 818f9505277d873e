"""A SQL database table as a tool (any SQLAlchemy URL): insert by unique key, reconcile by lookup.

A row is written in its own transaction. An error before COMMIT rolled the write back, so it is
transient (or logic for a bad statement); an error during COMMIT leaves the outcome unknown.
``insert`` of a key that already holds the same values counts as applied (a retry after a lost
answer); other values under that key are a logic error. A row the table refuses for another
reason (a CHECK, NOT NULL, foreign-key or other unique constraint) is a logic error naming the
kind of constraint and the database's own words. On SQLite foreign keys are enforced. Reconcile
looks the key up.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import MetaData, Table, create_engine, event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import (
    DataError,
    IntegrityError,
    NoSuchTableError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)

from runwright.workflows.errors import (
    InternalError,
    LogicError,
    TransientError,
    UncertainError,
)
from runwright.workflows.tools import MutationCall, Reconciliation, Tool, mutation, read


def _same(row: dict[str, Any], found: dict[str, Any]) -> bool:
    return all(found.get(k) == v for k, v in row.items())


#: Constraint kinds by PostgreSQL SQLSTATE and by SQLite extended result code name.
_PG_KINDS = {"23505": "unique", "23514": "CHECK", "23502": "NOT NULL", "23503": "foreign-key"}
_SQLITE_KINDS = {
    "SQLITE_CONSTRAINT_UNIQUE": "unique",
    "SQLITE_CONSTRAINT_PRIMARYKEY": "unique",
    "SQLITE_CONSTRAINT_CHECK": "CHECK",
    "SQLITE_CONSTRAINT_NOTNULL": "NOT NULL",
    "SQLITE_CONSTRAINT_FOREIGNKEY": "foreign-key",
}


@dataclass(frozen=True)
class Violation:
    """Which constraint a refused write broke: its kind ("" when the driver does not say) and
    the database's message."""

    kind: str
    detail: str

    def describe(self) -> str:
        """``a CHECK constraint (…)`` or ``a constraint (…)``."""
        return f"a {self.kind + ' ' if self.kind else ''}constraint ({self.detail})"


def violation(exc: IntegrityError) -> Violation:
    """The constraint behind an IntegrityError, from the driver's codes (never its wording)."""
    orig = exc.orig
    text = str(orig if orig is not None else exc).strip()
    detail = text.splitlines()[0] if text else type(exc).__name__
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        diag = getattr(orig, "diag", None)
        detail = getattr(diag, "message_primary", None) or detail
        return Violation(_PG_KINDS.get(sqlstate, ""), detail)
    return Violation(_SQLITE_KINDS.get(getattr(orig, "sqlite_errorname", "") or "", ""), detail)


def _sqlite_foreign_keys(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class SqlTool(Tool):
    """One table with a unique ``key`` column, in the database at ``url``."""

    def __init__(self, namespace: str, url: str, *, table: str, key: str, timeout: float = 30.0):
        super().__init__(namespace, timeout=timeout)
        self.url = url
        self.table_name = table
        self.key = key
        self._engine: Engine | None = None
        self._table: Table | None = None
        self._lock = threading.Lock()

    def engine(self) -> Engine:
        """The engine (created on first use)."""
        with self._lock:
            if self._engine is None:
                args: dict[str, Any] = {}
                sqlite = self.url.startswith("sqlite")
                if sqlite:
                    args["connect_args"] = {"timeout": self.timeout}
                self._engine = create_engine(self.url, **args)
                if sqlite:
                    event.listen(self._engine, "connect", _sqlite_foreign_keys)
            return self._engine

    def close(self) -> None:
        """Release the connection pool."""
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def table(self, conn: Connection) -> Table:
        """The table, reflected from the database."""
        if self._table is None:
            try:
                self._table = Table(self.table_name, MetaData(), autoload_with=conn)
            except NoSuchTableError as exc:
                raise LogicError(
                    f"table {self.table_name!r} does not exist at {self.namespace}"
                ) from exc
        return self._table

    def _connect(self) -> Connection:
        try:
            return self.engine().connect()
        except SQLAlchemyError as exc:
            raise TransientError(
                f"{self.namespace}: cannot connect ({exc.__class__.__name__})"
            ) from exc

    def _lookup(self, conn: Connection, value: Any) -> dict[str, Any] | None:
        t = self.table(conn)
        row = conn.execute(select(t).where(t.c[self.key] == value)).first()
        return None if row is None else dict(row._mapping)

    # ---- reads ------------------------------------------------------------------------
    @read
    def get(self, key: Any) -> dict[str, Any] | None:
        """The row with this key, or None."""
        with self._connect() as conn:
            try:
                return self._lookup(conn, key)
            except OperationalError as exc:
                raise TransientError(str(exc.orig)) from exc

    @read
    def select(self, where: dict[str, Any] | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Rows matching ``where`` (equality on each column), at most ``limit``."""
        with self._connect() as conn:
            try:
                t = self.table(conn)
                q = select(t).limit(limit)
                for col, value in (where or {}).items():
                    q = q.where(t.c[col] == value)
                return [dict(r._mapping) for r in conn.execute(q)]
            except OperationalError as exc:
                raise TransientError(str(exc.orig)) from exc
            except KeyError as exc:
                raise LogicError(f"no column {exc} in {self.table_name}") from exc

    # ---- writes -----------------------------------------------------------------------
    def _write(self, build: Any) -> dict[str, Any]:
        conn = self._connect()
        try:
            tx = conn.begin()
            try:
                result = build(conn)
            except IntegrityError:
                tx.rollback()
                raise
            except (ProgrammingError, DataError, KeyError) as exc:
                tx.rollback()
                raise LogicError(f"{self.namespace}: {exc}") from exc
            except OperationalError as exc:
                tx.rollback()
                raise TransientError(f"{self.namespace}: {exc.orig}") from exc
            try:
                tx.commit()
            except IntegrityError:
                raise  # a deferred constraint refused it: rolled back, nothing written
            except SQLAlchemyError as exc:
                raise UncertainError(f"{self.namespace}: COMMIT failed: {exc}") from exc
            return dict(result)
        finally:
            conn.close()

    @mutation
    def insert(self, row: dict[str, Any]) -> dict[str, Any]:
        """Insert ``row``; its key must be new (the same row again counts as done)."""
        if self.key not in row:
            raise LogicError(f"the row has no {self.key!r} (the unique key)")

        def build(conn: Connection) -> dict[str, Any]:
            conn.execute(self.table(conn).insert().values(**row))
            return row

        try:
            return self._write(build)
        except IntegrityError as exc:
            broke = violation(exc)
            found = None
            if broke.kind in {"unique", ""}:
                with self._connect() as conn:
                    found = self._lookup(conn, row[self.key])
            if found is not None and _same(row, found):
                return found
            if found is not None and broke.kind == "unique":
                raise LogicError(
                    f"{self.table_name}: {self.key}={row[self.key]!r} exists with other values"
                ) from exc
            raise LogicError(
                f"{self.table_name}: the row with {self.key}={row[self.key]!r} breaks "
                f"{broke.describe()}"
            ) from exc

    @mutation
    def update(self, key: Any, values: dict[str, Any]) -> dict[str, Any]:
        """Set ``values`` on the row with ``key`` (it must exist)."""

        def build(conn: Connection) -> dict[str, Any]:
            t = self.table(conn)
            res = conn.execute(t.update().where(t.c[self.key] == key).values(**values))
            if res.rowcount == 0:
                raise KeyError(f"no row with {self.key}={key!r}")
            return {self.key: key, **values}

        try:
            return self._write(build)
        except IntegrityError as exc:
            raise LogicError(
                f"{self.table_name}: the update of {self.key}={key!r} breaks "
                f"{violation(exc).describe()}"
            ) from exc

    # ---- reconcile --------------------------------------------------------------------
    def reconcile(self, call: MutationCall) -> Reconciliation:
        """Look the key up: the row with the written values → applied; else failed."""
        if call.method == "insert":
            wanted = dict(call.params.get("row") or {})
            value = wanted.get(self.key)
        elif call.method == "update":
            wanted = {self.key: call.params.get("key"), **(call.params.get("values") or {})}
            value = call.params.get("key")
        else:
            return Reconciliation.retry(f"cannot reconcile {call.method}")
        try:
            with self.engine().connect() as conn:
                found = self._lookup(conn, value)
        except SQLAlchemyError as exc:
            return Reconciliation.retry(f"lookup failed: {exc.__class__.__name__}")
        except InternalError as exc:
            return Reconciliation.retry(str(exc))
        if found is not None and _same(wanted, found):
            return Reconciliation.applied(found)
        return Reconciliation.failed(f"{self.key}={value!r} does not hold the written values")
