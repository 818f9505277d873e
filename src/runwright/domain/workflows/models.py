"""Workflow artifacts as Pydantic models: the single source of truth for their JSON Schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runwright.domain.ids import Ulid
from runwright.domain.limits import Seconds
from runwright.domain.workflows.mutations import MutationStatus, ResolvedBy
from runwright.domain.workflows.phases import HandlerType, MutationOutcome, Phase, RunStatus
from runwright.domain.workflows.rules import WorkflowLabel, WorkflowStatus
from runwright.domain.workflows.topics import EventStatus, InputStatus

_NAME = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"


class Schedule(BaseModel):
    """When a producer runs: an interval (``30s``, ``5m``, ``2h``, ``1d``) or a cron line."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    every: str | None = Field(default=None, pattern=r"^\d+(s|m|h|d)$")
    cron: str | None = None


class HandlerSpec(BaseModel):
    """One producer or consumer as deployed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_NAME)
    type: HandlerType
    publishes: list[str] = Field(default_factory=list)
    subscribe: list[str] = Field(default_factory=list)
    schedule: Schedule | None = None
    has_next: bool = False
    timeout_seconds: Seconds = 300.0


class ToolSpec(BaseModel):
    """A tool a workflow uses: its read and mutation methods and whether it can reconcile."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    namespace: str = Field(pattern=_NAME)
    kind: str = Field(description="The tool's class, module:qualname.")
    reads: list[str] = Field(default_factory=list)
    mutations: list[str] = Field(default_factory=list)
    can_reconcile: list[str] = Field(
        default_factory=list, description="The mutation methods reconcile() can verify."
    )


class WorkflowSpec(BaseModel):
    """What a Workflow declares, validated at deploy: topics, handlers, tools, repair command."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_NAME)
    topics: list[str] = Field(default_factory=list)
    handlers: list[HandlerSpec] = Field(default_factory=list)
    tools: list[ToolSpec] = Field(default_factory=list)
    repair_command: list[str] | None = Field(
        default=None, description="argv of a program that may fix the workflow (never a shell)."
    )
    repair_timeout_seconds: Seconds = 600.0
    description: str = ""

    def handler(self, name: str) -> HandlerSpec | None:
        """The handler called ``name``, if any."""
        return next((h for h in self.handlers if h.name == name), None)

    def subscribers(self, topic: str) -> list[str]:
        """The consumers subscribed to ``topic``."""
        return [h.name for h in self.handlers if topic in h.subscribe]


class WorkflowRecord(BaseModel):
    """A deployed workflow and its scheduling state."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    ref: str = Field(description="MODULE:ATTR that workers import.")
    status: WorkflowStatus
    label: WorkflowLabel
    error: str = ""
    error_kind: str = ""
    error_run_id: Ulid | None = None
    maintenance: bool = False
    maintenance_fix_count: int = Field(default=0, ge=0)
    pending_retry_run_id: Ulid | None = None
    active_run_id: Ulid | None = None
    transient_failures: int = Field(default=0, ge=0)
    retry_at: datetime | None = None
    version: int = Field(ge=1)
    config_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    code_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    spec: WorkflowSpec
    deployed_at: datetime
    updated_at: datetime


class HandlerState(BaseModel):
    """A handler's saved state and when it runs next."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow: str
    handler: str
    type: HandlerType
    state: Any = None
    next_run_at: datetime | None = None
    wake_at: datetime | None = None
    dirty: bool = False
    last_run_id: Ulid | None = None


class TopicEvent(BaseModel):
    """One event on a topic, unique by (workflow, topic, message_id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: Ulid
    workflow: str
    topic: str
    message_id: str = Field(min_length=1)
    payload: Any = None
    status: EventStatus
    reserved_by_run_id: Ulid | None = None
    created_by_run_id: Ulid | None = None
    caused_by: list[Ulid] = Field(default_factory=list, description="Input ids.")
    attempt_number: int = Field(default=1, ge=1)
    created_at: datetime
    updated_at: datetime


class Input(BaseModel):
    """Something from outside that caused events: registered by (source, type, id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_id: Ulid
    workflow: str
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    id: str = Field(min_length=1, description="The external identifier.")
    title: str = ""
    status: InputStatus
    created_by_run_id: Ulid | None = None
    created_at: datetime
    skipped_at: datetime | None = None
    events: int = Field(default=0, ge=0, description="How many events it caused.")


class Reservation(BaseModel):
    """Events of one topic that a consumer run reserved."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str
    ids: list[str] = Field(description="Message ids.")


class HandlerRun(BaseModel):
    """One attempt of a handler: a core run of kind producer or consumer, plus its phase."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: Ulid
    workflow: str
    handler: str
    handler_type: HandlerType
    phase: Phase
    status: RunStatus
    retry_of: Ulid | None = None
    prepare_result: Any = None
    input_state: Any = None
    output_state: Any = None
    error: str = ""
    error_type: str = ""
    mutation_outcome: MutationOutcome = MutationOutcome.NONE
    reservations: list[Reservation] = Field(default_factory=list)
    workflow_version: int = Field(ge=1)
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None = None

    @property
    def reserved_count(self) -> int:
        """How many events the run reserved."""
        return sum(len(r.ids) for r in self.reservations)


class Mutation(BaseModel):
    """A ledger row: one external write, recorded before the call is made."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mutation_id: Ulid
    handler_run_id: Ulid
    workflow: str
    handler: str
    tool_namespace: str
    tool_method: str
    params: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str
    status: MutationStatus
    result: Any = None
    error: str = ""
    error_type: str = ""
    reconcile_attempts: int = Field(default=0, ge=0)
    next_reconcile_at: datetime | None = None
    resolved_by: ResolvedBy | None = None
    resolved_at: datetime | None = None
    ui_title: str = ""
    can_reconcile: bool = False
    created_at: datetime
    updated_at: datetime


class InboxAction(BaseModel):
    """One thing a person can do about an inbox item, with the command that does it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    command: str


class InboxItem(BaseModel):
    """Something only a person can decide: a section, what it is about, and the actions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    section: str = Field(description="mutations | escalations | stale_inputs | steps_in_doubt …")
    item_id: str
    title: str
    detail: str = ""
    workflow: str | None = None
    run_id: Ulid | None = None
    created_at: datetime
    params: dict[str, Any] = Field(default_factory=dict)
    actions: list[InboxAction] = Field(default_factory=list)
