"""What the plan pages draw, computed from a plan run's records (pure functions, no I/O).

The stage flow is a row: preflight gate → tests → test gate → implementation → implementation
gate → validation → validation gate → completion. Each gate shows how its latest evaluation
went and how many correction rounds it used; each stage its phases, their batches and every
delegation round. Evidence refs (``run:…``, ``patch:…``, ``sha256:…``, ``gate:…``) become links.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runwright.domain.plan_records import (
    Escalation,
    GateResult,
    PhaseDelegation,
    PlanRunRecord,
    PlanStatus,
)
from runwright.domain.plans import GATE_AFTER, Gate, PlanPhase, PlanSpec, Stage
from runwright.domain.runs import Run
from runwright.domain.states import TERMINAL_RUN_STATES, RunState

STAGES = (Stage.TESTS, Stage.IMPLEMENTATION, Stage.VALIDATION)
STAGE_TITLES = {
    Stage.PREFLIGHT: "Preflight",
    Stage.TESTS: "Tests",
    Stage.IMPLEMENTATION: "Implementation",
    Stage.VALIDATION: "Validation",
    Stage.COMPLETION: "Completion",
}
GATE_TITLES = {
    Gate.PREFLIGHT: "preflight gate",
    Gate.TEST: "test gate",
    Gate.IMPLEMENTATION: "implementation gate",
    Gate.VALIDATION: "validation gate",
}
#: A mark per gate status, so the flow reads at a glance.
GATE_MARKS = {
    "passed": "✓",
    "failed": "✗",
    "skipped": "↷",
    "pending": "…",
    "escalated": "!",
    "correcting": "⟳",
}


@dataclass(frozen=True)
class GateNode:
    """A gate in the flow: its latest outcome and the correction rounds it used."""

    gate: str
    title: str
    status: str  # passed | failed | skipped | pending | escalated | correcting
    corrections: int
    evaluations: list[GateResult]
    skipped_reason: str | None = None

    @property
    def mark(self) -> str:
        """One character for the status."""
        return GATE_MARKS.get(self.status, "·")


@dataclass(frozen=True)
class Round:
    """One delegation of a phase (the first try, or correction n) with what it produced."""

    delegation: PhaseDelegation
    label: str
    commits: list[str]
    patch_ids: list[str]
    agent_run_ids: list[str]
    tools: list[str]
    files: list[str]
    checks: dict[str, str]
    error: str | None


@dataclass(frozen=True)
class PhaseCard:
    """A phase of the plan with every round it was delegated."""

    phase: PlanPhase
    rounds: list[Round]

    @property
    def status(self) -> str:
        """How its latest round went, or ``pending`` when it was never delegated."""
        return self.rounds[-1].delegation.status.value if self.rounds else "pending"


@dataclass(frozen=True)
class Batch:
    """Phases started together, as the schedule recorded them."""

    phase_ids: list[str]


@dataclass(frozen=True)
class Serialized:
    """A phase that waited, for whom, and why."""

    phase_id: str
    after: list[str]
    reason: str


@dataclass(frozen=True)
class StageSchedule:
    """The batches of one pass over a stage (the first, or a correction round)."""

    label: str
    batches: list[Batch]
    serialized: list[Serialized]


@dataclass(frozen=True)
class StageBlock:
    """A stage of the flow: its phases, its schedule, and the gate after it."""

    stage: str
    title: str
    status: str  # pending | running | done | failed | skipped
    gate: GateNode
    phases: list[PhaseCard]
    schedules: list[StageSchedule]
    runs: list[Run] = field(default_factory=list)  # the validate-plan runs of validation


@dataclass(frozen=True)
class Flow:
    """The whole picture of a plan run."""

    preflight: GateNode
    stages: list[StageBlock]
    completion: str  # the status of the last node: complete | blocked | escalated | pending
    current: str

    def nodes(self) -> list[tuple[str, Any]]:
        """The flow left to right: ('gate', GateNode) and ('stage', StageBlock) nodes."""
        out: list[tuple[str, Any]] = [("gate", self.preflight)]
        for block in self.stages:
            out += [("stage", block), ("gate", block.gate)]
        return out


# ---- gates --------------------------------------------------------------------------------
def gate_node(
    gate: Gate, gates: Sequence[GateResult], escalation: Escalation | None, running: bool
) -> GateNode:
    """How ``gate`` stands: its latest evaluation, or escalated while a decision is awaited."""
    mine = sorted((g for g in gates if g.gate == gate.value), key=lambda g: g.round)
    title = GATE_TITLES[gate]
    if not mine:
        return GateNode(gate.value, title, "pending", 0, [])
    last = mine[-1]
    if last.passed:
        status = "skipped" if last.skipped_reason else "passed"
    elif escalation is not None and escalation.blocked_gate == gate.value:
        status = "escalated"
    elif running:
        status = "correcting"  # a correction round is under way
    else:
        status = "failed"
    return GateNode(gate.value, title, status, last.round, mine, last.skipped_reason)


def current_stage(
    record: PlanRunRecord, run: Run, gates: Sequence[GateResult], escalation: Escalation | None
) -> str:
    """Where the plan run is, in a few words ('implementation (correction 1)', 'test gate')."""
    if record.status is PlanStatus.COMPLETE:
        return "completion"
    ack = record.acknowledgment
    if ack is not None and not ack.sufficiency_for_execution:
        return "intake"
    if escalation is not None:
        return GATE_TITLES[Gate(escalation.blocked_gate)]
    for gate in Gate:
        mine = [g for g in gates if g.gate == gate.value]
        if not mine:
            if gate is Gate.PREFLIGHT:
                return "preflight" if ack is not None else "intake"
            stage = next(s for s, g in GATE_AFTER.items() if g is gate)
            return stage.value
        last = max(mine, key=lambda g: g.round)
        if not last.passed:
            if run.state in TERMINAL_RUN_STATES:
                return GATE_TITLES[gate]
            stage = next((s for s, g in GATE_AFTER.items() if g is gate), Stage.PREFLIGHT)
            return f"{stage.value} (correction {last.round + 1})"
    return "completion"


def display_status(record: PlanRunRecord, run: Run) -> str:
    """The plan's status, or the run's state when the run ended without the plan saying so
    (a canceled or crashed plan run)."""
    if record.status is PlanStatus.RUNNING and run.state in TERMINAL_RUN_STATES:
        return run.state.value
    if record.status is PlanStatus.RUNNING and run.state is RunState.PENDING:
        return "pending"
    return record.status.value


# ---- phases and stages --------------------------------------------------------------------
def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def round_of(d: PhaseDelegation) -> Round:
    """A delegation with the commits, patches, runs and tools its outcome lists."""
    out = d.outcome
    raw_tasks, raw_checks = out.get("tasks"), out.get("checks")
    tasks: list[Any] = raw_tasks if isinstance(raw_tasks, list) else []
    tools = [str(t["tool"]) for t in tasks if isinstance(t, dict) and t.get("tool")]
    checks: dict[Any, Any] = raw_checks if isinstance(raw_checks, dict) else {}
    return Round(
        delegation=d,
        label="first try" if d.round == 0 else f"correction {d.round}",
        commits=_strings(out.get("commits")),
        patch_ids=_strings(out.get("patch_ids")),
        agent_run_ids=_strings(out.get("agent_run_ids")),
        tools=list(dict.fromkeys(tools)),
        files=_strings(out.get("files")),
        checks={str(k): str(v) for k, v in checks.items()},
        error=str(out["error"]) if out.get("error") else None,
    )


def phase_cards(
    plan: PlanSpec, stage: Stage, delegations: Sequence[PhaseDelegation]
) -> list[PhaseCard]:
    """The stage's phases in plan order, each with its rounds (oldest first)."""
    cards = []
    for phase in plan.phases_of(stage):
        mine = sorted(
            (d for d in delegations if d.phase_id == phase.phase_id), key=lambda d: d.round
        )
        cards.append(PhaseCard(phase, [round_of(d) for d in mine]))
    return cards


