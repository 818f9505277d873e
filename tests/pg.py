"""PostgreSQL for the tests: the configured server, or a throwaway cluster on a free port.

``RUNWRIGHT_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``) is
tried first. If nothing answers there and the server binaries are installed, a temporary
cluster is started on a free loopback port and stopped afterwards. Each test then gets its
own schema through ``search_path`` (made by ``tests/pg_schemas.py``).
``RUNWRIGHT_TEST_PG_BINARIES`` names the binaries' folder, or ``none`` to pretend they are not
installed.
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
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def configured_url() -> str:
    """The URL the tests should try first."""
    return os.environ.get("RUNWRIGHT_TEST_POSTGRES_URL", DEFAULT_URL)


def answers(url: str) -> bool:
    """True if a PostgreSQL server accepts a connection at ``url``."""
    try:
        with psycopg.connect(libpq(url), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def libpq(url: str) -> str:
    """``url`` as libpq takes it (no SQLAlchemy driver name)."""
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
    with psycopg.connect(libpq(base), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    return name


def drop_schema(base: str, name: str) -> None:
    """Drop a test's schema and everything in it."""
    with psycopg.connect(libpq(base), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
