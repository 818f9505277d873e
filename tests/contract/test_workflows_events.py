"""Topics, events and inputs on SQLite and PostgreSQL (keepai §10 #1-#4, #11, #37, #38, #40)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import workflows_cases as wc
from workflows_kit import Harness

from runwright.api.client import Client
from runwright.api.inbox import Inbox
from runwright.domain.workflows import EventStatus, InputStatus, Reservation
from runwright.errors import Conflict
from runwright.store.schema.workflows import wf_mutations
from runwright.store.workflows.events import reserve_in


@pytest.fixture
def h(client: Client) -> Iterator[Harness]:
    """'cases' deployed, first runs done."""
    wc.reset()
    harness = Harness(client)
    harness.deploy(wc.cases)
    harness.run()
    yield harness
    wc.reset()


def test_republishing_a_consumed_event_updates_payload_and_keeps_status(h: Harness) -> None:
    """#1: (T, m1) consumed, re-published with a new payload → one event, new payload, still
    consumed (and never delivered again)."""
    h.publish("a")
    h.run()
    h.wf.publish("cases", "in", "item:a", {"name": "a2"})
    events = h.wf.events("cases", "in")
    assert len(events) == 1
    assert (events[0].payload, events[0].status) == ({"name": "a2"}, EventStatus.CONSUMED)
    h.run()
    assert wc.ext.calls == 1


def test_republishing_a_pending_event_delivers_only_the_new_payload(h: Harness) -> None:
    """#2: (T, m1) pending, re-published → the consumer sees only the new payload once."""
    h.wf.pause("cases")
    h.wf.publish("cases", "in", "item:a", {"name": "old"})
    h.wf.publish("cases", "in", "item:a", {"name": "new"})
    h.wf.resume("cases")
    h.run()
    assert wc.SEEN["written"] == ["new"]
    assert len(h.wf.events("cases", "in")) == 1


def test_one_message_id_on_two_topics_is_two_events(client: Client) -> None:
    """#3: the same message id published to topics A and B → two independent pending events."""
    wc.reset()
    harness = Harness(client)
    harness.deploy(wc.chain)
    harness.wf.pause("chain")
    a = harness.wf.publish("chain", "in", "m1", {"x": 1})
    b = harness.wf.publish("chain", "out", "m1", {"x": 2})
    assert a.event_id != b.event_id
    assert (a.status, b.status) == (EventStatus.PENDING, EventStatus.PENDING)
    assert harness.wf.peek("chain", "in")[0].payload == {"x": 1}
    assert harness.wf.peek("chain", "out")[0].payload == {"x": 2}


def test_registering_an_input_twice_returns_the_same_id(h: Harness) -> None:
    """#4: register_input(src, item, x) twice (in one run and in a later run) → the same input
    id; any other key → a new id."""
    ids: list[str] = []

    def register(ctx: Any) -> None:
        ids.append(ctx.register_input("src", "item", "x", title="first title"))
        ids.append(ctx.register_input("src", "item", "x", title="ignored"))
        ids.append(ctx.register_input("src", "item", "y"))

    wc.KNOBS["producer"].extend([register, register])
    for _ in range(2):
        h.wf.run_now("cases")
        h.run()
    assert ids[0] == ids[1] == ids[3] == ids[4]
    assert ids[2] == ids[5] != ids[0]
    assert h.wf.store.get_input(ids[0]).title == "first title"


def test_peek_never_returns_reserved_events_and_reserving_twice_does_nothing(h: Harness) -> None:
    """#11: events reserved by run R are not returned by peek; reserving an event that is not
    pending does nothing."""
    h.wf.pause("cases")
    h.publish("a", "b")
    now = h.client.clock.now()
    wanted = [Reservation(topic="in", ids=["item:a"])]
    db = h.wf.store.db
    got = db.run(lambda c: reserve_in(c, "cases", "RUN1", wanted, now))
    assert got == wanted
    assert [e.message_id for e in h.wf.peek("cases", "in")] == ["item:b"]
    again = db.run(lambda c: reserve_in(c, "cases", "RUN2", wanted, now))
    assert again == []
    assert h.events()["item:a"].reserved_by_run_id == "RUN1"