def schedules_of(record: PlanRunRecord, stage: Stage) -> list[StageSchedule]:
    """The recorded batches of ``stage`` and of its correction passes, in order."""
    out = []
    for label, raw in record.schedule.items():
        if not (label == stage.value or label.startswith(f"{stage.value} (")):
            continue
        data = raw if isinstance(raw, dict) else {}
        batches = [
            Batch(_strings(b.get("phase_ids")))
            for b in data.get("batches") or []
            if isinstance(b, dict)
        ]
        serialized = [
            Serialized(str(s.get("phase_id")), _strings(s.get("after")), str(s.get("reason")))
            for s in data.get("serialized") or []
            if isinstance(s, dict)
        ]
        out.append(StageSchedule(label, batches, serialized))
    return out


def _stage_status(cards: list[PhaseCard], gate: GateNode, runs: Sequence[Run]) -> str:
    if gate.status in {"passed", "skipped"}:
        return "done"
    latest = [c.status for c in cards] + [
        "running" if r.state not in TERMINAL_RUN_STATES else "ended" for r in runs[-1:]
    ]
    if "running" in latest:
        return "running"
    if gate.status in {"failed", "escalated"} or "failed" in latest:
        return "failed"
    if any(s != "pending" for s in latest):
        return "running"
    return "pending"


