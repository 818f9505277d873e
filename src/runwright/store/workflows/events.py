"""Topic events: publish (upsert, status kept), peek, reserve, release, consume, skip."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, or_, select, update

import runwright.store.workflows.statements as st
from runwright.domain.ids import new_id
from runwright.domain.workflows.models import Reservation, TopicEvent, WorkflowSpec
from runwright.domain.workflows.topics import PEEK_DEFAULT_LIMIT, EventStatus
from runwright.errors import NotFound
from runwright.store.database import Database
from runwright.store.schema.workflows import (
    wf_event_inputs,
    wf_events,
    wf_handler_state,
    wf_topic_counts,
)
from runwright.store.types import dumps
from runwright.store.workflows.rows import caused_by_map, event_from_row, events_from_rows

PENDING, RESERVED = EventStatus.PENDING.value, EventStatus.RESERVED.value
CONSUMED, SKIPPED = EventStatus.CONSUMED.value, EventStatus.SKIPPED.value
_MINE = (wf_events.c.reserved_by_run_id == bindparam("run_id"), wf_events.c.status == RESERVED)
_RELEASE = (
    update(wf_events)
    .where(*_MINE)
    .values(
        status=PENDING,
        reserved_by_run_id=None,
        attempt_number=wf_events.c.attempt_number + 1,
        updated_at=bindparam("v_updated_at"),
    )
    .returning(wf_events.c.event_id)
)
_RESERVE = (
    update(wf_events)
    .where(
        wf_events.c.workflow == bindparam("b_workflow"),
        wf_events.c.topic == bindparam("b_topic"),
        wf_events.c.message_id.in_(bindparam("b_ids", expanding=True)),
        wf_events.c.status == PENDING,
    )
    .values(
        status=RESERVED,
        reserved_by_run_id=bindparam("b_run"),
        updated_at=bindparam("v_updated_at"),
    )
    .returning(wf_events.c.message_id)
)


@dataclass(frozen=True, slots=True)
class Publish:
    """One buffered publish: written when its run commits."""

    topic: str
    message_id: str
    payload: Any
    caused_by: tuple[str, ...] = ()


@dataclass(slots=True)
class PublishReport:
    """What a batch of publishes did."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


