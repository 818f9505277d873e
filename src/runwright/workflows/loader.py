"""Finding a workflow by its reference (``MODULE:ATTR``), and running the deployed code only.

Workers import deployed modules by reference. Each deploy records the sha256 of the module's
source; a worker whose loaded copy differs reloads the module, and refuses to run code that
does not match what was deployed (redeploy after editing).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType

from runwright.errors import ConfigError, ValidationError
from runwright.workflows.authoring import Workflow
from runwright.workflows.errors import InternalError

_loaded_hash: dict[str, str] = {}


def _ensure_cwd_on_path() -> None:
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())


def source_hash(module: ModuleType) -> str:
    """sha256 of a module's source file (of nothing, for a module without one)."""
    path = getattr(module, "__file__", None)
    data = b""
    if path and path.endswith(".py") and Path(path).is_file():
        data = Path(path).read_bytes()
    return hashlib.sha256(data).hexdigest()


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "no message"


def import_problem(exc: BaseException) -> str:
    """Why importing a module failed, as ``FILE: line N: what``: the syntax error's place,
    else the deepest frame of the traceback that is not the import machinery."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}: line {exc.lineno}: {_one_line(exc.msg)}"
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith("<frozen") and f.filename != __file__
    ]
    where = f"{frames[-1].filename}: line {frames[-1].lineno}: " if frames else ""
    return f"{where}{type(exc).__name__}: {_one_line(str(exc))}"


def split_ref(ref: str) -> tuple[str, str]:
    """``MODULE:ATTR`` → (module, attr), or a ConfigError saying how to write it."""
    module, sep, attr = ref.partition(":")
    if not sep or not module or not attr:
        raise ConfigError(
            f"workflow reference {ref!r} is not MODULE:ATTR",
            hint="e.g. `runwright workflow deploy myflows.orders:wf`",
            field="ref",
        )
    return module, attr


def _get(module: ModuleType, ref: str, attr: str) -> Workflow:
    value = getattr(module, attr, None)
    if not isinstance(value, Workflow):
        raise ConfigError(
            f"{ref}: {module.__name__} has no Workflow named {attr!r}",
            hint="point at the module-level runwright.Workflow object",
            field="ref",
        )
    return value


def import_ref(ref: str) -> tuple[Workflow, str]:
    """Import ``MODULE:ATTR``; return the Workflow and the sha256 of its module's source."""
    name, attr = split_ref(ref)
    _ensure_cwd_on_path()
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise ConfigError(
            f"{ref}: cannot import {name!r} ({_one_line(str(exc))})",
            hint="run from the project folder or add it to PYTHONPATH",
            field="ref",
        ) from exc
    except (Exception, SystemExit) as exc:  # its own code failed: name its file and line
        raise ConfigError(
            f"{ref}: cannot import {name!r} ({import_problem(exc)})",
            hint="fix the module so that it imports",
            field="ref",
        ) from exc
    digest = _loaded_hash.setdefault(name, source_hash(module))
    return _get(module, ref, attr), digest


def reload_ref(ref: str) -> tuple[Workflow, str]:
    """Import ``MODULE:ATTR`` afresh from disk (after a repair or a redeploy)."""
    name, attr = split_ref(ref)
    module = sys.modules.get(name)
    if module is None:
        return import_ref(ref)
    path = getattr(module, "__file__", None)
    if path and path.endswith(".py"):
        cached = Path(importlib.util.cache_from_source(path))
        cached.unlink(missing_ok=True)  # mtime-based pyc checks can miss a quick edit
    importlib.invalidate_caches()
    try:
        module = importlib.reload(module)
    except Exception as exc:
        raise ValidationError(
            f"{ref}: the module no longer imports: {import_problem(exc)}", field="ref"
        ) from exc
    digest = source_hash(module)
    _loaded_hash[name] = digest
    return _get(module, ref, attr), digest


def load_deployed(ref: str, code_hash: str) -> Workflow:
    """The Workflow behind ``ref`` exactly as deployed (reloading a stale copy once)."""
    wf, digest = import_ref(ref)
    if digest == code_hash:
        return wf
    wf, digest = reload_ref(ref)
    if digest != code_hash:
        raise InternalError(
            f"{ref}: the module on disk differs from the deployed version; "
            "redeploy it with `runwright workflow deploy`"
        )
    return wf


def ref_of(wf: Workflow) -> str:
    """``MODULE:ATTR`` of a module-level Workflow object."""
    fn = next(
        (h.run or h.prepare for h in wf.handlers.values() if (h.run or h.prepare) is not None),
        None,
    )
    candidates = [getattr(fn, "__module__", None)] if fn is not None else []
    candidates += [m for m in list(sys.modules) if m not in candidates]
    for name in candidates:
        module = sys.modules.get(name or "")
        if module is None:
            continue
        for attr, value in list(vars(module).items()):
            if value is wf and name != "__main__":
                return f"{name}:{attr}"
    raise ConfigError(
        f"workflow {wf.name!r} is not a module-level attribute of an importable module",
        hint="define it at module level and deploy it as MODULE:ATTR",
        field="ref",
    )
