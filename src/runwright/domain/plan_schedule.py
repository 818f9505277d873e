"""Which phases of a stage may run together, and why the others wait (pure rules).

Parallelism is allowed only inside a stage, only between ``parallel_safe`` phases whose file
scopes are disjoint and that have no dependency edge between them, and never more than
``max_parallel`` at once. Everything else is serialized, and the reason is recorded.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.plans import PlanPhase
from runwright.domain.policy_globs import glob_matches

_WILDCARDS = set("*?[")


class Batch(BaseModel):
    """Phases started together; the next batch starts when all of these have ended."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    phase_ids: list[str]


class Serialization(BaseModel):
    """Why a phase that was ready did not join a batch."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    phase_id: str
    after: list[str] = Field(description="The phases it waited for.")
    reason: str


class Schedule(BaseModel):
    """The batches of one stage and the reasons phases were serialized."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    batches: list[Batch]
    serialized: list[Serialization] = Field(default_factory=list)


def _static_prefix(pattern: str) -> str:
    parts = []
    clean = pattern.strip().removeprefix("./").strip("/")
    if "/" not in clean:  # matches a name at any depth
        return "" if _WILDCARDS & set(clean) else clean
    for part in clean.split("/"):
        if _WILDCARDS & set(part):
            break
        parts.append(part)
    return "/".join(parts)


def _under(path: str, directory: str) -> bool:
    return not directory or path == directory or path.startswith(directory.rstrip("/") + "/")


def globs_overlap(a: str, b: str) -> bool:
    """True when some path could match both globs (conservative: unsure counts as overlap)."""
    a_wild, b_wild = bool(_WILDCARDS & set(a)), bool(_WILDCARDS & set(b))
    a_clean, b_clean = (
        a.strip().removeprefix("./").strip("/"),
        b.strip().removeprefix("./").strip("/"),
    )
    if not a_wild and not b_wild:
        return _under(a_clean, b_clean) or _under(b_clean, a_clean)
    if not b_wild:
        return glob_matches(a, b_clean)
    if not a_wild:
        return glob_matches(b, a_clean)
    pa, pb = _static_prefix(a), _static_prefix(b)
    return _under(pa, pb) or _under(pb, pa)


def scopes_overlap(a: list[str], b: list[str]) -> list[tuple[str, str]]:
    """The glob pairs of two file scopes that may touch the same path; an empty scope (the
    phase declared none) overlaps everything."""
    if not a or not b:
        return [(a[0] if a else "(undeclared)", b[0] if b else "(undeclared)")]
    return [(x, y) for x in a for y in b if globs_overlap(x, y)]


def _depends(phases: dict[str, PlanPhase], a: str, b: str) -> bool:
    """True when ``a`` depends on ``b``, directly or through other phases of the stage."""
    seen: set[str] = set()
    todo = [a]
    while todo:
        node = todo.pop()
        for dep in phases[node].depends_on if node in phases else []:
            if dep == b:
                return True
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return False


def conflict(phases: dict[str, PlanPhase], a: PlanPhase, b: PlanPhase) -> str | None:
    """Why ``a`` and ``b`` may not run at the same time, or None when they may."""
    if not a.parallel_safe or not b.parallel_safe:
        unsafe = a.phase_id if not a.parallel_safe else b.phase_id
        return f"{unsafe} is not parallel_safe"
    if _depends(phases, a.phase_id, b.phase_id) or _depends(phases, b.phase_id, a.phase_id):
        return f"a dependency edge links {a.phase_id} and {b.phase_id}"
    shared = scopes_overlap(a.file_scope(), b.file_scope())
    if shared:
        x, y = shared[0]
        return f"file scopes overlap ({a.phase_id}: {x} / {b.phase_id}: {y})"
    return None


def schedule(stage_phases: list[PlanPhase], max_parallel: int) -> Schedule:
    """Batches for the phases of one stage, in plan order, honouring every rule above.

    Dependencies on phases outside the stage are already satisfied (earlier stages have
    ended), so only edges inside the stage order the batches.
    """
    phases = {p.phase_id: p for p in stage_phases}
    done: set[str] = set()
    batches: list[Batch] = []
    serialized: list[Serialization] = []
    remaining = [p.phase_id for p in stage_phases]
    while remaining:
        ready = [
            pid
            for pid in remaining
            if all(d in done or d not in phases for d in phases[pid].depends_on)
        ]
        if not ready:  # a cycle; plans are checked for cycles at load, so this is a guard
            raise ValueError(f"phases {remaining} wait on each other")
        batch: list[str] = []
        for pid in ready:
            if len(batch) >= max_parallel:
                serialized.append(
                    Serialization(
                        phase_id=pid,
                        after=list(batch),
                        reason=f"max_parallel={max_parallel} phases already in this batch",
                    )
                )
                continue
            clash = next(
                (why for other in batch if (why := conflict(phases, phases[other], phases[pid]))),
                None,
            )
            if clash:
                serialized.append(Serialization(phase_id=pid, after=list(batch), reason=clash))
                continue
            batch.append(pid)
        batches.append(Batch(phase_ids=batch))
        done.update(batch)
        remaining = [pid for pid in remaining if pid not in done]
    return Schedule(batches=batches, serialized=serialized)
