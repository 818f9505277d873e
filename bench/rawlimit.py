"""The raw commit limit: N bare one-row INSERT + COMMIT transactions on a fresh database.

This is the floor any durable engine on the same database and the same durability setting pays
per durable write: one synchronous commit. SQLite uses WAL with ``synchronous=FULL`` and
``BEGIN IMMEDIATE`` (as runwright does); PostgreSQL uses psycopg 3 on an ordinary (logged)
table with the server's default ``synchronous_commit``.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import psycopg

from dbkinds import Target

PAYLOAD = "x" * 64


def sqlite_commits(path: str, n: int) -> dict[str, Any]:
    """Time ``n`` BEGIN IMMEDIATE / INSERT / COMMIT transactions on a new SQLite file."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        journal = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        conn.execute("PRAGMA synchronous=FULL")
        synchronous = conn.execute("PRAGMA synchronous").fetchone()[0]
        conn.execute("CREATE TABLE raw (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        started = time.perf_counter()
        for i in range(n):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO raw (id, payload) VALUES (?, ?)", (i, PAYLOAD))
            conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        (count,) = conn.execute("SELECT count(*) FROM raw").fetchone()
    finally:
        conn.close()
    if count != n:
        raise RuntimeError(f"raw loop wrote {count} rows, expected {n}")
    return {
        "seconds": seconds,
        "durability": {"journal_mode": journal, "synchronous": synchronous},
    }


def postgres_commits(conninfo: str, n: int) -> dict[str, Any]:
    """Time ``n`` INSERT + COMMIT transactions (psycopg 3, default synchronous_commit)."""
    with psycopg.connect(conninfo, autocommit=False) as conn:
        conn.execute("CREATE TABLE raw (id bigint PRIMARY KEY, payload text NOT NULL)")
        conn.commit()
        row = conn.execute("SHOW synchronous_commit").fetchone()
        conn.commit()
        started = time.perf_counter()
        for i in range(n):
            conn.execute("INSERT INTO raw (id, payload) VALUES (%s, %s)", (i, PAYLOAD))
            conn.commit()
        seconds = time.perf_counter() - started
        count_row = conn.execute("SELECT count(*) FROM raw").fetchone()
        conn.commit()
    if count_row is None or count_row[0] != n:
        raise RuntimeError(f"raw loop wrote {count_row}, expected {n} rows")
    return {
        "seconds": seconds,
        "durability": {"synchronous_commit": row[0] if row else None},
    }


def raw_commits(target: Target, n: int) -> dict[str, Any]:
    """The raw-commit loop for the target's database kind."""
    if target.kind == "sqlite":
        return sqlite_commits(target.raw, n)
    return postgres_commits(target.raw, n)
