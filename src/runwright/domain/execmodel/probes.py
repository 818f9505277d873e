"""Probe and check specs: the concrete tests an acceptance check is built from."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from runwright.domain.execmodel.checks import CheckType
from runwright.domain.limits import AgeMinutes, Many, ManyOrZero, Seconds

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=100)]
ExitCodes = int | list[int]


class _Probe(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class CommandProbe(_Probe):
    """Run an argv command (never through a shell); PASS when it exits as expected.

    Exit as expected but nothing to link (no output, no produced file) is WARN; a timeout is
    FAIL. stdout and stderr are stored as evidence.
    """

    probe: Literal["command"]
    argv: list[str] = Field(min_length=1)
    expect_exit: ExitCodes = 0
    cwd: str | None = None
    timeout_seconds: Seconds = 60.0
    produces: list[str] = Field(
        default_factory=list, description="Files the command writes; linked as evidence."
    )


class ExitCodeProbe(_Probe):
    """PASS when an operator step exited with one of ``equals`` (its output is the evidence)."""

    probe: Literal["exit_code"]
    step: str = Field(min_length=1)
    equals: ExitCodes = 0


class FileProbe(_Probe):
    """A file exists / is non-empty / has at least N rows or lines; older than
    ``max_age_minutes`` is WARN (stale evidence)."""

    probe: Literal["file"]
    path: str = Field(min_length=1)
    exists: bool = True
    non_empty: bool = False
    min_rows: ManyOrZero | None = Field(default=None, description="CSV data rows / JSONL lines.")
    min_lines: ManyOrZero | None = None
    max_age_minutes: AgeMinutes | None = None


class JsonSchemaProbe(_Probe):
    """A JSON, JSON Lines or YAML document validates against a JSON Schema."""

    probe: Literal["json_schema"]
    path: str = Field(min_length=1)
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    schema_path: str | None = None
    lines: bool = Field(default=False, description="Validate each line (JSON Lines).")

    @model_validator(mode="after")
    def _one_schema(self) -> JsonSchemaProbe:
        if (self.json_schema is None) == (self.schema_path is None):
            raise ValueError("give exactly one of schema (inline) or schema_path")
        return self


class RegexProbe(_Probe):
    """A regular expression matches (or must not match) a file or a step's output."""

    probe: Literal["regex"]
    pattern: str = Field(min_length=1)
    path: str | None = None
    step: str | None = None
    stream: Literal["stdout", "stderr"] = "stdout"
    expect: Literal["match", "no_match"] = "match"
    min_matches: Many = 1

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _one_source(self) -> RegexProbe:
        if (self.path is None) == (self.step is None):
            raise ValueError("give exactly one of path or step")
        return self


class Sha256Probe(_Probe):
    """A file has the given sha256, or every file listed in a manifest matches its hash."""

    probe: Literal["sha256"]
    path: str | None = None
    equals: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    manifest: str | None = Field(
        default=None, description='A JSON manifest: {"files": [{"path", "sha256"}…]}.'
    )

    @model_validator(mode="after")
    def _one_target(self) -> Sha256Probe:
        single = self.path is not None or self.equals is not None
        complete = self.path is not None and self.equals is not None
        if (single and (not complete or self.manifest is not None)) or (
            not single and self.manifest is None
        ):
            raise ValueError("give either path and equals, or manifest")
        return self


class HttpProbe(_Probe):
    """An HTTP request to ``url`` answers with one of ``status`` (and matches ``body_regex``)."""

    probe: Literal["http"]
    url: str = Field(min_length=1)
    method: Literal["GET", "HEAD"] = "GET"
    status: ExitCodes = 200
    timeout_seconds: Seconds = 10.0
    body_regex: str | None = None


Probe = Annotated[
    CommandProbe
    | ExitCodeProbe
    | FileProbe
    | JsonSchemaProbe
    | RegexProbe
    | Sha256Probe
    | HttpProbe,
    Field(discriminator="probe"),
]

#: Which probes make sense for which check type.
ALLOWED_PROBES: dict[CheckType, frozenset[str]] = {
    CheckType.SMOKE: frozenset({"command", "exit_code", "regex", "file"}),
    CheckType.RUN_LIVE_BOUNDED: frozenset({"command", "exit_code", "http"}),
    CheckType.CONTRACT_TEST: frozenset({"command", "exit_code", "json_schema", "regex", "sha256"}),
    CheckType.HEALTH_CHECK: frozenset({"http", "command", "exit_code", "file", "regex"}),
    CheckType.CONTENT_VALIDATION: frozenset({"file", "json_schema", "regex", "sha256"}),
}


class CheckSpec(BaseModel):
    """An acceptance check: a check type made of concrete probes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Slug
    check_type: CheckType
    description: str = ""
    probes: list[Probe] = Field(min_length=1)
    timeout_seconds: Seconds = Field(default=120.0, description="The whole check's bound.")
    satisfies: list[str] = Field(default_factory=list, description="Evidence-pattern items.")

    @model_validator(mode="after")
    def _probes_fit_type(self) -> CheckSpec:
        allowed = ALLOWED_PROBES[self.check_type]
        for i, p in enumerate(self.probes):
            if p.probe not in allowed:
                raise ValueError(
                    f"probes[{i}]: a {p.probe} probe does not fit a {self.check_type} check "
                    f"(use {', '.join(sorted(allowed))})"
                )
        return self
