"""Bootstrap tokens in shipped templates: ``${name}`` values filled from discovery.

A list element that is exactly a list token (``"${src}"``, ``"${test_command}"``,
``"${agents}"``…) is replaced by its items; a scalar token (``${tests_dir}``,
``${project_name}``, ``${python}``…) is replaced inside any string. Runtime placeholders such
as ``{project_root}`` or ``{tests}`` are left alone: tokens always start with ``$``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runwright.domain.bootstrap import DirectoryStructure

TOKEN = re.compile(r"\$\{([a-z_]+)\}")

#: Role → (directory-structure field, default folder, globs when the role lives at the root).
ROLES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "src": ("src_dirs", "src", ("*.py",)),
    "tests": ("test_dirs", "tests", ("test_*.py",)),
    "docs": ("doc_dirs", "docs", ("*.md", "*.rst")),
    "config": ("config_dirs", "config", ("*.yaml", "*.yml", "*.toml", "*.ini", "*.json")),
    "scripts": ("script_dirs", "scripts", ("*.sh", "*.py")),
    "data": ("data_dirs", "models", ("*.sql", "*.yml", "*.yaml")),
    "infra": ("infra_dirs", "infra", ("*.tf", "*.tfvars", "*.yaml", "*.yml", "*.json")),
}


@dataclass
class Tokens:
    """Values of list tokens and scalar tokens."""

    lists: dict[str, list[str]] = field(default_factory=dict)
    scalars: dict[str, str] = field(default_factory=dict)

    def scalar(self, text: str) -> str:
        """``text`` with every known scalar token replaced."""

        def sub(m: re.Match[str]) -> str:
            return self.scalars.get(m.group(1), m.group(0))

        return TOKEN.sub(sub, text)

    def expand(self, data: Any) -> Any:
        """``data`` (parsed YAML/JSON) with every token expanded."""
        if isinstance(data, str):
            return self.scalar(data)
        if isinstance(data, list):
            out: list[Any] = []
            for item in data:
                m = TOKEN.fullmatch(item) if isinstance(item, str) else None
                if m and m.group(1) in self.lists:
                    out.extend(self.lists[m.group(1)])
                else:
                    out.append(self.expand(item))
            return list(dict.fromkeys(out)) if all(isinstance(x, str) for x in out) else out
        if isinstance(data, dict):
            return {k: self.expand(v) for k, v in data.items()}
        return data

    def unresolved(self, data: Any) -> list[str]:
        """Token names still present in ``data``."""
        found: list[str] = []
        if isinstance(data, str):
            found += TOKEN.findall(data)
        elif isinstance(data, list):
            for item in data:
                found += self.unresolved(item)
        elif isinstance(data, dict):
            for value in data.values():
                found += self.unresolved(value)
        return found


def role_globs(structure: DirectoryStructure, role: str) -> list[str]:
    """The globs of a role's folders (its default folder when none was found)."""
    attr, default, at_root = ROLES[role]
    dirs: list[str] = getattr(structure, attr)
    if not dirs:
        return [f"{default}/**"]
    globs: list[str] = []
    for d in dirs:
        globs += list(at_root) if d == "." else [f"{d}/**"]
    return globs


def first_dir(structure: DirectoryStructure, role: str) -> str:
    """The first folder of a role, or its default."""
    attr, default, _ = ROLES[role]
    dirs: list[str] = getattr(structure, attr)
    return dirs[0] if dirs else default


def command_text(argv: Sequence[str]) -> str:
    """An argv as a line for people: ``{python}`` reads ``python`` (runwright runs it with the
    interpreter running runwright)."""
    return shlex.join("python" if part == "{python}" else part for part in argv)


def build_tokens(
    *,
    structure: DirectoryStructure,
    project_name: str,
    python: str,
    test_command: Sequence[str],
    agents: Sequence[str],
    forbidden: Sequence[str],
    extra: Mapping[str, str] | None = None,
) -> Tokens:
    """The tokens for one project (or one mapped sub-tree)."""
    lists = {role: role_globs(structure, role) for role in ROLES}
    lists.update(test_command=list(test_command), agents=list(agents), forbidden=list(forbidden))
    scalars = {f"{role}_dir": first_dir(structure, role) for role in ROLES}
    scalars.update(
        project_name=project_name,
        python=python,
        test_command_text=command_text(test_command),
        data_paths=",".join(structure.data_dirs) or ".",
        docs_paths=",".join(structure.doc_dirs) or ".",
    )
    scalars.update(extra or {})
    lists["python"] = [python]
    return Tokens(lists=lists, scalars=scalars)


def subtree_structure(path: str) -> DirectoryStructure:
    """A directory structure where every role is the mapped folder ``path``."""
    return DirectoryStructure(**{attr: [path] for attr, _, _ in ROLES.values()})
