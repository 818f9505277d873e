"""PostgreSQL for the tests: the configured server, or a throwaway cluster on a free port.

``RUNWRIGHT_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``) is
tried first. If nothing answers there and the server binaries are installed, a temporary
cluster is started on a free loopback port and stopped afterwards. Each test then gets its
own schema through ``search_path``. ``RUNWRIGHT_TEST_PG_BINARIES`` names the binaries'
folder, or ``none`` to pretend they are not installed.

A migrated schema is made by replaying a :class:`SchemaTemplate`: the statements that
runwright's migrations sent to the server while migrating one empty schema, recorded once per
test session. Migrating through Alembic costs a test about half a second; the replay sends
the same statements without the Python around them and without the migration lock, which
every test run on the server would otherwise queue for.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import make_url

from runwright.store.database import Database
from runwright.store.migrate import upgrade

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def configured_url() -> str:
    """The URL the tests should try first."""
    return os.environ.get("RUNWRIGHT_TEST_POSTGRES_URL", DEFAULT_URL)


def answers(url: str) -> bool:
    """True if a PostgreSQL server accepts a connection at ``url``."""
    try:
        with psycopg.connect(_libpq(url), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _bin_dir() -> Path | None:
    override = os.environ.get("RUNWRIGHT_TEST_PG_BINARIES")
    if override == "none":
        return None
    if override:
        return Path(override)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary directory, for tests only."""

    def __init__(self, root: Path, bin_dir: Path):
        self.root = root
        self.bin = bin_dir
        self.data = root / "data"
        self.port = _free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *argv: str) -> None:
        proc = subprocess.run(
            [*self._as_user, *argv], check=False, capture_output=True, text=True, timeout=120
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {proc.stderr.strip() or proc.stdout}")

    def start(self) -> str:
        """Create and start the cluster; return a URL to its ``test`` database."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self._as_user:
            shutil.chown(self.root, user="postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust")
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            f"-h 127.0.0.1 -p {self.port} -k {self.root}",
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )
        url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE test")
        return f"postgresql://postgres@127.0.0.1:{self.port}/test"

    def stop(self) -> None:
        """Stop the cluster and remove its directory."""
        with contextlib.suppress(RuntimeError, subprocess.SubprocessError):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def server() -> Iterator[str | None]:
    """Yield a URL of a running server, starting a throwaway one if needed; None if none.

    The throwaway cluster lives in its own directory under the system temp dir, because the
    server refuses to run as root and must be able to reach its data directory.
    """
    url = configured_url()
    if answers(url):
        yield url
        return
    bin_dir = _bin_dir()
    if bin_dir is None:
        yield None
        return
    cluster = ThrowawayCluster(Path(tempfile.mkdtemp(prefix="runwright-pg-")), bin_dir)
    started = cluster.start()
    deadline = time.monotonic() + 30
    while not answers(started) and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        yield started
    finally:
        cluster.stop()


def schema_url(base: str, schema: str) -> str:
    """``base`` with ``search_path`` pinned to ``schema``."""
    url = make_url(base).set(drivername="postgresql+psycopg")
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


def create_schema(base: str) -> str:
    """Create a fresh schema for one test; return its name."""
    name = f"rw_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(base), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    return name


def drop_schema(base: str, name: str) -> None:
    """Drop a test's schema and everything in it."""
    with psycopg.connect(_libpq(base), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@dataclass(frozen=True)
class Statement:
    """One statement as the driver received it."""

    sql: str
    params: Any
    many: bool


@dataclass(frozen=True)
class SchemaTemplate:
    """What migrating an empty schema to the head revision sends to the server."""

    statements: tuple[Statement, ...]


def record_migration(base: str) -> SchemaTemplate:
    """Migrate a scratch schema to the head revision, recording every statement sent.

    The migration lock (a server-wide advisory lock) is left out: a schema being built for
    one test is seen by no one else. Everything else, ``alembic_version`` included, is kept.
    """
    schema = create_schema(base)
    recorded: list[Statement] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, _context: Any, many: bool) -> None:
        if "pg_advisory" not in sql:
            recorded.append(Statement(sql, params, many))

    db = Database(schema_url(base, schema))
    try:
        event.listen(db.engine, "before_cursor_execute", record)
        upgrade(db)
    finally:
        db.dispose()
        drop_schema(base, schema)
    return SchemaTemplate(tuple(recorded))


def clone_schema(base: str, template: SchemaTemplate) -> str:
    """Create a fresh schema migrated by replaying ``template`` in one transaction."""
    name = f"rw_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(base)) as conn, conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{name}"')
        cur.execute(f'SET LOCAL search_path TO "{name}"')
        for st in template.statements:
            if st.many:
                cur.executemany(st.sql, st.params)
            else:
                cur.execute(st.sql, st.params)
    return name
