"""The store reads behind the dashboard's big pages, on SQLite and PostgreSQL: input statuses
filtered in SQL, gate results of many plan runs in one read, plan records without their spec."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from runwright.api import inbox as inbox_api
from runwright.api.client import Client
from runwright.api.inbox import Inbox, register_section
from runwright.domain.ids import new_id
from runwright.domain.plan_records import Defect, GateResult
from runwright.domain.workflows.models import InboxItem
from runwright.domain.workflows.topics import InputStatus, input_status
from runwright.store.schema import runs
from runwright.store.schema.plans import plan_gates, plan_runs
from runwright.store.schema.workflows import wf_event_inputs, wf_events, wf_inputs
from tests.contract.helpers import T0

#: Inputs by the statuses of the events they caused (None: skipped by a person).
SHAPES: list[tuple[tuple[str, ...], bool]] = [
    ((), False),  # no event yet: pending
    (("pending",), False),
    (("reserved", "consumed"), False),  # one open event: pending
    (("consumed",), False),  # done
    (("consumed", "skipped"), False),  # done (not every event skipped)
    (("skipped",), False),  # every event skipped: skipped
    (("skipped", "skipped"), False),
    (("pending",), True),  # skipped by a person, although an event is open
    (("consumed",), True),
]


def _fill_inputs(client: Client, copies: int = 3) -> dict[str, InputStatus]:
    """Inputs of every shape (``copies`` of each, interleaved by id), on two workflows; returns
    the status ``input_status`` gives each."""
    inputs: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    links: list[dict[str, str]] = []
    expected: dict[str, InputStatus] = {}
    serial = itertools.count()
    for _n in range(copies):
        for statuses, by_person in SHAPES:
            i = next(serial)
            input_id = new_id()
            when = T0 + timedelta(hours=i)
            inputs.append(
                {
                    "input_id": input_id,
                    "workflow": "a" if i % 2 else "b",
                    "source": "src",
                    "type": "item",
                    "external_id": f"x{i}",
                    "title": f"Item {i}",
                    "created_by_run_id": None,
                    "created_at": when,
                    "skipped_at": when if by_person else None,
                    "skipped_by": "ann" if by_person else None,
                }
            )
            for k, status in enumerate(statuses):
                event_id = new_id()
                events.append(
                    {
                        "event_id": event_id,
                        "workflow": inputs[-1]["workflow"],
                        "topic": "in",
                        "message_id": f"m{i}-{k}",
                        "payload": "{}",
                        "status": status,
                        "attempt_number": 1,
                        "created_at": when,
                        "updated_at": when,
                    }
                )
                links.append({"event_id": event_id, "input_id": input_id})
            expected[input_id] = input_status(statuses, skipped=by_person)

    def write(conn: Any) -> None:
        conn.execute(insert(wf_inputs), inputs)
        conn.execute(insert(wf_events), events)
        conn.execute(insert(wf_event_inputs), links)

    client.workflows.store.db.run(write)
    return expected


def test_inputs_filtered_by_status_match_the_computed_status(client: Client) -> None:
    """Every status filter (one, two, all three, none) returns exactly the inputs whose
    computed status is among them, newest first, each with its status and event count; the
    limit, the page cursor, the workflow and the age filters apply on top."""
    expected = _fill_inputs(client)
    ws = client.workflows.store
    newest_first = sorted(expected, reverse=True)
    everything = ws.list_inputs(limit=1000)
    assert [i.input_id for i in everything] == newest_first
    assert {i.input_id: i.status for i in everything} == expected
    assert all(i.events == len(SHAPES[n % len(SHAPES)][0]) for n, i in enumerate(everything[::-1]))
    for size in (1, 2, 3):
        for wanted in itertools.combinations([s.value for s in InputStatus], size):
            got = ws.list_inputs(statuses=wanted, limit=1000)
            assert [i.input_id for i in got] == [
                i for i in newest_first if expected[i].value in wanted
            ], wanted
    pending = [i for i in newest_first if expected[i] is InputStatus.PENDING]
    assert [i.input_id for i in ws.list_inputs(statuses=("pending",), limit=2)] == pending[:2]
    page = ws.list_inputs(statuses=("pending",), before=pending[1], limit=1000)
    assert [i.input_id for i in page] == pending[2:]
    of_a = ws.list_inputs(workflow="a", statuses=("done",), limit=1000)
    assert of_a
    assert all(i.workflow == "a" and i.status is InputStatus.DONE for i in of_a)
    cutoff = T0 + timedelta(hours=5)
    old = ws.list_inputs(statuses=("pending",), created_before=cutoff, limit=1000)
    assert [i.input_id for i in old] == [
        i for i in pending if next(r for r in everything if r.input_id == i).created_at < cutoff
    ]


def test_one_input_reads_its_status_as_the_list_does(client: Client) -> None:
    """``get_input`` gives each input the status and event count the list gives it."""
    expected = _fill_inputs(client, copies=1)
    ws = client.workflows.store
    listed = {i.input_id: i for i in ws.list_inputs(limit=1000)}
    for input_id, status in expected.items():
        one = ws.get_input(input_id)
        assert one == listed[input_id]
        assert one.status is status


def _plan_run(client: Client, run_id: str, when: datetime) -> None:
    def write(conn: Any) -> None:
        conn.execute(
            insert(runs).values(
                run_id=run_id,
                project_id=client.settings.project_id,
                kind="plan",
                job_name="runwright.plans.plan",
                job_module="runwright.plans",
                state="succeeded",
                origin="{}",
                args="[]",
                kwargs="{}",
                created_at=when,
                updated_at=when,
            )
        )
        conn.execute(
            insert(plan_runs).values(
                run_id=run_id,
                plan_id="greet",
                project_id=client.settings.project_id,
                title="Greet",
                plan_path="plans/greet.yaml",
                plan_sha256="0" * 64,
                spec='{"plan_id": "greet"}',
                stage="completion",
                status="complete",
                schedule="{}",
                completion='{"execution_status": "complete"}',
                created_at=when,
                updated_at=when,
            )
        )

    client.store.db.run(write)


def test_gate_results_of_many_plan_runs_in_one_read(client: Client) -> None:
    """``gates_of`` gives each plan run the evaluations ``gates`` gives it (same order, same
    content), and an empty list to a run without any."""
    store = client.plans.store
    ids = [new_id() for _ in range(3)]
    for n, run_id in enumerate(ids):
        _plan_run(client, run_id, T0 + timedelta(minutes=n))
    for n, gate in enumerate(("preflight", "test", "test")):
        failed = n == 1
        result = GateResult(
            gate=gate,
            round=1 if n == 2 else 0,
            passed=not failed,
            defects=[Defect(gate=gate, code="tests_fail", message="m", required_correction="c")]
            if failed
            else [],
            evaluated_at=T0 + timedelta(seconds=10 - n),
        )
        client.store.db.run(
            lambda conn, r=result: conn.execute(
                insert(plan_gates).values(
                    run_id=ids[0],
                    gate=r.gate,
                    round=r.round,
                    passed=r.passed,
                    result=r.model_dump_json(),
                    evaluated_at=r.evaluated_at,
                )
            )
        )
    found = store.gates_of(ids)
    assert found == {run_id: store.gates(run_id) for run_id in ids}
    assert [g.gate for g in found[ids[0]]] == ["test", "test", "preflight"]
    assert found[ids[1]] == []
    assert store.gates_of([]) == {}


def test_plan_records_are_read_without_their_spec(client: Client) -> None:
    """A plan run's record (one, or in the newest-first list) is complete without the spec,
    which ``spec_of`` still reads."""
    store = client.plans.store
    run_id = new_id()
    _plan_run(client, run_id, T0)
    record = store.get(run_id)
    assert (record.plan_id, record.completion) == ("greet", {"execution_status": "complete"})
    assert store.runs(project_id=client.settings.project_id) == [record]
    assert store.spec_of(run_id) == {"plan_id": "greet"}


def test_the_inbox_summary_is_the_start_and_size_of_the_inbox(client: Client) -> None:
    """``Inbox.summary(n)`` gives the first ``n`` items ``Inbox.items()`` gives (stale inputs
    oldest first, ties in the list's order) and its full count, for several ``n`` and stale
    limits, also when a section's limit cuts its list short."""
    expected = _fill_inputs(client, copies=100)
    assert sum(s is InputStatus.PENDING for s in expected.values()) > 200  # over the limit
    client.clock.set(T0 + timedelta(days=45))  # type: ignore[attr-defined]
    inbox = Inbox(client)
    sizes = set()
    for days in (None, 44.9, 44.0, 46):
        items = inbox.items(stale_days=days)
        sizes.add(len(items))
        for shown in (0, 1, 3, 8, 250):
            summary = inbox.summary(shown, stale_days=days)
            assert summary.total == len(items)
            assert summary.items == items[:shown], (days, shown)
    assert sizes == {0, 3, 9, 200}


def test_the_inbox_summary_of_a_section_without_one_is_its_items(client: Client) -> None:
    """A section with no summary is summed up from its items (sorted oldest first), after the
    sections before it."""
    _fill_inputs(client, copies=1)
    client.clock.set(T0 + timedelta(days=30))  # type: ignore[attr-defined]
    stale = Inbox(client).items()
    extra = [
        InboxItem(section="extra", item_id=f"e{n}", title="t", created_at=T0 - timedelta(days=n))
        for n in range(3)
    ]
    register_section("extra_for_test", lambda client, opts: list(extra))
    try:
        summary = Inbox(client).summary(len(stale) + 2)
        assert summary.total == len(stale) + 3
        assert summary.items == [*stale, extra[2], extra[1]]
    finally:
        inbox_api._extra.pop("extra_for_test")
