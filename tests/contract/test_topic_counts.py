"""Events per topic and status, kept by the database (``wf_topic_counts``, migration 0007), on
SQLite and PostgreSQL: always equal to counting ``wf_events``, whoever writes and however."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import workflows_cases as wc
from sqlalchemy import create_engine, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from workflows_kit import Harness

from runwright.api.client import Client
from runwright.domain.ids import new_id
from runwright.store.schema.workflows import wf_events, wf_topic_counts
from tests.contract.helpers import T0


def counted(client: Client) -> dict[tuple[str, str], dict[str, int]]:
    """Events per (workflow, topic) and status, counted from the events themselves."""
    q = select(wf_events.c.workflow, wf_events.c.topic, wf_events.c.status, func.count()).group_by(
        wf_events.c.workflow, wf_events.c.topic, wf_events.c.status
    )
    out: dict[tuple[str, str], dict[str, int]] = {}
    for w, t, s, n in client.store.db.run(lambda c: c.execute(q).all(), write=False):
        out.setdefault((w, t), {})[s] = int(n)
    return out


def _event(workflow: str, topic: str, status: str, n: int) -> dict[str, Any]:
    return {
        "event_id": new_id(),
        "workflow": workflow,
        "topic": topic,
        "message_id": f"m{n}",
        "payload": "{}",
        "status": status,
        "attempt_number": 1,
        "created_at": T0,
        "updated_at": T0,
    }


@pytest.fixture
def h(client: Client) -> Iterator[Harness]:
    """'cases' deployed, first runs done."""
    wc.reset()
    harness = Harness(client)
    harness.deploy(wc.cases)
    harness.run()
    yield harness
    wc.reset()


def test_counts_follow_a_workflow_at_work(h: Harness) -> None:
    """Published, consumed, skipped, republished, held back by a pause: after each step the
    topic's counts equal the events counted one by one."""
    store = h.wf.store
    h.publish("a", "b", "c")
    assert store.topic_counts() == counted(h.client) == {("cases", "in"): {"pending": 3}}
    h.run()
    assert store.topic_counts() == counted(h.client) == {("cases", "in"): {"consumed": 3}}
    h.wf.pause("cases")
    h.publish("d", "e")
    h.wf.publish("cases", "in", "item:a", {"name": "a2"})  # republished: payload only
    h.wf.skip_event(h.events()["item:d"].event_id, by="ann")
    assert store.topic_counts() == counted(h.client)
    assert store.topic_counts("cases")[("cases", "in")] == {
        "consumed": 3,
        "pending": 1,
        "skipped": 1,
    }
    h.wf.resume("cases")
    h.run()
    assert store.topic_counts() == counted(h.client)
    assert h.wf.topics("cases")[0].counts == {"consumed": 4, "skipped": 1}
    assert store.topic_counts("other") == {}


def test_counts_follow_any_statement_on_events(client: Client) -> None:
    """Bulk inserts, multi-row updates of status and of topic, a payload-only update, deletes,
    upserts (one updating, one inserting) and a rolled-back transaction all leave the counts
    equal to counting the events; a status with no event left is not listed."""
    db = client.store.db
    rows = [_event("w", "t", "pending", n) for n in range(6)] + [_event("w", "u", "pending", 9)]
    db.run(lambda c: c.execute(insert(wf_events), rows))
    store = client.workflows.store
    assert (
        store.topic_counts()
        == counted(client)
        == {
            ("w", "t"): {"pending": 6},
            ("w", "u"): {"pending": 1},
        }
    )
    ids = [r["event_id"] for r in rows]
    steps: list[Any] = [
        update(wf_events).where(wf_events.c.event_id.in_(ids[:4])).values(status="reserved"),
        update(wf_events).where(wf_events.c.event_id.in_(ids[:2])).values(status="consumed"),
        update(wf_events).where(wf_events.c.event_id == ids[2]).values(status="pending"),
        update(wf_events).where(wf_events.c.event_id.in_(ids)).values(payload='{"x": 1}'),
        update(wf_events).where(wf_events.c.event_id == ids[5]).values(topic="u"),
        delete(wf_events).where(wf_events.c.event_id.in_([ids[0], ids[6]])),
    ]
    upsert = (sqlite_insert if db.is_sqlite else pg_insert)(wf_events)
    again = {**rows[3], "status": "pending", "event_id": new_id()}  # same message: an update
    fresh = _event("w", "t", "reserved", 50)
    steps += [
        upsert.values(again).on_conflict_do_update(
            index_elements=["workflow", "topic", "message_id"], set_={"status": "pending"}
        ),
        upsert.values(fresh).on_conflict_do_nothing(),
    ]
    for step in steps:
        db.run(lambda c, s=step: c.execute(s))
        assert store.topic_counts() == counted(client), step

    class Undo(Exception):
        pass

    def doomed(conn: Any) -> None:
        conn.execute(update(wf_events).values(status="skipped"))
        raise Undo

    with pytest.raises(Undo):
        db.run(doomed)
    assert (
        store.topic_counts()
        == counted(client)
        == {
            ("w", "t"): {"consumed": 1, "pending": 3, "reserved": 1},
            ("w", "u"): {"pending": 1},
        }
    )


