"""Plans: a grid of notebook runs from a YAML file, resumable, with a summary table
(`flan-nb batch PLAN.yaml`; the verb lives in `flan_nb.plans_cli`).

A plan is a YAML file (the book's live in `notebooks/plans/`)::

    description: what the plan is for
    profile: book                 # parameter profile of every run (smoke | book | tpu_full)
    notebooks_dir: ..             # optional, relative to the plan file (default: ..)
    steps:
      - notebook: 08_instruction_tuning.ipynb
        name: "08_instruction_tuning-{HELD_OUT}"   # run name; {PARAM} is filled per grid point
        grid: {HELD_OUT: [nli, closed_book_qa]}     # one run per combination, in this order
        parameters: {NUM_STEPS: 100}                # the same overrides for every run of the step
        seeds: [0, 1, 2]                            # optional: one run per seed and grid point
        seed_parameter: SEED                        # which parameter a seed sets (default SEED)
        summary: [final_loss]                       # metrics shown in the summary table
        done_when: final_loss                       # optional, see below
    evaluation: {...}             # optional: how `--publish` scores the runs (flan_nb.results)

`seeds` repeats every grid point once per seed (the tuning seed of notebook 08, the world and
initialisation seed of notebook 07); a run name must then tell seeds apart, so a name without
`{SEED}` gets `-s{SEED}` appended. `flan-nb batch PLAN --publish` runs the plan, then evaluates
its runs and writes `results/<plan-stem>.json` (see `flan_nb.results`).

Every notebook, name, parameter name and type is checked before the first run starts, so a bad
plan fails with one clear message and nothing half-written. Runs that already finished (the
`finished` marker `flan_nb.runner` writes last) are skipped, so rerunning an interrupted plan
resumes it.
A finished run is redone when its parameters or its notebook's code no longer match the plan, or
when a run before it in the plan finished after it (a tuning run whose base model was retrained).

A notebook executed by the book build (Jupyter Book) writes `runs/<stem>/` with its defaults and
no marker. A step named exactly `<stem>` with every parameter at its default refers to that run;
with `done_when: METRIC` such a run counts as finished once its metrics.json holds METRIC
(recorded by the notebook's last cell), so a plan reuses what the book build already trained.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import yaml

from flan_nb import params as params_lib
from flan_nb import runner
from flan_nb.errors import UserError
from flan_nb.report import format_table
from flan_nb.runner import default_run_name
# Each run the plan executes also gets the notebook code it ran (see `stale_reason`), what its
# kernel wrote to stderr and its wall time (names: flan_nb.runs).
from flan_nb.runs import (FINGERPRINT_FILE, FINISHED_MARKER, KERNEL_LOG, WALL_TIME_FILE, Run,
                          atomic_write_text, modified_time, runs_dir)

PLAN_KEYS = {"description", "profile", "notebooks_dir", "steps", "evaluation"}
STEP_KEYS = {"notebook", "name", "grid", "parameters", "summary", "done_when", "seeds",
             "seed_parameter"}
DEFAULT_SEED_PARAMETER = "SEED"
# Statuses of a run in a plan's outcome.
SKIPPED, RAN, FAILED, NOT_RUN = "skipped", "ran", "failed", "not run"


@dataclasses.dataclass(frozen=True)
class PlannedRun:
    """One notebook execution of a plan: notebook, run name, profile and `-p` overrides."""

    notebook: Path
    name: str
    profile: str
    overrides: Mapping[str, Any]
    summary: tuple[str, ...] = ()
    done_when: str | None = None

    def parameters(self) -> dict[str, Any]:
        """Every parameter value the notebook runs with (defaults, profile, overrides)."""
        chosen = params_lib.resolve_parameters(self.notebook, self.profile, self.overrides)
        return params_lib.all_values(self.notebook, chosen)


@dataclasses.dataclass(frozen=True)
class Plan:
    path: Path
    description: str
    profile: str
    runs: tuple[PlannedRun, ...]
    evaluation: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def stem(self) -> str:
        return self.path.stem


@dataclasses.dataclass
class Outcome:
    """What happened to one planned run."""

    planned: PlannedRun
    status: str
    seconds: float = 0.0
    metrics: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    error: str = ""


def _fail(path: Path, message: str) -> UserError:
    return UserError(f"plan {path}: {message}")


def _mapping(value: Any, what: str, path: Path) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(path, f"{what} must be a mapping, got {type(value).__name__} {value!r}")
    return value


def _grid_points(grid: Mapping[str, Any], path: Path, where: str) -> list[dict[str, Any]]:
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise _fail(path, f"{where}: grid values of {key} must be a non-empty list, "
                              f"got {values!r}")
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def _run_name(template: str | None, notebook: Path, profile: str, overrides: dict,
              path: Path, where: str) -> str:
    if template is None:
        return default_run_name(notebook, profile, overrides)
    try:
        name = str(template).format(**overrides)
    except (KeyError, IndexError, ValueError) as err:
        raise _fail(path, f"{where}: run name {template!r} uses {err} which is not one of its "
                          f"parameters ({', '.join(sorted(overrides)) or 'none'})") from None
    if "/" in name or name in {"", ".", ".."}:
        raise _fail(path, f"{where}: bad run name {name!r}: use letters, digits, '-', '_', '.'")
    return name


def _is_default(planned: PlannedRun) -> bool:
    """Does this run use exactly the notebook's defaults (what the book build executes)?"""
    defaults = {n: p.default for n, p in params_lib.notebook_parameters(planned.notebook).items()}
    return planned.profile == "book" and planned.parameters() == defaults


