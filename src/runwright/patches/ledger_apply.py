"""The patch ledger service, part two: apply and verify in a worktree, and crash recovery.

Applying is two transactions around the disk work: ``→ queued`` (attempt counted, owner
recorded) before the worktree is made, ``→ applied | apply_failed`` after. A process killed in
between leaves the patch ``queued`` with a dead owner; :meth:`ApplyOps.recover` turns that into
``apply_failed`` and removes the half-made worktree, so the patch can be applied again.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from runwright.domain.patches_context import PatchRecord
from runwright.domain.patches_ledger import PatchState, PatchValidation, check_patch_transition
from runwright.errors import ValidationError
from runwright.patches.commands import CommandResult, expand, run_command
from runwright.patches.diffs import DiffError, parse_diff
from runwright.patches.env import owner_alive, process_owner
from runwright.patches.git import GitError, git, symlinks_in_tree
from runwright.patches.ledger_base import LedgerBase
from runwright.patches.paths import change_problems
from runwright.patches.validation import base_symlink_problems
from runwright.patches.worktrees import patch_worktree_name


@dataclass
class RecoveryReport:
    """What recovery found and did."""

    interrupted: list[str] = field(default_factory=list)
    still_running: list[str] = field(default_factory=list)
    unknown_owner: list[str] = field(default_factory=list)
    worktrees_removed: list[str] = field(default_factory=list)


class ApplyOps(LedgerBase):
    """Applying patches in worktrees, verifying them, recovering interrupted applies."""

    def apply(
        self,
        patch_id: str,
        *,
        override: bool = False,
        reason: str | None = None,
        reclaim: bool = False,
    ) -> PatchRecord:
        """Apply a validated (or failed, or with ``override`` quarantined) patch in its worktree.

        A patch left ``queued`` by a process that is gone (or, with ``reclaim``, by any earlier
        attempt) is first marked ``apply_failed`` and its half-made worktree removed.
        """
        record = self.store.get(patch_id)
        entry = record.entry
        stale = reclaim or owner_alive(entry.apply.owner) is False
        if entry.state is PatchState.QUEUED and stale:
            record = self._interrupted(record)
            entry = record.entry
        check_patch_transition(entry.state, PatchState.QUEUED, override=override, patch_id=patch_id)
        self._refuse_unsafe(record, override=override)
        name = patch_worktree_name(patch_id)
        workspace = self.env.worktrees.path(name)
        why = reason or (
            "override of quarantine" if override else f"apply attempt {entry.apply.attempts + 1}"
        )
        now = self.env.clock.now()
        queued = self._move(
            record,
            PatchState.QUEUED,
            why,
            override=override,
            apply=lambda e: e.apply.model_copy(
                update={
                    "attempts": e.apply.attempts + 1,
                    "last_attempt_at": now,
                    "owner": process_owner(),
                    "workspace_path": str(workspace),
                }
            ),
            quarantine=lambda e: (
                e.quarantine.model_copy(update={"is_quarantined": False})
                if override
                else e.quarantine
            ),
            event_extra={"attempt": entry.apply.attempts + 1, "override": override},
        )
        try:
            path = self.env.worktrees.create(name, record.artifact.base_commit or "HEAD")
            git(path, "apply", "--check", "--index", "-", stdin=record.artifact.diff_text)
            git(
                path,
                "apply",
                "--index",
                "--whitespace=nowarn",
                "-",
                stdin=record.artifact.diff_text,
            )
            files = git(path, "diff", "--cached", "--name-only", "-z").stdout.split("\0")
        except GitError as exc:
            self.env.worktrees.remove(name)
            return self._apply_failed(queued, "git_apply_failed", exc.message)
        except BaseException as exc:  # interrupted or broken: never leave it queued by a live owner
            with contextlib.suppress(Exception):
                self.env.worktrees.remove(name)
                self._apply_failed(queued, "interrupted", f"{type(exc).__name__}: {exc}")
            raise
        return self._move(
            queued,
            PatchState.APPLIED,
            "applied in worktree",
            counters={"patches_applied": 1},
            apply=lambda e: e.apply.model_copy(
                update={"owner": None, "applied_files": [f for f in files if f]}
            ),
        )

    def _refuse_unsafe(self, record: PatchRecord, *, override: bool = False) -> None:
        """Re-check path safety right before the disk is touched (defence in depth): unsafe
        names, and directories that are symlinks in the base commit. Nothing changes when it
        refuses, so an override leaves a quarantined patch quarantined, with its reason."""
        try:
            parsed = parse_diff(record.artifact.diff_text)
        except DiffError as exc:
            raise ValidationError(f"patch {record.patch_id} is not a readable diff: {exc}") from exc
        problems = [p for f in parsed.files for p in change_problems(f)]
        base = record.artifact.base_commit
        if not problems and base:
            problems = base_symlink_problems(
                parsed, lambda dirs: symlinks_in_tree(self.env.repo, base, dirs)
            )
        if problems:
            hint = (
                "an override never lifts a path-safety quarantine: the patch stays quarantined; "
                "drop it"
                if override
                else "quarantine or drop it"
            )
            raise ValidationError(
                f"patch {record.patch_id} names unsafe paths: {'; '.join(problems)}",
                hint=hint,
                patch_id=record.patch_id,
            )

    def _apply_failed(self, record: PatchRecord, code: str, message: str) -> PatchRecord:
        failed = self._move(
            record,
            PatchState.APPLY_FAILED,
            f"{code}: {message}",
            apply=lambda e: e.apply.model_copy(
                update={
                    "owner": None,
                    "last_error_code": code,
                    "last_error_message": message,
                    "workspace_path": None,
                }
            ),
        )
        limit = self.policy(record.context).constraints.max_apply_attempts or 1
        if failed.entry.apply.attempts >= limit:
            return self.quarantine(
                record.patch_id,
                f"failed to apply {failed.entry.apply.attempts} times (max_apply_attempts "
                f"{limit}); last error: {message}",
            )
        return failed

    def _interrupted(self, record: PatchRecord) -> PatchRecord:
        owner = record.entry.apply.owner
        self.env.worktrees.remove(patch_worktree_name(record.patch_id))
        return self._apply_failed(
            record, "interrupted", f"the apply by {owner} was interrupted (the process is gone)"
        )

    # ---- verify -------------------------------------------------------------------------
    def verify(
        self,
        patch_id: str,
        *,
        test_commands: list[list[str]] | None = None,
        timeout_seconds: int | None = None,
    ) -> PatchRecord:
        """Run the test commands in the patch's worktree: verified, or quarantined on failure."""
        record = self.store.get(patch_id)
        check_patch_transition(record.entry.state, PatchState.VERIFIED, patch_id=patch_id)
        settings = self.env.policy_file().verify
        commands = (
            test_commands
            or record.context.test_commands
            or ([settings.test_command] if settings.test_command else [])
        )
        timeout = timeout_seconds or record.context.test_timeout_seconds or settings.timeout_seconds
        required = record.entry.validation.tests_required
        workspace = self.env.worktrees.path(patch_worktree_name(patch_id))
        if not workspace.is_dir():
            return self._apply_failed(record, "worktree_missing", f"worktree {workspace} is gone")
        if not commands:
            if required:
                raise ValidationError(
                    f"patch {patch_id} must pass tests to be verified, but no test command is set",
                    hint="set verify.test_command in .runwright/policy.yaml, a phase's "
                    "tests.test_command, or pass --test-command",
                    patch_id=patch_id,
                    field="test_command",
                )
            return self._verified(record, [], None, "verified without tests (none configured)")
        results = []
        for index, template in enumerate(commands):
            argv = expand(template, {"worktree": str(workspace), "repo": str(self.env.repo)})
            result = run_command(
                argv,
                cwd=workspace,
                timeout=timeout,
                output_dir=self.env.scratch_dir / patch_id,
                name=f"verify-{index}",
            )
            results.append(result)
            if not result.ok:
                break
        log_sha = self._store_log(record, results)
        last = results[-1]
        if not last.ok:
            validation = record.entry.validation.model_copy(
                update={
                    "tests_ran": True,
                    "tests_passed": False,
                    "test_commands": [r.argv for r in results],
                    "test_exit_code": last.exit_code,
                    "test_log_sha256": log_sha,
                }
            )
            reason = f"verification failed: {last.describe()}"
            return self._quarantine_with(record, reason, validation)
        return self._verified(record, results, log_sha, "tests passed")

    def _verified(
        self, record: PatchRecord, results: list[CommandResult], log_sha: str | None, reason: str
    ) -> PatchRecord:
        validation = record.entry.validation.model_copy(
            update={
                "tests_ran": bool(results),
                "tests_passed": True if results else None,
                "test_commands": [r.argv for r in results],
                "test_exit_code": results[-1].exit_code if results else None,
                "test_log_sha256": log_sha,
            }
        )
        return self._move(record, PatchState.VERIFIED, reason, validation=validation)

    def _quarantine_with(
        self, record: PatchRecord, reason: str, validation: PatchValidation
    ) -> PatchRecord:
        now = self.env.clock.now()
        self.env.worktrees.remove(patch_worktree_name(record.patch_id))
        quarantine = self._quarantine_record(record, reason, now)
        return self._move(
            record, PatchState.QUARANTINED, reason, validation=validation, quarantine=quarantine
        )

    def _store_log(self, record: PatchRecord, results: list[CommandResult]) -> str:
        """Keep the verification output as evidence (linked to the patch's run, if any)."""
        chunks = []
        for r in results:
            chunks.append(f"$ {' '.join(r.argv)}\n# {r.describe()} in {r.seconds:.1f}s\n".encode())
            chunks.append(_read(r.stdout_path) + _read(r.stderr_path))
        data = b"".join(chunks)
        sha, size, _ = self.env.blobs.put_bytes(data)
        if record.entry.run_id:
            self._link_evidence(
                record.entry.run_id, f"patch-{record.patch_id}-verify.log", sha, size
            )
        return sha

    def _link_evidence(self, run_id: str, name: str, sha: str, size: int) -> None:
        from runwright.domain.evidence import EvidenceCounts, EvidenceLink
        from runwright.domain.ids import new_id

        link = EvidenceLink(
            evidence_id=new_id(),
            run_id=run_id,
            artifact_path=name,
            label="patch verification",
            sha256=sha,
            size=size,
            media_type="text/plain",
            counts=EvidenceCounts(),
            created_at=self.env.clock.now(),
        )
        self.core.add_evidence(run_id, [link], self.env.clock.now())

    # ---- recovery -----------------------------------------------------------------------
    def recover(self, *, force: bool = False) -> RecoveryReport:
        """Settle applies interrupted by a crash and remove stale worktrees.

        A ``queued`` patch whose applying process is gone becomes ``apply_failed``; with
        ``force``, also one whose owner cannot be checked (another host). Worktrees of patches
        that are neither applied, verified nor being applied are removed, and so are agent
        worktrees of runs that ended.
        """
        report = RecoveryReport()
        keep: set[str] = set()
        for entry in self.store.entries_in(self.env.project_id, [PatchState.QUEUED]):
            alive = owner_alive(entry.apply.owner)
            if alive or (alive is None and not force):
                (report.still_running if alive else report.unknown_owner).append(entry.patch_id)
                keep.add(patch_worktree_name(entry.patch_id))
                continue
            self._interrupted(self.store.get(entry.patch_id))
            report.interrupted.append(entry.patch_id)
        holding = self.store.entries_in(
            self.env.project_id, [PatchState.APPLIED, PatchState.VERIFIED]
        )
        keep |= {patch_worktree_name(e.patch_id) for e in holding}
        keep |= self._live_agent_worktrees()
        report.worktrees_removed = self.env.worktrees.prune(keep)
        return report

    def _live_agent_worktrees(self) -> set[str]:
        names = [n for n in self.env.worktrees.names() if n.startswith("agent-")]
        run_ids = {n.split("-")[1] for n in names if n.count("-") >= 2}
        states = self.store.run_states(sorted(run_ids))
        live = {"pending", "running", "waiting"}
        return {n for n in names if states.get(n.split("-")[1]) in live}


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""
