"""One reconcile verdict type and one reconcile policy, shared by steps and workflow tools."""

from __future__ import annotations

import pytest

import runwright
from runwright.domain.reconcile import (
    MUTATION_RECONCILE,
    STEP_RECONCILE,
    Reconciled,
    ReconcileResult,
    Reconciliation,
    Verdict,
)
from runwright.domain.retry import RetryPolicy
from runwright.domain.workflows.rules import transient_delay
from runwright.workflows import tools


def test_steps_and_tools_share_one_verdict_type() -> None:
    """``Reconciliation`` (tools) and ``ReconcileResult`` (steps) are the same class, from the
    package, the domain and the tools module alike."""
    assert Reconciliation is ReconcileResult
    assert runwright.Reconciliation is runwright.ReconcileResult is ReconcileResult
    assert tools.Reconciliation is ReconcileResult
    assert tools.Verdict is Verdict is Reconciled


def test_the_tools_verdict_names_are_the_steps_verdicts() -> None:
    """``failed`` is ``not_applied`` and ``retry`` is ``unknown``: same status, same value,
    and the reason is kept; ``applied`` carries the result."""
    assert Reconciled.FAILED is Reconciled.NOT_APPLIED
    assert Reconciled.RETRY is Reconciled.UNKNOWN
    assert [v.value for v in Reconciled] == ["applied", "not_applied", "unknown"]
    assert Reconciliation.failed("gone") == ReconcileResult.not_applied("gone")
    assert Reconciliation.retry("busy") == ReconcileResult.unknown("busy")
    assert ReconcileResult.not_applied().reason == ""
    found = Reconciliation.applied({"id": 7})
    assert (found.status, found.result, found.reason) == (Reconciled.APPLIED, {"id": 7}, "")


def test_each_feature_keeps_its_number_of_attempts() -> None:
    """A step in doubt gets 5 reconcile attempts, a workflow mutation 6 (each as documented);
    the last one hands over to a person."""
    assert (STEP_RECONCILE.max_attempts, MUTATION_RECONCILE.max_attempts) == (5, 6)
    assert [STEP_RECONCILE.exhausted(n) for n in (1, 4, 5, 6)] == [False, False, True, True]
    assert [MUTATION_RECONCILE.exhausted(n) for n in (5, 6)] == [False, True]
    assert STEP_RECONCILE.timeout == MUTATION_RECONCILE.timeout == 30.0


def test_one_backoff_spaces_reconcile_attempts_and_transient_retries() -> None:
    """10 s·2ⁿ⁻¹ capped at 10 minutes, the step retry backoff, for both reconcile policies and
    a workflow's transient retries; attempts are numbered from 1."""
    expected = [10, 20, 40, 80, 160, 320, 600, 600]
    same = RetryPolicy(initial_interval=10.0, max_interval=600.0)
    assert [same.delay_after(n) for n in range(1, 9)] == expected
    for delay in (STEP_RECONCILE.delay, MUTATION_RECONCILE.delay, transient_delay):
        assert [delay(n) for n in range(1, 9)] == expected
        with pytest.raises(ValueError, match="start at 1"):
            delay(0)
