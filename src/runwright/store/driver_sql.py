"""The hot-path idiom: a Core statement compiled once per dialect, sent on the driver's cursor.

``Connection.execute`` of even a prebuilt Core statement looks its compiled form up in the
statement cache, builds the parameter dictionary from every bind, runs each value through its
type's bind processor, fires events and sets up a typed result: tens of microseconds a
statement, more than SQLite needs to run it. The statements run for every durable step and
every claim are therefore kept as ``DriverStatement``: the same Core statement, compiled once
per dialect, with the bind processors of the parameters that have one (timestamps) looked up
once. Executing it sends exactly the SQL text and values SQLAlchemy would send (a contract test
checks this on both databases), on the DBAPI cursor of the caller's connection, inside the
caller's transaction, through the one function ``send``. Driver errors are wrapped as
SQLAlchemy wraps them, so the store's error translation sees them alike; a lost PostgreSQL
connection is invalidated so the pool does not hand it out again. A query's rows come back
as named tuples with each value converted by its column's type, as SQLAlchemy converts it
(timestamps stored as text on SQLite become aware datetimes); a ``text()`` statement's values
come back as the driver gives them.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement
from sqlalchemy.types import TypeEngine

from runwright.store.types import UtcDateTime

_REQUIRED: Any = object()
Entry = tuple[str, Callable[[Any], Any] | None, Any]


def _sqlite_utc(value: datetime | None) -> str | None:
    """What UtcDateTime and SQLite's DATETIME make of a timestamp, in one step: naive UTC text
    with microseconds (``2026-03-01 09:00:00.000000``)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The bind processor SQLAlchemy would apply (a shortcut for timestamps on SQLite)."""
    if isinstance(type_, UtcDateTime) and dialect.name == "sqlite":
        return _sqlite_utc
    return type_.dialect_impl(dialect).bind_processor(dialect)


class _Compiled:
    """One statement compiled for one dialect: its text and how to bind its parameters."""

    __slots__ = (
        "_dialect",
        "_typed",
        "_types",
        "columns",
        "entries",
        "names",
        "positional",
        "processors",
        "sql",
    )

    def __init__(self, stmt: ClauseElement, dialect: Dialect, keys: Sequence[str] | None):
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys) if keys else None)
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"not a SQL statement: {stmt!r}")
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a DriverStatement cannot expand parameters (IN lists)")
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError("a DriverStatement cannot compute column defaults")
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        names = compiled.positiontup if compiled.positional else None
        if names is None:
            names = list(dict.fromkeys(compiled.bind_names.values()))
        entries: list[Entry] = []
        for name in names:
            bind = compiled.binds[name]
            processor = _processor(bind.type, dialect)
            entries.append((name, processor, _REQUIRED if bind.required else bind.effective_value))
        self.entries = tuple(entries)
        self.names = tuple(names)
        # A query's columns and how the dialect turns each value into Python (timestamps
        # stored as text on SQLite, say): applied to the rows it returns.
        results = compiled._result_columns
        self.columns: tuple[str, ...] | None = (
            tuple(str(c[0]) for c in results) if results else None
        )
        self._types = tuple(c[3].dialect_impl(dialect) for c in results)
        self._dialect = dialect
        self.processors: tuple[Callable[[Any], Any] | None, ...] | None = None
        self._typed = not results  # processors are known (none needed when no columns)

    def row_processors(self, description: Any) -> tuple[Callable[[Any], Any] | None, ...] | None:
        """How each returned value becomes Python, found once from the first result's column
        type codes (PostgreSQL's numeric processors depend on them)."""
        if not self._typed:
            found = tuple(
                t.result_processor(self._dialect, d[1])
                for t, d in zip(self._types, description, strict=True)
            )
            self.processors = found if any(f is not None for f in found) else None
            self._typed = True
        return self.processors

    def bind(self, params: dict[str, Any]) -> Any:
        """The driver's parameters (a tuple for qmark, a dict for pyformat)."""
        values: list[Any] = []
        for name, processor, default in self.entries:
            value = params.get(name, default)
            if value is _REQUIRED:
                raise KeyError(f"parameter {name!r} is required by: {self.sql}")
            values.append(value if processor is None else processor(value))
        if self.positional:
            return tuple(values)
        return dict(zip(self.names, values, strict=True))


class DriverStatement:
    """A Core statement executed through ``exec_driver_sql`` (see the module docstring).

    ``keys`` names the columns an INSERT or UPDATE without explicit values is given (as
    ``Table.insert()`` compiled with those column keys). A parameter the statement fixed itself
    (``.values(state="running")``) keeps its value unless the caller passes one.
    """

    __slots__ = ("_by_dialect", "keys", "stmt")

    def __init__(self, stmt: ClauseElement, *, keys: Sequence[str] | None = None):
        self.stmt = stmt
        self.keys = tuple(keys) if keys else None
        self._by_dialect: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        """The statement compiled for ``dialect`` (once)."""
        key = f"{dialect.name}+{dialect.driver}"
        found = self._by_dialect.get(key)
        if found is None:
            found = self._by_dialect[key] = _Compiled(self.stmt, dialect, self.keys)
        return found

    def execute(
        self, conn: Connection, params: dict[str, Any] | Sequence[dict[str, Any]]
    ) -> DriverResult:
        """Run it with one parameter set, or with several (the driver's executemany)."""
        compiled = self.compiled(conn.dialect)
        if isinstance(params, dict):
            result = send(conn, compiled.sql, compiled.bind(params))
        else:
            result = send(conn, compiled.sql, [compiled.bind(p) for p in params], many=True)
        if compiled.columns is not None and result.description is not None:
            result.columns = compiled.columns
            result.processors = compiled.row_processors(result.description)
        return result


class DriverResult:
    """What a sent statement gave back: its row count and, for a query, its rows (tuples
    whose fields are also reachable by column name)."""

    __slots__ = ("_cursor", "columns", "processors", "rowcount")

    def __init__(self, cursor: Any):
        self._cursor = cursor
        self.rowcount: int = cursor.rowcount
        self.columns: tuple[str, ...] | None = None  # the statement's, when it is known
        self.processors: tuple[Callable[[Any], Any] | None, ...] | None = None

    def fetchone(self) -> Any:
        """The next row, or None."""
        row = self._cursor.fetchone()
        if row is None:
            return None
        if self.processors is not None:
            row = [v if f is None else f(v) for f, v in zip(self.processors, row, strict=True)]
        names = self.columns or tuple(d[0] for d in self._cursor.description)
        return _row_type(names)(*row)

    @property
    def description(self) -> Any:
        """The DBAPI description of the returned columns (None for a statement without rows)."""
        return self._cursor.description

    def first(self) -> Any:
        """The first row (or None); the rest are discarded."""
        if self._cursor.description is None:
            return None
        row = self.fetchone()
        self.close()
        return row

    def all(self) -> list[Any]:
        """Every remaining row."""
        rows = []
        while (row := self.fetchone()) is not None:
            rows.append(row)
        self.close()
        return rows

    def one(self) -> Any:
        """The only row; an error if there is none."""
        row = self.first()
        if row is None:
            raise LookupError("the statement returned no row")
        return row

    def close(self) -> None:
        """Release the cursor."""
        self._cursor.close()


@lru_cache(maxsize=256)
def _row_type(names: tuple[str, ...]) -> type[tuple[Any, ...]]:
    return namedtuple("DriverRow", names, rename=True)


def send(conn: Connection, sql: str, params: Any, *, many: bool = False) -> DriverResult:
    """Send one statement on the DBAPI cursor of ``conn`` (inside its transaction).

    Every hot statement goes through here; a driver error comes back wrapped as SQLAlchemy
    wraps it (``IntegrityError``, ``OperationalError``, ...).
    """
    raw: Any = conn.connection.dbapi_connection
    cursor = raw.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except Exception as exc:
        cursor.close()
        dbapi = conn.dialect.loaded_dbapi
        if not isinstance(exc, dbapi.Error):
            raise
        lost = conn.dialect.is_disconnect(exc, raw, cursor)
        wrapped = DBAPIError.instance(
            sql,
            params,
            exc,
            dbapi.Error,
            connection_invalidated=lost,
            dialect=conn.dialect,
            ismulti=many,
        )
        if lost:
            conn.invalidate(exc)
        raise wrapped from exc
    return DriverResult(cursor)
