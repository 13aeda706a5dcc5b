"""Executing notebooks as runs: `flan-nb run NOTEBOOK --profile P [-p NAME VALUE ...]`.

Parameters are checked before anything runs or is written: names and types against the notebook's
`parameters` cell, values by building the notebook's config object (what its second cell does),
and the values naming files or runs against the file system (`flan_nb.params.check_files`).
The run folder `runs/<run>/` receives `params.yaml`, the executed `notebook.ipynb`, the
`metrics.json` that the notebook's `record(...)` calls fill, and a `finished` marker written last.
A finished run is never overwritten unless `--force` is given. An unfinished one (killed, preempted,
failed) is executed again in its own folder, keeping what it wrote: training resumes from its
newest checkpoint. `--force` starts it clean instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping

from flan_nb import params as params_lib
from flan_nb.errors import UserError
from flan_nb.runs import (EXECUTED_NOTEBOOK, FINISHED_MARKER, RUN_DIR_ENV, Run, is_local,
                          runs_dir)


def default_run_name(notebook: Path, profile: str, chosen_overrides: Mapping[str, Any]) -> str:
    """`<stem>-<profile>`, plus a short hash of the `-p` overrides when there are any."""
    name = f"{notebook.stem}-{profile}"
    if chosen_overrides:
        digest = hashlib.sha256(json.dumps(dict(chosen_overrides), sort_keys=True,
                                           default=str).encode()).hexdigest()[:8]
        name += f"-{digest}"
    return name


def is_finished(run_path: Path) -> bool:
    return (run_path / FINISHED_MARKER).exists()


def settings_difference(run: Run, notebook: str | Path, profile: str,
                        parameters: Mapping[str, Any]) -> str:
    """`NAME: old -> new` for the first setting (notebook, profile or a parameter) in which the
    params.yaml of `run` differs from these; "" when they match or it records none (a folder
    the book build wrote). Decides whether an unfinished run can be resumed."""
    recorded = run.params()
    if not recorded:
        return ""

    def flat(notebook, profile, parameters) -> dict[str, Any]:
        return {"notebook": Path(notebook).stem, "profile": profile, **parameters}

    old = flat(recorded.get("notebook", ""), recorded.get("profile"),
               recorded.get("parameters", {}))
    new = flat(notebook, profile, parameters)
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            return f"{key}: {old.get(key)!r} -> {new.get(key)!r}"
    return ""


def run_notebook(
    notebook: str | Path,
    profile: str = "book",
    overrides: Mapping[str, Any] | None = None,
    run_name: str | None = None,
    force: bool = False,
    progress: bool = True,
    timeout_s: int | None = None,
) -> Run:
    """Execute `notebook` with papermill into `runs/<run>/` and return the Run."""
    notebook = Path(notebook)
    chosen = params_lib.resolve_parameters(notebook, profile, overrides)
    name = run_name or default_run_name(notebook, profile, overrides or {})
    if "/" in name or name in {"", ".", ".."}:
        raise UserError(f"bad run name {name!r}: use letters, digits, '-', '_' and '.'")
    run = Run(runs_dir() / name)
    wanted = {"notebook": str(notebook), "profile": profile,
              "parameters": params_lib.all_values(notebook, chosen)}
    params_lib.check_files(wanted["parameters"], notebook.parent.resolve())
    if run.path.exists() and not force:
        if is_finished(run.path):
            raise UserError(
                f"run {name!r} already finished at {run.path}; pass --force to redo it or --name "
                f"to make another"
            )
        difference = settings_difference(run, notebook, profile, wanted["parameters"])
        if difference:
            raise UserError(
                f"run {name!r} at {run.path} is unfinished and ran with other settings "
                f"({difference}); pass --force to discard it and start again, or --name to make "
                f"another run"
            )
    import papermill  # heavy: imported only when a notebook really runs

    if run.path.exists() and force and is_local(run.path):
        shutil.rmtree(run.path)
    elif run.path.exists() and force:
        run.path.rmtree()  # a folder in a bucket (etils epath)
    elif run.path.exists():
        print(f"resuming unfinished run {name!r} in {run.path}: what it wrote is kept, and "
              f"training continues from its newest checkpoint")
    run.path.mkdir(parents=True, exist_ok=True)
    run.write_params(wanted)
    # Papermill writes the executed notebook cell by cell; into a bucket it goes at the end.
    executed = run.path / EXECUTED_NOTEBOOK
    local_copy = executed if is_local(run.path) else Path(tempfile.mkdtemp()) / EXECUTED_NOTEBOOK
    env_before = os.environ.get(RUN_DIR_ENV)
    os.environ[RUN_DIR_ENV] = str(run.path.resolve() if is_local(run.path) else run.path)
    try:
        papermill.execute_notebook(
            str(notebook), str(local_copy), parameters=chosen,
            kernel_name="python3", cwd=str(notebook.parent.resolve()), progress_bar=progress,
            execution_timeout=timeout_s,
        )
    finally:
        if env_before is None:
            os.environ.pop(RUN_DIR_ENV, None)
        else:
            os.environ[RUN_DIR_ENV] = env_before
        if local_copy != executed:
            if local_copy.exists():
                executed.write_bytes(local_copy.read_bytes())
            shutil.rmtree(local_copy.parent)
    (run.path / FINISHED_MARKER).write_text("", encoding="utf-8")
    return run


def _parse_overrides(pairs: list[list[str]] | None) -> dict[str, Any]:
    return {name: params_lib.parse_cli_value(value) for name, value in (pairs or [])}


def _cmd_run(args) -> int:
    run = run_notebook(args.notebook, args.profile, _parse_overrides(args.param),
                       run_name=args.name, force=args.force, progress=not args.quiet)
    print(f"run {run.name}: {run.path}")
    print(json.dumps(run.metrics(), indent=2, sort_keys=True))
    return 0


def _cmd_params(args) -> int:
    if args.profile is None:
        print(params_lib.describe_parameters(args.notebook))
    else:
        print(params_lib.profile_yaml(args.notebook, args.profile), end="")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("run", help="execute one notebook with a profile (papermill)")
    p.add_argument("notebook", help="notebooks/NN_slug.ipynb")
    p.add_argument("--profile", default="book",
                   help=f"parameter profile: {', '.join(params_lib.PROFILES)} (default book)")
    p.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="override one parameter (value read as YAML); repeatable")
    p.add_argument("--name", help="run name (default <stem>-<profile>[-<hash of -p>])")
    p.add_argument("--force", action="store_true",
                   help="start the run clean: redo a finished one, discard an unfinished one")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)

    p = subparsers.add_parser(
        "params", help="a notebook's parameters, or one profile's values as a papermill file")
    p.add_argument("notebook", help="notebooks/NN_slug.ipynb")
    p.add_argument("--profile", choices=params_lib.PROFILES,
                   help="print every parameter's value under this profile as YAML, for "
                        "`papermill -f FILE` (default: list names, types, defaults, comments)")
    p.set_defaults(func=_cmd_params)
