"""The patch ledger service, part three: commit to the user's branch, and roll back.

Only a ``verified`` patch is committed: its diff is applied to the user's checkout with
``git apply --index`` and committed with a ``Runwright-Patch: <id>`` trailer. That trailer lets a
commit interrupted between git and the ledger be recognised instead of made twice. Looking for
that commit and making it happen under the repository lock, so concurrent commits (parallel
plan phases, say) go in one at a time. Rolling back
an applied or verified patch discards its worktree (the checkout never changed); rolling back a
committed one sends its reverse diff through the ledger as a new patch (``rollback_of``).
"""

from __future__ import annotations

from collections.abc import Sequence

from runwright.domain.patches_context import PatchRecord
from runwright.domain.patches_ledger import PatchRelations, PatchState, check_patch_transition
from runwright.errors import Conflict, ValidationError
from runwright.patches.diffs import parse_diff
from runwright.patches.git import (
    FALLBACK_IDENTITY,
    GitError,
    dirty_paths,
    git,
    has_identity,
    repo_lock,
)
from runwright.patches.ledger_apply import ApplyOps
from runwright.patches.paths import symlinked_parents_on_disk
from runwright.patches.worktrees import patch_worktree_name

TRAILER = "Runwright-Patch"


class CommitOps(ApplyOps):
    """Committing verified patches and rolling patches back."""

    def commit(
        self,
        patch_id: str,
        *,
        approved_by: Sequence[str] = (),
        message: str | None = None,
    ) -> PatchRecord:
        """Commit a verified patch to the user's current branch."""
        record = self.store.get(patch_id)
        check_patch_transition(record.entry.state, PatchState.COMMITTED, patch_id=patch_id)
        approvers = sorted({a.strip() for a in approved_by if a.strip()})
        needed = self.policy(record.context).constraints.min_reviewers or 0
        if len(approvers) < needed:
            raise ValidationError(
                f"patch {patch_id} needs {needed} approvals to be committed "
                f"(min_reviewers), it has {len(approvers)}",
                hint="pass --approved-by NAME for each reviewer",
                field="approved_by",
            )
        repo = self.env.repo
        with repo_lock(repo):
            existing = self._find_commit(patch_id)
            if existing is None:
                existing = self._commit_in_checkout(record, message)
            self.env.worktrees.remove(patch_worktree_name(patch_id))
        reason = f"committed as {existing[:12]}"
        if approvers:
            reason += f", approved by {', '.join(approvers)}"
        head = git(repo, "rev-parse", "--abbrev-ref", "HEAD", check=False).stdout.strip()
        return self._move(
            record,
            PatchState.COMMITTED,
            reason,
            event_extra={"commit": existing, "branch": head, "approved_by": approvers},
            apply=lambda e: e.apply.model_copy(
                update={"commit_hash": existing, "workspace_path": None}
            ),
        )

    def _find_commit(self, patch_id: str) -> str | None:
        """A commit on HEAD's history carrying this patch's trailer (a commit made before a
        crash prevented the ledger from recording it)."""
        out = git(
            self.env.repo,
            "log",
            "-n",
            "500",
            "--format=%H",
            "--fixed-strings",
            f"--grep={TRAILER}: {patch_id}",
            "HEAD",
            check=False,
        ).stdout.split()
        return out[0] if out else None

    def _commit_in_checkout(self, record: PatchRecord, message: str | None) -> str:
        repo = self.env.repo
        diff = record.artifact.diff_text
        paths = list(dict.fromkeys(p for f in parse_diff(diff).files for p in f.all_paths))
        if git(repo, "diff", "--cached", "--quiet", check=False).returncode != 0:
            raise Conflict(
                f"cannot commit patch {record.patch_id}: your index has staged changes",
                hint="commit or unstage them (git restore --staged .) and try again",
            )
        dirty = dirty_paths(repo, paths)
        if dirty:
            raise Conflict(
                f"cannot commit patch {record.patch_id}: these files have uncommitted changes in "
                f"your checkout: {', '.join(dirty)}",
                hint="commit or stash them first; runwright never overwrites your work",
            )
        linked = symlinked_parents_on_disk(repo, paths)
        if linked:
            raise ValidationError(f"cannot commit patch {record.patch_id}: {'; '.join(linked)}")
        try:
            git(repo, "apply", "--check", "--index", "-", stdin=diff)
        except GitError as exc:
            raise Conflict(
                f"patch {record.patch_id} no longer applies to your checkout: {exc.message}",
                hint="your branch moved; drop it and submit a patch made on the new HEAD",
            ) from exc
        git(repo, "apply", "--index", "--whitespace=nowarn", "-", stdin=diff)
        text = (message or record.artifact.summary or f"runwright patch {record.patch_id}").strip()
        body = f"{text}\n\n{TRAILER}: {record.patch_id}\n"
        identity = () if has_identity(repo) else FALLBACK_IDENTITY
        try:
            git(repo, *identity, "commit", "--quiet", "--message", body)
        except GitError:
            git(repo, "apply", "--index", "--reverse", "-", stdin=diff, check=False)
            raise
        return git(repo, "rev-parse", "HEAD").stdout.strip()

    # ---- rollback -----------------------------------------------------------------------
    def rollback(
        self,
        patch_id: str,
        *,
        reason: str | None = None,
        approved_by: Sequence[str] = (),
    ) -> PatchRecord:
        """Roll a patch back.

        Applied or verified: its worktree is discarded and it becomes ``rolled_back`` (your
        checkout never saw it). Committed: its reverse diff becomes a new patch
        (``rollback_of``) that is validated, applied, verified and committed; that patch is
        returned, in whatever state it reached.
        """
        record = self.store.get(patch_id)
        state = record.entry.state
        if state is PatchState.COMMITTED:
            return self._revert(record, approved_by)
        check_patch_transition(state, PatchState.ROLLED_BACK, patch_id=patch_id)
        self.env.worktrees.remove(patch_worktree_name(patch_id))
        why = reason or "rolled back: worktree discarded, the checkout was never changed"
        return self._move(record, PatchState.ROLLED_BACK, why)

    def _revert(self, record: PatchRecord, approved_by: Sequence[str]) -> PatchRecord:
        commit = record.entry.apply.commit_hash
        if not commit:
            raise ValidationError(f"patch {record.patch_id} has no recorded commit to revert")
        repo = self.env.repo
        parent = git(repo, "rev-parse", "--verify", "--quiet", f"{commit}^", check=False)
        if parent.returncode != 0:
            raise ValidationError(f"commit {commit[:12]} has no parent to revert to")
        reverse = git(
            repo,
            "diff",
            "--binary",
            "--no-renames",
            "--no-color",
            "--no-ext-diff",
            commit,
            parent.stdout.strip(),
        ).stdout
        summary = f"Revert {commit[:12]}: {record.artifact.summary or record.patch_id}"[:512]
        chain = record.entry.relations.chain_id or record.patch_id
        new = self.submit(
            reverse,
            summary=summary,
            tool_id="runwright.rollback",
            run_id=record.entry.run_id,
            context=record.context,
            relations=PatchRelations(rollback_of_patch_id=record.patch_id, chain_id=chain),
        )
        steps = (
            (PatchState.VALIDATED, self.validate),
            (PatchState.APPLIED, self.apply),
            (PatchState.VERIFIED, self.verify),
        )
        for expected, step in steps:
            new = step(new.patch_id)
            if new.entry.state is not expected:
                return new
        return self.commit(new.patch_id, approved_by=approved_by)
