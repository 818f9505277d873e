"""Debug packets: open, add hypotheses (the >N-hypotheses stop rule), experiments with
evidence, conclude, close with a next pointer."""

from __future__ import annotations

from collections.abc import Iterable

from runwright.domain.events import EventKind
from runwright.domain.execmodel import debug as rules
from runwright.domain.execmodel.debug import (
    CONTRACT,
    DebugPacket,
    EvidenceRef,
    Experiment,
    MinimalRepro,
    TooManyHypotheses,
)
from runwright.domain.execmodel.modes import StopTrigger
from runwright.domain.execmodel.records import StopRuleFiring
from runwright.domain.execmodel.stoprules import StopFacts, evaluate
from runwright.domain.execmodel.validation import translated
from runwright.domain.ids import is_ulid, new_id
from runwright.errors import NotFound, ValidationError
from runwright.execmodel import blocks
from runwright.execmodel.env import ExecEnv
from runwright.execmodel.paths import confine, user_base
from runwright.store.core import NewEvent


def repro(
    commands: Iterable[str], *, expected: str | None, actual: str | None, inputs: str = ""
) -> MinimalRepro | None:
    """A minimal repro from its parts; None when no part is given, an error when some are."""
    cmds = [c for c in commands if c.strip()]
    if not cmds and not expected and not actual:
        return None
    if not (cmds and expected and actual):
        raise ValidationError(
            "a minimal repro needs commands, expected and actual",
            hint='give --repro "CMD" (repeatable), --expected "…" and --actual "…"',
            field="minimal_repro",
        )
    return MinimalRepro(commands=cmds, inputs=inputs, expected=expected, actual=actual)


def new(
    env: ExecEnv,
    *,
    symptom: str,
    context: str = "",
    minimal_repro: MinimalRepro | None = None,
    mode: str | None = None,
    run_id: str | None = None,
    project_id: str | None = None,
) -> DebugPacket:
    """Open a packet; CONTRACT work needs a minimal repro."""
    mode_id = env.registry.check(mode, field="--mode") if mode else None
    project = env.project(project_id)
    if run_id is not None:
        record = env.em.get_op_run(run_id)
        mode_id = mode_id or record.mode_id
        project = record.project_id
    if mode_id == CONTRACT and minimal_repro is None:
        raise ValidationError(
            "a minimal repro is mandatory when you claim CONTRACT work",
            hint='give --repro "CMD" --expected "…" --actual "…"',
            field="minimal_repro",
        )
    block = blocks.active(env, project)
    with translated("debug packet"):
        packet = DebugPacket(
            packet_id=new_id(),
            project_id=project,
            mode_id=mode_id,
            symptom=symptom.strip(),
            context=context.strip(),
            minimal_repro=minimal_repro,
            source_run_id=run_id,
            block_id=block.block_id if block else None,
            opened_at=env.clock.now(),
        )
    events = []
    if run_id is not None:
        payload = {"packet_id": packet.packet_id, "opened_by": packet.opened_by}
        events.append((run_id, NewEvent(EventKind.DEBUG_PACKET_OPENED, payload)))
    return env.em.insert_packet(packet, env.clock.now(), run_events=events)


def get(env: ExecEnv, packet_id: str) -> DebugPacket:
    """One packet."""
    return env.em.get_packet(packet_id)


def _save(env: ExecEnv, old: DebugPacket, new_packet: DebugPacket) -> DebugPacket:
    bumped = new_packet.model_copy(update={"version": old.version + 1})
    return env.em.update_packet(bumped, env.clock.now())


def add_hypothesis(env: ExecEnv, packet_id: str, text: str) -> DebugPacket:
    """Add a hypothesis; past the limit the stop rule fires (recorded) and it is refused."""
    packet = get(env, packet_id)
    if not text.strip():
        raise ValidationError("a hypothesis needs text", field="hypothesis")
    limit = env.config.max_hypotheses
    try:
        with translated("hypothesis"):
            changed = rules.add_hypothesis(packet, text, env.clock.now(), limit=limit)
    except TooManyHypotheses:
        _fire_hypotheses_rule(env, packet, len(packet.hypotheses) + 1)
        raise
    return _save(env, packet, changed)


