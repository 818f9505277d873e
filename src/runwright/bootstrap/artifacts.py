"""Artifact generation (bootstrap step 3): the text of every file `runwright init` writes
under ``.runwright/``, built from the discovery, the profile mapping and the shipped profiles.

Nothing here touches the project: it returns planned files. Missing tools are dropped here
(each with a ``missing_tool`` warning when the tool matters to the project).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runwright.bootstrap.catalog import Profile
from runwright.bootstrap.catalog import profile as get_profile
from runwright.bootstrap.detect import LINT_FILES
from runwright.bootstrap.tokens import Tokens, build_tokens, subtree_structure
from runwright.bootstrap.tools import AGENT_TOOLS, PYTHON, portable_command
from runwright.domain.bootstrap import DetectedTool, Discovery, Finding
from runwright.domain.profiles import (
    AvailableTool,
    FrameworkPaths,
    PathProfile,
    ProfileMapping,
    ProjectProfile,
    ResourceLocation,
    ValidationType,
)
from runwright.domain.router_specs import ResourceScope
from runwright.version import __version__

HOME = ".runwright"
BASELINE_FORBIDDEN = [".git/**", ".runwright/**", "secrets/**", ".env", ".env.*", "*.pem", "*.key"]
#: A tool only matters (and its absence is only worth a warning) where its framework is used.
TOOL_FRAMEWORK = {
    "terraform": "terraform",
    "mkdocs": "mkdocs",
    "sqlfluff": "sqlfluff",
    "helm": "helm",
    "dbt": "dbt",
}
GENERIC_APP = "generic"
AGENT_TASK_KINDS_EXCLUDED = {"format"}


def header(profile_id: str, what: str) -> str:
    """The comment every generated YAML file starts with."""
    return (
        f"# {what}\n"
        f"# Written by `runwright init` (profile {profile_id}). Edit freely: init keeps files\n"
        "# you changed unless you pass --force. See docs/bootstrap.md.\n"
    )


class _Dumper(yaml.SafeDumper):
    """Block style, except short lists of scalars, which read better inline."""


def _list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flat = all(isinstance(x, str | int | float | bool) for x in data)
    short = flat and sum(len(str(x)) + 4 for x in data) < 80
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=short)


_Dumper.add_representer(list, _list)


def dump_yaml(data: Any) -> str:
    """YAML for people: keys in order, block style, short lists inline."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def leading_comments(text: str) -> str:
    """The comment lines a template starts with."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines) + "\n" if lines else ""


@dataclass(frozen=True)
class PlannedFile:
    """A file init is responsible for, with the text it would write."""

    rel: str  # relative to the project root, e.g. .runwright/router.yaml
    content: str
    type: str


@dataclass
class Notes:
    """Warnings and automatic fixes collected while generating and validating."""

    warnings: list[Finding] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    auto_fixes: list[str] = field(default_factory=list)
    human: list[str] = field(default_factory=list)

    def warn(self, code: str, message: str, path: str | None = None) -> None:
        """Add a warning once."""
        finding = Finding(code=code, message=message, path=path)
        if finding not in self.warnings:
            self.warnings.append(finding)

    def error(
        self, code: str, message: str, path: str | None = None, human: str | None = None
    ) -> None:
        """Add an error (and the human decision it needs, if any)."""
        self.errors.append(Finding(code=code, message=message, path=path))
        if human and human not in self.human:
            self.human.append(human)


@dataclass
class Context:
    """Everything generation needs."""

    root: Path
    discovery: Discovery
    mapping: ProfileMapping
    files: list[str]
    notes: Notes = field(default_factory=Notes)

    @property
    def tools(self) -> dict[str, DetectedTool]:
        """Detected tools by id."""
        return {t.tool_id: t for t in self.discovery.available_tools}

    @property
    def root_profile(self) -> Profile:
        """The project's own profile."""
        return get_profile(self.mapping.mappings[0].profile_id)

    def relevant(self, tool: str) -> bool:
        """True when the project uses what ``tool`` is for (so missing it deserves a warning)."""
        need = TOOL_FRAMEWORK.get(tool)
        if need is None:
            return True
        frameworks = {h.framework for h in self.discovery.frameworks}
        lints = {LINT_FILES.get(Path(p).name, "") for p in self.discovery.lint_configs}
        return need in frameworks or need in lints

    def missing(self, tool: str, what: str) -> None:
        """Record that ``what`` was dropped because ``tool`` is missing."""
        if not self.relevant(tool):
            return
        prefix = f"{tool} not found: "
        earlier = [w for w in self.notes.warnings if w.message.startswith(prefix)]
        parts = [earlier[0].message.removeprefix(prefix).split(" left out")[0]] if earlier else []
        if what not in parts:
            parts.append(what)
        self.notes.warnings = [w for w in self.notes.warnings if w not in earlier]
        self.notes.warn(
            "missing_tool", f"{prefix}{'; '.join(parts)} left out (install it and rerun init)"
        )
        self.notes.auto_fixes.append(f"dropped {what}: {tool} is not installed")

    def agents(self) -> list[str]:
        """The agent CLIs found, in adapter order."""
        return [a for a in AGENT_TOOLS if a in self.tools]

    def role_tools(self) -> list[str]:
        """Router apps a plan's roles may use: the agents found, else the generic app."""
        return self.agents() or [GENERIC_APP]


