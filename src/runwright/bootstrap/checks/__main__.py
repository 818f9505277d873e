"""``python -m runwright.bootstrap.checks CHECK [--root DIR] [--paths a,b] [--report FILE]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from runwright.bootstrap.checks import CheckReport, Workspace
from runwright.bootstrap.checks.docs import check_docs
from runwright.bootstrap.checks.manifests import check_manifests
from runwright.bootstrap.checks.smoke import check_smoke, tidy
from runwright.bootstrap.checks.sql import check_sql

CHECKS = {"sql": check_sql, "docs": check_docs, "manifests": check_manifests, "smoke": check_smoke}


def main(argv: list[str] | None = None) -> int:
    """Run one check; print its problems; write the JSON report; 1 when problems were found."""
    parser = argparse.ArgumentParser(prog="python -m runwright.bootstrap.checks")
    parser.add_argument("check", choices=[*CHECKS, "tidy"])
    parser.add_argument("files", nargs="*", help="tidy: the files to tidy (default: all)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the project (default: .)")
    parser.add_argument("--paths", default=".", help="comma-separated folders to check")
    parser.add_argument("--report", type=Path, help="write the JSON report here")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        print(f"error: {args.root} is not a directory", file=sys.stderr)
        return 2
    report: CheckReport
    if args.check == "tidy":
        report = tidy(args.root, list(args.files))
    else:
        ws = Workspace.open(args.root, args.paths.split(","))
        report = CHECKS[args.check](ws)
    for problem in report.problems:
        print(problem)
    for note in report.notes:
        print(f"note: {note}")
    print(
        f"{report.check}: {report.files_checked} file(s) checked, {len(report.problems)} problem(s)"
    )
    if args.report is not None:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
