"""Learning jobs: a worker claims only runs of jobs it has registered, and learns the jobs of
ready runs it does not know yet by importing the module each run names, once per module.

A worker whose copy of a module lacks a job (it imported the module before the job was
added) learns nothing from importing it again: the run stays pending for a worker that knows
the job, and `runwright doctor` names the job no live worker knows.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from datetime import datetime

from runwright.engine.registry import job_names
from runwright.store.core import SystemDatabase

log = logging.getLogger(__name__)

#: How often a worker with nothing to claim looks for runs of jobs it does not know.
DISCOVER_SECONDS = 1.0


class JobDiscovery:
    """Imports the modules of ready runs' unknown jobs, each module once."""

    def __init__(self, store: SystemDatabase, now: Callable[[], datetime]):
        self._store = store
        self._now = now
        self._tried: set[str] = set()
        self._next = 0.0  # monotonic time of the next look (the first look is at once)

    def learn(self, *, force: bool = False) -> bool:
        """Look for runs of unknown jobs (at most every DISCOVER_SECONDS unless ``force``)
        and import their modules; True if that registered a new job."""
        if not force and time.monotonic() < self._next:
            return False
        self._next = time.monotonic() + DISCOVER_SECONDS
        known = job_names()
        found = self._store.ready_unknown_jobs(
            self._now(), known, skip_modules=tuple(sorted(self._tried))
        )
        for name, module in found:
            if not module or module == "__main__" or module in self._tried:
                continue
            self._tried.add(module)
            try:
                importlib.import_module(module)
            except Exception as exc:  # a module that fails to import teaches nothing
                log.warning(
                    "job %r: module %r cannot be imported here (%s); its runs wait for a "
                    "worker that knows the job",
                    name,
                    module,
                    f"{type(exc).__name__}: {exc}",
                )
        return job_names() != known
