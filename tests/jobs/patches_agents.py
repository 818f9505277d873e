"""Real command-line "agents" for the patch tests: each edits files in its working directory.

Run as ``python patches_agents.py MODE PROMPT_FILE [ARGS…]``. ``as_cli`` backs executables named
``aider``, ``claude`` and ``codex`` (see ``patches_support.fake_agent_clis``): it checks the flags
the shipped adapter passes and reads the prompt as that tool would.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path


def focus_files(prompt: str) -> list[str]:
    """The files the prompt's FILES_SCOPE says to focus on."""
    m = re.search(r"^- focus on: (.+)$", prompt, re.MULTILINE)
    return [f.strip() for f in m.group(1).split(",")] if m else []


def mark(files: list[str], tool: str) -> None:
    """Fix the subtraction in each file and append a line naming ``tool``."""
    for name in files:
        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = path.read_text() if path.exists() else ""
        path.write_text(text.replace("a - b", "a + b") + f"# edited by {tool}\n")


def as_cli(tool: str, argv: list[str]) -> int:
    """Behave like the agent CLI ``tool`` in batch mode."""
    if tool == "aider":
        for flag in ("--yes-always", "--no-auto-commits", "--message-file"):
            if flag not in argv:
                print(f"aider: missing {flag}", file=sys.stderr)
                return 2
        prompt = Path(argv[argv.index("--message-file") + 1]).read_text()
        files = [a for a in argv[argv.index("--message-file") + 2 :] if not a.startswith("-")]
    elif tool == "claude":
        if "-p" not in argv or argv[argv.index("--permission-mode") + 1] != "acceptEdits":
            print("claude: expected -p --permission-mode acceptEdits", file=sys.stderr)
            return 2
        prompt = sys.stdin.read()
        files = focus_files(prompt)
    else:  # codex
        if argv[:2] != ["exec", "--json"] or "workspace-write" not in argv or argv[-1] != "-":
            print(f"codex: unexpected arguments {argv}", file=sys.stderr)
            return 2
        prompt = sys.stdin.read()
        files = focus_files(prompt)
    if "# OBJECTIVE" not in prompt or "unified diff" not in prompt:
        print(f"{tool}: the prompt lacks its sections", file=sys.stderr)
        return 3
    mark(files, tool)
    print(f"{tool}: edited {', '.join(files)}")
    return 0


def main(argv: list[str]) -> int:
    """Run one mode."""
    mode, prompt_file, *rest = argv
    prompt = Path(prompt_file).read_text()
    assert "# OBJECTIVE" in prompt, "no prompt"
    if mode == "replace":  # replace FILE OLD NEW
        path = Path(rest[0])
        path.write_text(path.read_text().replace(rest[1], rest[2]))
    elif mode == "write":  # write FILE TEXT
        Path(rest[0]).parent.mkdir(parents=True, exist_ok=True)
        Path(rest[0]).write_text(rest[1])
    elif mode == "fail":
        print("agent: cannot do it", file=sys.stderr)
        return 3
    elif mode == "noop":
        print("agent: nothing to do")
    elif mode == "symlink-out":  # symlink-out NAME
        os.symlink("../../../../../../etc/passwd", rest[0])
    elif mode == "binary":  # binary NAME
        Path(rest[0]).write_bytes(b"\x00\x01\x02binary\x00")
    elif mode == "sleep-then-write":  # sleep-then-write MARKER SECONDS FILE TEXT
        Path(rest[0]).write_text(str(os.getpid()))
        time.sleep(float(rest[1]))
        Path(rest[2]).write_text(rest[3])
    elif mode == "sleep-once":  # sleep-once MARKER SECONDS FILE OLD NEW: only the first run sleeps
        marker = Path(rest[0])
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(float(rest[1]))
        path = Path(rest[2])
        path.write_text(path.read_text().replace(rest[3], rest[4]))
    elif mode == "flaky":  # flaky COUNTER FAILURES FILE TEXT: fail the first FAILURES runs
        counter = Path(rest[0])
        seen = int(counter.read_text()) if counter.exists() else 0
        counter.write_text(str(seen + 1))
        if seen < int(rest[1]):
            print(f"agent: flaky failure {seen + 1}", file=sys.stderr)
            return 4
        Path(rest[2]).write_text(rest[3])
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