def _fire_hypotheses_rule(env: ExecEnv, packet: DebugPacket, count: int) -> None:
    mode_rules = env.registry.stop_rules(packet.mode_id or CONTRACT)
    candidates = [r for r in mode_rules if r.trigger == StopTrigger.HYPOTHESES_OVER]
    if not candidates:
        candidates = [
            r for r in env.registry.stop_rules(CONTRACT) if r.trigger == StopTrigger.HYPOTHESES_OVER
        ]
    fired = evaluate(candidates, StopFacts(hypotheses=count), env.config.thresholds)
    now = env.clock.now()
    firings = [
        StopRuleFiring(
            firing_id=new_id(),
            rule_id=f.rule_id,
            mode_id=packet.mode_id,
            project_id=packet.project_id,
            run_id=packet.source_run_id,
            block_id=packet.block_id,
            packet_id=packet.packet_id,
            action=f.action,
            detail=f.detail,
            then=f.then,
            fired_at=now,
        )
        for f in fired
    ]
    events = []
    if packet.source_run_id is not None:
        events = [
            (
                packet.source_run_id,
                NewEvent(
                    EventKind.STOP_RULE_FIRED,
                    {"rule_id": f.rule_id, "detail": f.detail, "packet_id": packet.packet_id},
                ),
            )
            for f in fired
        ]
    env.em.record_firings(firings, now, run_events=events)


def evidence_ref(env: ExecEnv, item: str) -> EvidenceRef:
    """An experiment's evidence: ``note:TEXT``, a run id, or a file (stored by sha256)."""
    value = item.strip()
    if value.startswith("note:") and value[5:].strip():
        sha, size, _ = env.blobs.put_bytes(value[5:].strip().encode())
        return EvidenceRef(kind="note", ref="note", sha256=sha, size=size)
    if is_ulid(value):
        env.store.get_run(value)
        return EvidenceRef(kind="run", ref=value)
    roots = (env.settings.project_root, env.settings.home)
    path = confine(value, roots, base=user_base(env.settings.project_root), field="--evidence")
    if not path.is_file():
        raise NotFound(
            f"--evidence {value!r} is neither a file, a run id nor note:TEXT",
            hint="give a log or diff file, a run id, or note:WHAT YOU SAW",
            field="evidence",
        )
    sha, size, _ = env.blobs.put_file(path)
    root = env.settings.project_root.resolve()
    shown = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    return EvidenceRef(kind="file", ref=shown, sha256=sha, size=size)


def add_experiment(
    env: ExecEnv,
    packet_id: str,
    *,
    change: str,
    result: str,
    evidence: Iterable[str],
    hypothesis: str | None = None,
) -> DebugPacket:
    """Record an experiment; it must carry evidence (logs, diffs, notes, runs)."""
    packet = get(env, packet_id)
    rules.require_open(packet, "add an experiment")
    refs = [evidence_ref(env, e) for e in evidence]
    if not refs:
        raise ValidationError(
            "an experiment needs evidence",
            hint="give --evidence FILE, --evidence RUN_ID or --evidence note:TEXT",
            field="evidence",
        )
    with translated("experiment"):
        experiment = Experiment(
            change=change.strip(),
            result=result.strip(),
            evidence=refs,
            hypothesis=hypothesis,
            at=env.clock.now(),
        )
        changed = rules.add_experiment(packet, experiment)
    return _save(env, packet, changed)


def conclude(
    env: ExecEnv,
    packet_id: str,
    *,
    decision: str,
    resolution_or_next: str,
    regression_guard: str | None = None,
    time_spent_minutes: float | None = None,
) -> DebugPacket:
    """Conclude: what you decide now, and the fix applied or the next experiments."""
    packet = get(env, packet_id)
    spent = time_spent_minutes
    if spent is None:
        spent = round((env.clock.now() - packet.opened_at).total_seconds() / 60, 1)
    with translated("conclude"):
        changed = rules.conclude(
            packet,
            decision=decision,
            resolution_or_next=resolution_or_next,
            regression_guard=regression_guard,
            time_spent_minutes=spent,
            now=env.clock.now(),
        )
    return _save(env, packet, changed)


def close(env: ExecEnv, packet_id: str, *, next_pointer: str) -> DebugPacket:
    """Close a concluded packet with its explicit next pointer."""
    packet = get(env, packet_id)
    if not next_pointer.strip():
        raise ValidationError("a packet closes with a next pointer", field="next_pointer")
    with translated("close"):
        changed = rules.close(packet, next_pointer=next_pointer, now=env.clock.now())
    return _save(env, packet, changed)
