"""The run-event hash chain (tamper evidence) and the event kinds (UET behaviour 26)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runwright.domain.events import (
    GENESIS_HASH,
    UET_EVENT_KINDS,
    EventKind,
    RunEvent,
    StoredEvent,
    check_event_kind,
    event_hash,
    verify_chain,
)
from runwright.domain.ids import new_id
from runwright.errors import ValidationError
from runwright.store.core.chain import ChainHead, NewEvent, build_events

RUN = new_id()
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _chain(n: int) -> list[RunEvent]:
    rows, _ = build_events(
        RUN,
        ChainHead(0, GENESIS_HASH),
        [NewEvent(EventKind.NOTE, {"i": i}) for i in range(n)],
        NOW,
    )
    import json

    return [RunEvent.model_validate({**r, "payload": json.loads(r["payload"])}) for r in rows]


def test_uet_defines_fifteen_kinds_and_ours_extend_them() -> None:
    """The first 15 kinds are UET's; gate, escalation, mutation and reconcile kinds follow."""
    assert len(UET_EVENT_KINDS) == 15
    assert UET_EVENT_KINDS[0] is EventKind.RUN_CREATED
    assert UET_EVENT_KINDS[-1] is EventKind.NOTE
    for kind in ("gate_passed", "escalation_raised", "mutation_applied", "reconcile_attempted"):
        assert check_event_kind(kind).value == kind


def test_unknown_event_kind_is_rejected_with_the_allowed_list() -> None:
    """An event kind outside the table is refused, naming the allowed kinds."""
    with pytest.raises(ValidationError) as err:
        check_event_kind("run_exploded")
    assert "run_created" in (err.value.hint or "")


def test_an_intact_chain_verifies() -> None:
    """Events built one after another form an unbroken chain."""
    events = _chain(5)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    assert verify_chain(events) == []


def test_an_edited_payload_is_detected() -> None:
    """Changing an event's content after the fact breaks its own hash."""
    events = _chain(4)
    events[2] = events[2].model_copy(update={"payload": {"i": 99}})
    problems = verify_chain(events)
    assert [p.seq for p in problems] == [3]
    assert "edited" in problems[0].problem


def test_a_removed_event_is_reported_as_one_gap() -> None:
    """Deleting an event from the middle is one problem, the gap, at the event after it;
    the events after that still chain to each other and are not flagged."""
    events = _chain(6)
    del events[2]
    problems = verify_chain(events)
    assert [(p.seq, p.problem) for p in problems] == [
        (4, "sequence gap: seq 3 missing before seq 4 (events were removed)")
    ]


def _stored(event: RunEvent, **changes: str) -> StoredEvent:
    row = {**event.model_dump(), "kind": event.kind.value, "payload": json.dumps(event.payload)}
    return StoredEvent.model_validate({**row, **changes})


def test_stored_events_with_an_unknown_kind_or_a_broken_payload_are_named_by_seq() -> None:
    """Rows whose kind is not a kind or whose payload is not JSON are each one problem naming
    what is wrong; an edit to another valid kind breaks the event's hash; nothing raises."""
    events = [_stored(e) for e in _chain(5)]
    events[1] = events[1].model_copy(update={"kind": "tool_call_finished"})
    events[2] = events[2].model_copy(update={"payload": "{not json"})
    events[3] = events[3].model_copy(update={"kind": "run_started"})
    problems = {p.seq: p.problem for p in verify_chain(events)}
    assert problems == {
        2: "kind 'tool_call_finished' is not a run event kind (the event was edited)",
        3: "payload is not a JSON object: '{not json' (the event was edited)",
        4: "content does not match its hash (the event was edited)",
    }
    assert verify_chain([_stored(e) for e in _chain(3)]) == []


def test_reordered_events_are_detected() -> None:
    """Swapping two events breaks the chain."""
    events = _chain(3)
    events[0], events[1] = events[1], events[0]
    assert verify_chain(events)


def test_events_are_immutable() -> None:
    """A RunEvent cannot be modified in place."""
    event = _chain(1)[0]
    with pytest.raises(ValueError, match="frozen"):
        event.kind = EventKind.RUN_STARTED  # type: ignore[misc]


def _reference_hash(**f: object) -> str:
    """The chain's definition, spelled out: sha256 of the sorted-key JSON of the envelope."""
    import hashlib
    import json

    ts = f["ts"]
    assert isinstance(ts, datetime)
    body = {**f, "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    event_id=st.text(),
    run_id=st.sampled_from([RUN, "run-1", 'a"b', "é\\n"]),
    seq=st.integers(min_value=1, max_value=10**9),
    ts=st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-3))])),
    kind=st.sampled_from([k.value for k in EventKind] + ["x y"]),
    step_attempt_id=st.none() | st.text(),
    payload=st.dictionaries(st.text(), _json_values, max_size=5),
    prev_hash=st.sampled_from([GENESIS_HASH, "ab" * 32]),
)
def test_event_hash_is_the_hash_of_the_canonical_envelope(**fields: object) -> None:
    """event_hash (which writes the envelope out key by key) equals the chain's definition for
    any ids, kinds, payloads and timestamps, including odd characters and years before 1000."""
    assert event_hash(**fields) == _reference_hash(**fields)  # type: ignore[arg-type]
