"""Bounds on the numbers spec files hold.

Every duration, count and size a user writes has a ceiling, so that a value accepted when a
file is loaded never overflows later: not a database integer, not a ``timedelta``, not JSON
(no infinity, no NaN). The ceilings are far above any sensible setting.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

#: The longest timeout or timebox: a week.
MAX_SECONDS = 7 * 24 * 3600
MAX_MINUTES = MAX_SECONDS // 60
#: The longest interval between two runs of a producer: a year.
MAX_INTERVAL_SECONDS = 366 * 24 * 3600
#: Attempts, retries, reviewers, parallel tools, an oscillation window.
MAX_FEW = 1000
#: Lines, files, rows, matches.
MAX_MANY = 1_000_000_000
#: The largest diff or file size: 1 GiB.
MAX_SIZE_BYTES = 2**30

Seconds = Annotated[float, Field(gt=0, le=MAX_SECONDS, allow_inf_nan=False)]
WholeSeconds = Annotated[int, Field(ge=1, le=MAX_SECONDS)]
Minutes = Annotated[float, Field(gt=0, le=MAX_MINUTES, allow_inf_nan=False)]
Few = Annotated[int, Field(ge=1, le=MAX_FEW)]
FewOrZero = Annotated[int, Field(ge=0, le=MAX_FEW)]
Many = Annotated[int, Field(ge=1, le=MAX_MANY)]
ManyOrZero = Annotated[int, Field(ge=0, le=MAX_MANY)]
SizeBytes = Annotated[int, Field(ge=1, le=MAX_SIZE_BYTES)]
#: The oldest a file may be before it counts as stale evidence: a year.
AgeMinutes = Annotated[float, Field(gt=0, le=MAX_INTERVAL_SECONDS // 60, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
