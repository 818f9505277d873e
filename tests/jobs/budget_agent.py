"""An agent CLI stand-in that reports its usage the way real ones do, for the budget tests.

    python budget_agent.py [--report FORMAT] [--input N] [--output N] [--cost USD]
        [--session ID] [--hang-once MARKER] [--child-pid FILE] [--sleep S] -- COMMAND...

It runs COMMAND (the scripted agent that edits the worktree), then prints its usage on stdout:
``claude`` as Claude Code's stream-json (a system line, an assistant line with the usage, the
result line), ``none`` nothing. With ``--hang-once MARKER`` the first run (the marker does not
exist yet) starts a child process, writes its pid to ``--child-pid`` and hangs after printing
the assistant line, before the result: a budget must stop it. ``--sleep`` waits before the
end (a slow agent). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def emit(data: dict[str, object]) -> None:
    """One JSON line, flushed at once (a real CLI streams)."""
    print(json.dumps(data), flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", choices=["claude", "none"], default="claude")
    parser.add_argument("--input", type=int, default=1000)
    parser.add_argument("--output", type=int, default=100)
    parser.add_argument("--cost", type=float, default=None)
    parser.add_argument("--session", default="session-1")
    parser.add_argument("--hang-once", type=Path, default=None)
    parser.add_argument("--child-pid", type=Path, default=None)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    done = subprocess.run(command, check=False)
    if done.returncode != 0:
        return done.returncode
    usage = {
        "input_tokens": args.input,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": args.output,
    }
    if args.report == "claude":
        emit({"type": "system", "subtype": "init", "session_id": args.session})
        emit(
            {
                "type": "assistant",
                "session_id": args.session,
                "message": {"id": "msg_1", "role": "assistant", "usage": usage},
            }
        )
    if args.hang_once is not None and not args.hang_once.exists():
        args.hang_once.write_text("hung once\n", encoding="utf-8")
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        if args.child_pid is not None:
            args.child_pid.write_text(str(child.pid), encoding="utf-8")
        time.sleep(300)
    time.sleep(args.sleep)
    if args.report == "claude":
        result: dict[str, object] = {
            "type": "result",
            "subtype": "success",
            "is_error": False,
            "num_turns": 1,
            "result": "done",
            "session_id": args.session,
            "usage": usage,
        }
        if args.cost is not None:
            result["total_cost_usd"] = args.cost
        emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