def notebook_fingerprint(notebook: Path) -> str:
    """sha256 of a notebook's code, parameters cell excluded (a plan passes those itself)."""
    cells = params_lib.read_notebook(notebook).get("cells", [])
    code = [("".join(c["source"]) if isinstance(c["source"], list) else c["source"])
            for c in cells if c.get("cell_type") == "code"
            and "parameters" not in c.get("metadata", {}).get("tags", [])]
    return hashlib.sha256("\n\x1e".join(code).encode()).hexdigest()


def stale_reason(planned: PlannedRun) -> str | None:
    """Why a finished run no longer matches the plan (None if it does): its recorded parameters
    differ, or the notebook's code changed since the plan ran it."""
    run = Run(runs_dir() / planned.name)
    recorded = run.params().get("parameters")
    if recorded is not None and recorded != planned.parameters():
        # A parameter the notebook gained since the run is no difference while the plan
        # keeps its default: the run behaved as the default does (results.differences too).
        defaults = {k: p.default for k, p in
                    params_lib.notebook_parameters(planned.notebook).items()}
        current = planned.parameters()
        if any(recorded.get(k, defaults.get(k)) != current.get(k)
               for k in set(recorded) | set(current)):
            return "its parameters differ from the plan's"
    fingerprint = run.path / FINGERPRINT_FILE
    if fingerprint.exists() and fingerprint.read_text().strip() != notebook_fingerprint(
            planned.notebook):
        return f"{planned.notebook.name} changed since it ran"
    return None


def _book_build_run(planned: PlannedRun) -> bool:
    """Is this the run the book build itself writes (see the module docstring)?"""
    return planned.done_when is not None and planned.name == planned.notebook.stem


def _status(planned: PlannedRun) -> tuple[float | None, str | None]:
    """(when the run finished or None, why it must be redone or None)."""
    run = Run(runs_dir() / planned.name)
    marker = run.path / FINISHED_MARKER
    marked = modified_time(marker) if marker.exists() else None
    if _book_build_run(planned) and run.metrics_path.exists():
        written = modified_time(run.metrics_path)
        if marked is None or written > marked:  # the book build (re)executed it last
            done = planned.done_when in run.metrics()
            return (written, None) if done else (None, "not finished")
    if marked is None:
        return None, "not finished"
    return marked, stale_reason(planned)


def todo_reason(planned: PlannedRun, newer_than: float = 0.0) -> str | None:
    """None if the run is finished and current, else why it has to run: not finished, its
    parameters or code changed, or a run before it in the plan finished after it (its input,
    e.g. the base model of a tuning run, may have changed)."""
    finished, stale = _status(planned)
    if finished is None or stale:
        return stale or "not finished"
    if finished < newer_than:
        return "an earlier run of the plan finished after it"
    return None


def plan_status(plan: Plan | str | Path) -> list[tuple[PlannedRun, str | None]]:
    """Each planned run with the reason it still has to run (None: done and current)."""
    plan = plan if isinstance(plan, Plan) else load_plan(plan)
    latest, rows = 0.0, []
    for planned in plan.runs:
        reason = todo_reason(planned, latest)
        if reason and latest == float("inf") and reason.startswith("an earlier"):
            reason = "an earlier run of the plan runs first"
        rows.append((planned, reason))
        latest = float("inf") if reason else max(latest, _status(planned)[0] or 0.0)
    return rows


