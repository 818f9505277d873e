"""Landing the commits of parallel phases in the plan's phase order.

The phases of one batch run at once, each in its own worktree made from the same base commit
(the plan's commit when the batch started). Their commits must still reach the branch one
after the other, in the order the plan lists the phases: each later patch is applied on top
of the commits before it (``git apply`` onto the checkout's HEAD; a patch that no longer
applies fails its own phase, nothing else).

A phase waits for its turn before its first commit: it starts a no-op **turn** child run that
depends on the runs of the phases before it in the batch, and waits for that child. The engine
makes the child ready when those runs have ended (committed or not), so the phase parks —
holding no worker — until then, and a crash anywhere resumes the same wait.
"""

from __future__ import annotations

import contextlib

from runwright.domain.runs import RunKind
from runwright.engine.context import ChildFailed, JobContext
from runwright.engine.registry import job
from runwright.plans.delegation import Delegation

TURN_JOB = "runwright.plans.turn"
TURN_STEP = "turn"


@job(name=TURN_JOB, kind=RunKind.JOB)
def turn(ctx: JobContext) -> None:
    """Nothing: the run exists to become ready once the phases before one have ended."""


def wait_for_turn(ctx: JobContext, delegation: Delegation) -> None:
    """Return once every phase before this one in its batch has ended (at once if none).

    A phase before it that failed cancels the turn run (its dependency failed): that is an
    end too, so the wait is over either way.
    """
    if not delegation.commit_after:
        return
    child = ctx.start_child(TURN_STEP, TURN_JOB, depends_on=list(delegation.commit_after))
    with contextlib.suppress(ChildFailed):
        ctx.wait(child)
