"""Imported by a worker subprocess in the op-run finalization crash test: while the file named
by ``RUNWRIGHT_TEST_KILL_FLAG`` exists, the worker SIGKILLs itself as soon as it starts to
finalize an op run, i.e. after the op run's end committed and before its finalization."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import runwright.execmodel.finalize as finalizing

_real = finalizing.finalize


def _killing_finalize(env: Any, run_id: str) -> Any:
    flag = os.environ.get("RUNWRIGHT_TEST_KILL_FLAG")
    if flag and Path(flag).exists():
        Path(flag).with_suffix(".killed").write_text(run_id)
        os.kill(os.getpid(), signal.SIGKILL)
    return _real(env, run_id)


finalizing.finalize = _killing_finalize
