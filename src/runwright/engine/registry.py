"""Jobs: Python functions registered by name so that any worker can find and run them."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from runwright.domain.commit_policy import GroupCommit
from runwright.domain.runs import RunKind
from runwright.errors import JobNotFound, ValidationError

F = TypeVar("F", bound=Callable[..., Any])

_REGISTRY: dict[str, JobDef] = {}
_NAMES: list[tuple[str, ...]] = [()]  # the sorted names, rebuilt when the registry changes


@dataclass(frozen=True, slots=True)
class JobDef:
    """A registered durable job."""

    name: str
    fn: Callable[..., Any]
    module: str
    max_parallel: int | None = None
    timeout_seconds: float | None = None
    kind: RunKind = RunKind.JOB
    group_commit: GroupCommit | None = None


def register(job: JobDef) -> JobDef:
    """Add a job to the registry; a second, different function under one name is refused."""
    existing = _REGISTRY.get(job.name)
    if existing is not None and existing.fn is not job.fn:
        same_origin = existing.module == job.module and getattr(
            existing.fn, "__qualname__", None
        ) == getattr(job.fn, "__qualname__", None)
        if not same_origin:
            raise ValidationError(
                f"job name {job.name!r} is already taken by {existing.module}",
                hint="give one of the jobs another name with @job(name=...)",
                field="name",
            )
    if job.name not in _REGISTRY:
        _NAMES[0] = tuple(sorted([*_REGISTRY, job.name]))
    _REGISTRY[job.name] = job
    return job


def job_names() -> tuple[str, ...]:
    """The names of every registered job, sorted: the jobs a worker may claim runs of."""
    return _NAMES[0]


@overload
def job(fn: F, /) -> F: ...
@overload
def job(
    *,
    name: str | None = None,
    max_parallel: int | None = None,
    timeout: float | None = None,
    kind: RunKind = RunKind.JOB,
    group_commit: bool | GroupCommit = False,
) -> Callable[[F], F]: ...
def job(
    fn: F | None = None,
    /,
    *,
    name: str | None = None,
    max_parallel: int | None = None,
    timeout: float | None = None,
    kind: RunKind = RunKind.JOB,
    group_commit: bool | GroupCommit = False,
) -> F | Callable[[F], F]:
    """Register a function ``fn(ctx, *args, **kwargs)`` as a durable job.

    ``max_parallel`` bounds how many of its child runs run at once; ``timeout`` bounds the
    whole run in seconds; ``kind`` is what its runs are recorded as (job, operator, consumer…).
    ``group_commit`` lets consecutive completed idempotent steps share one commit (``True``
    for the defaults, or a ``GroupCommit`` with its limits); a crash may then re-run the
    steps not yet committed, never a non-idempotent one (see docs/durability.md).
    """

    def wrap(f: F) -> F:
        if max_parallel is not None and max_parallel < 1:
            raise ValidationError("max_parallel must be at least 1", field="max_parallel")
        job_name = name or f"{f.__module__}:{f.__qualname__}"
        jd = JobDef(
            name=job_name,
            fn=f,
            module=f.__module__,
            max_parallel=max_parallel,
            timeout_seconds=timeout,
            kind=kind,
            group_commit=GroupCommit() if group_commit is True else (group_commit or None),
        )
        register(jd)
        f.__runwright_job__ = jd  # type: ignore[attr-defined]
        return f

    return wrap(fn) if fn is not None else wrap


def job_def(fn_or_name: Callable[..., Any] | str) -> JobDef:
    """The JobDef of a decorated function or of a registered name."""
    if isinstance(fn_or_name, str):
        return resolve(fn_or_name, None)
    jd = getattr(fn_or_name, "__runwright_job__", None)
    if not isinstance(jd, JobDef):
        raise ValidationError(
            f"{getattr(fn_or_name, '__qualname__', fn_or_name)!r} is not a job",
            hint="decorate it with @runwright.job",
        )
    return jd


def resolve(name: str, module: str | None) -> JobDef:
    """Find a job by name, importing ``module`` first if the name is not registered yet."""
    found = _REGISTRY.get(name)
    if found is not None:
        return found
    if module and module != "__main__":
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise JobNotFound(
                f"job {name!r}: module {module!r} cannot be imported here ({exc})",
                hint="install the module on this worker or add its folder to PYTHONPATH",
                job=name,
            ) from exc
        found = _REGISTRY.get(name)
        if found is not None:
            return found
    raise JobNotFound(
        f"no job named {name!r} is registered in this worker",
        hint="start the worker with --import MODULE for the module that defines it",
        job=name,
    )


def registered() -> list[JobDef]:
    """Every registered job, by name."""
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]