def publish_in(
    conn: Connection,
    workflow: str,
    spec: WorkflowSpec,
    items: list[Publish],
    now: datetime,
    *,
    run_id: str | None,
) -> PublishReport:
    """Upsert events by (workflow, topic, message_id): a re-publish replaces the payload and
    ``caused_by`` and keeps the status. Marks every subscriber of a touched topic dirty."""
    report = PublishReport()
    for item in items:
        row = st.FIND_EVENT.execute(
            conn, {"workflow": workflow, "topic": item.topic, "message_id": item.message_id}
        ).first()
        payload = dumps(item.payload, what=f"payload of {item.topic}/{item.message_id}")
        if row is None:
            event_id = new_id()
            st.INSERT_EVENT.execute(
                conn,
                {
                    "event_id": event_id,
                    "workflow": workflow,
                    "topic": item.topic,
                    "message_id": item.message_id,
                    "payload": payload,
                    "status": PENDING,
                    "reserved_by_run_id": None,
                    "created_by_run_id": run_id,
                    "attempt_number": 1,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            report.created.append(event_id)
        else:
            event_id = row.event_id
            conn.execute(
                wf_events.update()
                .where(wf_events.c.event_id == event_id)
                .values(payload=payload, updated_at=now)
            )
            conn.execute(delete(wf_event_inputs).where(wf_event_inputs.c.event_id == event_id))
            report.updated.append(event_id)
        links = [{"event_id": event_id, "input_id": i} for i in dict.fromkeys(item.caused_by)]
        if links:
            st.INSERT_EVENT_INPUT.execute(conn, links)
    topics = {i.topic for i in items}
    subscribers = sorted({s for t in topics for s in spec.subscribers(t)})
    if subscribers:
        conn.execute(
            wf_handler_state.update()
            .where(
                wf_handler_state.c.workflow == workflow, wf_handler_state.c.handler.in_(subscribers)
            )
            .values(dirty=True, updated_at=now)
        )
    return report


def _match(workflow: str, reservations: list[Reservation]) -> Any:
    return and_(
        wf_events.c.workflow == workflow,
        or_(
            *(
                and_(wf_events.c.topic == r.topic, wf_events.c.message_id.in_(r.ids))
                for r in reservations
                if r.ids
            )
        ),
    )


def reserve_in(
    conn: Connection, workflow: str, run_id: str, wanted: list[Reservation], now: datetime
) -> list[Reservation]:
    """Reserve those of ``wanted`` that are still pending; return what was reserved."""
    wanted = [r for r in wanted if r.ids]
    if not wanted:
        return []
    ids_by_topic: dict[str, list[str]] = {}
    for r in wanted:
        ids_by_topic.setdefault(r.topic, []).extend(r.ids)
    have: set[tuple[str, str]] = set()
    for topic, ids in ids_by_topic.items():
        if len(ids) == 1:
            row = st.RESERVE_ONE.execute(
                conn,
                {
                    "b_workflow": workflow,
                    "b_topic": topic,
                    "b_id": ids[0],
                    "b_run": run_id,
                    "v_updated_at": now,
                },
            ).first()
            if row is not None:
                have.add((topic, row.message_id))
            continue
        got = conn.execute(
            _RESERVE,
            {
                "b_workflow": workflow,
                "b_topic": topic,
                "b_ids": list(dict.fromkeys(ids)),
                "b_run": run_id,
                "v_updated_at": now,
            },
        ).scalars()
        have.update((topic, message_id) for message_id in got)
    out = []
    for r in wanted:
        ids = [i for i in dict.fromkeys(r.ids) if (r.topic, i) in have]
        if ids:
            out.append(Reservation(topic=r.topic, ids=ids))
    return out


def release_in(conn: Connection, run_id: str, now: datetime) -> list[str]:
    """Put the run's reserved events back to pending (attempt + 1); return their ids."""
    return list(conn.execute(_RELEASE, {"run_id": run_id, "v_updated_at": now}).scalars())


def consume_in(conn: Connection, run_id: str, now: datetime) -> list[str]:
    """Mark the run's reserved events consumed; return their ids."""
    rows = st.CONSUME.execute(conn, {"run_id": run_id, "v_updated_at": now}).all()
    return [row.event_id for row in rows]


def skip_reserved_in(conn: Connection, run_id: str, now: datetime) -> list[str]:
    """Mark the run's reserved events skipped (a person skipped its write)."""
    ids = list(
        conn.execute(
            select(wf_events.c.event_id).where(
                wf_events.c.reserved_by_run_id == run_id, wf_events.c.status == RESERVED
            )
        ).scalars()
    )
    if ids:
        conn.execute(
            update(wf_events)
            .where(wf_events.c.event_id.in_(ids))
            .values(status=SKIPPED, updated_at=now)
        )
    return ids


def take_over_in(conn: Connection, old_run: str, new_run: str, now: datetime) -> int:
    """A retry run takes over its predecessor's reservations."""
    res = conn.execute(
        update(wf_events)
        .where(wf_events.c.reserved_by_run_id == old_run, wf_events.c.status == RESERVED)
        .values(reserved_by_run_id=new_run, updated_at=now)
    )
    return int(res.rowcount or 0)


def reserved_ok_in(conn: Connection, run_id: str, expected: int) -> bool:
    """True while all ``expected`` events the run reserved are still reserved by it."""
    n = st.RESERVED_COUNT.execute(conn, {"run_id": run_id}).one()[0]
    return int(n) == expected


def caused_by_union_in(
    conn: Connection, workflow: str, reservations: list[Reservation]
) -> list[str]:
    """The union of ``caused_by`` over the given events."""
    reservations = [r for r in reservations if r.ids]
    if not reservations:
        return []
    ids = list(
        conn.execute(select(wf_events.c.event_id).where(_match(workflow, reservations))).scalars()
    )
    links = caused_by_map(conn, ids)
    return sorted({i for v in links.values() for i in v})


class EventOps:
    """Reading and skipping events."""

    db: Database

    def peek(self, workflow: str, topic: str, limit: int = PEEK_DEFAULT_LIMIT) -> list[TopicEvent]:
        """Pending events of a topic, oldest first (reserved, consumed and skipped ones never).

        One statement (events joined with their inputs), in autocommit.
        """
        params = {"workflow": workflow, "topic": topic, "limit": limit}

        def read(conn: Connection) -> list[TopicEvent]:
            found: dict[str, tuple[Any, list[str]]] = {}
            for row in st.PEEK.execute(conn, params).all():
                entry = found.setdefault(row.event_id, (row, []))
                if row.input_id is not None:
                    entry[1].append(row.input_id)
            return [event_from_row(row, inputs) for row, inputs in found.values()]

        return self.db.run(read, write=False, single_statement=True)

    def get_by_ids(self, workflow: str, topic: str, message_ids: list[str]) -> list[TopicEvent]:
        """Events of a topic by message id, in any status."""
        if not message_ids:
            return []
        q = select(wf_events).where(
            wf_events.c.workflow == workflow,
            wf_events.c.topic == topic,
            wf_events.c.message_id.in_(message_ids),
        )
        return self.db.run(lambda c: events_from_rows(c, c.execute(q).all()), write=False)

    def list_events(
        self,
        *,
        workflow: str | None = None,
        topic: str | None = None,
        statuses: tuple[str, ...] = (),
        reserved_by: str | None = None,
        limit: int = 100,
        before: str | None = None,
    ) -> list[TopicEvent]:
        """Events, newest first, filtered."""
        q = select(wf_events)
        if workflow:
            q = q.where(wf_events.c.workflow == workflow)
        if topic:
            q = q.where(wf_events.c.topic == topic)
        if statuses:
            q = q.where(wf_events.c.status.in_(statuses))
        if reserved_by:
            q = q.where(wf_events.c.reserved_by_run_id == reserved_by)
        if before:
            q = q.where(wf_events.c.event_id < before)
        q = q.order_by(wf_events.c.event_id.desc()).limit(limit)
        return self.db.run(lambda c: events_from_rows(c, c.execute(q).all()), write=False)

    def get_event(self, event_id: str) -> TopicEvent:
        """One event, or NotFound."""

        def tx(conn: Connection) -> TopicEvent:
            row = conn.execute(select(wf_events).where(wf_events.c.event_id == event_id)).first()
            if row is None:
                raise NotFound(
                    f"no event {event_id}",
                    hint="list events with `runwright topic events TOPIC`",
                    event_id=event_id,
                )
            return events_from_rows(conn, [row])[0]

        return self.db.run(tx, write=False)

    def topic_counts(self, workflow: str | None = None) -> dict[tuple[str, str], dict[str, int]]:
        """(workflow, topic) → events per status (statuses with none left out), read from the
        counts the database keeps with every change of ``wf_events`` (``wf_topic_counts``)."""
        col = wf_topic_counts.c
        q = select(col.workflow, col.topic, col.status, func.sum(col.n)).group_by(
            col.workflow, col.topic, col.status
        )
        if workflow:
            q = q.where(col.workflow == workflow)
        out: dict[tuple[str, str], dict[str, int]] = {}
        for w, t, s, n in self.db.run(lambda c: c.execute(q).all(), write=False):
            if n:
                out.setdefault((w, t), {})[s] = int(n)
        return out