def forbidden_paths(mapping: ProfileMapping) -> list[str]:
    """The project's forbidden globs: the baseline plus every mapped profile's."""
    globs = list(BASELINE_FORBIDDEN)
    for m in mapping.mappings:
        globs += get_profile(m.profile_id).extension.forbidden_paths
    return list(dict.fromkeys(globs))


def project_scope(mapping: ProfileMapping) -> ResourceScope:
    """The scope every phase nests in: the whole project minus the forbidden paths."""
    return ResourceScope(
        read=["**"], write=["**"], create=["**"], forbidden=forbidden_paths(mapping)
    )


def validation_commands(
    ctx: Context, profile: Profile, tokens: Tokens
) -> list[tuple[ValidationType, list[str]]]:
    """The profile's validation types whose tool is present, as argv (missing ones dropped)."""
    out = []
    for vt in profile.extension.adds_validation_types:
        tool = ctx.tools.get(vt.tool) if vt.tool else None
        if vt.tool and tool is None:
            ctx.missing(vt.tool, f"validation {vt.type!r} of {profile.profile_id}")
            continue
        if vt.tool and not ctx.relevant(vt.tool):
            continue
        argv: list[str] = []
        for part in vt.command:
            if part == "${tool}" and tool is not None:
                argv += portable_command(tool)
            else:
                argv += tokens.expand([part])
        out.append((vt, argv))
    return out


def tokens_for(ctx: Context, mapping: PathProfile, test_command: list[str]) -> Tokens:
    """Tokens for the root (from discovery) or for a mapped sub-tree (every role there)."""
    structure = (
        ctx.discovery.directory_structure if mapping.path == "" else subtree_structure(mapping.path)
    )
    return build_tokens(
        structure=structure,
        project_name=ctx.discovery.project_name,
        python=PYTHON,
        test_command=test_command,
        agents=ctx.role_tools(),
        forbidden=forbidden_paths(ctx.mapping),
    )


def test_command_for(ctx: Context, mapping: PathProfile) -> list[str]:
    """The first available validation of the mapping's profile (the smoke check if none)."""
    profile = get_profile(mapping.profile_id)
    probe_tokens = tokens_for(ctx, mapping, [])
    quiet = Context(ctx.root, ctx.discovery, ctx.mapping, ctx.files)
    commands = validation_commands(quiet, profile, probe_tokens)
    if commands:
        return commands[0][1]
    return [PYTHON, "-m", "runwright.bootstrap.checks", "smoke"]


# --- config.toml, policy.yaml, router.yaml, profile.json ---------------------------------------


def toml_string(value: str) -> str:
    """A TOML basic string."""
    return json.dumps(value, ensure_ascii=False)


def render_config(ctx: Context) -> str:
    """config.toml: the project id, where operators live, and the bootstrap choices."""
    root = ctx.mapping.mappings[0]
    lines = [
        "# runwright settings. Written by `runwright init`; edit freely (init keeps your edits",
        "# unless you pass --force). Keys: docs/bootstrap.md and docs/execmodel.md.",
        "",
        "[core]",
        f"project_id = {toml_string(ctx.root.name or 'project')}",
        "",
        "[execmodel]",
        'operators_dir = ".runwright/operators"',
        "",
        "[bootstrap]",
        "# Uncomment to pin the profile instead of letting discovery choose:",
        f"# profile = {toml_string(root.profile_id)}",
        "",
        "# Sub-trees with their own profile (the longest matching path wins; constraints take",
        "# the strictest value of every profile covering a path). Add your own lines here.",
        "[bootstrap.paths]",
    ]
    for m in ctx.mapping.mappings[1:]:
        lines.append(f"{toml_string(m.path)} = {toml_string(m.profile_id)}")
    return "\n".join(lines) + "\n"


def render_policy(ctx: Context, test_command: list[str]) -> str:
    """policy.yaml: runwright's baseline as the global level, the profile as the project level."""
    root = ctx.mapping.mappings[0]
    project = root.constraints.as_profile().as_patch_constraints()
    data = {
        "global": {
            "forbid_binary_patches": True,
            "forbid_touching_paths": forbidden_paths(ctx.mapping),
            "oscillation_window": 5,
            "oscillation_threshold": 3,
        },
        "project": project.model_dump(mode="json", exclude_none=True),
        "verify": {"test_command": test_command, "timeout_seconds": 900},
    }
    return header(
        root.profile_id, "Patch policy: global may be replaced, project may only tighten."
    ) + dump_yaml(data)


