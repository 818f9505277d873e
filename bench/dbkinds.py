"""Database kinds for the benchmark: a fresh, isolated database for every measurement.

SQLite: a new directory holding a new database file. PostgreSQL: a new database
(``CREATE DATABASE bench_...``) on the server named by ``--pg-url``, dropped afterwards. Only a
server on 127.0.0.1 is ever used.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

ALLOWED_PG_HOSTS = {"127.0.0.1"}
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_SETTINGS = ("synchronous_commit", "fsync", "wal_sync_method", "full_page_writes", "wal_level")


@dataclass(frozen=True)
class Target:
    """One fresh database: how runwright, DBOS and the raw-commit loop reach it."""

    kind: str
    runwright_url: str  # SQLAlchemy URL for runwright's Settings.database_url
    dbos_url: str  # URL for DBOS's system_database_url
    raw: str  # a file path (SQLite) or a libpq conninfo URL (PostgreSQL)
    workdir: Path  # scratch directory (runwright's home lives under it)


class SqliteKind:
    """Fresh SQLite files under a scratch directory."""

    name = "sqlite"

    def __init__(self, root: Path):
        self.root = root
        self._counter = itertools.count(1)

    @contextmanager
    def fresh(self, label: str) -> Iterator[Target]:
        """A new directory with a not-yet-created database file; removed afterwards."""
        workdir = self.root / f"{label}-{next(self._counter)}"
        workdir.mkdir(parents=True)
        path = workdir / "state.db"
        try:
            yield Target(
                kind=self.name,
                runwright_url=f"sqlite:///{path}",
                dbos_url=f"sqlite:///{path}",
                raw=str(path),
                workdir=workdir,
            )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def info(self) -> dict[str, Any]:
        """The SQLite library and where the files live."""
        return {
            "sqlite_version": sqlite3.sqlite_version,
            "workdir": str(self.root),
        }

    def close(self) -> None:
        """Nothing to release."""


def pg_admin_url(raw_url: str) -> URL:
    """The admin URL as a plain ``postgresql://`` URL, refusing any host but 127.0.0.1."""
    url = make_url(raw_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"--pg-url must be a PostgreSQL URL, got {url.get_backend_name()!r}")
    if url.host not in ALLOWED_PG_HOSTS:
        raise ValueError(f"--pg-url must point at 127.0.0.1 (got host {url.host!r})")
    return url.set(drivername="postgresql")


class PostgresKind:
    """A fresh database per measurement on a local PostgreSQL server."""

    name = "postgres"

    def __init__(self, admin_url: str, root: Path):
        self.admin = pg_admin_url(admin_url)
        self.root = root
        self._counter = itertools.count(1)
        self._prefix = f"bench_{os.getpid()}"
        with self._connect() as conn:
            conn.execute("SELECT 1")

    def _connect(self, database: str | None = None) -> psycopg.Connection[Any]:
        url = self.admin if database is None else self.admin.set(database=database)
        return psycopg.connect(
            url.render_as_string(hide_password=False), autocommit=True, connect_timeout=10
        )

    def _url(self, database: str, driver: str) -> str:
        return self.admin.set(database=database, drivername=driver).render_as_string(
            hide_password=False
        )

    @contextmanager
    def fresh(self, label: str) -> Iterator[Target]:
        """CREATE DATABASE bench_<pid>_<n>; DROP it (with FORCE) afterwards."""
        database = f"{self._prefix}_{next(self._counter)}_{label}".lower()
        workdir = self.root / database
        workdir.mkdir(parents=True)
        with self._connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        try:
            yield Target(
                kind=self.name,
                runwright_url=self._url(database, "postgresql+psycopg"),
                dbos_url=self._url(database, "postgresql"),
                raw=self._url(database, "postgresql"),
                workdir=workdir,
            )
        finally:
            with self._connect() as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(database)
                    )
                )
            shutil.rmtree(workdir, ignore_errors=True)

    def info(self) -> dict[str, Any]:
        """Server version and the settings that decide commit durability."""
        with self._connect() as conn:
            settings = {}
            for name in PG_SETTINGS:
                row = conn.execute(
                    "SELECT setting FROM pg_settings WHERE name = %s", (name,)
                ).fetchone()
                settings[name] = row[0] if row else None
            version_row = conn.execute("SHOW server_version").fetchone()
        return {
            "server_version": version_row[0] if version_row else None,
            "url": self.admin.render_as_string(hide_password=True),
            "settings": settings,
        }

    def close(self) -> None:
        """Drop any database of this process that a crash left behind."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                (f"{self._prefix}\\_%",),
            ).fetchall()
            for (database,) in rows:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(database)
                    )
                )


def scratch_root(base: str | None) -> Path:
    """A new scratch directory for database files and runwright homes."""
    parent = Path(base) if base else Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="runwright-bench-", dir=parent))
