"""Prompt instances: the six sections built from a request, its phase and its policy, rendered
with a Jinja2 template per target tool (``templates/<id>.md.j2``, overridable by
``.runwright/prompts/<id>.md.j2``) in a sandbox. Values are text in a prompt, never a shell.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateNotFound
from jinja2.exceptions import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from runwright.domain.ids import new_id
from runwright.domain.patches_prompts import PromptInstance, PromptKind, PromptSections
from runwright.domain.policy import EffectivePolicy
from runwright.domain.router_specs import ExecutionRequest, PhaseSpec, ResourceScope
from runwright.errors import ConfigError, ValidationError
from runwright.patches.commands import with_python

TEMPLATES_DIR = Path(__file__).parent / "templates"
DIFF_OUTPUT = (
    "Edit the files directly in the current directory, a git worktree checked out at the base "
    "commit. Do not commit. When you exit, your edits are captured as a unified diff against "
    "the base commit, checked against the constraints above, then applied and verified in a "
    "separate worktree; nothing outside FILES_SCOPE may change."
)
TEXT_OUTPUT = "Answer on standard output in plain text. Do not modify any file."


def _bullets(lines: Sequence[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def constraints_text(policy: EffectivePolicy) -> str:
    """The effective constraints as a bullet list a tool can follow."""
    c = policy.constraints
    lines = []
    if c.max_lines_changed:
        lines.append(f"change at most {c.max_lines_changed} lines (insertions + deletions)")
    if c.max_files_changed:
        lines.append(f"touch at most {c.max_files_changed} files")
    if c.forbid_binary_patches:
        lines.append("no binary files")
    if c.ascii_only:
        lines.append("ASCII text only")
    if c.require_issue_ref:
        lines.append("the change must reference an issue")
    if c.forbid_touching_paths:
        lines.append("never touch: " + ", ".join(c.forbid_touching_paths))
    return _bullets(lines or ["none beyond the file scope"])


def scope_text(scopes: Sequence[ResourceScope], focus: Sequence[str]) -> str:
    """Which paths may be read, written, created, and which never."""
    lines = []
    if focus:
        lines.append("focus on: " + ", ".join(focus))
    for op in ("write", "create", "read"):
        for scope in scopes:
            globs = getattr(scope, op)
            if globs is not None:
                lines.append(f"may {op}: " + (", ".join(globs) or "nothing"))
    forbidden = [g for s in scopes for g in s.forbidden]
    if forbidden:
        lines.append("forbidden: " + ", ".join(dict.fromkeys(forbidden)))
    return _bullets(lines or ["any file of the repository"])


def build_sections(
    request: ExecutionRequest,
    *,
    kind: PromptKind,
    policy: EffectivePolicy,
    scopes: Sequence[ResourceScope],
    phase: PhaseSpec | None,
    test_commands: Sequence[Sequence[str]],
) -> PromptSections:
    """The sections of a prompt for ``request``."""
    if not (request.objective or "").strip():
        raise ValidationError(
            f"request {request.request_id} has no objective to give the tool",
            hint="pass --objective 'what to change' (ExecutionRequest.objective)",
            field="objective",
        )
    c = request.classification
    context = [
        f"task kind: {request.task_kind}; complexity {c.complexity.value}; risk {c.risk_tier}"
        + (f"; domain {c.domain}" if c.domain else ""),
    ]
    if phase is not None:
        context.append(f"phase {phase.phase_id}: {phase.name} ({phase.category})")
    if request.context:
        context.append(request.context.strip())
    if test_commands:
        shown = [" ".join(with_python(cmd)) for cmd in test_commands]
        validation = _bullets(shown) + "\nmust pass."
    else:
        validation = "No test command is configured; the change is checked against the constraints."
    return PromptSections(
        HEADER=f"runwright request {request.request_id} ({request.task_kind}, "
        f"phase {request.phase_id})",
        OBJECTIVE=request.objective.strip() if request.objective else "",
        CONTEXT="\n".join(context),
        CONSTRAINTS=constraints_text(policy),
        FILES_SCOPE=scope_text(scopes, request.files),
        OUTPUT_SPEC=DIFF_OUTPUT if kind is PromptKind.CODE_EDIT else TEXT_OUTPUT,
        VALIDATION=validation,
    )


def environment(home: Path) -> SandboxedEnvironment:
    """Templates from ``.runwright/prompts`` first, then the shipped ones; undefined is an error."""
    return SandboxedEnvironment(
        loader=ChoiceLoader(
            [FileSystemLoader(str(home / "prompts")), FileSystemLoader(str(TEMPLATES_DIR))]
        ),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


def render(
    sections: PromptSections,
    *,
    template_id: str,
    target_tool: str,
    kind: PromptKind,
    home: Path,
    request: ExecutionRequest | None = None,
) -> PromptInstance:
    """Render ``sections`` with template ``template_id`` into a prompt instance."""
    env = environment(home)
    name = f"{template_id}.md.j2"
    try:
        text = env.get_template(name).render(
            sections=sections.model_dump(), tool=target_tool, kind=kind.value, request=request
        )
    except TemplateNotFound as exc:
        raise ConfigError(
            f"no prompt template {name!r}",
            hint=f"add {home / 'prompts' / name} or use one of: "
            + ", ".join(sorted(p.name for p in TEMPLATES_DIR.glob("*.md.j2"))),
            field="prompt_template",
        ) from exc
    except TemplateError as exc:
        raise ConfigError(
            f"prompt template {name!r} failed: {exc}", field="prompt_template"
        ) from exc
    return PromptInstance(
        prompt_instance_id=new_id(),
        template_id=template_id,
        target_tool=target_tool,
        kind=kind,
        sections=sections,
        rendered=text,
        request_id=request.request_id if request else None,
    )
