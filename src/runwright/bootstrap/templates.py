"""Generated operators, phases and plans: the shipped templates of each mapped profile, with
discovery's values filled in and the parts whose tools are missing left out."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from runwright.bootstrap.artifacts import (
    HOME,
    Context,
    PlannedFile,
    build_profile,
    dump_yaml,
    forbidden_paths,
    header,
    leading_comments,
    render_config,
    render_policy,
    render_router,
    slug,
    test_command_for,
    tokens_for,
)
from runwright.bootstrap.catalog import Profile
from runwright.bootstrap.catalog import profile as get_profile
from runwright.bootstrap.runtime_files import gitignore
from runwright.bootstrap.tokens import Tokens
from runwright.bootstrap.tools import portable_command
from runwright.domain.profiles import OperatorTemplate, PathProfile
from runwright.domain.router_specs import PhaseSpec
from runwright.errors import ConfigError


def _operator_data(
    ctx: Context, profile: Profile, tpl: OperatorTemplate, tokens: Tokens
) -> dict[str, Any] | None:
    text = profile.read(tpl.file)
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ConfigError(f"profile {profile.profile_id}: {tpl.file} is not an operator mapping")
    for tool in tpl.requires_tools:
        if tool not in ctx.tools:
            ctx.missing(tool, f"operator {data.get('op_id')} of {profile.profile_id}")
            return None
    dropped: set[str] = set()
    for tool, ids in tpl.optional_tools.items():
        if tool not in ctx.tools or not ctx.relevant(tool):
            if tool not in ctx.tools:
                ctx.missing(tool, f"{', '.join(ids)} of operator {data.get('op_id')}")
            dropped |= set(ids)
    if dropped:
        data["steps"] = [s for s in data.get("steps", []) if s.get("id") not in dropped]
        data["acceptance_checks"] = [
            c for c in data.get("acceptance_checks", []) if c.get("id") not in dropped
        ]
        data["failure_paths"] = [
            f for f in data.get("failure_paths", []) if f.get("check") not in dropped
        ]
        if not data["acceptance_checks"]:
            return None
    for name, source in tpl.inputs_from_discovery.items():
        value = _discovered(ctx, source, tokens)
        if value is not None and name in data.get("inputs", {}):
            data["inputs"][name]["default"] = value
    return data


def _discovered(ctx: Context, source: str, tokens: Tokens) -> str | None:
    if source.startswith("tool:"):
        tool = ctx.tools.get(source.removeprefix("tool:"))
        return portable_command(tool)[0] if tool else None
    return tokens.scalars.get(source)


def render_operators(ctx: Context) -> list[PlannedFile]:
    """Every mapped profile's operators (and the generic smoke check), with discovered
    defaults and the parts whose tools are missing left out."""
    planned: list[PlannedFile] = []
    seen: set[str] = set()
    mappings = [*ctx.mapping.mappings]
    if all(m.profile_id != "generic" for m in mappings):
        mappings.append(mappings[0].model_copy(update={"profile_id": "generic"}))
    for m in mappings:
        profile = get_profile(m.profile_id)
        tokens = tokens_for(ctx, m, [])
        for tpl in profile.extension.operators:
            data = _operator_data(ctx, profile, tpl, tokens)
            if data is None:
                continue
            op_id = str(data["op_id"])
            name = Path(tpl.file).name
            if m.path:
                data["op_id"] = op_id = (
                    f"{op_id}{''.join(p.title() for p in re.split(r'[^A-Za-z0-9]+', m.path) if p)}"
                )
                name = f"{Path(tpl.file).stem}-{slug(m.path)}.yaml"
            if op_id in seen:
                continue
            seen.add(op_id)
            text = (
                leading_comments(profile.read(tpl.file))
                + header(profile.profile_id, f"Operator {op_id}.")
                + dump_yaml(data)
            )
            planned.append(PlannedFile(f"{HOME}/operators/{name}", text, "operator"))
    return planned


def phase_data(
    ctx: Context, profile: Profile, template_path: str, tokens: Tokens
) -> dict[str, Any]:
    """A phase template with its tokens expanded and the project's forbidden paths added."""
    data = tokens.expand(yaml.safe_load(profile.read(template_path)))
    if not isinstance(data, dict):
        raise ConfigError(f"profile {profile.profile_id}: {template_path} is not a phase mapping")
    scope = data.setdefault("resource_scope", {})
    scope["forbidden"] = list(
        dict.fromkeys([*(scope.get("forbidden") or []), *forbidden_paths(ctx.mapping)])
    )
    return data


