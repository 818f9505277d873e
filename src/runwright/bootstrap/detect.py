"""What a list of files says: languages by extension, frameworks and tools by their
configuration files, CI and lint configurations, and directory roles.

Everything here works on repository-relative paths from ``runwright.bootstrap.files``; the
few files that are opened (pyproject.toml, package.json, YAML manifests…) are read through its
safe readers, bounded in size.
"""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from runwright.bootstrap.files import FileListing, read_text, sniff
from runwright.domain.bootstrap import (
    DOC_LANGUAGES,
    DirectoryStructure,
    FrameworkHit,
    LanguageShare,
)

LANGUAGES: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".ipynb": "jupyter",
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdx": "markdown",
    ".rst": "restructuredtext",
    ".adoc": "asciidoc",
    ".sql": "sql",
    ".tf": "hcl",
    ".tfvars": "hcl",
    ".hcl": "hcl",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".toml": "toml",
    ".ini": "ini",
    ".cfg": "ini",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".kt": "kotlin",
    ".rb": "ruby",
    ".php": "php",
    ".c": "c",
    ".h": "c",
    ".cc": "c++",
    ".cpp": "c++",
    ".hpp": "c++",
    ".cs": "c#",
    ".swift": "swift",
    ".scala": "scala",
    ".r": "r",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".html": "html",
    ".css": "css",
    ".scss": "css",
    ".j2": "jinja",
    ".jinja": "jinja",
    ".jinja2": "jinja",
}
FILE_NAMES: dict[str, str] = {
    "Dockerfile": "dockerfile",
    "Containerfile": "dockerfile",
    "Makefile": "makefile",
    "Jenkinsfile": "groovy",
}

CI_FILES = (
    ".gitlab-ci.yml",
    ".circleci/config.yml",
    "Jenkinsfile",
    "azure-pipelines.yml",
    ".travis.yml",
    "bitbucket-pipelines.yml",
    ".drone.yml",
    ".buildkite/pipeline.yml",
)
LINT_FILES = {
    "ruff.toml": "ruff",
    ".ruff.toml": "ruff",
    ".flake8": "flake8",
    ".pylintrc": "pylint",
    "pylintrc": "pylint",
    "mypy.ini": "mypy",
    ".mypy.ini": "mypy",
    ".pre-commit-config.yaml": "pre-commit",
    ".sqlfluff": "sqlfluff",
    ".yamllint": "yamllint",
    ".yamllint.yml": "yamllint",
    ".yamllint.yaml": "yamllint",
    ".markdownlint.json": "markdownlint",
    ".markdownlint.yaml": "markdownlint",
    ".markdownlint.yml": "markdownlint",
    ".tflint.hcl": "tflint",
    ".prettierrc": "prettier",
    ".eslintrc": "eslint",
}
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "src_dirs": ("src", "lib", "app", "pkg", "cmd", "internal"),
    "test_dirs": ("tests", "test", "spec", "specs", "__tests__"),
    "doc_dirs": ("docs", "doc", "documentation", "website"),
    "config_dirs": ("config", "configs", "conf", "etc", "settings"),
    "script_dirs": ("scripts", "bin", "tools"),
}
DBT_DIRS = ("models", "macros", "seeds", "snapshots", "analyses")
MAX_SNIFFED_YAML = 200


def language_of(path: str) -> str | None:
    """The language of a file by its extension (or well-known name), or None."""
    name = PurePosixPath(path).name
    if name in FILE_NAMES:
        return FILE_NAMES[name]
    suffix = PurePosixPath(path).suffix.lower()
    return LANGUAGES.get(suffix)


def languages_of(files: Iterable[str]) -> list[LanguageShare]:
    """Languages by extension with percentages of the recognised files, sorted descending."""
    counts = Counter(lang for lang in map(language_of, files) if lang is not None)
    total = sum(counts.values())
    if total == 0:
        return []
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [
        LanguageShare(language=lang, percentage=round(100 * n / total, 2), file_count=n)
        for lang, n in ordered
    ]


def under(files: Iterable[str], prefix: str) -> list[str]:
    """The files inside directory ``prefix`` ('' is everything)."""
    if not prefix:
        return list(files)
    return [f for f in files if f.startswith(prefix + "/")]


