"""The authoring API: ``Workflow``, its topics, ``@wf.producer`` and ``@wf.consumer``.

```python
wf = runwright.Workflow("orders", topics=["new"], tools=[shop, billing])

@wf.producer(publishes=["new"], every="5m")
def poll(ctx, state):
    for order in shop.recent(since=(state or {}).get("since")):
        inp = ctx.register_input("shop", "order", order["id"], title=order["title"])
        ctx.publish("new", f"order:{order['id']}", order, input_id=inp)
    return {"since": ...}

@wf.consumer(subscribe=["new"])
class Invoice:
    def prepare(self, ctx, state):
        return runwright.Prepared.reserve(ctx.peek("new", limit=1), data=...)
    def mutate(self, ctx, prepared):
        billing.create_invoice(prepared.data["order"])
    def next(self, ctx, prepared, result):
        return state
```
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from runwright.domain.events import canonical_json
from runwright.domain.workflows.models import HandlerSpec, Schedule, WorkflowSpec
from runwright.domain.workflows.phases import HandlerType
from runwright.domain.workflows.rules import PHASE_TIMEOUT_SECONDS, parse_interval
from runwright.errors import ValidationError
from runwright.workflows.schedule import check_cron
from runwright.workflows.tools import Tool


@dataclass
class Handler:
    """A producer function, or a consumer's prepare / mutate / next."""

    name: str
    type: HandlerType
    publishes: list[str] = field(default_factory=list)
    subscribe: list[str] = field(default_factory=list)
    every: str | None = None
    cron: str | None = None
    timeout: float = PHASE_TIMEOUT_SECONDS
    run: Callable[..., Any] | None = None
    prepare: Callable[..., Any] | None = None
    mutate: Callable[..., Any] | None = None
    next: Callable[..., Any] | None = None

    def spec(self) -> HandlerSpec:
        """The deployed description of this handler."""
        schedule = Schedule(every=self.every, cron=self.cron) if self.every or self.cron else None
        return HandlerSpec(
            name=self.name,
            type=self.type,
            publishes=list(self.publishes),
            subscribe=list(self.subscribe),
            schedule=schedule,
            has_next=self.next is not None,
            timeout_seconds=self.timeout,
        )


