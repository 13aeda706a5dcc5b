"""Runs: where an executed notebook leaves its parameters, metrics and checkpoints.

A run is one executed notebook plus `runs/<run>/{params.yaml, metrics.json}`; every name in a run
folder is one of the `*_FILE`, `*_DIR` and marker names imported below (import them from here).
`flan-nb run` sets `FLAN_NB_RUN_DIR` for the kernel it starts. A notebook executed any other way
(Jupyter Book, plain papermill, an editor, Colab) writes to a folder its parameter values
determine: `runs/<stem>/` with the notebook's defaults (what the book build runs),
`runs/<stem>-smoke/` (or `-tpu_full`) with exactly a profile's values, else `runs/<stem>-<hash of
the changed values>/`; a folder whose params.yaml holds other values is refused before anything is
written, so one folder never mixes two settings. `FLAN_NB_RUNS` moves the whole runs folder, also
to a bucket (`gs://BUCKET/runs` on TPU VMs), which every host then reads.
A local file is written to a temporary name and renamed, so a killed run never leaves half a file;
an object in a bucket is replaced whole by the store itself.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from flan_nb import params as params_lib
from flan_nb.errors import UserError
# Where the book and its runs are, and the names of the files in a run folder (re-exported:
# `flan_nb.runs` is the run-folder API; import them from here).
from flan_nb.paths import (  # noqa: F401
    CHECKPOINTS_DIR, EXECUTED_NOTEBOOK, FIGURES_DIR, FINGERPRINT_FILE, FINISHED_MARKER,
    KERNEL_LOG, METRICS_FILE, PARAMS_FILE, RUNS_ENV, WALL_TIME_FILE, AnyPath, as_path, is_local,
    modified_time, repo_root, runs_dir)
from flan_nb.sharding import is_primary

RUN_DIR_ENV = "FLAN_NB_RUN_DIR"
BOOK_BUILD_ENV = "FLAN_NB_BOOK_BUILD"  # set by `make book` (see flan_nb.plotting)


def atomic_write_text(path: AnyPath, text: str) -> None:
    """Write `text` to `path` so that it is never seen half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not is_local(path):  # an object store replaces an object whole
        path.write_text(text, encoding="utf-8")
        return
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def append_text(path: AnyPath, text: str) -> None:
    """Append `text` to `path` (an object in a bucket cannot be appended to: it is rewritten)."""
    if is_local(path):
        with path.open("a", encoding="utf-8") as f:
            f.write(text)
    else:
        atomic_write_text(path, (path.read_text(encoding="utf-8") if path.exists() else "")
                          + text)


def _jsonable(value: Any) -> Any:
    """Numbers from numpy/JAX as plain Python; NaN/inf as strings (JSON has no NaN)."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


class Run:
    """One run's folder: parameters in, metrics out."""

    def __init__(self, path: str | os.PathLike):
        self.path = as_path(path)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    def metrics(self) -> dict[str, Any]:
        """Everything recorded so far ({} for a new run)."""
        if not self.metrics_path.exists():
            return {}
        return json.loads(self.metrics_path.read_text(encoding="utf-8"))

    def record(self, name: str, value: Any) -> Any:
        """Store `value` under `name` in metrics.json (replacing an earlier value) and return it."""
        if is_primary():  # every host of a multi-host job runs the notebook; one writes
            metrics = self.metrics()
            metrics[name] = _jsonable(value)
            atomic_write_text(self.metrics_path,
                              json.dumps(metrics, indent=2, sort_keys=True) + "\n")
        return value

    def write_params(self, params: dict[str, Any]) -> None:
        """Write params.yaml (the parameters the notebook ran with)."""
        text = yaml.safe_dump(_jsonable(params), sort_keys=True)
        atomic_write_text(self.path / PARAMS_FILE, text)

    def params(self) -> dict[str, Any]:
        path = self.path / PARAMS_FILE
        return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"


def _run_folder_name(stem: str, values: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(folder name, profile, every parameter value) for a notebook executed outside `flan-nb
    run` with these parameter values, read against the notebook's parameters cell."""
    notebook = repo_root() / "notebooks" / f"{stem}.ipynb"
    if not notebook.is_file():  # a copy of one notebook (Colab): its values alone name it
        digest = hashlib.sha256(json.dumps(_jsonable(values), sort_keys=True).encode())
        return f"{stem}-{digest.hexdigest()[:8]}", "book", values
    declared = params_lib.notebook_parameters(notebook)
    current = {name: values.get(name, p.default) for name, p in declared.items()}
    for profile in ("book",) + tuple(p for p in params_lib.PROFILES if p != "book"):
        try:
            wanted = params_lib.all_values(
                notebook, params_lib.resolve_parameters(notebook, profile, validate=False))
        except UserError:
            continue
        if _jsonable(wanted) == _jsonable(current):
            return (stem if profile == "book" else f"{stem}-{profile}"), profile, current
    changed = {k: v for k, v in current.items() if v != declared[k].default}
    digest = hashlib.sha256(json.dumps(_jsonable(changed), sort_keys=True).encode())
    return f"{stem}-{digest.hexdigest()[:8]}", "book", current


def current_run(default_name: str, values: dict[str, Any] | None = None) -> Run:
    """The run this notebook writes to: `$FLAN_NB_RUN_DIR` (set by `flan-nb run`), else a folder
    under the runs folder named after the notebook (`default_name`, its stem) and its parameter
    `values` (default: those the notebook's `make_config` just read; see the module docstring).

    Refuses (UserError) a folder whose params.yaml records other values; records them otherwise.
    """
    env = os.environ.get(RUN_DIR_ENV)
    if env:
        run = Run(env)
        run.path.mkdir(parents=True, exist_ok=True)
        return _remember(run)
    values = params_lib.notebook_values() if values is None else dict(values)
    if not values:  # no parameters known: the notebook's own folder, as before
        run = Run(runs_dir() / default_name)
        run.path.mkdir(parents=True, exist_ok=True)
        return _remember(run)
    name, profile, current = _run_folder_name(default_name, values)
    run = Run(runs_dir() / name)
    recorded = run.params().get("parameters")
    if recorded is not None and _jsonable(recorded) != _jsonable(current):
        different = sorted(k for k in set(recorded) | set(current)
                           if _jsonable(recorded.get(k)) != _jsonable(current.get(k)))
        if name == default_name and os.environ.get(BOOK_BUILD_ENV) and is_local(run.path):
            # The book build's own run, made with defaults the notebook no longer has: like a
            # stale run of a plan, it starts clean (flan-nb batch does the same).

            print(f"{run.path} was made with other defaults ({', '.join(different)}): "
                  f"starting it again")
            shutil.rmtree(run.path)
            recorded = None
        else:
            raise UserError(
                f"run folder {run.path} holds a run with other settings "
                f"({', '.join(different)}); move it away or delete it, or run with `flan-nb run` "
                f"(--name picks the folder)")
    run.path.mkdir(parents=True, exist_ok=True)
    if recorded is None:
        run.write_params({"notebook": default_name, "profile": profile, "parameters": current})
    return _remember(run)


_CURRENT: list[Run] = []  # the run the kernel's notebook writes to (its figures go there too)


def _remember(run: Run) -> Run:
    _CURRENT[:] = [run]
    return run


def active_run() -> Run | None:
    """The run `current_run` last returned in this process, if any."""
    return _CURRENT[0] if _CURRENT else None
