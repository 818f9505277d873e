"""Retry policy: exponential backoff with a cap, and non-retryable failures."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from runwright.domain.retry import RetryPolicy


def test_delays_grow_exponentially_up_to_the_cap() -> None:
    """delay(n) = initial * backoff^(n-1), never above max_interval."""
    policy = RetryPolicy(max_attempts=10, initial_interval=1, backoff=2, max_interval=5)
    assert [policy.delay_after(n) for n in range(1, 6)] == [1, 2, 4, 5, 5]


def test_attempts_stop_at_max_attempts() -> None:
    """Attempt n is retried only while n < max_attempts."""
    policy = RetryPolicy(max_attempts=3)
    assert policy.should_retry(1, "ValueError", non_retryable=False)
    assert policy.should_retry(2, "ValueError", non_retryable=False)
    assert not policy.should_retry(3, "ValueError", non_retryable=False)


def test_non_retryable_failures_are_never_retried() -> None:
    """A failure flagged non-retryable, or of a listed type, fails at once."""
    policy = RetryPolicy(max_attempts=5, non_retryable=("KeyError",))
    assert not policy.should_retry(1, "ValueError", non_retryable=True)
    assert not policy.should_retry(1, "KeyError", non_retryable=False)


def test_a_cap_below_the_first_delay_is_refused() -> None:
    """max_interval below initial_interval is a configuration error."""
    with pytest.raises(ValidationError, match="max_interval"):
        RetryPolicy(initial_interval=10, max_interval=1)


def test_attempt_numbers_start_at_one() -> None:
    """Asking for the delay after attempt 0 is a programming error."""
    with pytest.raises(ValueError, match="start at 1"):
        RetryPolicy().delay_after(0)