class Workflow:
    """A set of topics, producers and consumers acting on external systems through tools."""

    def __init__(
        self,
        name: str,
        *,
        topics: Iterable[str] = (),
        tools: Iterable[Tool] = (),
        repair: list[str] | None = None,
        repair_timeout: float = 600.0,
        description: str = "",
    ):
        self.name = name
        self.topics: list[str] = []
        self.tools: dict[str, Tool] = {}
        self.handlers: dict[str, Handler] = {}
        self.repair = list(repair) if repair else None
        self.repair_timeout = repair_timeout
        self.description = description
        self.topic(*topics)
        for t in tools:
            self.tool(t)

    def __repr__(self) -> str:
        return f"Workflow({self.name!r})"

    def topic(self, *names: str) -> None:
        """Declare topics (publishing or subscribing to an undeclared one is refused)."""
        for n in names:
            if n not in self.topics:
                self.topics.append(n)

    def tool(self, tool: Tool) -> Tool:
        """Declare a tool the handlers use (a call to an undeclared tool is a logic error)."""
        if not isinstance(tool, Tool):
            raise ValidationError(
                f"workflow {self.name!r}: {tool!r} is not a runwright.Tool", field="tools"
            )
        known = self.tools.get(tool.namespace)
        if known is not None and known is not tool:
            raise ValidationError(
                f"workflow {self.name!r}: two tools use the namespace {tool.namespace!r}",
                hint="give each tool its own namespace",
                field="tools",
            )
        self.tools[tool.namespace] = tool
        return tool

    def _add(self, handler: Handler) -> None:
        if handler.name in self.handlers:
            raise ValidationError(
                f"workflow {self.name!r} already has a handler named {handler.name!r}",
                hint="pass name=... to one of them",
                field="name",
            )
        self.handlers[handler.name] = handler

    def producer(
        self,
        *,
        publishes: Iterable[str] = (),
        every: str | None = None,
        cron: str | None = None,
        name: str | None = None,
        timeout: float = PHASE_TIMEOUT_SECONDS,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register ``fn(ctx, state) -> state`` as a producer on an interval or a cron line."""

        def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._add(
                Handler(
                    name=name or fn.__name__,
                    type=HandlerType.PRODUCER,
                    publishes=list(publishes),
                    every=every,
                    cron=cron,
                    timeout=timeout,
                    run=fn,
                )
            )
            return fn

        return wrap

    def consumer(
        self,
        *,
        subscribe: Iterable[str] = (),
        publishes: Iterable[str] = (),
        name: str | None = None,
        timeout: float = PHASE_TIMEOUT_SECONDS,
    ) -> Callable[[Any], Any]:
        """Register a consumer: a class (or object) with ``prepare(ctx, state)``,
        ``mutate(ctx, prepared)`` and ``next(ctx, prepared, mutation_result)``."""

        def wrap(target: Any) -> Any:
            obj = target() if inspect.isclass(target) else target
            label = getattr(target, "__name__", type(obj).__name__)
            self._add(
                Handler(
                    name=name or label,
                    type=HandlerType.CONSUMER,
                    subscribe=list(subscribe),
                    publishes=list(publishes),
                    timeout=timeout,
                    prepare=getattr(obj, "prepare", None),
                    mutate=getattr(obj, "mutate", None),
                    next=getattr(obj, "next", None),
                )
            )
            return target

        return wrap

    # ---- save-time validation ---------------------------------------------------------
    def validate(self) -> WorkflowSpec:
        """Check the declarations and return the spec; raise naming the handler and field."""
        where = f"workflow {self.name!r}"
        if not self.handlers:
            raise ValidationError(
                f"{where} has no handlers", hint="add a @wf.producer and a @wf.consumer"
            )
        for h in self.handlers.values():
            _check_handler(where, h, self.topics)
        subscribed = {t for h in self.handlers.values() for t in h.subscribe}
        for h in self.handlers.values():
            for topic in h.publishes:
                if topic not in subscribed:
                    raise ValidationError(
                        f"{where}: {h.type} {h.name!r} publishes to {topic!r}, "
                        "which no consumer subscribes to",
                        hint=f"add a consumer with subscribe=[{topic!r}] or stop publishing it",
                        field="publishes",
                    )
        handlers = []
        for h in self.handlers.values():
            try:
                handlers.append(h.spec())
            except PydanticValidationError as exc:
                raise _spec_error(f"{where}: {h.type} {h.name!r}", exc) from None
        try:
            return WorkflowSpec(
                name=self.name,
                topics=list(self.topics),
                handlers=handlers,
                tools=[t.spec() for t in self.tools.values()],
                repair_command=self.repair,
                repair_timeout_seconds=self.repair_timeout,
                description=self.description,
            )
        except PydanticValidationError as exc:
            raise _spec_error(where, exc) from None
        except Exception as exc:
            raise ValidationError(f"{where} is invalid: {exc}") from exc

    def config_hash(self) -> str:
        """sha256 of the validated spec (topics, handlers, schedules, tools)."""
        spec = self.validate()
        return hashlib.sha256(canonical_json(spec.model_dump(mode="json")).encode()).hexdigest()


def _spec_error(where: str, exc: PydanticValidationError) -> ValidationError:
    """The first problem of a spec as one line naming the field."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "(spec)"
    message = str(err["msg"]).removeprefix("Value error, ")
    return ValidationError(f"{where}: {field}: {message}", field=field)


def _check_handler(where: str, h: Handler, topics: list[str]) -> None:
    what = f"{where}: {h.type} {h.name!r}"
    for topic in [*h.publishes, *h.subscribe]:
        if topic not in topics:
            raise ValidationError(
                f"{what} uses topic {topic!r}, which the workflow does not declare",
                hint=f"declare it: Workflow(..., topics=[..., {topic!r}]) or wf.topic({topic!r})",
                field="topics",
            )
    if h.type is HandlerType.PRODUCER:
        if not h.every and not h.cron:
            raise ValidationError(
                f"{what} has no schedule",
                hint="give it every='5m' (s, m, h or d) or cron='*/5 * * * *'",
                field="schedule",
            )
        if h.every and h.cron:
            raise ValidationError(
                f"{what} has both every= and cron=", hint="keep one", field="schedule"
            )
        if h.every:
            try:
                parse_interval(h.every)
            except ValidationError as exc:
                raise ValidationError(
                    f"{what}: {exc.message}", hint=exc.hint, field="every"
                ) from None
        if h.cron:
            check_cron(h.cron)
        if not h.publishes:
            raise ValidationError(
                f"{what} publishes no topic",
                hint="declare publishes=[...]; a producer only publishes events",
                field="publishes",
            )
        return
    if not h.subscribe:
        raise ValidationError(
            f"{what} subscribes to no topic", hint="declare subscribe=[...]", field="subscribe"
        )
    if h.prepare is None:
        raise ValidationError(
            f"{what} has no prepare(ctx, state)",
            hint="define prepare; it reads and reserves the events to handle",
            field="prepare",
        )
    if h.publishes and h.next is None:
        raise ValidationError(
            f"{what} publishes {h.publishes} but has no next(ctx, prepared, result)",
            hint="publishing happens in next; define it",
            field="next",
        )
