"""What handler code receives as ``ctx``, and the guard that enforces the phase rules.

| op | producer | prepare | mutate | next |
|---|---|---|---|---|
| external read (tool ``@read``) | ✓ | ✓ | ✗ | ✗ |
| external mutation (tool ``@mutation``) | ✗ | ✗ | ✓ (one, terminal) | ✗ |
| ``ctx.peek`` / ``ctx.get_by_ids`` | ✗ | ✓ | ✗ | ✗ |
| ``ctx.publish`` (declared topics only) | ✓ (with ``input_id``) | ✗ | ✗ | ✓ (without) |
| ``ctx.register_input`` | ✓ | ✗ | ✗ | ✗ |

A violation raises PhaseViolation and is remembered: the run fails as a logic failure even if
the handler code catches the exception.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from runwright.domain.events import canonical_json
from runwright.domain.ids import new_id
from runwright.domain.workflows.models import Reservation, TopicEvent
from runwright.domain.workflows.rules import Op, Step, op_allowed
from runwright.domain.workflows.topics import PEEK_DEFAULT_LIMIT
from runwright.store.workflows import NewInput, Publish
from runwright.workflows.authoring import Handler, Workflow
from runwright.workflows.errors import (
    InternalError,
    LogicError,
    MutationDone,
    PhaseViolation,
    ToolError,
)
from runwright.workflows.tools import MUTATION, READ, Tool, bind_params, reset_guard, set_guard

#: What the host gives the guard: peek, get_by_ids, find an input, log, make the mutation call.
MutateFn = Callable[
    [Tool, str, Callable[..., Any], tuple[Any, ...], dict[str, Any], dict[str, Any], str], Any
]


class HostHooks:
    """The store and host operations a guard needs (set by the host)."""

    def __init__(
        self,
        *,
        peek: Callable[[str, int], list[TopicEvent]],
        get_by_ids: Callable[[str, list[str]], list[TopicEvent]],
        find_input: Callable[[str, str, str], str | None],
        log: Callable[[str, dict[str, Any]], None],
        mutate: MutateFn,
        now: Callable[[], datetime],
    ):
        self.peek = peek
        self.get_by_ids = get_by_ids
        self.find_input = find_input
        self.log = log
        self.mutate = mutate
        self.now = now


def idempotency_key(
    workflow: str,
    handler: str,
    reservations: list[Reservation],
    namespace: str,
    method: str,
    params: dict[str, Any],
) -> str:
    """A key that is the same for every retry of the same logical write, and only for it.

    The ledger may send an earlier key instead: a write of the same events that was in doubt
    and then settled as not made hands its key on to the next call of the same tool method,
    whatever its parameters (see ``store.workflows_mutations``)."""
    body = canonical_json(
        {
            "workflow": workflow,
            "handler": handler,
            "events": sorted(f"{r.topic}/{i}" for r in reservations for i in r.ids),
            "tool": f"{namespace}.{method}",
            "params": params,
        }
    )
    return "rw-" + hashlib.sha256(body.encode()).hexdigest()[:40]


class PhaseGuard:
    """Enforces the phase rules for one phase of one run and buffers its writes."""

    def __init__(
        self,
        *,
        workflow: Workflow,
        handler: Handler,
        step: Step,
        hooks: HostHooks,
        reservations: list[Reservation] | None = None,
        title: str = "",
    ):
        self.workflow = workflow
        self.handler = handler
        self.step = step
        self.hooks = hooks
        self.reservations = list(reservations or [])
        self.title = title
        self.violation: LogicError | None = None
        self.publishes: list[Publish] = []
        self.inputs: list[NewInput] = []
        self.known_inputs: set[str] = set()
        self.mutation_called = False
        self.mutation_outcome: Any = None

    # ---- rules ------------------------------------------------------------------------
    def refuse(self, message: str) -> PhaseViolation:
        """Remember a violation and return the exception to raise."""
        exc = PhaseViolation(f"{self.step} of {self.handler.name!r}: {message}")
        if self.violation is None:
            self.violation = exc
        return exc

    def need(self, op: Op) -> None:
        """Raise (and remember) unless this phase may perform ``op``."""
        if self.mutation_called:
            raise self.refuse(f"{op} after the mutation call (the call is terminal)")
        if not op_allowed(self.step, op):
            allowed = ", ".join(sorted(s.value for s in Step if op_allowed(s, op)))
            raise self.refuse(f"{op} is not allowed here (only in: {allowed})")

    # ---- tool calls -------------------------------------------------------------------
    def tool_call(
        self,
        tool: Tool,
        method: str,
        op: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """A declared tool method called from handler code."""
        if self.workflow.tools.get(tool.namespace) is not tool:
            raise self.refuse(
                f"tool {tool.namespace!r} is not declared on the workflow (Workflow(tools=[...]))"
            )
        if op == READ:
            self.need(Op.READ)
            try:
                return fn(tool, *args, **kwargs)
            except ToolError:
                raise
            except Exception as exc:
                raise InternalError(
                    f"{tool.namespace}.{method} failed: {type(exc).__name__}: {exc}"
                ) from exc
        if op != MUTATION:
            raise self.refuse(f"unknown tool operation {op!r}")
        if self.step is Step.MUTATE and self.mutation_called:
            raise self.refuse("a second mutation call (one per run)")
        self.need(Op.MUTATION)
        if "idempotency_key" in kwargs:
            raise self.refuse("idempotency_key is set by the host, not by handler code")
        try:
            params = bind_params(fn, args, kwargs)
            canonical_json(params)
        except TypeError as exc:
            raise self.refuse(f"bad arguments for {tool.namespace}.{method}: {exc}") from exc
        except ValueError as exc:
            raise self.refuse(
                f"arguments of {tool.namespace}.{method} are not JSON: {exc}"
            ) from exc
        self.mutation_called = True
        key = idempotency_key(
            self.workflow.name, self.handler.name, self.reservations, tool.namespace, method, params
        )
        self.mutation_outcome = self.hooks.mutate(tool, method, fn, args, kwargs, params, key)
        raise MutationDone()


class HandlerContext:
    """``ctx`` in handler code: publish, register inputs, peek, log, and the clock."""

    def __init__(self, guard: PhaseGuard, *, run_id: str, attempt: int):
        self._guard = guard
        self.run_id = run_id
        self.attempt = attempt

    @property
    def workflow(self) -> str:
        """The workflow's name."""
        return self._guard.workflow.name

    @property
    def handler(self) -> str:
        """The handler's name."""
        return self._guard.handler.name

    @property
    def phase(self) -> str:
        """producer, prepare, mutate or next."""
        return self._guard.step.value

    def now(self) -> datetime:
        """The engine's clock (use it instead of the wall clock)."""
        return self._guard.hooks.now()

    def log(self, message: str, **fields: Any) -> None:
        """Write a note into the run's event log."""
        self._guard.hooks.log(message, fields)

    def _topic(self, topic: str, *, publish: bool) -> None:
        g = self._guard
        if topic not in g.workflow.topics:
            raise g.refuse(f"topic {topic!r} is not declared on workflow {g.workflow.name!r}")
        if publish and topic not in g.handler.publishes:
            raise g.refuse(f"topic {topic!r} is not in publishes={g.handler.publishes}")

    def publish(
        self, topic: str, message_id: str, payload: Any = None, *, input_id: str | None = None
    ) -> None:
        """Publish an event (written when the run commits; the same id again replaces it).

        ``message_id`` must come from a stable external identifier. A producer passes the
        ``input_id`` that caused the event; ``next`` must not (its events inherit the inputs
        of the events the run reserved).
        """
        g = self._guard
        g.need(Op.PUBLISH)
        self._topic(topic, publish=True)
        if not isinstance(message_id, str) or not message_id:
            raise g.refuse("message_id must be a non-empty string")
        if g.step is Step.PRODUCER and not input_id:
            raise g.refuse("a producer publish needs input_id=ctx.register_input(...)")
        if g.step is Step.NEXT and input_id:
            raise g.refuse("a publish from next takes no input_id (it inherits caused_by)")
        if input_id and input_id not in g.known_inputs:
            raise g.refuse(f"input_id {input_id!r} was not registered by this producer")
        try:
            canonical_json(payload)
        except (TypeError, ValueError) as exc:
            raise g.refuse(f"payload of {topic}/{message_id} is not JSON: {exc}") from exc
        caused = (input_id,) if input_id else ()
        g.publishes.append(Publish(topic, message_id, payload, caused))

    def register_input(self, source: str, type: str, id: str, title: str = "") -> str:
        """Register the external thing that causes events; the same (source, type, id) always
        returns the same input id (its title is not updated)."""
        g = self._guard
        g.need(Op.REGISTER_INPUT)
        for value, name in ((source, "source"), (type, "type"), (id, "id")):
            if not isinstance(value, str) or not value:
                raise g.refuse(f"register_input needs a non-empty string {name}")
        for item in g.inputs:
            if (item.source, item.type, item.external_id) == (source, type, id):
                return item.input_id
        found = g.hooks.find_input(source, type, id)
        input_id = found or new_id()
        if found is None:
            g.inputs.append(NewInput(input_id, source, type, id, title))
        g.known_inputs.add(input_id)
        return input_id

    def peek(self, topic: str, limit: int = PEEK_DEFAULT_LIMIT) -> list[TopicEvent]:
        """Pending events of a subscribed topic, oldest first (never reserved or done ones)."""
        g = self._guard
        g.need(Op.PEEK)
        self._topic(topic, publish=False)
        return g.hooks.peek(topic, limit)

    def get_by_ids(self, topic: str, message_ids: Iterable[str]) -> list[TopicEvent]:
        """Events of a topic by message id, in any status."""
        g = self._guard
        g.need(Op.PEEK)
        self._topic(topic, publish=False)
        return g.hooks.get_by_ids(topic, list(message_ids))


class guarded:
    """Route tool calls made in this block to ``guard``."""

    def __init__(self, guard: PhaseGuard):
        self.guard = guard
        self._token: Any = None

    def __enter__(self) -> PhaseGuard:
        self._token = set_guard(self.guard)
        return self.guard

    def __exit__(self, *exc: object) -> None:
        reset_guard(self._token)


__all__ = [
    "HandlerContext",
    "HostHooks",
    "MutationDone",
    "PhaseGuard",
    "guarded",
    "idempotency_key",
]
