"""Retry policy: how many attempts a step gets and how long to wait between them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RetryPolicy(BaseModel):
    """Exponential backoff: delay(n) = min(initial_interval * backoff ** (n - 1), max_interval).

    ``n`` is the number of the attempt that just failed (1 for the first attempt).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=3, ge=1, description="Attempts in all, the first included.")
    initial_interval: float = Field(
        default=1.0, ge=0, description="Seconds before the 2nd attempt."
    )
    backoff: float = Field(default=2.0, ge=1.0, description="Multiplier between delays.")
    max_interval: float = Field(default=300.0, ge=0, description="Cap on any one delay, seconds.")
    non_retryable: tuple[str, ...] = Field(
        default=(), description="Exception class names that fail the step at once."
    )

    @model_validator(mode="after")
    def _cap_not_below_initial(self) -> RetryPolicy:
        if self.max_interval < self.initial_interval:
            raise ValueError("max_interval must be at least initial_interval")
        return self

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after attempt number ``attempt`` failed."""
        if attempt < 1:
            raise ValueError("attempt numbers start at 1")
        return float(min(self.initial_interval * self.backoff ** (attempt - 1), self.max_interval))

    def should_retry(self, attempt: int, failure_type: str, *, non_retryable: bool) -> bool:
        """True when attempt ``attempt`` failed with a failure that deserves another try."""
        if non_retryable or failure_type in self.non_retryable:
            return False
        return attempt < self.max_attempts


NO_RETRY = RetryPolicy(max_attempts=1, initial_interval=0.0, max_interval=0.0)
DEFAULT_RETRY = RetryPolicy()
