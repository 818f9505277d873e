"""Router configuration (UET router_config): apps, ordered rules and defaults.

Commands are argv templates: a list of strings with placeholders such as ``{prompt_file}``,
``{worktree}`` and ``{files}``; never a shell line.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from runwright.domain.limits import Few, WholeSeconds
from runwright.domain.router_specs import Complexity, Strategy
from runwright.domain.spend import Pricing, UsageFormat


class AppKind(StrEnum):
    """What an app does."""

    TOOL = "tool"
    VALIDATOR = "validator"
    ANALYZER = "analyzer"


class SafetyTier(StrEnum):
    """How much an app is trusted with."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class AppCapabilities(BaseModel):
    """What an app can do."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_kinds: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)


class AppLimits(BaseModel):
    """An app's limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_parallel: Few | None = None
    timeout_seconds: WholeSeconds | None = None


class RouterApp(BaseModel):
    """A tool, validator or analyzer the router can pick."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: AppKind = AppKind.TOOL
    command: list[str] | None = Field(
        default=None, description="argv template; defaults to the adapter's command."
    )
    capabilities: AppCapabilities = Field(default_factory=AppCapabilities)
    limits: AppLimits = Field(default_factory=AppLimits)
    safety_tier: SafetyTier = SafetyTier.MEDIUM
    # runwright fields
    adapter: str | None = Field(
        default=None, description="A shipped adapter (aider, claude, codex, generic)."
    )
    stdin: Literal["prompt"] | None = Field(
        default=None, description="Feed the rendered prompt to the command's standard input."
    )
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    prompt_template: str | None = Field(
        default=None, description="Prompt template id (defaults to the adapter's or 'default')."
    )
    usage: UsageFormat | None = Field(
        default=None,
        description="How the tool reports its usage on stdout (defaults to the adapter's, "
        "else none: unknown).",
    )
    pricing: Pricing | None = Field(
        default=None, description="Prices estimating the cost when the tool reports tokens only."
    )

    @field_validator("command", mode="before")
    @classmethod
    def _argv(cls, value: object) -> object:
        if isinstance(value, str):
            raise ValueError(
                "command must be an argv list, e.g. ['aider', '--message-file', '{prompt_file}']"
                " (runwright never runs a shell line)"
            )
        return value

    @field_validator("command")
    @classmethod
    def _not_empty(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or not value[0].strip()):
            raise ValueError("command needs at least the program to run")
        return value


class RuleMatch(BaseModel):
    """Predicates of a rule; a missing one matches anything."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_kind: list[str] | None = None
    risk_tier: list[str] | None = None
    complexity: Complexity | None = None


class RoutingRule(BaseModel):
    """Tried in order; the first rule whose predicates all match decides."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    match: RuleMatch = Field(default_factory=RuleMatch)
    select_from: list[str] = Field(min_length=1)
    strategy: Strategy | None = None
    validate_with: list[str] = Field(default_factory=list)
    required: bool = Field(default=False, description="Validators must pass to verify.")
    fallback_to: list[str] = Field(default_factory=list)


class RoutingSection(BaseModel):
    """The ordered rules."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: list[RoutingRule] = Field(default_factory=list)


class RouterDefaults(BaseModel):
    """What applies when neither the rule nor the request says."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: Few = 1
    timeout_seconds: WholeSeconds = 900
    strategy: Strategy = Strategy.FIXED


class RouterConfig(BaseModel):
    """Apps, rules and defaults of the router."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal["1", "1.0"] = Field(description='The format of this file: "1" (or "1.0").')
    apps: dict[str, RouterApp]
    routing: RoutingSection = Field(default_factory=RoutingSection)
    defaults: RouterDefaults = Field(default_factory=RouterDefaults)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        return str(value) if type(value) in {int, float} else value

    @model_validator(mode="after")
    def _references(self) -> RouterConfig:
        seen: set[str] = set()
        for index, rule in enumerate(self.routing.rules):
            if rule.id in seen:
                raise ValueError(f"routing.rules[{index}].id {rule.id!r} is used twice")
            seen.add(rule.id)
            for field in ("select_from", "validate_with", "fallback_to"):
                for name in getattr(rule, field):
                    if name not in self.apps:
                        raise ValueError(
                            f"routing.rules[{index}].{field} names app {name!r}, which is not "
                            f"in apps (known: {', '.join(sorted(self.apps)) or 'none'})"
                        )
            for name in rule.validate_with:
                if self.apps[name].kind is not AppKind.VALIDATOR:
                    raise ValueError(
                        f"routing.rules[{index}].validate_with names {name!r}, "
                        "which is not a validator app"
                    )
        return self
