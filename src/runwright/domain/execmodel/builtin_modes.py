"""The seed's data: the six modes (in its table order) and the universal stop rules."""

from __future__ import annotations

from runwright.domain.execmodel.modes import EvidenceRequirement, Mode, StopRule


def _req(item_id: str, description: str, **kw: object) -> EvidenceRequirement:
    return EvidenceRequirement.model_validate({"id": item_id, "description": description, **kw})


def _rule(rule_id: str, mode: str | None, when: str, then: str, **kw: object) -> StopRule:
    return StopRule.model_validate(
        {"rule_id": rule_id, "mode_id": mode, "when": when, "then": then, **kw}
    )


UNIVERSAL_STOP_RULES: tuple[StopRule, ...] = (
    _rule(
        "universal.timebox",
        None,
        "the operator timebox is exceeded without progress",
        "stop, write a next pointer, and either reschedule or re-scope",
        trigger="over_timebox",
        action="next_pointer",
    ),
    _rule(
        "universal.debugging",
        None,
        "~40 minutes of failing work without a clear repro and measurable progress",
        "create a DebugPacket",
        trigger="failing_without_repro",
        action="open_debug_packet",
    ),
)

BUILTIN_MODES: tuple[Mode, ...] = (
    Mode(
        mode_id="SERVICE",
        intent="Keep a running thing reliable",
        typical_outputs=["stable deploys", "timers", "bots", "health checks"],
        primary_risk="brittle ops, unobserved failures",
        keywords=[
            "deploy",
            "domain",
            "hosting",
            "apache",
            "systemd",
            "timer",
            "bot",
            "stability",
            "vercel",
            "github pages",
        ],
        evidence_pattern=[
            _req("health_check", "Health check exists and passes", check_types=["health_check"]),
            _req("logs", "Logs exist and are readable"),
            _req("restart_safety", "Restart-safe behavior validated"),
            _req("runbook", "Runbook reflects current reality"),
        ],
        stop_rules=[
            _rule(
                "service.unbounded_live_changes",
                "SERVICE",
                "changes are unbounded in live systems (no passing health or bounded live check)",
                "switch to RunLiveBounded and health checks first",
                trigger="no_passing_check",
                check_types=["health_check", "run_live_bounded"],
                action="bound_live_changes",
            )
        ],
        builtin=True,
    ),
    Mode(
        mode_id="CONTRACT",
        intent="Stabilize integration boundaries",
        typical_outputs=["minimal repros", "fixes", "regression guards"],
        primary_risk="endless debugging without closure",
        keywords=[
            "api",
            "integration",
            "config",
            "env",
            "keyring",
            "abi",
            "postgres",
            "promptflow",
        ],
        evidence_pattern=[
            _req("repro", "Minimal repro captured"),
            _req("fix_verified", "Fix applied and verified", check_types=["contract_test"]),
            _req("regression_guard", "Regression guard added (test, gate, or check)"),
            _req("decision_note", "Decision note if trade-offs exist", required=False),
        ],
        stop_rules=[
            _rule(
                "contract.hypotheses",
                "CONTRACT",
                "hypotheses exceed 3 without narrowing",
                "force a minimal repro, then test one axis at a time",
                trigger="hypotheses_over",
                action="force_repro",
            )
        ],
        builtin=True,
    ),
    Mode(
        mode_id="TOOLSMITH",
        intent="Build scalable interfaces and scaffolds",
        typical_outputs=["CLI tools", "templates", "stubs", "helper libs"],
        primary_risk="building tools without adoption",
        keywords=["cli", "tool", "script", "framework", "template", "schema", "setup", "playbook"],
        evidence_pattern=[
            _req("interface", "Interface exists (CLI, function, template)"),
            _req("usage", "--help or usage exists"),
            _req("smoke", "Smoke run with predictable exit codes", check_types=["smoke"]),
            _req("consumer_example", "One consumer example or integration pointer"),
        ],
        stop_rules=[
            _rule(
                "toolsmith.no_adoption_path",
                "TOOLSMITH",
                "there is no immediate adoption path (no usage or consumer example)",
                "write usage and a single consumer example, or pause",
                trigger="missing_evidence",
                items=["usage", "consumer_example"],
                action="add_adoption_path",
            )
        ],
        builtin=True,
    ),
    Mode(
        mode_id="PIPELINE",
        intent="Transform inputs into validated artifacts repeatably",
        typical_outputs=["canonical datasets", "reports", "materializations"],
        primary_risk="silent data drift, partial outputs",
        keywords=["etl", "ingest", "normalize", "backfill", "export", "jsonl", "mdx", "csv"],
        evidence_pattern=[
            _req("artifact", "At least one non-trivial artifact produced", from_outputs=True),
            _req(
                "content_gate",
                "Content validation gate passes (schema, non-empty, counts)",
                check_types=["content_validation"],
            ),
            _req("manifest", "Manifest with counts and hashes", required=False),
        ],
        stop_rules=[
            _rule(
                "pipeline.unverified_outputs",
                "PIPELINE",
                "outputs cannot be verified quickly (no passing content validation)",
                "convert to CONTRACT (minimal repro) or TOOLSMITH (add a gate)",
                trigger="no_passing_check",
                check_types=["content_validation"],
                action="switch_mode",
                switch_to=["CONTRACT", "TOOLSMITH"],
            )
        ],
        builtin=True,
    ),
    Mode(
        mode_id="GOVERNANCE",
        intent="Reduce decision load and constrain WIP",
        typical_outputs=["decisions", "constraints", "lock-ins", "schedules"],
        primary_risk="meta overbuild, shallow planning",
        keywords=[
            "strategy",
            "review",
            "roadmap",
            "triage",
            "prioritize",
            "control tower",
            "standards",
            "wip",
        ],
        evidence_pattern=[
            _req("decision", "One decision artifact that changes future behavior"),
            _req("constraint", "WIP constraint, cadence update, or explicit archiving"),
            _req("next_checkin", "Next pointer for the next check-in", from_next_pointer=True),
        ],
        stop_rules=[
            _rule(
                "governance.plans_without_constraints",
                "GOVERNANCE",
                "plans are produced without constraints",
                "make the output change future selection behavior (a constraint or decision)",
                trigger="missing_evidence",
                items=["constraint"],
                action="add_constraint",
            )
        ],
        builtin=True,
    ),
    Mode(
        mode_id="CONTACT",
        intent="Stakeholder throughput with low overhead",
        typical_outputs=["touches", "follow-ups", "queue movement"],
        primary_risk="avoidance, scattered attention",
        keywords=["outreach", "lead", "linkedin", "crm", "follow-up", "qualification"],
        evidence_pattern=[
            _req("touches", "N touches sent or queue advanced"),
            _req(
                "follow_up",
                "Follow-ups scheduled or next pointer recorded",
                from_next_pointer=True,
            ),
            _req("template", "Template improved if it reduces future friction", required=False),
        ],
        stop_rules=[
            _rule(
                "contact.endless_drafting",
                "CONTACT",
                "drafting goes on without sending",
                "send the message, then schedule the follow-up",
                trigger="missing_evidence",
                items=["touches"],
                action="send_and_follow_up",
            )
        ],
        builtin=True,
    ),
)
