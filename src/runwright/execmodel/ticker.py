"""A worker ticker: finalize op runs that a worker finished (for ``runwright worker``)."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import TYPE_CHECKING

from runwright.execmodel.finalize import finalize_pending

if TYPE_CHECKING:
    from runwright.engine.worker import Worker


def make_ticker(worker: Worker) -> Callable[[], bool] | None:
    """A ticker that finalizes ended op runs between claims; None for a worker that was
    built without the project's settings (they say where operators and evidence live)."""
    from runwright.execmodel.env import ExecEnv
    from runwright.store.blobs import BlobStore
    from runwright.store.core import SystemDatabase

    store = worker.store
    settings = worker.settings
    if not isinstance(store, SystemDatabase) or settings is None:
        return None
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "worker"
    env = ExecEnv(
        store=store,
        settings=settings,
        clock=worker.clock,
        blobs=BlobStore(settings.evidence_dir),
        who=who,
    )
    return lambda: finalize_pending(env) > 0
