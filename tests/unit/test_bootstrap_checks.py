"""The content checks profiles ship (SQL, docs, manifests, smoke, tidy) and the .gitignore
matcher, on real files in temporary folders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from runwright.bootstrap.checks import Workspace
from runwright.bootstrap.checks.docs import check_docs, slug
from runwright.bootstrap.checks.manifests import check_manifests
from runwright.bootstrap.checks.smoke import check_smoke, tidy
from runwright.bootstrap.checks.sql import check_sql
from runwright.bootstrap.gitignore import IgnoreRules


def write(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (path → text) under ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def messages(report: object) -> list[str]:
    """A report's problems as text lines."""
    return [str(p) for p in report.problems]  # type: ignore[attr-defined]


def test_sql_check_finds_broken_models_and_passes_good_ones(tmp_path: Path) -> None:
    """Unbalanced brackets, unterminated quotes, unclosed Jinja blocks, refs to missing
    models, empty models and invalid schema YAML are each reported; a sound model is not."""
    write(
        tmp_path,
        {
            "models/orders.sql": (
                "-- it's fine\nselect id, (amount * 2) as double\nfrom {{ ref('raw_orders') }}\n"
            ),
            "models/raw_orders.sql": "select 1 as id, 'o''k' as amount\n",
            "models/bad_brackets.sql": "select (1 + 2 as x\n",
            "models/bad_quote.sql": "select 'oops as x\n",
            "models/bad_jinja.sql": "{% if true %}\nselect 1\n",
            "models/bad_ref.sql": "select * from {{ ref('nowhere') }}\n",
            "models/empty.sql": "-- nothing here\n",
            "models/schema.yml": "version: 2\nmodels: [\n",
        },
    )
    report = check_sql(Workspace.open(tmp_path, ["models"]))
    text = "\n".join(messages(report))
    assert report.files_checked == 8
    assert "bad_brackets.sql:1: unbalanced brackets" in text
    assert "bad_quote.sql:1: unterminated ' quote" in text
    assert "bad_jinja.sql" in text
    assert "never closed with endif" in text
    assert "bad_ref.sql:1: ref('nowhere') names no model" in text
    assert "empty.sql: empty model" in text
    assert "schema.yml" in text
    assert "not valid YAML" in text
    assert "orders.sql" not in text.replace("raw_orders", "")


def test_docs_check_resolves_links_anchors_and_heading_levels(tmp_path: Path) -> None:
    """Broken relative links, missing anchors, skipped heading levels and a second H1 are
    reported; working links, external links and code blocks are not."""
    write(
        tmp_path,
        {
            "docs/index.md": (
                "# Home\n\nSee [guide](guide.md#getting-started), [api](api/) and "
                "[site](https://example.org).\n\n```\n[not a link](missing.md)\n```\n"
                "## Part\n#### Too deep\n# Second title\n[gone](nope.md) [anchor](#nowhere)\n"
            ),
            "docs/guide.md": "# Guide\n\n## Getting started\n\n![img](img/logo.png)\n",
            "docs/api/ref.md": "# API\n\n[up](../../../outside.md)\n",
        },
    )
    report = check_docs(Workspace.open(tmp_path, ["docs"]))
    text = "\n".join(messages(report))
    assert report.files_checked == 3
    assert "heading level skips from h2 to h4" in text
    assert "a second top-level (#) heading" in text
    assert "broken link: 'nope.md'" in text
    assert "#nowhere" in text
    assert "img/logo.png" in text
    assert "leaves the project" in text
    assert "missing.md" not in text
    assert "guide.md#getting-started" not in text
    assert slug("Getting Started!") == "getting-started"


