"""Dashboard page render times on a big store: 100,000 runs and 1,000,000 events.

Fills a fresh store (SQLite file or PostgreSQL database) with synthetic but well-formed rows in
bulk, then requests each page through the real app (in-process, Starlette's test client) and
reports the median and p95 milliseconds per page. Writes bench/results/dashboard-<kind>.json.

The store also gets one event workflow with ``--wf-events`` topic events caused by
``--wf-inputs`` inputs over 60 days (mostly consumed, some pending, hence stale inputs), for the
workflow, topic, event, input and inbox pages. And ``--plans`` plan runs of the example plan
``greet`` (each with its four gate results, four phase delegations and a completion contract;
some blocked at the implementation gate) for the plans list, a plan page and its validation
report.

    .venv/bin/python bench/bench_dashboard.py --db both [--runs 100000 --events 1000000]
        [--wf-events 200000 --wf-inputs 50000] [--plans 5000]

``profile_dashboard.py`` fills the same store once, keeps it, and prints the statements each
page sends (counts, shapes, driver time) for quick before/after comparisons.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

with warnings.catch_warnings():  # the in-process test client works; its transport is deprecated
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dbkinds  # noqa: E402
from runwright import Client, load_settings  # noqa: E402
from runwright.domain.ids import new_id  # noqa: E402
from runwright.domain.plan_records import Defect, GateResult  # noqa: E402
from runwright.domain.workflows.models import HandlerSpec, Schedule, WorkflowSpec  # noqa: E402
from runwright.domain.workflows.phases import HandlerType  # noqa: E402
from runwright.plans.contract import load_plan_text, read_plan_text  # noqa: E402
from runwright.store.schema import run_events, runs  # noqa: E402
from runwright.store.schema.plans import plan_gates, plan_phases, plan_runs  # noqa: E402
from runwright.store.schema.workflows import wf_event_inputs, wf_events, wf_inputs  # noqa: E402
from runwright.web import create_app  # noqa: E402
from runwright.web.security import SESSION_COOKIE, session_value  # noqa: E402

TOKEN = "bench"  # noqa: S105 - a fixed token for an in-process benchmark
STATES = ["succeeded"] * 80 + ["failed"] * 8 + ["canceled"] * 4 + ["waiting"] * 4 + ["pending"] * 4
JOBS = ["billing.invoice", "nightly.export", "examples.tally", "sync.crm", "agent.patch"]
KINDS = {
    "billing.invoice": "job",
    "nightly.export": "job",
    "examples.tally": "job",
    "sync.crm": "consumer",
    "agent.patch": "patch",
}
BATCH = 5_000


def _run_row(run_id: str, when: datetime, rng: random.Random, events: int) -> dict[str, Any]:
    state = rng.choice(STATES)
    job = rng.choice(JOBS)
    ended = (
        when + timedelta(seconds=rng.uniform(0.05, 30))
        if state in {"succeeded", "failed", "canceled"}
        else None
    )
    return {
        "run_id": run_id,
        "project_id": "bench",
        "kind": KINDS[job],
        "job_name": job,
        "job_module": "bench",
        "state": state,
        "state_reason": "waiting:timer" if state == "waiting" else None,
        "origin": '{"trigger_type":"scheduled"}',
        "step_attempts": 3,
        "errors": 1 if state == "failed" else 0,
        "created_at": when,
        "started_at": when,
        "ended_at": ended,
        "updated_at": ended or when,
        "args": "[1]",
        "kwargs": "{}",
        "parent_run_id": None,
        "max_parallel": None,
        "running_children": 0,
        "pending_deps": 0,
        "has_dependents": False,
        "wait_for": None,
        "wait_remaining": None,
        "idempotency_key": None,
        "result": '{"ok":true}' if state == "succeeded" else None,
        "failure": '{"type":"ValueError","message":"bad row","non_retryable":false,"details":{}}'
        if state == "failed"
        else None,
        "next_pointer": "file the report" if state == "succeeded" else None,
        "attempt": 1,
        "available_at": when + timedelta(days=30) if state in {"waiting", "pending"} else None,
        "wake_at": None,
        "lease_owner": None,
        "lease_expires_at": None,
        "cancel_requested": False,
        "timeout_seconds": None,
        "deadline_at": None,
        "manifest_path": None,
        "manifest_sha256": None,
        "event_seq": events,
        "last_event_hash": "f" * 64,
    }


def fill(client: Client, n_runs: int, n_events: int, seed: int = 7) -> dict[str, Any]:
    """Bulk-insert runs and events; return a few ids to request and the fill time."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    per_run = [1] * n_runs
    for _ in range(n_events - n_runs):
        per_run[rng.randrange(n_runs)] += 1
    heavy = 1000
    per_run[n_runs // 2] = heavy
    t0 = time.perf_counter()
    ids: list[str] = []
    db = client.store.db
    run_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []

    def flush() -> None:
        if run_rows:
            db.run(lambda conn: conn.execute(insert(runs), run_rows))
            run_rows.clear()
        if event_rows:
            db.run(lambda conn: conn.execute(insert(run_events), event_rows))
            event_rows.clear()

    for i in range(n_runs):
        when = start + timedelta(seconds=i * 25)
        run_id = new_id()
        ids.append(run_id)
        run_rows.append(_run_row(run_id, when, rng, per_run[i]))
        for seq in range(1, per_run[i] + 1):
            event_rows.append(
                {
                    "event_id": new_id(),
                    "run_id": run_id,
                    "seq": seq,
                    "ts": when + timedelta(milliseconds=seq),
                    "kind": "note" if seq > 1 else "run_created",
                    "step_attempt_id": None,
                    "payload": '{"message":"tick"}',
                    "prev_hash": "0" * 64,
                    "hash": "f" * 64,
                }
            )
        if len(event_rows) >= BATCH:
            flush()
    flush()
    return {"seconds": time.perf_counter() - t0, "heavy": ids[n_runs // 2], "ids": ids}


WF_SPEC = WorkflowSpec(
    name="orders",
    topics=["orders"],
    handlers=[
        HandlerSpec(
            name="poll",
            type=HandlerType.PRODUCER,
            publishes=["orders"],
            schedule=Schedule(every="5m"),
        ),
        HandlerSpec(name="invoice", type=HandlerType.CONSUMER, subscribe=["orders"]),
    ],
)
WF_STATUSES = ["consumed"] * 90 + ["pending"] * 6 + ["skipped"] * 4


def fill_workflows(client: Client, n_events: int, n_inputs: int, seed: int = 11) -> dict[str, Any]:
    """One deployed workflow; ``n_inputs`` inputs and ``n_events`` events over 60 days, each
    event caused by one input. Returns ids to request and the fill time."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=60)
    step = timedelta(days=60) / max(n_events, 1)
    t0 = time.perf_counter()
    db = client.store.db
    client.workflows.store.deploy_workflow(
        WF_SPEC,
        ref="bench:orders",
        config_hash="0" * 64,
        code_hash="0" * 64,
        project_id="bench",
        now=start,
    )
    per_input = max(n_events // max(n_inputs, 1), 1)
    input_ids: list[str] = []
    event_ids: list[str] = []
    inputs_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    link_rows: list[dict[str, Any]] = []

    def flush() -> None:
        for table, rows in ((wf_inputs, inputs_rows), (wf_events, event_rows)):
            if rows:
                db.run(lambda conn, t=table, r=rows: conn.execute(insert(t), r))
                rows.clear()
        if link_rows:
            db.run(lambda conn: conn.execute(insert(wf_event_inputs), link_rows))
            link_rows.clear()

    for i in range(n_events):
        when = start + step * i
        if i % per_input == 0 and len(input_ids) < n_inputs:
            input_ids.append(new_id())
            inputs_rows.append(
                {
                    "input_id": input_ids[-1],
                    "workflow": WF_SPEC.name,
                    "source": "shop",
                    "type": "order",
                    "external_id": f"order-{len(input_ids)}",
                    "title": f"Order {len(input_ids)}",
                    "created_by_run_id": None,
                    "created_at": when,
                    "skipped_at": None,
                    "skipped_by": None,
                }
            )
        event_ids.append(new_id())
        event_rows.append(
            {
                "event_id": event_ids[-1],
                "workflow": WF_SPEC.name,
                "topic": "orders",
                "message_id": f"order-event-{i}",
                "payload": '{"order":' + str(i) + ',"amount":12.5}',
                "status": rng.choice(WF_STATUSES),
                "reserved_by_run_id": None,
                "created_by_run_id": None,
                "attempt_number": 1,
                "skipped_by": None,
                "created_at": when,
                "updated_at": when,
            }
        )
        link_rows.append({"event_id": event_ids[-1], "input_id": input_ids[-1]})
        if len(event_rows) >= BATCH:
            flush()
    flush()
    for table in (wf_inputs, wf_events, wf_event_inputs):  # what autovacuum does after a load
        db.run(lambda conn, t=table: conn.execute(text(f"ANALYZE {t.name}")))
    return {
        "seconds": time.perf_counter() - t0,
        "wf_middle": event_ids[len(event_ids) // 2] if event_ids else "",
        "wf_event": event_ids[len(event_ids) // 3] if event_ids else "",
        "wf_input": input_ids[len(input_ids) // 3] if input_ids else "",
    }


PLAN_FILE = HERE.parent / "examples" / "plans" / "plans" / "greet.yaml"
GATES = ("preflight", "test", "implementation", "validation")


def _gate_row(run_id: str, gate: str, passed: bool, when: datetime) -> dict[str, Any]:
    defects = (
        []
        if passed
        else [
            Defect(
                gate=gate,
                code="tests_fail",
                message="tests fail at HEAD: `python -m unittest -q` exited 1",
                required_correction="make the failing tests pass without changing them",
                phase_id="I1",
                evidence_refs=[f"run:{run_id}", "sha256:" + "a" * 64],
            )
        ]
    )
    result = GateResult(
        gate=gate, round=0, passed=passed, defects=defects, checked=["bench"], evaluated_at=when
    )
    return {
        "run_id": run_id,
        "gate": gate,
        "round": 0,
        "passed": passed,
        "result": result.model_dump_json(),
        "evaluated_at": when,
    }


def _contract(run_id: str, blocked: bool, commits: list[str]) -> dict[str, Any]:
    members = [
        {"member": m, "session_ids": [new_id()], "outcome": "failed" if blocked else "complete"}
        for m in ("test-implementer", "implement-plan", "validate-plan")
    ]
    return {
        "execution_status": "blocked" if blocked else "complete",
        "plan_path": "plans/greet.yaml",
        "test_spec_path": "docs/test-spec.md",
        "test_commit_hashes": commits[:2],
        "implementation_commit_hashes": "none" if blocked else commits[2:],
        "validation_report_path": "none" if blocked else f".runwright/plans/{run_id}/v.json",
        "requirement_coverage": "partial" if blocked else "full",
        "open_issues": "none",
        "escalations": "none",
        "recommended_next_action": "review the commits and merge them",
        "member_delegations": members,
        "execution_worktree_path": "/srv/greet",
        "event_ledger": ["7:gate_passed", "19:gate_passed"],
        "stage_event": "stage-blocked" if blocked else "stage-complete",
        "test_gate_exception": None,
        "plan_id": "greet",
        "run_id": run_id,
        "written_at": "2026-01-01T00:00:00Z",
    }


def fill_plans(client: Client, n_plans: int, seed: int = 13) -> dict[str, Any]:
    """``n_plans`` finished plan runs of the example plan (one in 15 blocked at the
    implementation gate), each with its run, gate results, phase delegations and contract."""
    rng = random.Random(seed)
    plan = load_plan_text(read_plan_text(PLAN_FILE), source=str(PLAN_FILE))
    spec = plan.model_dump_json()
    start = datetime.now(UTC) - timedelta(days=30)
    t0 = time.perf_counter()
    db = client.store.db
    project = client.settings.project_id
    ids: list[str] = []
    rows: dict[Any, list[dict[str, Any]]] = {
        runs: [],
        plan_runs: [],
        plan_gates: [],
        plan_phases: [],
    }

    def flush() -> None:
        for table in (runs, plan_runs, plan_gates, plan_phases):  # parents before children
            batch = rows[table]
            if batch:

                def write(conn: Any, t: Any = table, b: list[dict[str, Any]] = batch) -> None:
                    conn.execute(insert(t), b)

                db.run(write)
                batch.clear()

    for i in range(n_plans):
        when = start + timedelta(minutes=i * 5)
        run_id = new_id()
        ids.append(run_id)
        blocked = rng.random() < 1 / 15
        run = _run_row(run_id, when, rng, 0)
        run.update(
            project_id=project,
            kind="plan",
            job_name="runwright.plans.plan",
            state="succeeded",
            state_reason=None,
            ended_at=when + timedelta(seconds=90),
            result='{"execution_status":"complete"}',
            failure=None,
            available_at=None,
        )
        rows[runs].append(run)
        commits = [f"{rng.getrandbits(160):040x}" for _ in range(4)]
        rows[plan_runs].append(
            {
                "run_id": run_id,
                "plan_id": plan.plan_id,
                "project_id": project,
                "title": plan.title,
                "plan_path": "plans/greet.yaml",
                "plan_sha256": "0" * 64,
                "spec": spec,
                "stage": "completion",
                "status": "blocked" if blocked else "complete",
                "acknowledgment": None,
                "schedule": json.dumps(
                    {
                        "tests": {"batches": [{"phase_ids": ["T1", "T2"]}], "serialized": []},
                        "implementation": {
                            "batches": [{"phase_ids": ["I1", "I2"]}],
                            "serialized": [],
                        },
                    }
                ),
                "completion": json.dumps(_contract(run_id, blocked, commits)),
                "completion_path": f".runwright/plans/{run_id}/completion.json",
                "created_at": when,
                "updated_at": when + timedelta(seconds=90),
            }
        )
        for n, gate in enumerate(GATES if not blocked else GATES[:3]):
            passed = not (blocked and gate == "implementation")
            rows[plan_gates].append(_gate_row(run_id, gate, passed, when + timedelta(seconds=n)))
        for n, phase in enumerate(plan.phases):
            failed = blocked and phase.phase_type.value == "implementation"
            rows[plan_phases].append(
                {
                    "run_id": run_id,
                    "phase_id": phase.phase_id,
                    "round": 0,
                    "gate": phase.gate_before.value,
                    "stage": phase.stage.value,
                    "child_run_id": new_id(),
                    "status": "failed" if failed else "committed",
                    "correction": None,
                    "outcome": json.dumps(
                        {
                            "commits": [] if failed else [commits[n]],
                            "patch_ids": [new_id()],
                            "files": list(phase.files),
                            "error": "verification failed" if failed else None,
                        }
                    ),
                    "started_at": when + timedelta(seconds=n),
                    "ended_at": when + timedelta(seconds=n + 1),
                }
            )
        if len(rows[plan_phases]) >= BATCH:
            flush()
    flush()
    if db.engine.dialect.name == "postgresql":  # what autovacuum does after a load
        for table in (runs, run_events, plan_runs, plan_gates, plan_phases):
            db.run(lambda conn, t=table: conn.execute(text(f"ANALYZE {t.name}")))
    return {
        "seconds": time.perf_counter() - t0,
        "plan_middle": ids[len(ids) // 2] if ids else "",
        "plan_run": ids[-1] if ids else "",
    }


PAGES = [
    ("overview", "/"),
    ("runs: first page", "/runs"),
    ("runs: state=failed", "/runs?state=failed"),
    ("runs: job filter", "/runs?job=sync.crm"),
    ("runs: search", "/runs?search=billing"),
    ("runs: deep page", "/runs?before={middle}"),
    ("run page: 1,000 events", "/runs/{heavy}"),
    ("run page: typical", "/runs/{typical}"),
    ("runs: live update fragment", "/runs#fragment"),
    ("workflows", "/workflows"),
    ("workflow page", "/workflows/orders"),
    ("topics (counts by status)", "/topics"),
    ("topic events: first page", "/topics/orders/orders"),
    ("topic events: pending", "/topics/orders/orders?status=pending"),
    ("topic events: deep page", "/topics/orders/orders?before={wf_middle}"),
    ("event page", "/events/{wf_event}"),
    ("inputs: first page", "/inputs"),
    ("inputs: pending", "/inputs?status=pending"),
    ("inputs: stale", "/inputs?status=stale"),
    ("input page", "/inputs/{wf_input}"),
    ("inbox", "/inbox"),
    ("inbox: live update fragment", "/inbox#fragment"),
    ("plans: first page", "/plans"),
    ("plans: deep page", "/plans?before={plan_middle}"),
    ("plan page", "/plans/{plan_run}"),
    ("plan page: live update fragment", "/plans/{plan_run}#fragment"),
    ("plan validation report", "/plans/{plan_run}/validation"),
]


def measure(client: Client, filled: dict[str, Any], repeat: int) -> dict[str, Any]:
    """Median and p95 milliseconds per page."""
    app = create_app(client, token=TOKEN)
    http = TestClient(app)
    http.cookies.set(SESSION_COOKIE, session_value(TOKEN))
    ids = filled["ids"]
    values = {"middle": ids[len(ids) // 2], "heavy": filled["heavy"], "typical": ids[len(ids) // 3]}
    values.update({k: v for k, v in filled.items() if k.startswith(("wf_", "plan_"))})
    out: dict[str, Any] = {}
    for name, template in PAGES:
        url = template.format(**values)
        headers = {}
        if url.endswith("#fragment"):
            url, headers = url[: -len("#fragment")], {"X-Fragment": "1"}
        response = http.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            http.get(url, headers=headers)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        out[name] = {
            "url": template,
            "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[max(int(len(times) * 0.95) - 1, 0)], 2),
        }
    return out


def run_kind(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """Fill and measure one database kind."""
    root = Path(tempfile.mkdtemp(prefix="rw-dash-"))
    db_kind: Any = (
        dbkinds.SqliteKind(root) if kind == "sqlite" else dbkinds.PostgresKind(args.pg_url, root)
    )
    try:
        with db_kind.fresh("dash") as target:
            settings = load_settings(
                env={},
                overrides={
                    "home": target.workdir / ".runwright",
                    "database_url": target.runwright_url,
                },
            )
            client = Client.open(settings)
            try:
                filled = fill(client, args.runs, args.events)
                workflow = fill_workflows(client, args.wf_events, args.wf_inputs)
                filled.update({k: v for k, v in workflow.items() if k.startswith("wf_")})
                plans = fill_plans(client, args.plans)
                filled.update({k: v for k, v in plans.items() if k.startswith("plan_")})
                print(
                    f"{kind}: filled {args.runs:,} runs and {args.events:,} events "
                    f"in {filled['seconds']:.1f}s, {args.wf_events:,} topic events and "
                    f"{args.wf_inputs:,} inputs in {workflow['seconds']:.1f}s, "
                    f"{args.plans:,} plan runs in {plans['seconds']:.1f}s",
                    flush=True,
                )
                pages = measure(client, filled, args.repeat)
            finally:
                client.close()
    finally:
        db_kind.close()
    return {"fill_seconds": round(filled["seconds"], 1), "pages": pages}


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default=dbkinds.DEFAULT_PG_URL)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--wf-events", type=int, default=200_000, help="topic events")
    parser.add_argument("--wf-inputs", type=int, default=50_000, help="inputs causing them")
    parser.add_argument("--plans", type=int, default=5_000, help="finished plan runs")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    (HERE / "results").mkdir(exist_ok=True)
    for kind in kinds:
        result = run_kind(kind, args)
        record = {
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv),
            "machine": {"python": platform.python_version(), "platform": platform.platform()},
            "store": {
                "runs": args.runs,
                "events": args.events,
                "wf_events": args.wf_events,
                "wf_inputs": args.wf_inputs,
                "plans": args.plans,
                "kind": kind,
            },
            **result,
        }
        path = HERE / "results" / f"dashboard-{kind}.json"
        path.write_text(json.dumps(record, indent=2) + "\n")
        print(f"\n{kind}: page render times over {args.repeat} requests (ms)")
        print(f"  {'page':<30} {'median':>8} {'p95':>8}")
        for name, r in result["pages"].items():
            print(f"  {name:<30} {r['median_ms']:>8.1f} {r['p95_ms']:>8.1f}")
        print(f"results written to {path}")


if __name__ == "__main__":
    main()
