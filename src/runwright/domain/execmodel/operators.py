"""Operators: repeatable, timeboxed moves legal in one or more modes (the seed's Operator and
its template: purpose, preconditions, steps, checks, evidence, failure paths, next pointer rule)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runwright.domain.execmodel.modes import EvidenceRequirement, ModeId
from runwright.domain.execmodel.probes import CheckSpec, ExitCodes, Slug
from runwright.domain.execmodel.templating import BUILTIN_NAMES, placeholders, walk_strings
from runwright.domain.limits import Finite, Minutes, Seconds
from runwright.errors import ValidationError

InputName = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$", max_length=64)]
CALL_PATTERN = r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$"


class InputType(StrEnum):
    """How an operator input is parsed and checked."""

    STRING = "string"
    PATH = "path"
    URL = "url"
    INT = "int"
    NUMBER = "number"
    BOOL = "bool"


class OperatorInput(BaseModel):
    """A typed input of an operator (a reference to an object, path, URL or a parameter)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: InputType = InputType.STRING
    description: str = ""
    required: bool = False
    default: str | int | Finite | bool | None = None


class OperatorStep(BaseModel):
    """One bounded step: an argv command (``run``) or a Python callable (``call``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Slug
    description: str = ""
    run: list[str] | None = Field(default=None, min_length=1, description="argv, never a shell.")
    call: str | None = Field(default=None, pattern=CALL_PATTERN, description="module:function")
    args: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments of call.")
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    stdout_to: str | None = Field(default=None, description="Also write stdout to this file.")
    expect_exit: ExitCodes = 0
    timeout_seconds: Seconds | None = None
    retries: int = Field(default=0, ge=0, le=5)
    idempotent: bool = Field(
        default=False,
        description="Safe to run again after a crash; otherwise an interrupted step waits "
        "for a human (`runwright run resolve`).",
    )
    satisfies: list[str] = Field(default_factory=list, description="Evidence-pattern items.")

    @model_validator(mode="after")
    def _run_or_call(self) -> OperatorStep:
        if (self.run is None) == (self.call is None):
            raise ValueError(
                "a step needs exactly one of run (argv list) or call (module:function)"
            )
        if self.call is not None and (self.cwd or self.env or self.stdout_to):
            raise ValueError("cwd, env and stdout_to apply to run steps only")
        if self.run is not None and self.args:
            raise ValueError("args apply to call steps only; put arguments in the run list")
        return self


class OperatorOutput(BaseModel):
    """An artifact that should exist after the run; it is stored as evidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(min_length=1)
    description: str = ""
    required: bool = True
    satisfies: list[str] = Field(default_factory=list)


class FailureTrigger(StrEnum):
    """When a failure path applies."""

    FAIL = "fail"
    CHECK_FAILED = "check_failed"
    TIMEBOX = "timebox"
    WARN = "warn"


class FailureAction(StrEnum):
    """What a failure path does."""

    RETRY = "retry"
    SWITCH_MODE = "switch_mode"
    OPEN_DEBUG_PACKET = "open_debug_packet"
    ESCALATE = "escalate"


