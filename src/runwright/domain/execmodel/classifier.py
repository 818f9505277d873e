"""The fast mode classifier: a session title → a mode, by the registry's keyword table.

Matching is case-insensitive on whole words or phrases; when keywords of several modes match,
the first mode in table order wins; no match gives no mode (the user picks one); an explicit
override always wins and is recorded as an override.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.execmodel.modes import ModeId
from runwright.domain.execmodel.registry import ModeRegistry
from runwright.errors import ValidationError


class ModeSource(StrEnum):
    """How a mode was chosen."""

    CLASSIFIER = "classifier"
    OVERRIDE = "override"
    BLOCK = "block"
    OPERATOR = "operator"
    NONE = "none"


class KeywordMatch(BaseModel):
    """One keyword of one mode found in the title."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode_id: ModeId
    keyword: str


class Classification(BaseModel):
    """What the classifier says about a title, and which mode was chosen."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    mode_id: ModeId | None = Field(description="The chosen mode; None means the user must pick.")
    source: ModeSource
    override: bool = False
    classified_mode_id: ModeId | None = Field(description="What the keywords alone say.")
    matches: list[KeywordMatch] = Field(default_factory=list)
    hint: str | None = None


@lru_cache(maxsize=512)
def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """A regex that finds ``keyword`` as a whole word or phrase, in any case."""
    words = keyword.strip().split()
    if not words:
        raise ValidationError("a classifier keyword must not be empty", field="keywords")
    body = r"\s+".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def find_matches(title: str, registry: ModeRegistry) -> list[KeywordMatch]:
    """Every (mode, keyword) found in ``title``, in table order."""
    return [
        KeywordMatch(mode_id=mode.mode_id, keyword=kw)
        for mode in registry.modes
        for kw in mode.keywords
        if keyword_pattern(kw).search(title)
    ]


def classify(title: str, registry: ModeRegistry, *, override: str | None = None) -> Classification:
    """Classify ``title``; ``override`` (a mode id) always wins and is marked as such."""
    text = (title or "").strip()
    if not text:
        raise ValidationError(
            "the title is empty", hint='give a session title, e.g. "Backfill CSV export"'
        )
    matches = find_matches(text, registry)
    classified = matches[0].mode_id if matches else None
    if override:
        chosen = registry.check(override, field="--mode")
        return Classification(
            title=text,
            mode_id=chosen,
            source=ModeSource.OVERRIDE,
            override=True,
            classified_mode_id=classified,
            matches=matches,
            hint=None
            if chosen == classified
            else f"override: the keywords say {classified or 'nothing'}",
        )
    if classified is None:
        return Classification(
            title=text,
            mode_id=None,
            source=ModeSource.NONE,
            classified_mode_id=None,
            matches=[],
            hint=f"no keyword matched; pick a mode with --mode ({', '.join(registry.ids())})",
        )
    others = sorted({m.mode_id for m in matches} - {classified})
    return Classification(
        title=text,
        mode_id=classified,
        source=ModeSource.CLASSIFIER,
        classified_mode_id=classified,
        matches=matches,
        hint=(
            f"also matched {', '.join(others)}; {classified} comes first in table order"
            if others
            else None
        ),
    )
