"""Make a throwaway git repository where the example plans can run.

    python examples/plans/setup_demo.py DEST

DEST gets the fixture (a tiny `greet` package with a test spec), the three plans in `plans/`,
and `.runwright/router.yaml` mapping the plans' roles to the scripted agent in
`.runwright/tools/` — a real program that edits the worktree it runs in, as an agent CLI would.
Then, from DEST:

    runwright plan run plans/greet.yaml
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
IDENTITY = ["-c", "user.name=runwright example", "-c", "user.email=example@localhost"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *IDENTITY, *args], check=True, capture_output=True)


def router(tool: Path) -> dict[str, object]:
    """router.yaml: one app per scripted behaviour, each an argv template."""

    def app(*args: str) -> dict[str, object]:
        return {
            "kind": "tool",
            "command": [sys.executable, str(tool), *args, "{worktree}", "{prompt_file}"],
            "capabilities": {"task_kinds": ["code_edit"]},
            "limits": {"timeout_seconds": 120},
            "safety_tier": "low",
        }

    return {
        "version": "1.0",
        "apps": {
            "tests-writer": app("tests"),
            "coder": app("code"),
            "coder-late": app("code", "--mode", "late"),
            "coder-stubborn": app("code", "--mode", "stubborn"),
        },
        "routing": {"rules": []},
    }


def make(dest: Path) -> Path:
    """Create the example repository in ``dest`` (which must be empty or missing)."""
    dest = dest.resolve()
    if dest.exists() and any(dest.iterdir()):
        raise SystemExit(f"{dest} is not empty; give a new folder")
    shutil.copytree(HERE / "fixture", dest, dirs_exist_ok=True)
    shutil.copytree(HERE / "plans", dest / "plans")
    (dest / ".gitignore").write_text(".runwright/\n__pycache__/\n", encoding="utf-8")
    tools = dest / ".runwright" / "tools"
    tools.mkdir(parents=True)
    tool = tools / "scripted_agent.py"
    shutil.copy2(HERE / "tools" / "scripted_agent.py", tool)
    (dest / ".runwright" / "router.yaml").write_text(
        yaml.safe_dump(router(tool), sort_keys=False), encoding="utf-8"
    )
    subprocess.run(["git", "init", "-q", "-b", "main", str(dest)], check=True)
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "greet: the package before the plans")
    return dest


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    dest = make(Path(argv[0]))
    print(f"example repository ready: {dest}")
    print(f"  cd {dest} && runwright plan run plans/greet.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
