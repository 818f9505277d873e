"""Step options, the ``@step`` decorator and the current step (verdicts: domain.reconcile)."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from runwright.domain.evidence import EvidenceLink
from runwright.domain.reconcile import ReconcileResult
from runwright.domain.retry import DEFAULT_RETRY, RetryPolicy

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class StepOptions:
    """How a step runs: idempotence, timeout, retries and how to reconcile it."""

    idempotent: bool = False
    timeout: float | None = None
    retry: RetryPolicy = DEFAULT_RETRY
    reconcile: Callable[..., ReconcileResult] | None = None
    tool_id: str | None = None

    def merged(self, **overrides: Any) -> StepOptions:
        """These options with the non-None overrides applied."""
        changes = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **changes) if changes else self


def step(
    *,
    idempotent: bool = False,
    timeout: float | None = None,
    retry: RetryPolicy | None = None,
    reconcile: Callable[..., ReconcileResult] | None = None,
    tool_id: str | None = None,
) -> Callable[[F], F]:
    """Declare a function's defaults as a durable step (used by ``ctx.step``).

    ``idempotent=True`` lets the engine re-run it after a crash; otherwise an interrupted
    call is reconciled with ``reconcile`` (same arguments as the step) or sent to a human.
    """

    def wrap(f: F) -> F:
        f.__runwright_step__ = StepOptions(  # type: ignore[attr-defined]
            idempotent=idempotent,
            timeout=timeout,
            retry=retry or DEFAULT_RETRY,
            reconcile=reconcile,
            tool_id=tool_id,
        )
        return f

    return wrap


def options_of(fn: Callable[..., Any]) -> StepOptions:
    """The options declared on ``fn`` with ``@step``, or the defaults."""
    opts = getattr(fn, "__runwright_step__", None)
    return opts if isinstance(opts, StepOptions) else StepOptions()


@dataclass
class CurrentStep:
    """The step running now: evidence attached inside it is committed with its result."""

    run_id: str
    step_key: str
    step_attempt_id: str
    attach: Callable[..., EvidenceLink]
    evidence: list[EvidenceLink] = field(default_factory=list)


_current: contextvars.ContextVar[CurrentStep | None] = contextvars.ContextVar(
    "runwright_current_step", default=None
)


def current_step() -> CurrentStep | None:
    """The step being executed in this context, if any."""
    return _current.get()


def set_current(step_ctx: CurrentStep | None) -> contextvars.Token[CurrentStep | None]:
    """Make ``step_ctx`` the current step; returns a token for ``reset_current``."""
    return _current.set(step_ctx)


def reset_current(token: contextvars.Token[CurrentStep | None]) -> None:
    """Restore the previous current step."""
    _current.reset(token)
