"""Evidence patterns: which items of a mode's (and an operator's) pattern a run met."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.execmodel.checks import CheckType
from runwright.domain.execmodel.modes import EvidenceRequirement, Mode


class PatternFacts(BaseModel):
    """What a run produced, as far as evidence patterns are concerned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provided: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Item id → what provided it (step:ID, output:PATH, check:ID).",
    )
    passed_check_types: list[CheckType] = Field(default_factory=list)
    nonempty_outputs: list[str] = Field(default_factory=list)


class ItemVerdict(BaseModel):
    """One pattern item and whether the run met it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    description: str
    required: bool
    met: bool
    sources: list[str] = Field(default_factory=list)


class PatternVerdict(BaseModel):
    """The evidence-pattern check at the end of a run: what is met and what is missing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode_id: str
    items: list[ItemVerdict]
    missing: list[str] = Field(description="Required items not met.")
    missing_optional: list[str] = Field(default_factory=list)
    complete: bool


def effective_pattern(
    mode: Mode, operator_items: Iterable[str | EvidenceRequirement] = ()
) -> list[EvidenceRequirement]:
    """The mode's pattern plus the operator's own items (naming a mode item makes it required)."""
    items = {r.id: r for r in mode.evidence_pattern}
    for entry in operator_items:
        if isinstance(entry, EvidenceRequirement):
            items[entry.id] = entry
        elif entry in items:
            items[entry] = items[entry].model_copy(update={"required": True})
        else:
            items[entry] = EvidenceRequirement(id=entry, description=entry.replace("_", " "))
    return list(items.values())


def evaluate_pattern(
    mode_id: str,
    items: Iterable[EvidenceRequirement],
    facts: PatternFacts,
    *,
    has_next_pointer: bool,
) -> PatternVerdict:
    """Which ``items`` the run met, given ``facts`` and whether it has a next pointer."""
    verdicts = []
    passed = set(facts.passed_check_types)
    for req in items:
        sources = list(facts.provided.get(req.id, []))
        sources += [f"check_type:{t}" for t in req.check_types if t in passed]
        if req.from_outputs:
            sources += [f"output:{p}" for p in facts.nonempty_outputs]
        if req.from_next_pointer and has_next_pointer:
            sources.append("next_pointer")
        verdicts.append(
            ItemVerdict(
                id=req.id,
                description=req.description,
                required=req.required,
                met=bool(sources),
                sources=sorted(set(sources)),
            )
        )
    missing = [v.id for v in verdicts if v.required and not v.met]
    return PatternVerdict(
        mode_id=mode_id,
        items=verdicts,
        missing=missing,
        missing_optional=[v.id for v in verdicts if not v.required and not v.met],
        complete=not missing,
    )


def known_items(modes: Mapping[str, Mode], mode_ids: Iterable[str]) -> set[str]:
    """Every pattern item id of the given modes."""
    return {r.id for m in mode_ids if m in modes for r in modes[m].evidence_pattern}
