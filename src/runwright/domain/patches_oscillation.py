"""Oscillation: the same change toggled back and forth within a window of recent patches.

Each patch has a *change signature* that does not depend on direction (a change and its revert
have the same signature; see ``runwright.patches.diffs.change_signature``). Over the last
``window`` signatures of a project, newest last, the newest patch oscillates when its signature
occurs at least ``threshold`` times. With window 5 and threshold 3, ``[a, b, a, c, a]``
oscillates and ``[a, b, a, c, d]`` does not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_OSCILLATION_WINDOW = 5
DEFAULT_OSCILLATION_THRESHOLD = 3


class OscillationVerdict(BaseModel):
    """Whether the newest change oscillates, and the counts that decided it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    oscillating: bool
    signature: str | None = None
    occurrences: int = Field(default=0, ge=0)
    window: int = Field(ge=1)
    threshold: int = Field(ge=1)
    most_common: str | None = None
    most_common_count: int = Field(default=0, ge=0)

    def describe(self) -> str:
        """One line for a reason or an event."""
        verdict = "oscillation" if self.oscillating else "no oscillation"
        return (
            f"{verdict}: the change occurs {self.occurrences} times in the last "
            f"{self.window} patches (threshold {self.threshold})"
        )


def detect_oscillation(
    signatures: Sequence[str],
    *,
    window: int = DEFAULT_OSCILLATION_WINDOW,
    threshold: int = DEFAULT_OSCILLATION_THRESHOLD,
) -> OscillationVerdict:
    """Judge the newest of ``signatures`` (oldest first) against the ``window`` before it."""
    if window < 1 or threshold < 1:
        raise ValueError("window and threshold must be at least 1")
    recent = list(signatures)[-window:]
    if not recent:
        return OscillationVerdict(oscillating=False, window=window, threshold=threshold)
    newest = recent[-1]
    counts = Counter(recent)
    common, common_count = counts.most_common(1)[0]
    occurrences = counts[newest]
    return OscillationVerdict(
        oscillating=occurrences >= threshold,
        signature=newest,
        occurrences=occurrences,
        window=window,
        threshold=threshold,
        most_common=common,
        most_common_count=common_count,
    )