def _load_toml(root: Path, rel: str, listing: FileListing) -> dict[str, Any]:
    text = read_text(root, rel, listing=listing)
    if text is None:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        listing.skip(rel, "not valid TOML (ignored)")
        return {}


def _load_json(root: Path, rel: str, listing: FileListing) -> Any:
    text = read_text(root, rel, listing=listing)
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        listing.skip(rel, "not valid JSON (ignored)")
        return None


def load_yaml(root: Path, rel: str, listing: FileListing) -> Any:
    """A small YAML file's first document (None when unreadable or invalid)."""
    text = read_text(root, rel, listing=listing)
    if text is None:
        return None
    try:
        return next(iter(yaml.safe_load_all(text)), None)
    except yaml.YAMLError:
        listing.skip(rel, "not valid YAML (ignored)")
        return None


def _is_manifest(text: str) -> bool:
    lines = [line.strip() for line in text.splitlines()]
    return any(x.startswith("apiVersion:") for x in lines) and any(
        x.startswith("kind:") for x in lines
    )


#: Files whose name alone shows a framework.
FRAMEWORK_FILES = {
    "setup.py": "setuptools",
    "setup.cfg": "setuptools",
    "pytest.ini": "pytest",
    "conftest.py": "pytest",
    "package.json": "node",
    "dbt_project.yml": "dbt",
    "Chart.yaml": "helm",
    "kustomization.yaml": "kustomize",
    "kustomization.yml": "kustomize",
    "docker-compose.yml": "docker-compose",
    "docker-compose.yaml": "docker-compose",
    "compose.yaml": "docker-compose",
    "Dockerfile": "docker",
    "Containerfile": "docker",
    "ansible.cfg": "ansible",
    "mkdocs.yml": "mkdocs",
    "mkdocs.yaml": "mkdocs",
}


def _framework_of(root: Path, path: str, listing: FileListing) -> list[str]:
    """The frameworks one file shows."""
    name = PurePosixPath(path).name
    lower = name.lower()
    if name in FRAMEWORK_FILES:
        return [FRAMEWORK_FILES[name]]
    if name == "pyproject.toml":
        tool = _load_toml(root, path, listing).get("tool", {})
        return [
            "python-packaging",
            *(["pytest"] if isinstance(tool, dict) and "pytest" in tool else []),
        ]
    if lower.endswith(".tf"):
        return ["terraform"]
    if lower.startswith("playbook") and lower.endswith((".yml", ".yaml")):
        return ["ansible"]
    if name == "conf.py" and "sphinx" in sniff(root, path, listing).lower():
        return ["sphinx"]
    if lower.startswith("docusaurus.config."):
        return ["docusaurus"]
    return []


def frameworks_of(root: Path, files: Sequence[str], listing: FileListing) -> list[FrameworkHit]:
    """Frameworks and tools shown by configuration files (one hit per framework); YAML
    files holding ``apiVersion`` and ``kind`` show Kubernetes manifests."""
    hits: dict[str, str] = {}
    yaml_seen = 0
    for path in files:
        for framework in _framework_of(root, path, listing):
            hits.setdefault(framework, path)
        if (
            path.lower().endswith((".yaml", ".yml"))
            and "kubernetes" not in hits
            and yaml_seen < MAX_SNIFFED_YAML
            and not path.startswith(".github/")
        ):
            yaml_seen += 1
            if _is_manifest(sniff(root, path, listing)):
                hits["kubernetes"] = path
    return [FrameworkHit(framework=k, indicator=v) for k, v in sorted(hits.items())]


def ci_configs(files: Sequence[str]) -> list[str]:
    """CI configuration files (GitHub Actions workflows, GitLab CI, CircleCI, Jenkins…)."""
    found = [
        f for f in files if f.startswith(".github/workflows/") and f.endswith((".yml", ".yaml"))
    ]
    found += [f for f in files if f in CI_FILES]
    return sorted(found)