def mapped_phase(data: dict[str, Any], mapping: PathProfile) -> dict[str, Any]:
    """A mapped profile's phase re-rooted at its path, with the mapping's constraints."""
    prefix = f"{mapping.path}/**"
    data = {**data, "phase_id": f"{data['phase_id']}-{slug(mapping.path)}"}
    data["name"] = f"{data['name']} ({mapping.path})"
    scope = dict(data.get("resource_scope") or {})
    for op in ("write", "create"):
        if scope.get(op) is not None:
            scope[op] = [prefix]
    data["resource_scope"] = scope
    c = mapping.constraints
    constraints = dict(data.get("constraints") or {})
    patch = dict(constraints.get("patch") or {})
    for name in ("max_lines_changed", "max_files_changed"):
        limit = getattr(c, name)
        if limit is not None:
            patch[name] = min(limit, patch.get(name, limit))
    constraints["patch"] = patch
    behavior = dict(constraints.get("behavior") or {})
    if c.ascii_only:
        behavior["ascii_only"] = True
    constraints["behavior"] = behavior
    tests = dict(constraints.get("tests") or {})
    if c.tests_must_pass:
        tests["tests_must_pass"] = True
    constraints["tests"] = tests
    data["constraints"] = constraints
    return data


def phase_specs(ctx: Context) -> list[tuple[str, PhaseSpec]]:
    """(profile id, phase) for the root profile's phase templates and each mapped one's."""
    out: list[tuple[str, PhaseSpec]] = []
    for m in ctx.mapping.mappings:
        profile = get_profile(m.profile_id)
        tokens = tokens_for(ctx, m, test_command_for(ctx, m))
        for ref in profile.extension.phase_templates:
            if m.path and ref.phase_id == "adhoc":
                continue
            data = phase_data(ctx, profile, ref.template_path, tokens)
            if m.path:
                data = mapped_phase(data, m)
            try:
                out.append((m.profile_id, PhaseSpec.model_validate(data)))
            except ValueError as exc:
                raise ConfigError(
                    f"profile {profile.profile_id}: {ref.template_path} is not a valid "
                    f"phase: {exc}",
                    hint="the installed profile is broken; reinstall runwright",
                ) from exc
    return out


def render_phase(profile_id: str, phase: PhaseSpec) -> PlannedFile:
    """One phase spec file."""
    text = header(profile_id, f"Phase {phase.phase_id}: {phase.name}.") + dump_yaml(
        phase.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    )
    return PlannedFile(f"{HOME}/phases/{phase.phase_id}.yaml", text, "phase")


def render_plan(ctx: Context, test_command: list[str]) -> list[PlannedFile]:
    """The root profile's plan template and its test spec."""
    profile = ctx.root_profile
    ext = profile.extension
    if not ext.plan_template:
        return []
    tokens = tokens_for(ctx, ctx.mapping.mappings[0], test_command)
    text = profile.read(ext.plan_template)
    data = tokens.expand(yaml.safe_load(text))
    name = f"{data.get('plan_id', 'example')}.yaml"
    files = [
        PlannedFile(
            f"{HOME}/plans/{name}",
            leading_comments(text) + dump_yaml(data),
            "plan",
        )
    ]
    if ext.test_spec_template:
        spec = tokens.scalar(profile.read(ext.test_spec_template))
        files.append(PlannedFile(f"{HOME}/plans/test-spec.md", spec, "test_spec"))
    return files


def render_all(ctx: Context, phases: Iterable[tuple[str, PhaseSpec]]) -> list[PlannedFile]:
    """Every file init writes (the report, manifest and log aside)."""
    root = ctx.mapping.mappings[0]
    test_command = test_command_for(ctx, root)
    profile = build_profile(ctx, test_command)
    files = [
        PlannedFile(f"{HOME}/.gitignore", gitignore(), "gitignore"),
        PlannedFile(f"{HOME}/config.toml", render_config(ctx), "config"),
        PlannedFile(
            f"{HOME}/profile.json",
            json.dumps(
                profile.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False
            )
            + "\n",
            "profile",
        ),
        PlannedFile(f"{HOME}/policy.yaml", render_policy(ctx, test_command), "policy"),
        PlannedFile(f"{HOME}/router.yaml", render_router(ctx), "router"),
    ]
    files += render_operators(ctx)
    files += [render_phase(pid, phase) for pid, phase in phases]
    files += render_plan(ctx, test_command)
    return files