def test_counts_of_events_there_before_the_migration(db_url: str, tmp_path: Any) -> None:
    """Events written before 0007 are counted when it runs; later changes add to them."""
    from alembic import command

    from runwright.store.database import Database
    from runwright.store.migrate import alembic_config, current_revisions, upgrade

    db = Database(db_url)
    try:
        upgrade(db)
        engine = create_engine(db_url)  # back to 0006 (before 0007), the other branches kept
        try:
            with engine.begin() as conn:
                command.downgrade(alembic_config(conn), "0006_wf_listing_indexes")
                assert "0006_wf_listing_indexes" in current_revisions(conn)
        finally:
            engine.dispose()
        rows = [_event("w", "t", "consumed" if n % 3 else "pending", n) for n in range(7)]
        db.run(lambda c: c.execute(insert(wf_events), rows))
        upgrade(db)
        db.run(
            lambda c: c.execute(
                update(wf_events)
                .values(status="skipped")
                .where(wf_events.c.event_id == rows[0]["event_id"])
            )
        )
        sums = db.run(
            lambda c: c.execute(
                select(wf_topic_counts.c.status, func.sum(wf_topic_counts.c.n)).group_by(
                    wf_topic_counts.c.status
                )
            ).all(),
            write=False,
        )
        assert {s: int(n) for s, n in sums if n} == {"consumed": 4, "pending": 2, "skipped": 1}
    finally:
        db.dispose()


@pytest.mark.postgres
def test_concurrent_writers_never_wait_for_each_other_on_the_counts(pg_url: str) -> None:
    """PostgreSQL: two open transactions changing the status of different events of one topic
    (the same status change) both go through without waiting for each other (each adds to its
    own shard); once both commit, the counts are exact."""
    from runwright.store.database import Database
    from runwright.store.migrate import upgrade

    db = Database(pg_url)
    upgrade(db)
    rows = [_event("w", "t", "pending", n) for n in range(2)]
    db.run(lambda c: c.execute(insert(wf_events), rows))
    engine = create_engine(pg_url)
    first_done, second_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer(event_id: str, mine: threading.Event, other: threading.Event) -> None:
        try:
            with engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '3s'"))
                conn.execute(
                    update(wf_events)
                    .where(wf_events.c.event_id == event_id)
                    .values(status="reserved")
                )
                mine.set()
                assert other.wait(5), "the other writer was held up"
        except BaseException as exc:  # reported below
            errors.append(exc)
            mine.set()

    try:
        threads = [
            threading.Thread(target=writer, args=(rows[0]["event_id"], first_done, second_done)),
            threading.Thread(target=writer, args=(rows[1]["event_id"], second_done, first_done)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert errors == []
        client_counts = select(wf_topic_counts.c.status, func.sum(wf_topic_counts.c.n)).group_by(
            wf_topic_counts.c.status
        )
        sums = db.run(lambda c: c.execute(client_counts).all(), write=False)
        assert {s: int(n) for s, n in sums if n} == {"reserved": 2}
    finally:
        engine.dispose()
        db.dispose()
