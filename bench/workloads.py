"""The runwright jobs the core benchmark runs (importable, so any worker can resolve them)."""

from __future__ import annotations

from runwright import ChildSpec, JobContext, job, step


@step(idempotent=True)
def noop(i: int) -> int:
    """The no-op durable step (idempotent: one transaction per step, no write-ahead row)."""
    return i


@job(name="bench.w1")
def w1(ctx: JobContext, n: int) -> int:
    """W1: one run of ``n`` sequential no-op steps."""
    for i in range(n):
        ctx.step(f"s{i}", noop, i)
    return n


@job(name="bench.w1g", group_commit=True)
def w1g(ctx: JobContext, n: int) -> int:
    """W1g: W1 with group commit (consecutive no-op steps share commits)."""
    for i in range(n):
        ctx.step(f"s{i}", noop, i)
    return n


@job(name="bench.leaf_g", group_commit=True)
def leaf_g(ctx: JobContext, i: int) -> int:
    """W2g: a run of one no-op step recorded with the run's end (group commit)."""
    result: int = ctx.step("s", noop, i)
    return result


@job(name="bench.leaf")
def leaf(ctx: JobContext, i: int) -> int:
    """W2 and W3: a run of one no-op step."""
    result: int = ctx.step("s", noop, i)
    return result


@job(name="bench.dag", max_parallel=20)
def dag(ctx: JobContext, layers: int, width: int) -> int:
    """W3: ``layers`` x ``width`` child runs; each child depends on the whole previous layer."""
    previous: list[str] = []
    everything: list[str] = []
    for layer in range(layers):
        ids = ctx.start_children(
            f"layer{layer}",
            [ChildSpec(leaf, (layer * width + k,), depends_on=previous) for k in range(width)],
        )
        everything += ids
        previous = ids
    ctx.wait(*everything)
    return len(everything)


def _now() -> float:
    import time

    return time.time()


@job(name="bench.stamp")
def stamp(ctx: JobContext) -> float:
    """Time to first step: a run whose first step returns the moment it began (the clock)."""
    began: float = ctx.step("stamp", _now, idempotent=True)
    return began
