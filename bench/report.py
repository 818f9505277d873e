"""Medians, ratios, the printed table and the JSON file of one database kind's results."""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

US = 1_000_000.0


def median(values: list[float]) -> float | None:
    """The median, or None when there is nothing to take it of."""
    return statistics.median(values) if values else None


def _ok_seconds(reps: list[dict[str, Any]], key: str = "seconds") -> list[float]:
    return [float(r[key]) for r in reps if r.get("ok") and r.get(key) is not None]


def _errors(reps: list[dict[str, Any]]) -> list[str]:
    return [str(r["error"]) for r in reps if not r.get("ok") and r.get("error")]


def _side(reps: list[dict[str, Any]], units: int, key: str = "seconds") -> dict[str, Any]:
    """Per-repetition seconds, their median, per-unit microseconds and throughput."""
    seconds = _ok_seconds(reps, key)
    med = median(seconds)
    out: dict[str, Any] = {
        "seconds": seconds,
        "median_seconds": med,
        "per_unit_us": med / units * US if med else None,
        "throughput_per_s": units / med if med else None,
    }
    errors = _errors(reps)
    if errors:
        out["errors"] = errors
    return out


def _ratio(num: float | None, den: float | None) -> float | None:
    return num / den if num is not None and den else None


PEER_LABELS = {"dbos": "DBOS", "dbos_default": "DBOS dflt"}


def summarize(
    workload: dict[str, Any],
    raw: list[dict[str, Any]],
    rw: list[dict[str, Any]],
    peers: dict[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    """Everything about one workload: repetitions, medians and ratios.

    ``peers`` maps each peer side (``dbos``, ``dbos_default``) to its repetitions; each gets
    its block, ``<side>_to_raw`` and ``<side>_over_runwright`` ratios (above 1: runwright is
    faster) and, for W2, its enqueue figures.
    """
    units = int(workload["units"])
    raw_side = _side(raw, units)
    raw_side["per_commit_us"] = raw_side.pop("per_unit_us")
    raw_side["commits_per_s"] = raw_side.pop("throughput_per_s")
    out: dict[str, Any] = {
        **workload,
        "raw": raw_side,
        "runwright": _side(rw, units),
        "repetitions": {"raw": raw, "runwright": rw},
    }
    ours = out["runwright"]
    out["ratios"] = {
        "runwright_to_raw": _ratio(ours["per_unit_us"], raw_side["per_commit_us"]),
    }
    if workload.get("has_enqueue"):
        out["enqueue"] = {"runwright": _side(rw, units, "enqueue_seconds")}
    for side, reps in peers.items():
        peer = out[side] = _side(reps, units)
        out["repetitions"][side] = reps
        out["ratios"][f"{side}_to_raw"] = _ratio(peer["per_unit_us"], raw_side["per_commit_us"])
        out["ratios"][f"{side}_over_runwright"] = _ratio(
            peer["median_seconds"], ours["median_seconds"]
        )
        if workload.get("has_enqueue"):
            enq = out["enqueue"]
            enq[side] = _side(reps, units, "enqueue_seconds")
            enq[f"{side}_over_runwright"] = _ratio(
                enq[side]["median_seconds"], enq["runwright"]["median_seconds"]
            )
    return out


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write atomically (a .tmp file renamed over the target)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _row(
    label: str,
    units: int,
    unit: str,
    ours: dict[str, Any],
    raw: dict[str, Any] | None,
    vs_raw: float | None,
    peers: list[tuple[dict[str, Any] | None, float | None]],
) -> list[str]:
    cells = [
        label,
        f"{units} {unit}",
        _fmt(ours.get("median_seconds"), ".3f"),
        _fmt(ours.get("per_unit_us"), ",.0f"),
        _fmt(ours.get("throughput_per_s"), ",.0f"),
        _fmt(raw.get("per_commit_us") if raw else None, ",.0f"),
        _fmt(vs_raw, ".2f") + ("x" if vs_raw is not None else ""),
    ]
    for peer, vs_peer in peers:
        cells += [
            _fmt(peer.get("median_seconds") if peer else None, ".3f"),
            _fmt(peer.get("per_unit_us") if peer else None, ",.0f"),
            _fmt(vs_peer, ".2f") + ("x" if vs_peer is not None else ""),
        ]
    return cells


def _peer_sides(results: dict[str, Any]) -> list[str]:
    """The peer sides present in the results, in the order of PEER_LABELS."""
    present = {side for w in results["workloads"].values() for side in PEER_LABELS if side in w}
    return [side for side in PEER_LABELS if side in present]


def table(kind: str, results: dict[str, Any]) -> Table:
    """The readable table of one database kind's medians and ratios."""
    t = Table(
        title=f"runwright core benchmark on {kind} (medians of {results['config']['repeat']})",
        box=box.SIMPLE_HEAVY,
    )
    peers = _peer_sides(results)
    columns = [
        ("workload", "left"),
        ("size", "right"),
        ("total s", "right"),
        ("us/unit", "right"),
        ("units/s", "right"),
        ("raw us/commit", "right"),
        ("vs raw", "right"),
    ]
    for side in peers:
        label = PEER_LABELS[side]
        columns += [
            (f"{label} s", "right"),
            (f"{label} us/unit", "right"),
            (f"{label}/ours", "right"),
        ]
    for name, justify in columns:
        t.add_column(name, justify=justify)
    for key, w in results["workloads"].items():
        if "runwright" not in w:
            t.add_row(key, "-", f"error: {w.get('error', '?')}")
            continue
        ratios = w["ratios"]
        t.add_row(
            *_row(
                w["label"],
                w["units"],
                w["unit"],
                w["runwright"],
                w["raw"],
                ratios.get("runwright_to_raw"),
                [(w.get(side), ratios.get(f"{side}_over_runwright")) for side in peers],
            )
        )
        if "enqueue" in w:
            enq = w["enqueue"]
            ours = enq["runwright"]
            vs_raw = _ratio(ours.get("per_unit_us"), w["raw"].get("per_commit_us"))
            t.add_row(
                *_row(
                    "W2 enqueue",
                    w["units"],
                    w["unit"],
                    ours,
                    None,
                    vs_raw,
                    [(enq.get(side), enq.get(f"{side}_over_runwright")) for side in peers],
                )
            )
    return t


def print_results(console: Console, kind: str, results: dict[str, Any]) -> None:
    """Print the table and the errors that left gaps in it."""
    console.print(table(kind, results))
    for key, w in results["workloads"].items():
        for side in ("raw", "runwright", *PEER_LABELS):
            for err in (w.get(side) or {}).get("errors", []):
                console.print(f"[red]{key} {side} error:[/red] {err}", markup=True)
    console.print(
        "us/unit: microseconds per durable step (W2: per run; W3: per child run of one step). "
        "vs raw: our us/unit / raw us per one-row commit. DBOS/ours: DBOS time / runwright time "
        "(>1 means runwright is faster); DBOS: its W2 queue polled every 10 ms; DBOS dflt: DBOS "
        "in its default configuration (unlimited worker concurrency, 1 s queue polling).",
        style="dim",
    )