def test_a_second_ledger_row_for_one_run_is_refused_by_the_database(h: Harness) -> None:
    """#40: a second mutation row for one run is refused (unique handler_run_id)."""
    h.publish("a")
    h.run()
    (m,) = h.mutations()
    row = {
        "mutation_id": "0" * 26,
        "handler_run_id": m.handler_run_id,
        "workflow": "cases",
        "handler": "Work",
        "tool_namespace": "ext",
        "tool_method": "write",
        "params": "{}",
        "idempotency_key": "k",
        "status": "in_flight",
        "created_at": m.created_at,
        "updated_at": m.created_at,
    }
    with pytest.raises(Conflict):
        h.wf.store.db.run(lambda c: c.execute(wf_mutations.insert().values(**row)))


def test_stale_inputs_are_pending_for_more_than_seven_days(h: Harness) -> None:
    """#37: an input 8 days old with a pending event, or with no event at all, is stale and in
    the inbox; a done input and a 6-day-old pending input are not."""
    h.publish("done")
    wc.KNOBS["producer"].append(lambda ctx: ctx.register_input("src", "item", "lonely", "Lonely"))
    h.wf.run_now("cases")
    h.run()
    h.wf.pause("cases")
    h.publish("old")
    h.advance(2 * 86400)
    h.publish("young")
    h.advance(6 * 86400 + 60)
    stale = [i for i in Inbox(h.client).items() if i.section == "stale_inputs"]
    titles = sorted(i.title.split(" pending")[0] for i in stale)
    assert titles == ["Item old", "Lonely"]
    assert stale[0].title.endswith("pending 8 days")
    assert [i for i in Inbox(h.client).items(stale_days=10) if i.section == "stale_inputs"] == []


def test_skipping_a_pending_event_is_final(h: Harness) -> None:
    """#38: skip a pending event → skipped, never peeked or reserved again; completed
    outputs stay as they are."""
    h.publish("a")
    h.run()
    h.wf.pause("cases")
    h.publish("b")
    event = h.events()["item:b"]
    skipped = h.wf.skip_event(event.event_id, by="bob")
    assert skipped.status is EventStatus.SKIPPED
    h.wf.resume("cases")
    h.run()
    assert h.wf.peek("cases", "in") == []
    assert h.events()["item:b"].status is EventStatus.SKIPPED
    assert h.events()["item:a"].status is EventStatus.CONSUMED
    assert wc.SEEN["written"] == ["a"]
    with pytest.raises(Conflict, match="already"):
        h.wf.skip_event(h.events()["item:a"].event_id)


def test_skipping_a_reserved_event_before_the_write_stops_the_run(h: Harness) -> None:
    """Skip of an event reserved before the mutation → its run is cancelled before the write;
    the batch's other events go back to pending and are handled by a fresh run."""
    wc.SETTINGS["batch"] = 2

    def skip_now(ctx: Any) -> None:
        h.wf.skip_event(h.events()["item:a"].event_id, by="carol")

    wc.KNOBS["mutate"].append(skip_now)
    h.publish("a", "b")
    h.run()
    assert h.events()["item:a"].status is EventStatus.SKIPPED
    assert h.events()["item:b"].status is EventStatus.CONSUMED
    assert "a" not in wc.SEEN["written"]
    assert wc.SEEN["written"] == ["b"]


def test_skipping_an_input_skips_its_open_events(h: Harness) -> None:
    """Skip on an input: its pending events are skipped and it shows as skipped."""
    h.wf.pause("cases")
    h.publish("a")
    (item,) = h.wf.inputs("cases")
    assert item.status is InputStatus.PENDING
    after = h.wf.skip_input(item.input_id, by="dan")
    assert after.status is InputStatus.SKIPPED
    assert h.events()["item:a"].status is EventStatus.SKIPPED


