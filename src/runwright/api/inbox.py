"""The inbox: every decision only a person can take, in sections other parts can add to.

Sections here: ``mutations`` (writes whose outcome nobody could establish, with the real call
parameters and the three actions), ``escalations`` and ``blocked`` workflows, ``stale_inputs``
(pending longer than ``[workflows] stale_days``, default 7) and ``steps_in_doubt`` (core runs
paused for reconciliation that are not workflow runs). A later part adds a section by listing a
module in ``SECTION_MODULES`` that defines ``SECTIONS: dict[str, provider]``, or by calling
``register_section``; a provider is ``fn(client, options) -> list[InboxItem]``. A provider can
also be summed up cheaply (its count and first items, for the overview) by a summary
(``register_summary`` or ``SUMMARIES: dict[provider, summary]`` in a section module).

How an item's action is carried out (by the dashboard, or any other caller of ``Inbox.act``) is
registered apart from the item, by section and action name: ``register_action(section, name,
ItemAction(handler, fields=...))``, or ``ACTIONS: dict[(section, name), ItemAction]`` in a section
module. A handler is ``fn(client, item_id, values, by) -> message``; ``fields`` describe the
inputs a person fills in first (an escalation's answer, a step's result). An action nobody
registered is shown with its command only.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING

from runwright.domain.runs import RunKind
from runwright.domain.states import RunState, StateReason, StepState
from runwright.domain.workflows.models import InboxAction, InboxItem, Input, Mutation
from runwright.domain.workflows.mutations import MutationStatus
from runwright.domain.workflows.topics import STALE_AFTER_DAYS, InputStatus
from runwright.errors import NotFound, ValidationError
from runwright.store.core import RunFilter

if TYPE_CHECKING:
    from runwright.api.client import Client

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboxOptions:
    """What the inbox is asked for."""

    now: datetime
    stale_days: float = STALE_AFTER_DAYS
    limit: int = 200


Provider = Callable[["Client", InboxOptions], list[InboxItem]]
#: A provider's items summed up without building all of them: ``fn(client, options, first)``
#: returns the ``first`` items the provider gives when they are sorted oldest first, and how
#: many items it gives.
Summary = Callable[["Client", InboxOptions, int], tuple[list[InboxItem], int]]

SECTION_MODULES = (
    "runwright.api.plan_inbox",
    "runwright.execmodel.inbox",
    "runwright.patches.inbox",
)
_extra: dict[str, Provider] = {}
_summaries: dict[Provider, Summary] = {}


def register_section(name: str, provider: Provider) -> None:
    """Add (or replace) an inbox section."""
    _extra[name] = provider


def register_summary(provider: Provider, summary: Summary) -> None:
    """Say how ``provider``'s items are summed up cheaply (for the overview's count and first
    items); a provider without one is summed up from its items."""
    _summaries[provider] = summary


def _mutation_item(client: Client, m: Mutation) -> InboxItem:
    ws = client.workflows
    inputs: list[str] = []
    for ev in ws.store.list_events(reserved_by=m.handler_run_id, limit=20):
        for input_id in ev.caused_by:
            try:
                inputs.append(ws.store.get_input(input_id).title or input_id)
            except Exception:  # an input is only context here
                inputs.append(input_id)
    what = m.ui_title or f"{m.tool_namespace}.{m.tool_method}"
    cmd = f"runwright mutation resolve {m.mutation_id}"
    actions = []
    if m.can_reconcile:
        actions.append(InboxAction(name="Try again", command=f"{cmd} --try-again"))
    actions += [
        InboxAction(name="It didn't happen", command=f"{cmd} --did-not-happen"),
        InboxAction(name="Skip", command=f"{cmd} --skip"),
    ]
    detail = f"input: {', '.join(dict.fromkeys(inputs)) or '-'}; why unknown: {m.error or '-'}"
    if not m.can_reconcile:
        detail += "; the tool cannot verify it"
    return InboxItem(
        section="mutations",
        item_id=m.mutation_id,
        title=f"Could not confirm {what}",
        detail=detail,
        workflow=m.workflow,
        run_id=m.handler_run_id,
        created_at=m.created_at,
        params={
            "tool": f"{m.tool_namespace}.{m.tool_method}",
            "params": m.params,
            "idempotency_key": m.idempotency_key,
            "reconcile_attempts": m.reconcile_attempts,
        },
        actions=actions,
    )


def mutations_section(client: Client, opts: InboxOptions) -> list[InboxItem]:
    """Indeterminate mutations."""
    rows = client.workflows.mutations(
        statuses=(MutationStatus.INDETERMINATE.value,), limit=opts.limit
    )
    return [_mutation_item(client, m) for m in rows]


def workflows_section(client: Client, opts: InboxOptions) -> list[InboxItem]:
    """Escalated, blocked, or waiting-for-a-fix workflows."""
    items = []
    for wf in client.workflows.list_workflows():
        resume = InboxAction(name="Resume", command=f"runwright workflow resume {wf.name}")
        redeploy = InboxAction(
            name="Redeploy after fixing", command=f"runwright workflow deploy {wf.ref}"
        )
        if wf.error and wf.error_kind != "reconciliation":
            section = "escalations" if wf.error_kind == "escalated" else "blocked"
            items.append(
                InboxItem(
                    section=section,
                    item_id=wf.name,
                    title=f"Workflow {wf.name} "
                    + ("escalated" if section == "escalations" else "is blocked"),
                    detail=wf.error,
                    workflow=wf.name,
                    run_id=wf.error_run_id,
                    created_at=wf.updated_at,
                    actions=[redeploy, resume] if section == "escalations" else [resume],
                )
            )
        elif wf.maintenance and wf.label != "Running":
            items.append(
                InboxItem(
                    section="escalations",
                    item_id=wf.name,
                    title=f"Workflow {wf.name} needs a fix "
                    f"(logic failure {wf.maintenance_fix_count})",
                    detail="no repair command is configured; fix the code and redeploy",
                    workflow=wf.name,
                    run_id=wf.pending_retry_run_id,
                    created_at=wf.updated_at,
                    actions=[redeploy, resume],
                )
            )
    return items


def _stale_item(item: Input, opts: InboxOptions) -> InboxItem:
    days = int((opts.now - item.created_at).total_seconds() // 86400)
    return InboxItem(
        section="stale_inputs",
        item_id=item.input_id,
        title=f"{item.title or item.id} pending {days} days",
        detail=f"{item.source}/{item.type}/{item.id} in workflow {item.workflow}",
        workflow=item.workflow,
        created_at=item.created_at,
        params={"events": item.events},
        actions=[
            InboxAction(name="Investigate", command=f"runwright input show {item.input_id}"),
            InboxAction(name="Skip", command=f"runwright input skip {item.input_id}"),
        ],
    )


def stale_section(client: Client, opts: InboxOptions) -> list[InboxItem]:
    """Inputs pending for more than ``stale_days``."""
    found = client.workflows.inputs(
        statuses=(InputStatus.PENDING.value,),
        created_before=opts.now - timedelta(days=opts.stale_days),
        limit=opts.limit,
    )
    return [_stale_item(item, opts) for item in found]


def stale_summary(client: Client, opts: InboxOptions, first: int) -> tuple[list[InboxItem], int]:
    """``stale_section`` summed up: its ``first`` items (oldest first) and how many it has."""
    found, count = client.workflows.inputs_summary(
        first=first,
        statuses=(InputStatus.PENDING.value,),
        created_before=opts.now - timedelta(days=opts.stale_days),
        limit=opts.limit,
    )
    return [_stale_item(item, opts) for item in found], count


def steps_section(client: Client, opts: InboxOptions) -> list[InboxItem]:
    """Core runs (not workflow runs) waiting for a decision on a step in doubt."""
    items = []
    waiting = client.list_runs(
        RunFilter(
            states=(RunState.WAITING.value,),
            reason=StateReason.PAUSED_RECONCILIATION,
            limit=opts.limit,
        )
    )
    for run in waiting:
        if run.kind in {RunKind.PRODUCER, RunKind.CONSUMER}:
            continue
        for attempt in client.steps(run.run_id):
            if attempt.state is not StepState.RUNNING:
                continue
            cmd = f"runwright run resolve {run.run_id} {attempt.step_key}"
            items.append(
                InboxItem(
                    section="steps_in_doubt",
                    item_id=f"{run.run_id}:{attempt.step_key}",
                    title=f"Step {attempt.step_key!r} of {run.job_name}: outcome unknown",
                    detail=f"started {attempt.started_at.isoformat(timespec='seconds')} "
                    f"by {attempt.worker_id or '?'}",
                    run_id=run.run_id,
                    created_at=attempt.started_at,
                    params={"tool_id": attempt.tool_id, "args": run.args[:5]},
                    actions=[
                        InboxAction(name="Run it again", command=f"{cmd} --rerun"),
                        InboxAction(name="It happened", command=f"{cmd} --mark-done --result JSON"),
                        InboxAction(name="Fail it", command=f"{cmd} --fail"),
                    ],
                )
            )
    return items


BUILTIN: dict[str, Provider] = {
    "mutations": mutations_section,
    "workflows": workflows_section,
    "stale_inputs": stale_section,
    "steps_in_doubt": steps_section,
}


#: Summaries of built-in providers (a section module can list its own in ``SUMMARIES``).
BUILTIN_SUMMARIES: dict[Provider, Summary] = {stale_section: stale_summary}


def summaries() -> dict[Provider, Summary]:
    """Every known summary, by the provider it sums up."""
    found = dict(BUILTIN_SUMMARIES)
    for module in _section_modules():
        found.update(getattr(module, "SUMMARIES", {}))
    found.update(_summaries)
    return found


def _section_modules() -> list[ModuleType]:
    out = []
    for name in SECTION_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                continue
        except ModuleNotFoundError:
            continue
        out.append(importlib.import_module(name))
    return out


def providers() -> dict[str, Provider]:
    """Every section provider: built in, from other parts, and registered."""
    found = dict(BUILTIN)
    for module in _section_modules():
        found.update(getattr(module, "SECTIONS", {}))
    found.update(_extra)
    return found


# ---- carrying out an item's action ------------------------------------------------------
@dataclass(frozen=True)
class ActionField:
    """An input a person fills in before the action runs.

    ``kind``: ``text`` (one line), ``textarea`` (an answer, a note) or ``json`` (parsed before
    the handler sees it, which then gets the JSON text unchanged).
    """

    name: str
    label: str
    kind: str = "text"
    placeholder: str = ""
    default: str = ""
    required: bool = False


ActionHandler = Callable[["Client", str, Mapping[str, str], str], str]


@dataclass(frozen=True)
class ItemAction:
    """How an inbox action is carried out: ``handler(client, item_id, values, by)`` returns a
    short message for the person; ``danger`` and ``confirm`` tell a UI to ask first; ``help``
    says in a line what choosing it means."""

    handler: ActionHandler
    fields: tuple[ActionField, ...] = ()
    danger: bool = False
    confirm: str = ""
    help: str = ""


_actions: dict[tuple[str, str], ItemAction] = {}


def register_action(section: str, name: str, action: ItemAction) -> None:
    """Say how the action ``name`` of items in ``section`` is carried out (add or replace)."""
    _actions[(section, name)] = action


def actions() -> dict[tuple[str, str], ItemAction]:
    """Every known way to carry out an action: built in, from section modules, registered."""
    found = dict(BUILTIN_ACTIONS)
    for module in _section_modules():
        found.update(getattr(module, "ACTIONS", {}))
    found.update(_actions)
    return found


def _resolver(how: str) -> ActionHandler:
    def run(client: Client, item_id: str, values: Mapping[str, str], by: str) -> str:
        m = client.workflows.resolve(item_id, how, by=by)
        return f"mutation {m.mutation_id[-6:]}: {how.replace('-', ' ')} → {m.status.value}"

    return run


def _skip_input(client: Client, item_id: str, values: Mapping[str, str], by: str) -> str:
    item = client.workflows.skip_input(item_id, by=by)
    return f"input {item.title or item.id} is {item.status.value}"


def _resume(client: Client, item_id: str, values: Mapping[str, str], by: str) -> str:
    wf = client.workflows.resume(item_id, by=by)
    return f"workflow {wf.name} resumed ({wf.label.value})"


def _step(how: str) -> ActionHandler:
    def run(client: Client, item_id: str, values: Mapping[str, str], by: str) -> str:
        run_id, _, step_key = item_id.partition(":")
        result = json.loads(values.get("result") or "null") if how == "mark-done" else None
        client.resolve_step(run_id, step_key, how, result=result, by=by)
        return f"step {step_key} resolved ({how})"

    return run


_RESULT = ActionField(
    "result", "its result as JSON", kind="json", placeholder='e.g. "done"', default="null"
)
BUILTIN_ACTIONS: dict[tuple[str, str], ItemAction] = {
    ("mutations", "Try again"): ItemAction(
        _resolver("try-again"), help="ask the tool to check again whether the write happened"
    ),
    ("mutations", "It didn't happen"): ItemAction(
        _resolver("did-not-happen"),
        confirm="Release its events so a fresh run makes the write again?",
        help="you checked: it did not happen; a fresh run makes it with the same idempotency "
        "key, even if the payload was corrected",
    ),
    ("mutations", "Skip"): ItemAction(
        _resolver("skip"),
        danger=True,
        confirm="Skip this write and its events for good?",
        help="give up on this write (it may have happened): it is recorded as skipped, its "
        "events are skipped and the run finishes",
    ),
    ("stale_inputs", "Skip"): ItemAction(
        _skip_input,
        danger=True,
        confirm="Skip this input and its open events for good?",
        help="nothing more is done for it; its open events are skipped",
    ),
    ("escalations", "Resume"): ItemAction(_resume, help="after fixing it: the workflow runs again"),
    ("blocked", "Resume"): ItemAction(_resume, help="after fixing the cause: it runs again"),
    ("steps_in_doubt", "Run it again"): ItemAction(
        _step("rerun"), help="the step's effect did not happen: run it again"
    ),
    ("steps_in_doubt", "It happened"): ItemAction(
        _step("mark-done"), fields=(_RESULT,), help="record its result; the run continues"
    ),
    ("steps_in_doubt", "Fail it"): ItemAction(
        _step("fail"), danger=True, help="give up: the step fails"
    ),
}


@dataclass(frozen=True)
class InboxSummary:
    """The inbox at a glance: its first items (in the order ``Inbox.items`` gives them) and how
    many items it has in all."""

    items: list[InboxItem]
    total: int


class Inbox:
    """Collects the inbox for the CLI and the dashboard."""

    def __init__(self, client: Client):
        self.client = client

    def options(self, stale_days: float | None = None) -> InboxOptions:
        """Options from the arguments and ``[workflows] stale_days``."""
        if stale_days is None:
            conf = self.client.settings.file.get("workflows") or {}
            stale_days = float(conf.get("stale_days", STALE_AFTER_DAYS))
        return InboxOptions(now=self.client.clock.now(), stale_days=stale_days)

    def items(self, *, stale_days: float | None = None) -> list[InboxItem]:
        """Every item, section by section, oldest first within a section."""
        opts = self.options(stale_days)
        out: list[InboxItem] = []
        for name, provider in providers().items():
            try:
                found = provider(self.client, opts)
            except Exception:
                log.exception("inbox section %s failed", name)
                continue
            out.extend(sorted(found, key=lambda i: i.created_at))
        return out

    def summary(self, shown: int, *, stale_days: float | None = None) -> InboxSummary:
        """The first ``shown`` items of ``items()`` and how many it has, reading only what
        that needs: a section with a summary is counted without building all its items."""
        opts = self.options(stale_days)
        quick = summaries()
        first: list[InboxItem] = []
        total = 0
        for name, provider in providers().items():
            want = max(shown - len(first), 0)
            try:
                summary = quick.get(provider)
                if summary is not None:
                    found, count = summary(self.client, opts, want)
                else:
                    every = sorted(provider(self.client, opts), key=lambda i: i.created_at)
                    found, count = every[:want], len(every)
            except Exception:
                log.exception("inbox section %s failed", name)
                continue
            first.extend(found[:want])
            total += count
        return InboxSummary(first, total)

    def act(
        self, section: str, item_id: str, name: str, values: Mapping[str, str], *, by: str
    ) -> str:
        """Carry out action ``name`` on an item of ``section``; return what happened.

        Required fields must be filled in and ``json`` fields must parse; the handler's own
        errors (a conflict, an unknown id) reach the caller unchanged.
        """
        how = actions().get((section, name))
        if how is None:
            raise NotFound(
                f"the inbox has no way to carry out {name!r} on {section} items here",
                hint="run the command shown with the item instead",
                section=section,
                action=name,
            )
        for f in how.fields:
            value = (values.get(f.name) or "").strip()
            if f.required and not value:
                raise ValidationError(
                    f"{f.label} is required", hint=f"fill in {f.label!r}", field=f.name
                )
            if f.kind == "json" and value:
                try:
                    json.loads(value)
                except json.JSONDecodeError as exc:
                    raise ValidationError(
                        f"{f.label} is not JSON: {exc.msg}",
                        hint='write JSON, e.g. "done", 42 or null',
                        field=f.name,
                    ) from exc
        return how.handler(self.client, item_id, values, by)
