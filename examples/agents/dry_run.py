"""Dry-run a plan with a real agent CLI against runwright's scripted model server, offline.

    python examples/agents/dry_run.py --agent claude [--agent codex --agent aider] [--json]

For each agent: a throwaway copy of the greet example repository, a router app running the real
CLI on its shipped adapter with the model stub (``script.yaml``) as its model server, and the
two-phase plan ``plan.yaml`` run to its end on SQLite. Prints, per agent, the plan's status, its
delegation rounds with the tokens, cost and wall time the agent reported, and the totals.
The agent CLIs come from ``bash .ci/install-agents`` (or PATH).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from runwright.api.client import Client
from runwright.config import load_settings
from runwright.testing.models import ModelStub, load_script
from runwright.testing.models.agents import AGENTS, find_agent, router_app

HERE = Path(__file__).resolve().parent


def make_repo(dest: Path) -> Path:
    """The greet example repository (examples/plans), committed, in ``dest``."""
    setup = HERE.parent / "plans" / "setup_demo.py"
    spec = importlib.util.spec_from_file_location("setup_demo", setup)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {setup}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made: Path = module.make(dest)
    return made


def dry_run(agent: str, workdir: Path) -> dict[str, Any]:
    """Run the plan with ``agent``; what happened, as data."""
    binary = find_agent(agent)
    if binary is None:
        raise SystemExit(f"{agent} is not installed: run `bash .ci/install-agents` first")
    repo = make_repo(workdir / "repo")
    with ModelStub(
        load_script(HERE / "script.yaml"), record=workdir / "model-requests.jsonl"
    ) as stub:
        router = {
            "version": "1",
            "apps": {"agent": router_app(agent, stub, workdir / "agent-home", binary)},
            "routing": {"rules": []},
        }
        (repo / ".runwright" / "router.yaml").write_text(yaml.safe_dump(router), encoding="utf-8")
        plan = repo / "plans" / "greet-by-agent.yaml"
        plan.write_text((HERE / "plan.yaml").read_text(encoding="utf-8"), encoding="utf-8")
        settings = load_settings(
            env={},
            overrides={
                "home": repo / ".runwright",
                "database_url": f"sqlite:///{workdir / 'state.db'}",
            },
        )
        client = Client.open(settings)
        try:
            started = time.monotonic()
            view = client.plans.run(plan, timeout=1800)
            wall = time.monotonic() - started
        finally:
            client.close()
        requests = len(stub.requests)
    spend = view.spend
    return {
        "agent": agent,
        "version": _version(binary),
        "status": view.record.status.value,
        "plan_run": view.run_id,
        "wall_seconds": round(wall, 2),
        "model_requests": requests,
        "rounds": [
            {
                "phase": row.phase_id,
                "round": row.round,
                "tool": row.tool,
                "input_tokens": row.input_tokens,
                "output_tokens": row.output_tokens,
                "cost_usd": row.cost_usd,
                "cost_estimated": row.cost_estimated,
                "wall_seconds": round(row.wall_seconds, 2),
                "session_id": row.session_id,
            }
            for row in spend.rows
        ],
        "totals": spend.totals.model_dump(mode="json"),
    }


def _version(binary: Path) -> str:
    import subprocess

    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else "?"


def show(result: dict[str, Any]) -> None:
    """A readable summary of one agent's dry run."""
    t = result["totals"]
    print(
        f"{result['agent']} ({result['version']}): {result['status']}"
        f" in {result['wall_seconds']} s, {len(result['rounds'])} agent calls,"
        f" {result['model_requests']} model requests"
    )
    for r in result["rounds"]:
        tokens = "tokens unknown"
        if r["input_tokens"] is not None:
            tokens = f"{r['input_tokens']} in + {r['output_tokens']} out"
        cost = "cost unknown"
        if r["cost_usd"] is not None:
            cost = f"${r['cost_usd']:.4f}" + (" (estimated)" if r["cost_estimated"] else "")
        print(f"  {r['phase']} round {r['round']}: {tokens}, {cost}, {r['wall_seconds']} s")
    cost = f"${t['cost_usd']:.4f}"
    if t["unknown_cost"]:
        cost += f" ({t['unknown_cost']} of {t['calls']} calls' cost unknown)"
    print(f"  total: {t['tokens']} tokens, {cost}, {t['wall_seconds']:.2f} s of agent time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent", action="append", choices=AGENTS, help="repeatable; default all")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    results = []
    for agent in args.agent or list(AGENTS):
        with tempfile.TemporaryDirectory(prefix=f"runwright-{agent}-") as tmp:
            results.append(dry_run(agent, Path(tmp)))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for result in results:
            show(result)
    return 0 if all(r["status"] == "complete" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
