"""``.runwright/router.yaml`` and ``.runwright/phases/*.yaml``: loaded and validated, with
errors naming the file, the field and the fix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runwright.domain.router import RouterConfig
from runwright.domain.router_specs import PhaseSpec
from runwright.errors import ConfigError
from runwright.patches.adapters import resolve_app
from runwright.patches.config_files import PHASES_DIR, ROUTER_FILE, load_model, read_yaml

ROUTER_HINT = "see docs/patches.md for router.yaml: version, apps, routing.rules, defaults"
PHASE_HINT = "a phase spec needs phase_id, name and category; see docs/patches.md"


def load_router(home: Path, path: Path | None = None) -> RouterConfig:
    """The router config with every app's adapter resolved."""
    path = path or home / ROUTER_FILE
    if not path.is_file():
        raise ConfigError(
            f"no router configuration at {path}",
            hint="create it (an example is in docs/patches.md) or pass --router FILE",
            path=str(path),
        )
    config = load_model(path, RouterConfig, hint=ROUTER_HINT)
    apps = {name: resolve_app(name, app, source=str(path)) for name, app in config.apps.items()}
    return config.model_copy(update={"apps": apps})


@dataclass(frozen=True)
class PhaseLookup:
    """A phase spec, or why there is none."""

    phase: PhaseSpec | None
    problem: str | None = None
    code: str | None = None  # phase_not_found | phase_spec_invalid


def load_phase_file(path: Path) -> PhaseLookup:
    """One phase spec file, or phase_spec_invalid with the reason."""
    try:
        return PhaseLookup(load_model(path, PhaseSpec, hint=PHASE_HINT))
    except ConfigError as exc:
        return PhaseLookup(None, exc.message, "phase_spec_invalid")


def find_phase(home: Path, phase_id: str) -> PhaseLookup:
    """The phase ``phase_id`` among ``.runwright/phases/*.yaml``.

    With no phase files the project declares no phases, and any phase id is accepted without
    phase constraints.
    """
    directory = home / PHASES_DIR
    files = (
        sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]) if directory.is_dir() else []
    )
    if not files:
        return PhaseLookup(None)
    mismatched: list[tuple[Path, object]] = []
    for path in files:
        try:
            data = read_yaml(path)
        except ConfigError as exc:
            if path.stem == phase_id:
                return PhaseLookup(None, exc.message, "phase_spec_invalid")
            continue
        declared = data.get("phase_id") if isinstance(data, dict) else None
        if declared == phase_id or (declared is None and path.stem == phase_id):
            return load_phase_file(path)
        if path.stem == phase_id:
            mismatched.append((path, declared))
    known = ", ".join(p.stem for p in files)
    return PhaseLookup(
        None,
        f"phase {phase_id!r} is not declared in {directory} (files: {known})"
        + "".join(f"; {p.name} declares phase_id {d!r}" for p, d in mismatched),
        "phase_not_found",
    )
