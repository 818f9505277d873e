"""Run-end hooks: work a part of runwright does in the very transaction that ends a run.

Every path that moves a run to a terminal state calls ``run_ended(conn, end)`` inside the
transaction that writes the terminal state: the worker's end of a run it holds (succeeded,
failed, timed out, canceled at its worker's next step: ``WorkerOps.finish_run``), the end of a
run no worker holds (``lifecycle.terminate``: a cancel, a dependency that failed, a workflow's
decision) and a run created already canceled because a run it depends on had failed.

What an end does, in order, all in one transaction:

1. the core's own cascade (``lifecycle.after_terminal``): the parent waiting on the run is
   woken, its ``max_parallel`` slot is freed, the runs depending on it are released (or
   canceled, which ends them in turn, hooks and all);
2. the hooks registered for the run's job name, then those registered for its kind, each in
   the order it was registered.

A hook gets the transaction's connection and a ``RunEnd``. It must be quick and must not
commit. If it raises, the whole transaction rolls back: the run has not ended. A worker then
abandons the execution (its lease runs out, another execution ends the run again, and the hook
runs again); a cancel or a decision made by a person fails with the error. The per-run
finisher a job hands the engine (``JobContext.finish_with``) is not a hook: it runs first, only
on success, and its failure fails the run instead (``FinisherFailed``).

A part registers its hooks when its store package is imported (``on_run_end``), and names that
package in ``HOOK_MODULES`` so that every process that can end a run has loaded them before it
ends one, including a process that never used the part itself (a cancel from the command line).
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from runwright.domain.runs import RunKind
from runwright.domain.states import TERMINAL_RUN_STATES, RunState
from runwright.errors import LeaseLost, StorageError


@dataclass(frozen=True, slots=True)
class RunEnd:
    """A run that just reached a terminal state, as the hooks see it."""

    run_id: str
    job_name: str
    kind: RunKind
    #: The terminal state it reached.
    state: RunState
    #: Its ``state_reason`` (``canceled`` by hand, ``dependency_failed:…``, ``over_timebox``…).
    reason: str | None
    parent_run_id: str | None
    project_id: str
    #: The time of the end (the transaction's ``ended_at``).
    now: datetime


RunEndHook = Callable[[Connection, RunEnd], None]


class RunEndFailed(StorageError):
    """A run-end hook raised: nothing of the ending transaction was kept."""

    code = "run_end_failed"


#: The store packages whose import registers run-end hooks (a missing one is skipped).
HOOK_MODULES = ("runwright.store.execmodel", "runwright.store.workflows")

_BY_JOB: dict[str, list[RunEndHook]] = {}
_BY_KIND: dict[RunKind, list[RunEndHook]] = {}
_loaded = threading.Event()
_loading = threading.Lock()


def on_run_end(
    hook: RunEndHook, *, job: str | None = None, kind: RunKind | None = None
) -> RunEndHook:
    """Call ``hook(conn, end)`` in the transaction that ends every run of ``job`` (a job
    name) or of ``kind`` (exactly one of them). Registering the same hook again is a no-op."""
    if (job is None) == (kind is None):
        raise ValueError("a run-end hook is registered for a job name or a run kind")
    found = _BY_JOB.setdefault(job, []) if job is not None else _BY_KIND.setdefault(kind, [])  # type: ignore[arg-type]
    if hook not in found:
        found.append(hook)
    return hook


def remove_run_end_hook(hook: RunEndHook) -> None:
    """Forget ``hook`` wherever it was registered (for tests)."""
    for table in (_BY_JOB, _BY_KIND):
        for hooks in table.values():
            while hook in hooks:
                hooks.remove(hook)


def load_hook_modules() -> None:
    """Import every part named in ``HOOK_MODULES`` (once), so that its hooks are registered."""
    if _loaded.is_set():
        return
    with _loading:
        if _loaded.is_set():
            return
        for name in HOOK_MODULES:
            try:
                present = importlib.util.find_spec(name) is not None
            except ModuleNotFoundError:
                present = False
            if present:
                importlib.import_module(name)
        _loaded.set()


def hooks_for(job_name: str, kind: RunKind | str) -> list[RunEndHook]:
    """The hooks an end of a run of ``job_name`` and ``kind`` calls, in order."""
    load_hook_modules()
    by_job = _BY_JOB.get(job_name, ())
    by_kind = _BY_KIND.get(RunKind(kind), ())
    if not by_job:
        return list(by_kind)
    return [*by_job, *(h for h in by_kind if h not in by_job)]


def run_ended(conn: Connection, end: RunEnd) -> None:
    """Call the hooks of ``end`` in the caller's transaction (after the core's cascade).

    A database or lease error comes back as it is; any other exception as ``RunEndFailed``.
    Either way the caller's transaction must roll back.
    """
    if end.state not in TERMINAL_RUN_STATES:
        raise ValueError(f"run {end.run_id}: {end.state} is not a terminal state")
    for hook in hooks_for(end.job_name, end.kind):
        try:
            hook(conn, end)
        except (DBAPIError, StorageError, LeaseLost):
            raise
        except Exception as exc:
            name = getattr(hook, "__qualname__", repr(hook))
            raise RunEndFailed(
                f"run {end.run_id}: the run-end hook {name} failed ({exc}); the run did not end",
                hint="fix the hook: the run ends again when it is retried",
                run_id=end.run_id,
            ) from exc


def run_end_of(row: Any, state: RunState, reason: str | None, now: datetime) -> RunEnd:
    """The ``RunEnd`` of a run row (it has ``run_id, job_name, kind, parent_run_id,
    project_id``) that reaches ``state``."""
    return RunEnd(
        run_id=row.run_id,
        job_name=row.job_name,
        kind=RunKind(row.kind),
        state=state,
        reason=reason,
        parent_run_id=row.parent_run_id,
        project_id=row.project_id,
        now=now,
    )