def _load_step(index: int, step: Any, notebooks_dir: Path, profile: str,
               path: Path) -> list[PlannedRun]:
    where = f"step {index + 1}"
    step = _mapping(step, where, path)
    unknown = set(step) - STEP_KEYS
    if unknown:
        raise _fail(path, f"{where}: unknown keys {sorted(unknown)} (allowed: "
                          f"{', '.join(sorted(STEP_KEYS))})")
    if not step.get("notebook"):
        raise _fail(path, f"{where} needs a 'notebook' (a file in {notebooks_dir})")
    notebook = notebooks_dir / str(step["notebook"])
    if notebook.suffix != ".ipynb":
        notebook = notebook.with_name(notebook.name + ".ipynb")
    if not notebook.is_file():
        raise _fail(path, f"{where}: notebook {str(notebook)!r} not found")
    fixed = _mapping(step.get("parameters"), f"{where} parameters", path)
    grid = _mapping(step.get("grid"), f"{where} grid", path)
    summary = step.get("summary") or []
    done_when = step.get("done_when")
    if not isinstance(summary, list):
        raise _fail(path, f"{where}: summary must be a list of metric names, got {summary!r}")
    seeds = step.get("seeds")
    seed_parameter = str(step.get("seed_parameter", DEFAULT_SEED_PARAMETER))
    template = step.get("name")
    if seeds is not None:
        if (not isinstance(seeds, list) or not seeds or len(set(map(str, seeds))) != len(seeds)
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in seeds)):
            raise _fail(path, f"{where}: seeds must be a non-empty list of distinct integers, "
                              f"got {seeds!r}")
        if seed_parameter in grid or seed_parameter in fixed:
            raise _fail(path, f"{where}: {seed_parameter} is set by 'seeds'; remove it from "
                              f"the step's grid and parameters")
        grid = {**grid, seed_parameter: seeds}
        if template is not None and "{" + seed_parameter + "}" not in str(template):
            template = f"{template}-s{{{seed_parameter}}}"
    elif "seed_parameter" in step:
        raise _fail(path, f"{where}: seed_parameter without seeds")
    runs = []
    for point in _grid_points(grid, path, where):
        overrides = {**fixed, **point}
        try:  # names and types against the notebook's parameters cell, before anything runs
            params_lib.resolve_parameters(notebook, profile, overrides)
        except UserError as err:
            raise _fail(path, f"{where}: {err}") from None
        name = _run_name(template, notebook, profile, overrides, path, where)
        planned = PlannedRun(notebook, name, profile, overrides, tuple(map(str, summary)),
                             None if done_when is None else str(done_when))
        if name == notebook.stem and not _is_default(planned):
            raise _fail(path, f"{where}: run name {name!r} is reserved for the book build's "
                              f"run of {notebook.name} with its defaults (profile book, no "
                              f"changed parameters); name this run differently")
        runs.append(planned)
    return runs


