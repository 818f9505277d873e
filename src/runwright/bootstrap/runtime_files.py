"""What runwright writes under ``.runwright/`` while it runs, and the ``.gitignore`` that keeps
exactly that out of git: the configuration init writes (config.toml, policy.yaml,
router.yaml, profile.json, operators, phases, plans and their test spec) is meant to be
committed with the project.
"""

from __future__ import annotations

#: The default SQLite database, and the files SQLite keeps beside it (-wal, -shm, -journal).
DATABASE = ("state.db", "state.db-*")
#: Folders written at run time: evidence blobs, git worktrees, quarantined diffs, command
#: output of patches and operator runs, `runwright demo`'s folder, keys.
RUNTIME_DIRS = ("evidence", "worktrees", "quarantine", "patches", "opruns", "demo", "keys")
#: Files written at run time: init's own log, the plan runs' commit lock.
RUNTIME_FILES = ("bootstrap.log", "plans/*.lock")
#: A plan run writes its output (contract, report, command logs) to plans/<run id>/; run ids
#: are 26-character ULIDs, so a folder of plans you name yourself is never matched.
RUN_ID_GLOB = "[0-9A-Z]" * 26


def gitignore() -> str:
    """The text of ``.runwright/.gitignore``."""
    lines = [
        "# Written by `runwright init`. Commit .runwright/: its configuration belongs in git.",
        "# Only what runwright writes while it runs is ignored:",
        *(f"/{name}" for name in DATABASE),
        *(f"/{name}/" for name in RUNTIME_DIRS),
        *(f"/{name}" for name in RUNTIME_FILES),
        "# plan runs' output, one folder per run id",
        f"/plans/{RUN_ID_GLOB}/",
    ]
    return "\n".join(lines) + "\n"
