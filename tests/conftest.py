"""Shared fixtures: a real SQLite file and a real PostgreSQL schema per test.

Each test's database is fresh and migrated to the head revision, made from a template built
once per test session: a copy of a migrated SQLite file, or a PostgreSQL schema made by
replaying the migration's statements (see ``tests/pg_schemas.py``). Tests of migrating a database
ask for ``empty_db_url`` (or ``empty_pg_url``) instead; in ``tests/migration`` ``db_url``
is empty.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from runwright.api.client import Client
from runwright.config import Settings, load_settings
from runwright.engine.clock import FakeClock
from runwright.store.core.system_database import SystemDatabase
from runwright.store.database import Database
from runwright.store.migrate import ensure_schema, upgrade
from tests import pg
from tests import pg_schemas as pg_schemas_

TESTS_DIR = Path(__file__).parent
JOBS_DIR = TESTS_DIR / "jobs"
if str(JOBS_DIR) not in sys.path:
    sys.path.insert(0, str(JOBS_DIR))

IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
_SHARED_SERVER = pytest.StashKey[contextlib.ExitStack]()


def pytest_configure(config: pytest.Config) -> None:
    """The controlling process compiles runwright's modules once, so that the many runwright
    subprocesses the tests start load bytecode instead of compiling every module again (as
    they would each time where ``PYTHONDONTWRITEBYTECODE`` is set). Under pytest-xdist it also
    starts the throwaway PostgreSQL cluster (when one is needed) once, and its worker processes
    inherit its URL; otherwise each of them would start a cluster of its own."""
    if hasattr(config, "workerinput"):
        return
    _compile_runwright()
    if not config.getoption("numprocesses", None):
        return
    stack = contextlib.ExitStack()
    config.stash[_SHARED_SERVER] = stack
    url = stack.enter_context(pg.server())
    if url is not None and url != pg.configured_url():
        stack.enter_context(_environ("RUNWRIGHT_TEST_POSTGRES_URL", url))


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the cluster ``pytest_configure`` started for the worker processes, if any."""
    stack = config.stash.get(_SHARED_SERVER, None)
    if stack is not None:
        stack.close()


#: The modules whose tests take longest (measured with ``--durations``; none has a fixture
#: shared by its tests). Their tests start first, dealt evenly over the test processes, then
#: every other ``slow`` test: a run does not end with one process still working through long
#: tests while the others sit idle.
LONGEST_FIRST = (
    "test_real_agents.py",
    "test_plans_crash.py",
    "test_plans_parallel.py",
    "test_dead_workers.py",
    "test_plans_error_handling.py",
    "test_spec_fuzz_cli.py",
    "test_plans_budgets.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest tests first. Under pytest-xdist's ``worksteal`` each process starts with a
    contiguous share of the list, so the longest tests are dealt into the shares in turn (the
    shares sized as the scheduler cuts them); the other tests keep their order."""

    def rank(item: pytest.Item) -> tuple[int, int]:
        name = item.path.name
        if name in LONGEST_FIRST:
            return (0, LONGEST_FIRST.index(name))
        return (1, 0) if item.get_closest_marker("slow") else (2, 0)

    items.sort(key=rank)
    workerinput = getattr(config, "workerinput", None)
    processes = int(workerinput["workercount"]) if workerinput else 1
    longest = [item for item in items if rank(item)[0] == 0]
    if processes < 2 or not longest:
        return
    rest = items[len(longest) :]
    shares: list[pytest.Item] = []
    left = len(items)
    for k in range(processes):
        size = left // (processes - k)
        left -= size
        first = longest[k::processes]
        take = max(size - len(first), 0)
        shares += first + rest[:take]
        rest = rest[take:]
    items[:] = shares + rest


def _compile_runwright() -> None:
    import compileall

    import runwright

    compileall.compile_dir(Path(runwright.__file__).parent, quiet=1)


@contextlib.contextmanager
def _environ(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


@pytest.fixture(scope="session")
def pg_base_url() -> Iterator[str]:
    """A PostgreSQL server URL; fails (never skips) under CI=true when none can be had."""
    with pg.server() as url:
        if url is None:
            message = (
                f"no PostgreSQL answers at {pg.configured_url()} and no server binaries are "
                "installed; set RUNWRIGHT_TEST_POSTGRES_URL or install postgresql"
            )
            if IN_CI:
                pytest.fail(message)
            pytest.skip(message)
        yield url


@pytest.fixture(scope="session")
def pg_schemas(pg_base_url: str) -> Iterator[pg_schemas_.Schemas]:
    """Makes and drops the tests' schemas over one connection kept for the session."""
    schemas = pg_schemas_.Schemas(pg_base_url)
    yield schemas
    schemas.close()


@pytest.fixture(scope="session")
def pg_template(pg_base_url: str) -> pg_schemas_.SchemaTemplate:
    """The SQL that migrates an empty PostgreSQL schema, recorded once per session."""
    return pg_schemas_.record_migration(pg_base_url)


@pytest.fixture
def pg_url(
    pg_base_url: str, pg_schemas: pg_schemas_.Schemas, pg_template: pg_schemas_.SchemaTemplate
) -> Iterator[str]:
    """A URL whose search_path is a fresh, migrated schema, dropped after the test."""
    schema = pg_schemas.create(pg_template)
    try:
        yield pg.schema_url(pg_base_url, schema)
    finally:
        pg_schemas.drop(schema)


@pytest.fixture
def empty_pg_url(pg_base_url: str, pg_schemas: pg_schemas_.Schemas) -> Iterator[str]:
    """A URL whose search_path is a fresh, empty schema, dropped after the test."""
    schema = pg_schemas.create()
    try:
        yield pg.schema_url(pg_base_url, schema)
    finally:
        pg_schemas.drop(schema)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the head revision once per session, its WAL checkpointed."""
    path = tmp_path_factory.mktemp("template") / "state.db"
    db = Database(f"sqlite:///{path}")
    try:
        upgrade(db)
    finally:
        db.dispose()
    with closing(sqlite3.connect(path)) as conn:  # everything into the main file: it is copied
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0, f"{wal} still holds pages"
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database on each backend, migrated to the head revision."""
    if request.param == "sqlite":
        target = tmp_path / "state.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each backend, for tests of migrating one."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("empty_pg_url")
    return url


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """A migrated database handle (it migrates only if ``db_url`` was empty)."""
    db = Database(db_url)
    ensure_schema(db, auto_migrate=True)  # reads the revision without the migration lock
    yield db
    db.dispose()


@pytest.fixture
def store(database: Database) -> SystemDatabase:
    """The SQL store on a migrated database."""
    return SystemDatabase(database)


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when told to."""
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """Settings for a project in a temp dir, ignoring the caller's environment."""
    return load_settings(
        env={},
        overrides={
            "home": tmp_path / ".runwright",
            "database_url": db_url,
            "lease_seconds": 5.0,
            "poll_seconds": 0.05,
        },
    )


@pytest.fixture
def client(settings: Settings, clock: FakeClock) -> Iterator[Client]:
    """A client on the fresh store with the fake clock."""
    c = Client.open(settings, clock=clock)
    yield c
    c.close()


@pytest.fixture
def real_client(settings: Settings) -> Iterator[Client]:
    """A client on the fresh store with the system clock."""
    c = Client.open(settings)
    yield c
    c.close()
