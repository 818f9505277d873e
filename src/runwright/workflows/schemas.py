"""Event-workflow artifacts, by kind name, for JSON Schema export."""

from __future__ import annotations

from pydantic import BaseModel

from runwright.domain.workflows.models import (
    HandlerRun,
    InboxItem,
    Input,
    Mutation,
    TopicEvent,
    WorkflowRecord,
    WorkflowSpec,
)

SCHEMAS: dict[str, type[BaseModel]] = {
    "workflow": WorkflowRecord,
    "workflow_spec": WorkflowSpec,
    "topic_event": TopicEvent,
    "input": Input,
    "handler_run": HandlerRun,
    "mutation": Mutation,
    "inbox_item": InboxItem,
}
