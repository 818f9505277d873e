"""Patches, the patch ledger, policy, worktrees, routing, prompts and agent tools.

Every change an agent makes is a patch: parsed, checked against the policy, applied and verified
in a git worktree, and committed to the user's branch only from ``verified``.
"""
