"""The base for tools: methods declared read or mutation, an optional ``reconcile``.

Inside a handler every declared method goes through the host, which enforces the phase rules,
writes the mutation ledger row before a mutation call, and classifies errors by type. Outside
a handler (a script, a test) the methods are plain calls.

A mutation method may take a keyword-only ``idempotency_key`` parameter: the host fills it with
a key that is the same for every retry of the same logical write (workflow, consumer, reserved
events, tool, method and parameters), so a system that honours it applies the write once.

``reconcile`` answers with a ``Reconciliation`` (the engine's ``ReconcileResult`` under the name
tools use): ``applied(result)``, ``failed()`` or ``retry()``.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from runwright.domain.reconcile import Reconciliation, Verdict
from runwright.domain.workflows.models import ToolSpec

F = TypeVar("F", bound=Callable[..., Any])

READ = "read"
MUTATION = "mutation"
_MARK = "__runwright_tool_op__"
IDEMPOTENCY_PARAM = "idempotency_key"


@dataclass(frozen=True, slots=True)
class MutationCall:
    """A mutation as the host observed it: what reconcile receives."""

    namespace: str
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str = ""


class CallGuard(Protocol):
    """The host side of a tool call inside a handler (see ``workflows.context``)."""

    def tool_call(
        self,
        tool: Tool,
        method: str,
        op: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """Perform (or refuse) one declared tool call."""


#: The handler phase running in this context. Not the engine's current step
#: (``engine.steps.current_step``): a handler phase makes no step attempt and a step has no
#: phase rules, so each context variable holds its own thing.
_guard: contextvars.ContextVar[CallGuard | None] = contextvars.ContextVar(
    "runwright_tool_guard", default=None
)


def current_guard() -> CallGuard | None:
    """The handler phase running in this context, if any."""
    return _guard.get()


def set_guard(guard: CallGuard | None) -> contextvars.Token[CallGuard | None]:
    """Make ``guard`` receive tool calls in this context; returns a token for ``reset_guard``."""
    return _guard.set(guard)


def reset_guard(token: contextvars.Token[CallGuard | None]) -> None:
    """Restore the previous guard."""
    _guard.reset(token)


def read(fn: F) -> F:
    """Declare a tool method as a read (allowed in producers and ``prepare``)."""
    setattr(fn, _MARK, READ)
    return fn


def mutation(fn: F) -> F:
    """Declare a tool method as an external mutation (one per run, in ``mutate``, terminal)."""
    setattr(fn, _MARK, MUTATION)
    return fn


def _dispatcher(name: str, op: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def call(self: Tool, *args: Any, **kwargs: Any) -> Any:
        guard = current_guard()
        if guard is None:
            return fn(self, *args, **kwargs)
        return guard.tool_call(self, name, op, fn, args, kwargs)

    setattr(call, _MARK, op)
    call.__runwright_tool_fn__ = fn  # type: ignore[attr-defined]
    return call


def bind_params(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The call's arguments by parameter name (without ``self`` and ``idempotency_key``)."""
    sig = inspect.signature(fn)
    if IDEMPOTENCY_PARAM in sig.parameters and IDEMPOTENCY_PARAM not in kwargs:
        kwargs = {**kwargs, IDEMPOTENCY_PARAM: ""}
    bound = sig.bind(None, *args, **kwargs)
    bound.apply_defaults()
    names = list(bound.arguments)
    out: dict[str, Any] = {}
    for name in names[1:]:
        if name == IDEMPOTENCY_PARAM:
            continue
        out[name] = bound.arguments[name]
    return out


def takes_idempotency_key(fn: Callable[..., Any]) -> bool:
    """True when a mutation method accepts the host's ``idempotency_key``."""
    return IDEMPOTENCY_PARAM in inspect.signature(fn).parameters


class Tool:
    """Base class for tools. Subclass it, set a ``namespace``, decorate methods with ``@read``
    or ``@mutation``, and override ``reconcile`` if a mutation's outcome can be looked up."""

    namespace: str = ""
    #: Seconds a call may take; built-in tools pass it to their client library.
    timeout: float = 30.0

    def __init__(self, namespace: str | None = None, *, timeout: float | None = None):
        if namespace:
            self.namespace = namespace
        if timeout is not None:
            self.timeout = timeout
        if not self.namespace:
            raise ValueError(f"{type(self).__name__} needs a namespace")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            op = getattr(value, _MARK, None)
            if op in {READ, MUTATION} and not hasattr(value, "__runwright_tool_fn__"):
                setattr(cls, name, _dispatcher(name, op, value))

    @classmethod
    def methods(cls) -> dict[str, str]:
        """Declared method name → ``read`` or ``mutation`` (inherited ones included)."""
        found: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                op = getattr(value, _MARK, None)
                if op in {READ, MUTATION}:
                    found[name] = op
        return found

    def reconcile(self, call: MutationCall) -> Reconciliation:
        """Look the mutation up in the external system. The base class cannot."""
        raise NotImplementedError(f"{type(self).__name__} has no reconcile")

    def can_reconcile(self, method: str) -> bool:
        """True when ``reconcile`` can verify calls of ``method`` (default: it is overridden)."""
        return type(self).reconcile is not Tool.reconcile

    def raw(self, method: str) -> Callable[..., Any]:
        """The undecorated function of a declared method."""
        value = getattr(type(self), method)
        return getattr(value, "__runwright_tool_fn__", value)  # type: ignore[no-any-return]

    def spec(self) -> ToolSpec:
        """What the workflow records about this tool at deploy."""
        methods = self.methods()
        mutations = sorted(m for m, op in methods.items() if op == MUTATION)
        return ToolSpec(
            namespace=self.namespace,
            kind=f"{type(self).__module__}:{type(self).__qualname__}",
            reads=sorted(m for m, op in methods.items() if op == READ),
            mutations=mutations,
            can_reconcile=[m for m in mutations if self.can_reconcile(m)],
        )


__all__ = [
    "IDEMPOTENCY_PARAM",
    "MUTATION",
    "READ",
    "CallGuard",
    "MutationCall",
    "Reconciliation",
    "Tool",
    "Verdict",
    "bind_params",
    "current_guard",
    "mutation",
    "read",
    "reset_guard",
    "set_guard",
    "takes_idempotency_key",
]
