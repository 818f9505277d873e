"""The database handle: engine set-up per dialect, transactions, and driver-error translation.

SQLite: WAL, ``BEGIN IMMEDIATE`` for writers, a busy timeout, foreign keys on, and
``synchronous=FULL`` unless the user opts into something weaker. PostgreSQL: psycopg 3,
READ COMMITTED, claims with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from runwright.errors import ConfigError, Conflict, StorageError, StoreUnavailable
from runwright.store.wake_signal import signal_workers, wake_dir

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
APPLICATION_NAME = "runwright"  # how runwright's connections show up in pg_stat_activity
_PG_RETRY_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock
_SQLITE_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED


def normalize_url(url: str) -> URL:
    """Parse a database URL, defaulting PostgreSQL to the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(
            f"database URL {url!r} cannot be parsed: {exc}",
            hint="use sqlite:///path/to/state.db or postgresql+psycopg://user@host/db",
            field="database_url",
        ) from exc
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigError(
            f"unsupported database {parsed.get_backend_name()!r}",
            hint="runwright runs on SQLite (default) or PostgreSQL",
            field="database_url",
        )
    return parsed


class Database:
    """One database: an engine, its dialect hooks and a transaction helper."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 5):
        self.url = normalize_url(url)
        self.dialect = self.url.get_backend_name()
        self.sqlite_synchronous = sqlite_synchronous
        self.engine = self._create_engine(pool_size)
        self._pins = threading.local()

    @property
    def is_sqlite(self) -> bool:
        """True on SQLite."""
        return self.dialect == "sqlite"

    @property
    def display_url(self) -> str:
        """The URL with any password hidden."""
        return self.url.render_as_string(hide_password=True)

    def _create_engine(self, pool_size: int) -> Engine:
        if self.is_sqlite:
            database = self.url.database or ""
            if database and database != ":memory:":
                _make_folder(Path(database))
            engine = create_engine(
                self.url,
                isolation_level="AUTOCOMMIT",
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                pool_size=pool_size,
                max_overflow=10,
            )
            synchronous = self.sqlite_synchronous

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute(f"PRAGMA synchronous={synchronous}")
                cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()

            return engine
        connect_args: dict[str, Any] = {"connect_timeout": 10}
        if "application_name" not in self.url.query:
            connect_args["application_name"] = APPLICATION_NAME
        return create_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=10,
            connect_args=connect_args,
        )

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Connection]:
        """One transaction; SQLite writers take the write lock up front (BEGIN IMMEDIATE).

        On SQLite, and on PostgreSQL over a pinned connection, the connection is in autocommit
        mode and BEGIN, COMMIT and ROLLBACK go to the driver's connection directly
        (``driver_control``): through SQLAlchemy's statement machinery they cost about as much
        as the statements of a small transaction themselves.
        """
        try:
            with self._connection() as conn:
                if self.is_sqlite or conn.info.get(_EXPLICIT):
                    raw: Any = conn.connection.driver_connection
                    begin = "BEGIN IMMEDIATE" if write and self.is_sqlite else "BEGIN"
                    driver_control(raw, begin)
                    try:
                        yield conn
                    except BaseException:
                        conn.info.pop(WAKE_FLAG, None)
                        if _in_transaction(raw):  # SQLite may have rolled back already
                            driver_control(raw, "ROLLBACK")
                        raise
                    driver_control(raw, "COMMIT")
                    if conn.info.pop(WAKE_FLAG, False):
                        self.wake_workers()
                else:
                    with conn.begin():
                        yield conn
        except DBAPIError as exc:
            raise translate(exc) from exc

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """While the block runs, this thread's transactions reuse one pooled connection.

        A worker's loop runs a transaction per durable step; checking a connection out of the
        pool and back in for each costs about as much CPU as the step's statements. The pinned
        connection is dropped (and a fresh one taken) after any error, and returned to the pool
        when the block ends. Blocks nest; other threads are not affected.
        """
        depth = getattr(self._pins, "depth", 0)
        self._pins.depth = depth + 1
        try:
            yield
        finally:
            self._pins.depth = depth
            if depth == 0:
                self._drop_pinned()

    def _drop_pinned(self) -> None:
        conn: Connection | None = getattr(self._pins, "conn", None)
        self._pins.conn = None
        if conn is not None:
            conn.close()

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A connection for one transaction: this thread's pinned one, or one from the pool."""
        if not getattr(self._pins, "depth", 0):
            with self.engine.connect() as conn:
                yield conn
            return
        pinned: Connection | None = getattr(self._pins, "conn", None)
        if pinned is None or pinned.closed or pinned.invalidated:
            pinned = self._pins.conn = self.engine.connect()
            if not self.is_sqlite:  # transactions say BEGIN; one statement needs none
                pinned.execution_options(isolation_level="AUTOCOMMIT")
                pinned.info[_EXPLICIT] = True
        try:
            yield pinned
        except BaseException:
            self._drop_pinned()
            raise

    @contextmanager
    def single_statement(self) -> Iterator[Connection]:
        """A connection in autocommit mode, for one self-contained (atomic) statement."""
        try:
            if getattr(self._pins, "depth", 0):
                with self._connection() as conn:  # pinned connections are in autocommit mode
                    yield conn
                    if conn.info.pop(WAKE_FLAG, False):
                        self.wake_workers()
                return
            with self.engine.connect() as raw:
                yield raw if self.is_sqlite else raw.execution_options(isolation_level="AUTOCOMMIT")
                if raw.info.pop(WAKE_FLAG, False):
                    self.wake_workers()
        except DBAPIError as exc:
            raise translate(exc) from exc

    @property
    def wake_folder(self) -> Path | None:
        """Where idle workers of this SQLite file listen for wake-ups (None: not a file)."""
        database = self.url.database or ""
        if not self.is_sqlite or not database or database == ":memory:":
            return None
        return wake_dir(Path(database))

    def wake_workers(self) -> None:
        """Signal idle workers on this SQLite file that work may be ready (a hint only)."""
        folder = self.wake_folder
        if folder is not None:
            signal_workers(folder)

    def run(
        self,
        fn: Callable[[Connection], T],
        *,
        write: bool = True,
        retries: int = 5,
        single_statement: bool = False,
    ) -> T:
        """Run ``fn`` in one transaction, retrying serialization failures and brief outages.

        ``single_statement=True`` runs ``fn`` (which must issue exactly one statement) in
        autocommit, saving the BEGIN and COMMIT round trips on PostgreSQL.
        """
        delay = 0.05
        for attempt in range(retries + 1):
            try:
                if single_statement:
                    with self.single_statement() as conn:
                        return fn(conn)
                with self.transaction(write=write) as conn:
                    return fn(conn)
            except StoreUnavailable:
                if attempt == retries:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")  # pragma: no cover

    def dispose(self) -> None:
        """Close every pooled connection (and this thread's pinned one)."""
        self._drop_pinned()
        self.engine.dispose()


