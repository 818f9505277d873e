"""Finding tools: the project's Python interpreter, and programs on PATH with the version they
print. Every probe is an argv with a short timeout, standard input closed, update checks off.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from runwright.domain.bootstrap import DetectedTool

PROBE_TIMEOUT_SECONDS = 5.0
VERSION = re.compile(r"\bv?(\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.-]+)?)")
#: Where a project's virtualenv interpreter usually is.
VENV_INTERPRETERS = (".venv/bin/python", "venv/bin/python", ".venv/Scripts/python.exe")
AGENT_TOOLS = ("aider", "claude", "codex")
#: What generated files say for the interpreter: resolved when a command runs, to the Python
#: running runwright (so no file names this machine's interpreter).
PYTHON = "{python}"


@dataclass(frozen=True, slots=True)
class ToolProbe:
    """How to find one tool and ask its version."""

    tool_id: str
    program: str
    version_args: tuple[str, ...] = ("--version",)
    module: str | None = None  # also found as `<interpreter> -m module`


KNOWN_TOOLS: dict[str, ToolProbe] = {
    p.tool_id: p
    for p in (
        ToolProbe("git", "git"),
        ToolProbe("pytest", "pytest", module="pytest"),
        ToolProbe("ruff", "ruff", module="ruff"),
        ToolProbe("mypy", "mypy", module="mypy"),
        ToolProbe("flake8", "flake8", module="flake8"),
        ToolProbe("black", "black", module="black"),
        ToolProbe("pre-commit", "pre-commit", module="pre_commit"),
        ToolProbe("sqlfluff", "sqlfluff", module="sqlfluff"),
        ToolProbe("dbt", "dbt"),
        ToolProbe("terraform", "terraform", ("version",)),
        ToolProbe("kubectl", "kubectl", ("version", "--client")),
        ToolProbe("helm", "helm", ("version", "--short")),
        ToolProbe("docker", "docker"),
        ToolProbe("node", "node"),
        ToolProbe("npm", "npm"),
        ToolProbe("mkdocs", "mkdocs", module="mkdocs"),
        ToolProbe("sphinx-build", "sphinx-build", module="sphinx"),
        ToolProbe("yamllint", "yamllint", module="yamllint"),
        ToolProbe("markdownlint", "markdownlint"),
        ToolProbe("aider", "aider"),
        ToolProbe("claude", "claude"),
        ToolProbe("codex", "codex"),
    )
}


def child_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment of a probe: the caller's, without colour or update checks."""
    return {**env, "CHECKPOINT_DISABLE": "1", "NO_COLOR": "1", "TERM": "dumb"}


def parse_version(text: str) -> str | None:
    """The first version number in ``text`` (``Terraform v1.11.4`` → ``1.11.4``)."""
    m = VERSION.search(text)
    return m.group(1) if m else None


def ask_version(argv: list[str], env: Mapping[str, str]) -> tuple[bool, str | None]:
    """Run ``argv`` (a version query): (it ran and exited 0, the version it printed)."""
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
            env=child_env(env),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False, None
    version = parse_version(proc.stdout) or parse_version(proc.stderr)
    return proc.returncode == 0, version


def find_interpreter(root: Path, env: Mapping[str, str]) -> DetectedTool | None:
    """The project's Python: its virtualenv's interpreter, else python3 (or python) on PATH."""
    for rel in VENV_INTERPRETERS:
        candidate = root / rel
        if candidate.is_file() and os.access(candidate, os.X_OK):
            ok, version = ask_version([str(candidate), "--version"], env)
            if ok:
                via = f"venv:{rel.split('/')[0]}"
                return DetectedTool(
                    tool_id="python", detected_via=via, version=version, command=[str(candidate)]
                )
    for name in ("python3", "python"):
        found = shutil.which(name, path=env.get("PATH", ""))
        if found:
            ok, version = ask_version([found, "--version"], env)
            if ok:
                return DetectedTool(
                    tool_id="python", detected_via="path", version=version, command=[found]
                )
    return None


def probe(
    spec: ToolProbe, env: Mapping[str, str], interpreter: DetectedTool | None
) -> DetectedTool | None:
    """One tool: as a module of the project's interpreter, else as a program on PATH."""
    if spec.module and interpreter is not None:
        prefix = [*interpreter.command, "-m", spec.module]
        ok, version = ask_version([*prefix, "--version"], env)
        if ok:
            return DetectedTool(
                tool_id=spec.tool_id, detected_via="interpreter", version=version, command=prefix
            )
    found = shutil.which(spec.program, path=env.get("PATH", ""))
    if not found:
        return None
    ok, version = ask_version([found, *spec.version_args], env)
    return DetectedTool(
        tool_id=spec.tool_id,
        detected_via="path",
        version=version if ok else None,
        command=[found],
    )


def portable_command(tool: DetectedTool) -> list[str]:
    """How a generated file runs ``tool`` without naming this machine's paths: ``{python}``
    for the interpreter (and ``{python} -m module`` for a tool found as its module), the
    program's name for a tool found on PATH."""
    if tool.tool_id == "python":
        return [PYTHON]
    if tool.detected_via == "interpreter":
        return [PYTHON, *tool.command[1:]]
    spec = KNOWN_TOOLS.get(tool.tool_id)
    if tool.detected_via == "path" and spec is not None:
        return [spec.program, *tool.command[1:]]
    return [Path(tool.command[0]).name, *tool.command[1:]] if tool.command else [tool.tool_id]


def foreign_interpreter(tool: DetectedTool | None, prefix: str) -> str | None:
    """The project's virtualenv interpreter (as found, relative to the project) when the
    Python running runwright (whose ``sys.prefix`` is ``prefix``) is another one, else None."""
    if tool is None or not tool.detected_via.startswith("venv:") or not tool.command:
        return None
    found = Path(tool.command[0])
    if found.parent.parent.resolve() == Path(prefix).resolve():
        return None
    return next((r for r in VENV_INTERPRETERS if found.as_posix().endswith("/" + r)), found.name)


def detect_tools(
    root: Path, env: Mapping[str, str], wanted: Iterable[str] | None = None
) -> list[DetectedTool]:
    """The project's interpreter and every known tool found (in parallel, each bounded)."""
    interpreter = find_interpreter(root, env)
    names = sorted(set(KNOWN_TOOLS if wanted is None else wanted) & set(KNOWN_TOOLS))
    with ThreadPoolExecutor(max_workers=6) as pool:
        found = list(pool.map(lambda n: probe(KNOWN_TOOLS[n], env, interpreter), names))
    tools = [t for t in found if t is not None]
    if interpreter is not None:
        tools.insert(0, interpreter)
    return tools