def validator_apps(ctx: Context) -> dict[str, list[str]]:
    """Validator app name → argv, for every mapped profile's available validations."""
    apps: dict[str, list[str]] = {}
    for m in ctx.mapping.mappings:
        tokens = tokens_for(ctx, m, [])
        for vt, argv in validation_commands(ctx, get_profile(m.profile_id), tokens):
            name = vt.type if m.path == "" else f"{vt.type}-{slug(m.path)}"
            apps.setdefault(name, argv)
    return apps


def render_router(ctx: Context) -> str:
    """router.yaml: the agent CLIs found, the generic tidy tool, and the validators."""
    root = ctx.mapping.mappings[0]
    ext = ctx.root_profile.extension
    apps: dict[str, Any] = {}
    for agent in ctx.agents():
        apps[agent] = {"adapter": agent, "limits": {"timeout_seconds": 1800}}
    apps[GENERIC_APP] = {
        "adapter": "generic",
        "command": [PYTHON, "-m", "runwright.bootstrap.checks", "tidy", "{files}"],
        "capabilities": {"task_kinds": ["format"]},
        "limits": {"timeout_seconds": 300},
        "safety_tier": "low",
    }
    validators = validator_apps(ctx)
    root_validators = [
        name for name in validators if name in {vt.type for vt in ext.adds_validation_types}
    ]
    for name, argv in validators.items():
        apps[name] = {"kind": "validator", "command": argv}
    rules: list[dict[str, Any]] = []
    agents = ctx.agents()
    kinds = [k for k in ext.adds_task_kinds if k not in AGENT_TASK_KINDS_EXCLUDED]
    if agents:
        rule: dict[str, Any] = {
            "id": f"{root.profile_id}-changes",
            "match": {"task_kind": kinds},
            "select_from": agents[:1],
            "fallback_to": agents[1:],
            "validate_with": root_validators,
            "required": bool(root.constraints.tests_must_pass and root_validators),
        }
        rules.append(rule)
    rules.append({"id": "tidy", "match": {"task_kind": ["format"]}, "select_from": [GENERIC_APP]})
    data = {
        "version": "1",
        "apps": apps,
        "routing": {"rules": rules},
        "defaults": {"max_attempts": 2, "timeout_seconds": 1800, "strategy": "fixed"},
    }
    return header(
        root.profile_id, "Router: which tool takes which task, and what validates it."
    ) + dump_yaml(data)


def available_tools(ctx: Context) -> list[AvailableTool]:
    """The project's tools with what each is for."""
    uses: dict[str, set[str]] = {}
    for m in ctx.mapping.mappings:
        for vt in get_profile(m.profile_id).extension.adds_validation_types:
            if vt.tool:
                uses.setdefault(vt.tool, set()).add(vt.kind)
    from runwright.patches.adapters import adapters

    known = adapters()
    wanted = {"git", "python", *uses, *known}
    for m in ctx.mapping.mappings:
        wanted |= set(get_profile(m.profile_id).extension.tools)
    out = []
    for tool in ctx.discovery.available_tools:
        if tool.tool_id not in wanted:
            continue
        caps = sorted(uses.get(tool.tool_id, set()))
        if tool.tool_id in known:
            caps = list(known[tool.tool_id].capabilities.task_kinds)
        elif tool.tool_id == "python":
            caps = ["run"]
        out.append(
            AvailableTool(
                tool_id=tool.tool_id,
                command=portable_command(tool),
                capabilities=caps,
                version=tool.version,
            )
        )
    return out


def build_profile(ctx: Context, test_command: list[str]) -> ProjectProfile:
    """profile.json: the project profile."""
    root = ctx.mapping.mappings[0]
    ext = ctx.root_profile.extension
    tokens = tokens_for(ctx, root, test_command)
    forbidden = forbidden_paths(ctx.mapping)
    tracked = "git" if ctx.discovery.vcs == "git" else "filesystem"
    resources = {
        r.type: ResourceLocation(
            root=tokens.scalar(r.root), tracked_by=tracked, exclusions=forbidden
        )
        for r in ext.adds_resource_types
    }
    return ProjectProfile(
        project_id=ctx.root.name or "project",
        project_name=ctx.discovery.project_name,
        project_root=".",
        domain=ctx.discovery.domain,
        profile_id=root.profile_id,
        resource_types=resources,
        available_tools=available_tools(ctx),
        framework_paths=FrameworkPaths(),
        constraints=root.constraints,
        profile_version=ext.profile_version,
        framework_version=__version__,
        domain_confidence=ctx.discovery.domain_confidence,
        resource_scope=project_scope(ctx.mapping),
        test_command=test_command,
        path_profiles=ctx.mapping,
    )


def slug(path: str) -> str:
    """A path as a file-name-safe slug (``infra/k8s`` → ``infra-k8s``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", path).strip("-") or "root"
