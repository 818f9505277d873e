"""runwright's own job names live in one domain module; the parts that define the jobs use
them, and listing runs does not import those parts."""

from __future__ import annotations

import subprocess
import sys

from runwright.domain import job_names
from runwright.engine.registry import job_def


def test_each_part_registers_its_jobs_under_the_shared_names() -> None:
    """The registry knows every job in ``job_names`` under that very name, once its part is
    imported: a renamed job cannot leave run lists and hooks looking for the old name."""
    import runwright.execmodel.finalize
    import runwright.execmodel.job
    import runwright.patches.agent_job
    import runwright.plans.phase_job
    import runwright.plans.plan_job
    import runwright.plans.validation
    import runwright.workflows.jobs  # noqa: F401
    from runwright.store.workflows import CONSUMER_JOB, PRODUCER_JOB

    assert (PRODUCER_JOB, CONSUMER_JOB) == (
        job_names.WORKFLOW_PRODUCER,
        job_names.WORKFLOW_CONSUMER,
    )
    names = [v for k, v in vars(job_names).items() if k.isupper()]
    for name in names:
        assert job_def(name).name == name


def test_describing_runs_for_a_list_imports_none_of_the_parts() -> None:
    """``run list`` names what each run is about without loading the plans, patches,
    execmodel or workflows packages (each costs the command start-up time)."""
    code = (
        "import sys\n"
        "import runwright.api.subjects\n"
        "print(sorted(m for m in sys.modules if m.split('.')[:2] in ("
        "['runwright', 'plans'], ['runwright', 'patches'], ['runwright', 'execmodel'],"
        " ['runwright', 'workflows'])))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
