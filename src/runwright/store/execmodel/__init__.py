"""The execution model's store: modes, blocks, operator runs and debug packets."""

from runwright.store.execmodel.store import ExecModelStore

__all__ = [
    "ExecModelStore",
]