def test_manifest_check_validates_kubernetes_helm_kustomize_and_terraform(tmp_path: Path) -> None:
    """Incomplete Kubernetes objects, charts without a version, kustomizations naming missing
    resources, unbalanced Terraform and invalid JSON are reported; Helm templates are skipped."""
    write(
        tmp_path,
        {
            "k8s/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
            "k8s/broken.yaml": "apiVersion: v1\nkind: Service\nmetadata: {}\n",
            "k8s/kustomization.yaml": "resources:\n  - deploy.yaml\n  - missing.yaml\n",
            "chart/Chart.yaml": "apiVersion: v2\nname: web\n",
            "chart/templates/svc.yaml": "name: {{ .Values.name }}\n",
            "tf/main.tf": 'resource "x" "y" {\n  name = "a { b"\n  # }\n',
            "tf/ok.tf": 'variable "v" {\n  default = <<EOT\n{ not code\nEOT\n}\n',
            "conf/bad.json": '{"a": }\n',
        },
    )
    report = check_manifests(Workspace.open(tmp_path))
    text = "\n".join(messages(report))
    assert "broken.yaml: Service without metadata.name" in text
    assert "resource 'missing.yaml' does not exist" in text
    assert "Helm chart without version" in text
    assert "main.tf:1: '{' is never closed" in text
    assert "ok.tf" not in text
    assert "bad.json:1: not valid JSON" in text
    assert any("Helm template" in n for n in report.notes)


def test_smoke_check_and_the_command_line(tmp_path: Path) -> None:
    """Conflict markers and unparseable TOML fail the smoke check; the CLI writes a JSON
    report and exits 1 on problems, 0 once they are fixed."""
    write(
        tmp_path,
        {
            "a.txt": "x\n<<<<<<< HEAD\ny\n=======\nz\n>>>>>>> other\n",
            "b.toml": "a = [\n",
            "c.md": "Title\n=======\n",
        },
    )
    report = check_smoke(Workspace.open(tmp_path))
    text = "\n".join(messages(report))
    assert "a.txt:2: merge-conflict marker" in text
    assert "b.toml: not valid TOML" in text
    assert "c.md" not in text
    out = tmp_path / "out" / "report.json"
    cmd = [sys.executable, "-m", "runwright.bootstrap.checks", "smoke", "--root", str(tmp_path)]
    proc = subprocess.run([*cmd, "--report", str(out)], capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert json.loads(out.read_text())["problems"]
    (tmp_path / "a.txt").write_text("x\n")
    (tmp_path / "b.toml").write_text("a = 1\n")
    (tmp_path / "out" / "report.json").unlink()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout


def test_tidy_strips_trailing_whitespace_but_not_markdown_breaks(tmp_path: Path) -> None:
    """tidy removes trailing spaces and blank tail lines, keeps Markdown hard breaks, and
    leaves binary files alone."""
    write(tmp_path, {"a.py": "x = 1   \n\n\n", "b.md": "line  \nnext\n"})
    (tmp_path / "c.bin").write_bytes(b"\0\1  \n")
    report = tidy(tmp_path, [])
    assert (tmp_path / "a.py").read_text() == "x = 1\n"
    assert (tmp_path / "b.md").read_text() == "line  \nnext\n"
    assert (tmp_path / "c.bin").read_bytes() == b"\0\1  \n"
    assert report.notes == ["a.py: tidied"]


def test_gitignore_rules_follow_git() -> None:
    """Name patterns match at any depth, anchored ones only at their base, directory-only
    ones only folders, and the last matching rule (with !) wins."""
    rules = IgnoreRules()
    rules.add("", "# comment\n*.log\n/build\ncache/\n!keep.log\n")
    rules.add("sub", "local.txt\ndeep/**/x.py\n")
    assert rules.ignored("a/b/app.log", is_dir=False)
    assert not rules.ignored("keep.log", is_dir=False)
    assert rules.ignored("build", is_dir=True)
    assert not rules.ignored("src/build", is_dir=True)
    assert rules.ignored("x/cache", is_dir=True)
    assert not rules.ignored("x/cache", is_dir=False)
    assert rules.ignored("sub/local.txt", is_dir=False)
    assert not rules.ignored("local.txt", is_dir=False)
    assert rules.ignored("sub/deep/a/b/x.py", is_dir=False)
