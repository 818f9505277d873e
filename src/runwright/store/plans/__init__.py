"""The plans' store: plan runs, phases, gates, escalations and agent spend."""

from runwright.store.plans.spend import SpendStore
from runwright.store.plans.store import PlanStore

__all__ = [
    "PlanStore",
    "SpendStore",
]