class FailurePath(BaseModel):
    """What to do when the operator fails: retry, switch mode, open a debug packet, escalate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    when: FailureTrigger = FailureTrigger.FAIL
    check: str | None = Field(default=None, description="With when=check_failed: the check id.")
    action: FailureAction
    max_retries: int = Field(default=1, ge=1, le=5, description="For retry.")
    to_mode: ModeId | None = Field(default=None, description="For switch_mode.")
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> FailurePath:
        if self.action == FailureAction.SWITCH_MODE and not self.to_mode:
            raise ValueError("switch_mode needs to_mode (e.g. CONTRACT)")
        if (self.when == FailureTrigger.CHECK_FAILED) != (self.check is not None):
            raise ValueError("when=check_failed goes with check: CHECK_ID (and only then)")
        return self


class Operator(BaseModel):
    """A repeatable move that produces instances (op runs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    op_id: str = Field(
        pattern=r"^[A-Z][A-Za-z0-9]*$", description="Stable, PascalCase, verb-first."
    )
    name: str = Field(min_length=1)
    purpose: str = Field(default="", description="One sentence.")
    mode_ids: list[ModeId] = Field(min_length=1, description="Modes where it is legal.")
    preconditions: list[str] = Field(default_factory=list)
    inputs: dict[InputName, OperatorInput] = Field(default_factory=dict)
    steps: list[OperatorStep] = Field(default_factory=list, max_length=50)
    outputs: list[OperatorOutput] = Field(default_factory=list)
    acceptance_checks: list[CheckSpec] = Field(min_length=1)
    timebox_minutes: Minutes = Field(description="The default timebox.")
    failure_paths: list[FailurePath] = Field(default_factory=list)
    evidence_pattern: list[str | EvidenceRequirement] = Field(
        default_factory=list,
        description="Items this operator must produce to count, beyond its mode's pattern.",
    )
    next_pointer_rule: str | None = Field(
        default=None, description="Template of the one-line next pointer written when done."
    )

    @model_validator(mode="after")
    def _references(self) -> Operator:
        _unique([s.id for s in self.steps], "steps", "step id")
        _unique([c.id for c in self.acceptance_checks], "acceptance_checks", "check id")
        _unique(self.mode_ids, "mode_ids", "mode")
        step_ids = {s.id for s in self.steps}
        for i, check in enumerate(self.acceptance_checks):
            for j, probe in enumerate(check.probes):
                ref = getattr(probe, "step", None)
                if ref is not None and ref not in step_ids:
                    raise ValueError(
                        f"acceptance_checks[{i}].probes[{j}].step: no step {ref!r} "
                        f"(steps: {', '.join(sorted(step_ids)) or 'none'})"
                    )
        check_ids = {c.id for c in self.acceptance_checks}
        for i, fp in enumerate(self.failure_paths):
            if fp.check is not None and fp.check not in check_ids:
                raise ValueError(f"failure_paths[{i}].check: no acceptance check {fp.check!r}")
        names = set(self.inputs) | BUILTIN_NAMES
        for field, text in self.template_strings():
            allowed = names | {"result"} if field == "next_pointer_rule" else names
            try:
                found = placeholders(text, field=field)
            except ValidationError as exc:
                raise ValueError(exc.message) from None
            for name in found:
                if name not in allowed:
                    raise ValueError(
                        f"{field}: {{{name}}} is neither an input nor a built-in "
                        f"({', '.join(sorted(BUILTIN_NAMES))})"
                    )
        return self

    def template_strings(self) -> list[tuple[str, str]]:
        """Every templated string of the spec, with its field path."""
        found: list[tuple[str, str]] = []
        for i, s in enumerate(self.steps):
            data = s.model_dump(include={"run", "args", "cwd", "env", "stdout_to"})
            found.extend(walk_strings(data, f"steps[{i}]"))
        for i, o in enumerate(self.outputs):
            found.append((f"outputs[{i}].path", o.path))
        for i, c in enumerate(self.acceptance_checks):
            for j, p in enumerate(c.probes):
                data = p.model_dump(exclude={"probe", "json_schema", "pattern", "body_regex"})
                found.extend(walk_strings(data, f"acceptance_checks[{i}].probes[{j}]"))
        if self.next_pointer_rule:
            found.append(("next_pointer_rule", self.next_pointer_rule))
        return found

    def item_ids(self) -> list[str]:
        """The ids of the operator's own evidence-pattern items."""
        return [i if isinstance(i, str) else i.id for i in self.evidence_pattern]

    def satisfied_claims(self) -> list[tuple[str, str]]:
        """(field path, item id) of every ``satisfies`` declaration."""
        claims: list[tuple[str, str]] = []
        for i, s in enumerate(self.steps):
            claims += [(f"steps[{i}].satisfies", item) for item in s.satisfies]
        for i, o in enumerate(self.outputs):
            claims += [(f"outputs[{i}].satisfies", item) for item in o.satisfies]
        for i, c in enumerate(self.acceptance_checks):
            claims += [(f"acceptance_checks[{i}].satisfies", item) for item in c.satisfies]
        return claims


def _unique(values: list[str], field: str, what: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{field}: {what} {v!r} appears twice")
        seen.add(v)