def lint_configs(root: Path, files: Sequence[str], listing: FileListing) -> list[str]:
    """Lint configuration files, and pyproject/setup.cfg/tox.ini sections that configure one."""
    found = []
    for f in files:
        name = PurePosixPath(f).name
        if "/" in f and not f.startswith(".github/"):
            continue  # lint configs live at the top
        if name in LINT_FILES or name.startswith((".eslintrc", "eslint.config.", ".prettierrc")):
            found.append(f)
        elif name == "pyproject.toml":
            tool = _load_toml(root, f, listing).get("tool", {})
            if isinstance(tool, dict) and {"ruff", "mypy", "pylint", "black", "flake8"} & set(tool):
                found.append(f)
        elif name in {"setup.cfg", "tox.ini"}:
            text = read_text(root, f, listing=listing) or ""
            if "[flake8]" in text or "[mypy" in text or "[pylint" in text:
                found.append(f)
    return sorted(found)


def _top_dirs(files: Sequence[str]) -> dict[str, list[str]]:
    tops: dict[str, list[str]] = {}
    for f in files:
        if "/" in f:
            tops.setdefault(f.split("/", 1)[0], []).append(f)
    return tops


def _dirs_holding(files: Sequence[str], predicate: Any) -> list[str]:
    """Top-level directories (or '.' for the root) holding a file matching ``predicate``."""
    found: set[str] = set()
    for f in files:
        if predicate(f):
            found.add(f.split("/", 1)[0] if "/" in f else ".")
    return sorted(found)


def directory_roles(files: Sequence[str], frameworks: Sequence[FrameworkHit]) -> DirectoryStructure:
    """Directories by role: by conventional names, Python packages, and where SQL or
    infrastructure files live."""
    tops = _top_dirs(files)
    roles: dict[str, list[str]] = {k: [] for k in ROLE_NAMES}
    for top, inside in sorted(tops.items()):
        for role, names in ROLE_NAMES.items():
            if top.lower() in names:
                roles[role].append(top)
        is_package = f"{top}/__init__.py" in inside
        if (
            is_package
            and top not in roles["src_dirs"]
            and top.lower() not in ROLE_NAMES["test_dirs"]
        ):
            roles["src_dirs"].append(top)
        docs = sum(1 for f in inside if language_of(f) in DOC_LANGUAGES)
        if (
            top not in roles["doc_dirs"]
            and not top.startswith(".")
            and docs >= max(1, 0.7 * len(inside))
        ):
            roles["doc_dirs"].append(top)
    found = {h.framework for h in frameworks}
    data = _dirs_holding(files, lambda f: f.endswith(".sql"))
    if "dbt" in found:
        data = sorted(set(data) | {d for d in DBT_DIRS if d in tops})
    infra = _dirs_holding(
        files,
        lambda f: (
            f.endswith((".tf", ".tfvars"))
            or PurePosixPath(f).name in {"Chart.yaml", "kustomization.yaml", "kustomization.yml"}
        ),
    )
    manifests = [h.indicator for h in frameworks if h.framework == "kubernetes"]
    for m in manifests:
        infra = sorted({*infra, m.split("/", 1)[0] if "/" in m else "."})
    return DirectoryStructure(
        **{k: sorted(v) for k, v in roles.items()},
        data_dirs=data,
        infra_dirs=infra,
    )


def is_test_file(path: str) -> bool:
    """True for test files by the usual conventions (Python, JavaScript, Go)."""
    name = PurePosixPath(path).name
    return (
        (name.startswith("test_") and name.endswith(".py"))
        or name.endswith(("_test.py", "_test.go", ".test.js", ".test.ts", ".spec.js", ".spec.ts"))
        or path.split("/", 1)[0] in ROLE_NAMES["test_dirs"]
    )


def project_name(root: Path, files: Sequence[str], listing: FileListing) -> str:
    """The project's declared name (pyproject, package.json, dbt_project.yml, Chart.yaml),
    else the folder's name."""
    if "pyproject.toml" in files:
        project = _load_toml(root, "pyproject.toml", listing).get("project", {})
        if isinstance(project, dict) and isinstance(project.get("name"), str):
            return str(project["name"])
    if "package.json" in files:
        data = _load_json(root, "package.json", listing)
        if isinstance(data, dict) and isinstance(data.get("name"), str) and data["name"]:
            return str(data["name"])
    for rel in ("dbt_project.yml", "Chart.yaml"):
        if rel in files:
            data = load_yaml(root, rel, listing)
            if isinstance(data, dict) and isinstance(data.get("name"), str) and data["name"]:
                return str(data["name"])
    return root.name or "project"