def test_input_status_follows_its_events(h: Harness) -> None:
    """An input is pending while its event is open and done once it is consumed; its detail
    lists the mutation made for it ("what happened")."""
    h.wf.pause("cases")
    h.publish("a")
    (item,) = h.wf.inputs("cases")
    assert item.status is InputStatus.PENDING
    h.wf.resume("cases")
    h.run()
    detail = h.wf.input(item.input_id)
    assert detail.input.status is InputStatus.DONE
    assert [m.tool_method for m in detail.mutations] == ["write"]
    assert h.wf.inputs("cases", statuses=("pending",)) == []
    assert timedelta(0) <= h.client.clock.now() - detail.input.created_at


def _rows(result: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in result]


def test_the_hot_statements_send_and_read_what_sqlalchemy_does(h: Harness) -> None:
    """The workflow store's driver statements (``statements.py``) send the same SQL text and
    values as SQLAlchemy executing the same statement, and a query reads the same rows under
    the same column names (timestamps converted alike)."""
    from sqlalchemy import select

    import runwright.store.workflows.statements as st
    from runwright.store.schema.workflows import wf_inputs
    from tests.contract.test_driver_sql import _sent

    h.publish("a")
    h.run()
    h.wf.pause("cases")
    h.publish("b", "c")
    db = h.wf.store.db
    (m,) = h.mutations()
    run_id = m.handler_run_id
    now = h.client.clock.now()
    i = wf_inputs.c
    input_id, source, type_, external_id = db.run(
        lambda c: tuple(c.execute(select(i.input_id, i.source, i.type, i.external_id)).first())
    )
    queries: list[tuple[Any, dict[str, Any]]] = [
        (st.FENCE_RUN, {"run_id": run_id}),
        (st.LOCK_WORKFLOW, {"name": "cases"}),
        (st.READ_WORKFLOW, {"name": "cases"}),
        (st.HANDLER_ROW, {"run_id": run_id}),
        (st.HANDLER_ROW_LOCK, {"run_id": run_id}),
        (st.WORKFLOW_OF, {"run_id": run_id}),
        (st.PEEK, {"workflow": "cases", "topic": "in", "limit": 10}),
        (st.RESERVED_COUNT, {"run_id": run_id}),
        (st.FIND_EVENT, {"workflow": "cases", "topic": "in", "message_id": "item:b"}),
        (
            st.FIND_INPUT,
            {"workflow": "cases", "source": source, "type": type_, "external_id": external_id},
        ),
        (st.LOCK_MUTATION, {"mutation_id": m.mutation_id}),
        (
            st.EARLIER_IN_DOUBT,
            {"workflow": "cases", "handler": m.handler, "namespace": "ext", "method": "write"},
        ),
        (st.DUE_PRODUCER, {"name": "cases", "now": h.client.clock.now() + timedelta(days=9)}),
        (st.DUE_CONSUMER, {"name": "cases", "now": now}),
        (st.HANDLER_STATE, {"workflow": "cases", "handler": m.handler}),
    ]
    writes: list[tuple[Any, dict[str, Any]]] = [
        (st.CONSUME, {"run_id": run_id, "v_updated_at": now}),
        (
            st.RESERVE_ONE,
            {
                "b_workflow": "cases",
                "b_topic": "in",
                "b_id": "item:b",
                "b_run": run_id,
                "v_updated_at": now,
            },
        ),
        (
            st.update_by("wf_handler_runs", ("run_id",), frozenset({"phase", "updated_at"})),
            {"w_run_id": run_id, "v_phase": "preparing", "v_updated_at": now},
        ),
        (
            st.INSERT_EVENT_INPUT,
            {"event_id": h.events()["item:b"].event_id, "input_id": input_id},
        ),
    ]
    for stmt, params in [*queries, *writes]:
        core = _sent(db, lambda conn, s=stmt, p=params: conn.execute(s.stmt, p))
        driver = _sent(db, lambda conn, s=stmt, p=params: s.execute(conn, p))
        assert driver == core, stmt.stmt
    found = 0
    for stmt, params in queries:
        with db.transaction() as conn:
            result = conn.execute(stmt.stmt, params)
            names, core_rows = list(result.keys()), _rows(result.all())
            got = stmt.execute(conn, params).all()
        assert got == core_rows, stmt.stmt
        assert [list(r._fields) for r in got] == [names] * len(got)
        found += bool(got)
    assert found >= 12  # the cases above read real rows (not only empty results)
