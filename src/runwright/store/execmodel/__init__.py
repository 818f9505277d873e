"""The execution model's store: modes, blocks, operator runs and debug packets.

Importing it registers the op run's run-end hook (``finalizing``): an op run's end queues its
finalization as a durable system run.
"""

from runwright.store.execmodel.finalizing import (
    FINALIZE_JOB,
    FINALIZE_MODULE,
    OP_RUN_JOB,
    finalize_key,
)
from runwright.store.execmodel.store import ExecModelStore

__all__ = [
    "FINALIZE_JOB",
    "FINALIZE_MODULE",
    "OP_RUN_JOB",
    "ExecModelStore",
    "finalize_key",
]
