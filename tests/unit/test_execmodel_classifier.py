"""The fast classifier: session title → mode by the seed's keyword table (digest §5, 1-3)."""

from __future__ import annotations

import pytest

from runwright.domain.execmodel.classifier import ModeSource, classify
from runwright.domain.execmodel.modes import ModeExtension
from runwright.domain.execmodel.registry import DEFAULT_REGISTRY
from runwright.errors import ValidationError


@pytest.mark.parametrize(
    ("title", "mode"),
    [
        ("Fix systemd timer for bot", "SERVICE"),
        ("Backfill CSV export", "PIPELINE"),
        ("Q3 roadmap triage", "GOVERNANCE"),
        ("Move the site to GitHub Pages", "SERVICE"),
        ("Control   Tower weekly", "GOVERNANCE"),
        ("Send follow-up to Acme", "CONTACT"),
        ("keyring errors on login", "CONTRACT"),
    ],
)
def test_titles_map_to_modes_by_keyword(title: str, mode: str) -> None:
    """Behaviour 1: keywords and phrases, in any case and spacing, pick the mode."""
    found = classify(title, DEFAULT_REGISTRY)
    assert found.mode_id == mode
    assert found.source == ModeSource.CLASSIFIER
    assert found.override is False


def test_several_matches_take_the_first_mode_in_table_order() -> None:
    """Behaviour 3: "API CLI" matches CONTRACT and TOOLSMITH; CONTRACT comes first."""
    found = classify("API CLI", DEFAULT_REGISTRY)
    assert found.mode_id == "CONTRACT"
    assert {m.mode_id for m in found.matches} == {"CONTRACT", "TOOLSMITH"}
    assert "TOOLSMITH" in (found.hint or "")


@pytest.mark.parametrize("title", ["Lunch with the team", "tools and scripting", "environment"])
def test_no_whole_word_match_gives_no_mode_and_a_hint(title: str) -> None:
    """Behaviour 2: no keyword (only parts of words like 'tools', 'environment') → no mode,
    and the hint says to pick one."""
    found = classify(title, DEFAULT_REGISTRY)
    assert found.mode_id is None
    assert found.source == ModeSource.NONE
    assert "--mode" in (found.hint or "")


def test_an_override_always_wins_and_is_recorded_as_one() -> None:
    """Behaviour 2: --mode wins over the keywords and is marked as an override."""
    found = classify("Backfill CSV export", DEFAULT_REGISTRY, override="contract")
    assert found.mode_id == "CONTRACT"
    assert found.override is True
    assert found.source == ModeSource.OVERRIDE
    assert found.classified_mode_id == "PIPELINE"


def test_an_override_must_be_a_mode() -> None:
    """Overriding with a tag or a made-up mode is refused."""
    with pytest.raises(ValidationError, match="tag"):
        classify("x", DEFAULT_REGISTRY, override="MODEL/ANALYZE")
    with pytest.raises(ValidationError, match="not a mode"):
        classify("x", DEFAULT_REGISTRY, override="DANCE")


def test_an_empty_title_is_refused() -> None:
    """A blank title cannot be classified."""
    with pytest.raises(ValidationError, match="empty"):
        classify("   ", DEFAULT_REGISTRY)


def test_project_keywords_classify_too() -> None:
    """Keywords added by the project's config take part in classification."""
    registry = DEFAULT_REGISTRY.extended(
        [ModeExtension(mode_id="PIPELINE", extra_keywords=["dbt"])]
    )
    assert classify("dbt models refresh", registry).mode_id == "PIPELINE"
