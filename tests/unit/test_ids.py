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