def build_flow(
    *,
    record: PlanRunRecord,
    run: Run,
    plan: PlanSpec,
    phases: Sequence[PhaseDelegation],
    gates: Sequence[GateResult],
    escalation: Escalation | None,
    validation_runs: Sequence[Run] = (),
) -> Flow:
    """The flow of one plan run."""
    running = run.state not in TERMINAL_RUN_STATES and escalation is None
    blocks = []
    for stage in STAGES:
        gate = gate_node(GATE_AFTER[stage], gates, escalation, running)
        cards = phase_cards(plan, stage, phases)
        runs = list(validation_runs) if stage is Stage.VALIDATION else []
        blocks.append(
            StageBlock(
                stage=stage.value,
                title=STAGE_TITLES[stage],
                status=_stage_status(cards, gate, runs),
                gate=gate,
                phases=cards,
                schedules=schedules_of(record, stage),
                runs=runs,
            )
        )
    status = display_status(record, run)
    completion = status if status in {"complete", "blocked"} else "pending"
    if status in {"waiting_decision", "escalated"}:
        completion = "escalated"
    return Flow(
        preflight=gate_node(Gate.PREFLIGHT, gates, escalation, running),
        stages=blocks,
        completion=completion,
        current=current_stage(record, run, gates, escalation),
    )


# ---- evidence refs ------------------------------------------------------------------------
@dataclass(frozen=True)
class RefLink:
    """An evidence ref as the page shows it."""

    ref: str
    label: str
    href: str | None


def ref_link(ref: str, logs: Mapping[str, str]) -> RefLink:
    """``run:ID`` → its run page, ``patch:ID`` → the patch page, ``sha256:…`` → the evidence
    file when the plan run holds it (``logs`` maps sha256 → URL), ``gate:G:N`` → that
    evaluation on this page; anything else is shown as it is."""
    kind, _, value = ref.partition(":")
    if kind == "run" and value:
        return RefLink(ref, f"run …{value[-6:]}", f"/runs/{value}")
    if kind == "patch" and value:
        return RefLink(ref, f"patch …{value[-6:]}", f"/patches/{value}")
    if kind == "sha256" and value:
        return RefLink(ref, f"log {value[:8]}", logs.get(value))
    if kind == "gate" and value:
        gate, _, round_ = value.partition(":")
        return RefLink(ref, f"{gate} gate, round {round_}", f"#gate-{gate}-{round_}")
    if kind == "commit" and value:
        return RefLink(ref, f"commit {value[:8]}", None)
    return RefLink(ref, ref, None)


# ---- the completion contract --------------------------------------------------------------
CONTRACT_ORDER = (
    "execution_status",
    "stage_event",
    "requirement_coverage",
    "recommended_next_action",
    "open_issues",
    "escalations",
    "test_commit_hashes",
    "implementation_commit_hashes",
    "member_delegations",
    "plan_path",
    "test_spec_path",
    "validation_report_path",
    "execution_worktree_path",
    "test_gate_exception",
    "event_ledger",
)
HIDDEN_FIELDS = {"plan_id", "run_id"}


def contract_rows(contract: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The contract's fields in reading order (known ones first, then any others)."""
    known = [k for k in CONTRACT_ORDER if k in contract]
    rest = sorted(k for k in contract if k not in CONTRACT_ORDER and k not in HIDDEN_FIELDS)
    return [(k, contract[k]) for k in known + rest]


def value_kind(value: Any) -> str:
    """How a contract value is drawn: none, null, text, strings, records or data."""
    if value == "none":
        return "none"
    if value is None:
        return "null"
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return "strings"
        if all(isinstance(v, dict) for v in value):
            return "records"
        return "data"
    if isinstance(value, dict):
        return "data"
    return "text"
