"""The patch ledger service: every change an agent (or a person) proposes goes through here.

    created → validated → queued → applied → verified → committed
                    ↘ quarantined / dropped / apply_failed / rolled_back

See ``docs/patches.md`` for the lifecycle, the policy and what touches the user's checkout.
"""

from __future__ import annotations

from runwright.patches.ledger_apply import RecoveryReport
from runwright.patches.ledger_commit import CommitOps


class PatchLedger(CommitOps):
    """Submit, validate, apply, verify, commit, roll back, drop, quarantine, recover."""


__all__ = ["PatchLedger", "RecoveryReport"]
