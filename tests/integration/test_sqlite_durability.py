"""The SQLite store's durability settings, read back from its own connections."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from runwright.store.database import SQLITE_BUSY_TIMEOUT_MS, Database


def _pragmas(db: Database) -> dict[str, object]:
    with db.engine.connect() as conn:
        return {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }


def test_every_connection_is_wal_full_with_a_busy_timeout(tmp_path: Path) -> None:
    """By default each connection runs WAL, synchronous=FULL (2), the busy timeout and
    foreign keys; NORMAL (1) only when asked for."""
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        assert _pragmas(db) == {
            "journal_mode": "wal",
            "synchronous": 2,
            "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
            "foreign_keys": 1,
        }
    finally:
        db.dispose()
    weaker = Database(f"sqlite:///{tmp_path / 'normal.db'}", sqlite_synchronous="NORMAL")
    try:
        assert _pragmas(weaker)["synchronous"] == 1
    finally:
        weaker.dispose()


def test_a_write_transaction_takes_the_write_lock_at_begin(tmp_path: Path) -> None:
    """A runwright write transaction holds SQLite's write lock from its first moment
    (BEGIN IMMEDIATE), so another writer cannot start; a read transaction does not block it."""
    path = tmp_path / "state.db"
    db = Database(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with db.transaction(write=False):
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        with db.transaction(), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()
        db.dispose()