def load_plan(path: str | Path) -> Plan:
    """Read and check a plan file; any problem is one UserError naming the file and the value."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"plan file {str(path)!r} not found (plans live in notebooks/plans/)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise UserError(f"plan {path} is not valid YAML: {err}".splitlines()[0]) from None
    data = _mapping(data, "the plan", path)
    unknown = set(data) - PLAN_KEYS
    if unknown:
        raise _fail(path, f"unknown keys {sorted(unknown)} "
                          f"(allowed: {', '.join(sorted(PLAN_KEYS))})")
    profile = data.get("profile", "book")
    if profile not in params_lib.PROFILES:
        raise _fail(path, f"unknown profile {profile!r}: choose one of "
                          f"{', '.join(params_lib.PROFILES)}")
    notebooks_dir = (path.parent / str(data.get("notebooks_dir", ".."))).resolve()
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise _fail(path, "'steps' must be a non-empty list of notebook steps")
    runs = [run for i, step in enumerate(steps)
            for run in _load_step(i, step, notebooks_dir, profile, path)]
    seen: set[str] = set()
    for run in runs:
        if run.name in seen:
            raise _fail(path, f"two runs are named {run.name!r}: put every grid parameter in "
                              f"the step's name, e.g. '{{HELD_OUT}}'")
        seen.add(run.name)
    evaluation = _mapping(data.get("evaluation"), "evaluation", path)
    return Plan(path, str(data.get("description", "")), profile, tuple(runs), evaluation)


def runs_by_parameter(plan: Plan | str | Path, notebook: str, name: str) -> dict[Any, str]:
    """For the plan's runs of `notebook` (a stem), parameter `name`'s value -> run name.

    E.g. `runs_by_parameter(plan, "08_instruction_tuning", "HELD_OUT")` maps each held-out
    cluster to the tuning run that left it out.
    """
    plan = plan if isinstance(plan, Plan) else load_plan(plan)
    found = {}
    for planned in plan.runs:
        if planned.notebook.stem == Path(notebook).stem:
            value = planned.parameters()[name]
            if value in found:
                raise UserError(f"plan {plan.path}: runs {found[value]!r} and {planned.name!r} "
                                f"both have {name}={value!r}")
            found[value] = planned.name
    if not found:
        raise UserError(f"plan {plan.path} has no run of notebook {notebook!r}")
    return found


@contextlib.contextmanager
def _stderr_into(log_path: Path):
    """Send this process's file descriptor 2 (inherited by the notebook's kernel, which logs
    start-up warnings there) to a file while a run executes, then put it in `log_path`.

    Without this, the kernels of a plan run from a notebook print their warnings into the
    calling notebook's output. Errors still surface as exceptions.
    """
    sys.stderr.flush()
    handle, tmp = tempfile.mkstemp(prefix="flan-nb-kernel-", suffix=".log")
    saved = os.dup(2)
    os.dup2(handle, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(handle)
        if log_path.parent.is_dir():  # a local folder or a bucket
            log_path.write_bytes(Path(tmp).read_bytes())
        os.unlink(tmp)


def run_plan(plan: Plan | str | Path, *, exclude: Iterable[str] = (), force: bool = False,
             keep_going: bool = False, progress: bool = False,
             echo: Callable[[str], None] = print) -> list[Outcome]:
    """Execute the plan's runs in order, skipping finished ones (all of them with `force`).

    `exclude` names notebooks (stems) not to execute, e.g. the notebook calling this function.
    A failed run stops the plan (later runs are `not run`) unless `keep_going`.
    """
    plan = plan if isinstance(plan, Plan) else load_plan(plan)
    params_lib.check_plan_files(plan, exclude)  # files and runs named, before any run starts
    excluded = {Path(e).stem for e in exclude}
    outcomes: list[Outcome] = []
    stop, latest = False, 0.0
    for planned in plan.runs:
        if planned.notebook.stem in excluded:
            continue
        path = runs_dir() / planned.name
        reason = "forced" if force else todo_reason(planned, latest)
        if stop:
            outcomes.append(Outcome(planned, NOT_RUN))
            continue
        if reason is None:
            echo(f"skip {planned.name}: finished")
            outcomes.append(Outcome(planned, SKIPPED, metrics=Run(path).metrics()))
            latest = max(latest, _status(planned)[0] or 0.0)
            continue
        why = "" if reason == "not finished" else f" ({reason})"
        echo(f"run  {planned.name}: {planned.notebook.name} {dict(planned.overrides)}{why}")
        # An interrupted run with the plan's settings resumes in its folder (training from its
        # checkpoints); a stale one starts clean.
        resume = reason == "not finished" and not runner.settings_difference(
            Run(path), planned.notebook, planned.profile, planned.parameters())
        start = time.perf_counter()
        try:
            with _stderr_into(path / KERNEL_LOG):
                run = runner.run_notebook(planned.notebook, planned.profile, planned.overrides,
                                          run_name=planned.name, force=not resume,
                                          progress=progress)
        except Exception as err:  # papermill's errors: report, then stop or go on
            seconds = time.perf_counter() - start
            message = str(err).strip().splitlines()[-1] if str(err).strip() else repr(err)
            echo(f"FAIL {planned.name} after {seconds:.0f} s: {message}")
            outcomes.append(Outcome(planned, FAILED, seconds, error=message))
            stop = not keep_going
            continue
        seconds = time.perf_counter() - start
        atomic_write_text(run.path / FINGERPRINT_FILE,
                          notebook_fingerprint(planned.notebook) + "\n")
        atomic_write_text(run.path / WALL_TIME_FILE, f"{seconds:.1f}\n")
        echo(f"done {planned.name} in {seconds:.0f} s")
        outcomes.append(Outcome(planned, RAN, seconds, run.metrics()))
        latest = max(latest, _status(planned)[0] or time.time())
    return outcomes


def _metric_cell(value: Any) -> Any:
    return value if isinstance(value, (int, float, str)) or value is None else "..."


def summary_rows(outcomes: Iterable[Outcome]) -> list[dict[str, Any]]:
    """One row per run: name, status, seconds and the step's summary metrics."""
    rows = []
    for o in outcomes:
        row: dict[str, Any] = {"run": o.planned.name, "status": o.status,
                               "seconds": round(o.seconds, 1) if o.status in (RAN, FAILED)
                               else None}
        for key in o.planned.summary:
            row[key] = _metric_cell(o.metrics.get(key))
        rows.append(row)
    return rows


def summary_table(outcomes: Iterable[Outcome]) -> str:
    """The summary table `flan-nb batch` prints at the end."""
    rows = summary_rows(outcomes)
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    return format_table(rows, columns, digits=3)


def run_wall_seconds(name: str) -> float | None:
    """Wall time of a run the plan executed (None for a run made otherwise, e.g. by the book
    build)."""
    path = runs_dir() / name / WALL_TIME_FILE
    try:
        return float(path.read_text().strip())
    except (OSError, ValueError):
        return None
