"""The quickstart tour: everything runwright does, on a throwaway copy of an example repository.

``init`` discovers the repository and writes ``.runwright/`` → an operator run leaves
evidence and a next pointer → a plan runs test-first with a scripted agent → a workflow turns
files into rows, each written once. Everything (the repository, its store, the workflow's
folder and database) lives in one temporary folder; nothing is written anywhere else.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from runwright.api.client import Client
from runwright.config import load_settings
from runwright.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
TOUR_PLAN = "greet.yaml"
TOUR_OPERATOR = "SmokeCheckRepository"


@dataclass
class TourStep:
    """One step of the tour: what it did, how long it took, what it produced."""

    name: str
    summary: str
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class TourResult:
    """Where the tour left everything, and what each step did."""

    folder: Path
    repo: Path
    steps: list[TourStep] = field(default_factory=list)

    def where_to_look(self) -> list[str]:
        """Commands that show what the tour left behind."""
        return [
            f"cd {self.repo}",
            "runwright run list                # every run: op run, plan, phases, agents, workflow",
            "runwright plan show               # the plan's stages, gates and completion contract",
            "runwright inbox                   # decisions only a person can take (none yet)",
            "runwright op runs                 # the operator run, and whether it counts",
            "runwright workflow list           # the workflow and its status",
            "runwright ui                      # the same in a browser",
        ]


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a file we ship
        raise ConfigError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    before, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ in examples/
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = before
    return module


def examples_dir() -> Path:
    """The repository's examples/ folder (the tour runs from a clone: `pip install -e .`)."""
    if not (EXAMPLES / "plans" / "setup_demo.py").is_file():
        raise ConfigError(
            "the tour needs the examples/ folder of a runwright checkout",
            hint="clone the repository and install it with `pip install -e .`",
        )
    return EXAMPLES


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class Tour:
    """Runs the tour step by step, reporting each to ``on_step``."""

    def __init__(
        self, folder: Path | None = None, *, on_step: Callable[[TourStep], None] | None = None
    ):
        self.examples = examples_dir()
        base = folder or Path(tempfile.mkdtemp(prefix="runwright-tour-"))
        base.mkdir(parents=True, exist_ok=True)
        self.result = TourResult(folder=base.resolve(), repo=(base / "greet").resolve())
        self.on_step = on_step

    def _step(self, name: str, fn: Callable[[], tuple[str, dict[str, Any]]]) -> None:
        started = time.monotonic()
        summary, details = fn()
        step = TourStep(name, summary, time.monotonic() - started, details)
        self.result.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    def run(self) -> TourResult:
        """Every step, in order."""
        self._step("example repository", self.make_repo)
        self._step("runwright init", self.init)
        with self._client() as client:
            self._step("operator run", lambda: self.op_run(client))
            self._step("plan run", lambda: self.plan_run(client))
            self._step("workflow", lambda: self.workflow(client))
        return self.result

    @contextmanager
    def _client(self) -> Iterator[Client]:
        home = self.result.repo / ".runwright"
        settings = load_settings(env={}, overrides={"home": home})
        client = Client.open(settings)
        try:
            yield client
        finally:
            client.close()

    # ---- the steps ------------------------------------------------------------------------
    def make_repo(self) -> tuple[str, dict[str, Any]]:
        """A fresh git repository: the greet package, its test spec, three plans."""
        setup = _load(self.examples / "plans" / "setup_demo.py", "runwright_tour_setup")
        repo = setup.make(self.result.repo)
        return f"{repo} (a git repository with the greet package and three plans)", {
            "repo": str(repo)
        }

    def init(self) -> tuple[str, dict[str, Any]]:
        """Discover the repository, pick its profile, write .runwright/."""
        from runwright.bootstrap.runner import init_project

        done = init_project(self.result.repo)
        report = done.report
        mappings = report.profile_mapping.mappings if report.profile_mapping else []
        where = ", ".join(f"{m.path or '.'}→{m.profile_id}" for m in mappings) or "-"
        written = [a.path for a in report.generated_artifacts]
        return (
            f"profile {report.profile_id} ({where}); {len(written)} files under .runwright/; "
            f"status {report.status.value}",
            {"profile_id": report.profile_id, "status": report.status.value, "files": written},
        )

    def op_run(self, client: Client) -> tuple[str, dict[str, Any]]:
        """Run an operator the profile generated; it leaves evidence and a next pointer."""
        loaded = client.ops.operator(TOUR_OPERATOR)
        chain = client.ops.run_operator(loaded.operator)
        view = chain[-1]
        client.ops.set_next_pointer(view.run.run_id, "tour: run the greet plan next")
        view = client.ops.op_run(view.run.run_id)
        result = view.record.result.value if view.record.result else view.run.state.value
        counts = view.counting.counts if view.counting else False
        evidence = len(client.evidence(view.run.run_id))
        return (
            f"{TOUR_OPERATOR}: {result}, {evidence} evidence file(s), "
            f"{'counts' if counts else 'does not count'}",
            {"run_id": view.run.run_id, "result": result, "counts": counts},
        )

    def plan_run(self, client: Client) -> tuple[str, dict[str, Any]]:
        """Run the greet plan test-first with the scripted agent."""
        view = client.plans.run(self.result.repo / "plans" / TOUR_PLAN, timeout=300)
        contract = view.record.completion or {}
        commits = [
            c
            for p in view.phases
            if isinstance(found := p.outcome.get("commits"), list)
            for c in found
        ]
        gates = ", ".join(f"{g.gate} {'passed' if g.passed else 'failed'}" for g in view.gates)
        return (
            f"{view.record.plan_id}: {contract.get('execution_status', view.record.status.value)}; "
            f"{len(commits)} commits; gates: {gates}",
            {
                "run_id": view.run_id,
                "status": contract.get("execution_status"),
                "contract": view.record.completion_path,
            },
        )

    def workflow(self, client: Client) -> tuple[str, dict[str, Any]]:
        """Deploy the files-to-SQLite workflow; three CSV files become three rows."""
        inbox = self.result.folder / "inbox"
        db_url = f"sqlite:///{self.result.folder / 'files.db'}"
        with _environ(FILES_INBOX=str(inbox), FILES_DB=db_url):
            sys.modules.pop("files_to_sqlite", None)
            example = _load(self.examples / "workflows" / "files_to_sqlite.py", "files_to_sqlite")
            try:
                example.sample_files(inbox)
                rows = example.demo(client)
            finally:
                example.table.close()
                sys.modules.pop("files_to_sqlite", None)
        applied = [m for m in client.workflows.mutations() if m.status.value == "applied"]
        # Its module lives in the checkout's examples/, which a later `runwright worker` started
        # in the tour folder would not import: pause it, so nothing fails behind the user's back.
        client.workflows.pause(example.wf.name, by="runwright tour")
        return (
            f"files_to_sqlite: {len(rows)} files → {len(rows)} rows, "
            f"{len(applied)} writes applied once each (then paused)",
            {"rows": rows, "mutations": len(applied)},
        )
