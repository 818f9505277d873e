"""ULID identifiers."""

from __future__ import annotations

import pytest

from runwright.domain.ids import check_ulid, is_ulid, new_id
from runwright.errors import ValidationError


def test_new_ids_are_ulids_and_sort_by_creation() -> None:
    """Fresh ids are well-formed ULIDs and later ones never sort before earlier ones' ms."""
    ids = [new_id() for _ in range(50)]
    assert all(is_ulid(i) for i in ids)
    assert len(set(ids)) == 50
    assert ids[0][:10] <= ids[-1][:10]


@pytest.mark.parametrize(
    "bad",
    [
        "01ARZ3NDEKTSV4RRFFQ69G5FAI",
        "01ARZ3NDEKTSV4RRFFQ69G5FAL",
        "01ARZ3NDEKTSV4RRFFQ69G5FAO",
        "01ARZ3NDEKTSV4RRFFQ69G5FAU",
        "01ARZ3NDEKTSV4RRFFQ69G5FA",
        "01ARZ3NDEKTSV4RRFFQ69G5FAVV",
        "",
    ],
)
def test_ids_with_forbidden_letters_or_wrong_length_are_rejected(bad: str) -> None:
    """An id containing I, L, O or U, or not 26 characters long, is not a ULID."""
    assert not is_ulid(bad)
    with pytest.raises(ValidationError) as err:
        check_ulid(bad, field="run_id")
    assert err.value.fields["field"] == "run_id"


def test_lowercase_ulid_is_rejected() -> None:
    """ULIDs are stored upper-case; a lower-case one is refused rather than silently fixed."""
    assert not is_ulid(new_id().lower())


def test_ids_made_in_a_burst_strictly_increase_and_carry_the_time() -> None:
    """Thousands of ids made within a few milliseconds are unique, strictly increasing (the next
    id of a millisecond is the previous plus one) and decode to the time they were made."""
    import time

    from ulid import ULID

    before = time.time()
    ids = [new_id() for _ in range(5000)]
    after = time.time()
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(is_ulid(i) for i in ids)
    for i in (ids[0], ids[-1]):
        assert before - 0.002 <= ULID.from_str(i).timestamp <= after + 0.002


def test_id_text_is_standard_ulid_encoding() -> None:
    """An id's 26 characters are the standard ULID encoding: another ULID library reads back the
    millisecond in the first 48 bits and, within one millisecond, consecutive 128-bit values."""
    from ulid import ULID

    pairs = [
        (ULID.from_str(a), ULID.from_str(b))
        for a, b in zip(*[iter(new_id() for _ in range(2000))] * 2, strict=True)
    ]
    same_ms = [(a, b) for a, b in pairs if a.milliseconds == b.milliseconds]
    assert same_ms
    assert all(int(b) - int(a) == 1 for a, b in same_ms)