def _make_folder(database: Path) -> None:
    """Create the folder of a SQLite file, or say in one line why it cannot be one."""
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"database_url: SQLite file {database} cannot be created: {exc.strerror or exc}",
            hint="point RUNWRIGHT_DATABASE_URL (or --database-url) at a file in a folder "
            "you can write",
            field="database_url",
            path=str(database),
        ) from exc


#: Set on a connection whose transaction made work ready; the wake-up goes out after COMMIT.
WAKE_FLAG = "runwright_wake"


#: Set on a pinned PostgreSQL connection: autocommit, with BEGIN/COMMIT sent explicitly.
_EXPLICIT = "runwright_explicit_transactions"


def driver_control(raw: Any, statement: str) -> None:
    """Run BEGIN / COMMIT / ROLLBACK on the driver's connection, with its errors wrapped the
    way SQLAlchemy wraps them (so ``translate`` classifies them alike)."""
    try:
        raw.execute(statement)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc
    except Exception as exc:
        if not type(exc).__module__.startswith("psycopg"):
            raise
        import psycopg

        if not isinstance(exc, psycopg.Error):
            raise
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


def _in_transaction(raw: Any) -> bool:
    """Whether the driver's connection has a transaction open (SQLite or psycopg)."""
    if isinstance(raw, sqlite3.Connection):
        return raw.in_transaction
    import psycopg

    return bool(raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE)


def translate(exc: DBAPIError) -> Exception:
    """Map a driver error to a runwright error that says what the caller should do.

    Classification uses the driver's codes (PostgreSQL SQLSTATE, SQLite result codes); the only
    text check is SQLite's missing-table message, which has no code of its own.
    """
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    sqlite_code = getattr(orig, "sqlite_errorcode", None)
    text = str(orig) if orig is not None else str(exc)
    first_line = text.strip().splitlines()[0] if text.strip() else text
    if sqlstate in _PG_RETRY_SQLSTATES:
        return StoreUnavailable(f"database asked to retry: {first_line}", hint="retrying")
    if isinstance(exc, IntegrityError):
        return Conflict(f"database constraint violated: {first_line}")
    missing_table = sqlstate == "42P01" or (sqlite_code == 1 and "no such table" in text)
    if missing_table:
        return StorageError(
            f"database schema is missing: {first_line}", hint="run `runwright db upgrade`"
        )
    unavailable = (
        exc.connection_invalidated
        or sqlite_code in _SQLITE_BUSY_CODES
        or (sqlstate is not None and sqlstate[:2] in {"08", "57"})
        or (isinstance(exc, OperationalError) and sqlstate is None and sqlite_code is None)
    )
    if unavailable:
        return StoreUnavailable(
            f"database unavailable: {first_line}",
            hint="check that the database is running and reachable; workers wait and retry",
        )
    return StorageError(f"database error: {first_line}")
