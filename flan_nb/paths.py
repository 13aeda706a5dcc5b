"""Where things are: the book's root, the runs folder, and local or bucket paths.

The lowest layer of the run-folder code: `flan_nb.params` resolves parameter paths against the
book root and `flan_nb.runs` lays out run folders under `runs_dir()` with the file names defined
here (and re-exported by `flan_nb.runs`, the run-folder API); both import this module,
which imports neither (so neither imports the other through it).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Union

from flan_nb.errors import UserError

RUNS_ENV = "FLAN_NB_RUNS"

# The run folder's layout, `<runs_dir()>/<run>/`: every name a module writes or reads there.
# Defined here, the lowest layer, because `flan_nb.params` checks run folders before a run and
# `flan_nb.runs` (which imports params to name run folders) cannot be imported by it; everyone
# else imports them from `flan_nb.runs`.
PARAMS_FILE = "params.yaml"  # the parameters it ran with (written before anything runs)
METRICS_FILE = "metrics.json"  # what the notebook's `record(...)` calls stored
EXECUTED_NOTEBOOK = "notebook.ipynb"  # the notebook with its outputs (`flan-nb run`)
FINISHED_MARKER = "finished"  # written last by `flan-nb run`: the run completed
FINGERPRINT_FILE = "notebook.sha256"  # the notebook code a plan ran (see flan_nb.plans)
KERNEL_LOG = "kernel_stderr.log"  # what the kernel of a plan's run wrote to stderr
WALL_TIME_FILE = "wall_seconds.txt"  # a plan's run's wall time (read by published provenance)
FIGURES_DIR = "figures"  # figures/<chapter>/<name>.svg (flan_nb.plotting)
CHECKPOINTS_DIR = "checkpoints"  # its checkpoints; their own layout is flan_nb.checkpoint's


def repo_root() -> Path:
    """The repository (book) root: the nearest parent holding `_config.yml` and `flan_nb/`."""
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "_config.yml").is_file() and (candidate / "flan_nb").is_dir():
            return candidate
    # Installed outside a checkout: fall back to the package's own parent.
    return Path(__file__).resolve().parent.parent


# A local path, or an etils `epath.Path` for a cloud URL (same methods: read_text, write_text,
# exists, mkdir, rmtree, stat, ...).
AnyPath = Union[Path, "epath.Path"]  # noqa: F821


def as_path(location: str | os.PathLike) -> AnyPath:
    """`gs://...` (any `scheme://`) as an etils Path, anything else as a `pathlib.Path`.

    A `pathlib.Path` made from a URL has lost a slash ("gs:/bucket"); it is put back.
    """
    text = os.fspath(location)
    scheme, sep, rest = text.partition(":/")
    if sep and scheme.isalpha() and len(scheme) > 1:
        from etils import epath  # on use: only a bucket URL needs it (this is the lowest layer)

        _check_bucket_support(scheme)
        return epath.Path(f"{scheme}://{rest.lstrip('/')}")
    return Path(text)


def _check_bucket_support(scheme: str) -> None:
    """epath reaches a bucket through fsspec (gcsfs for gs://) or TensorFlow: say which extra
    brings it, instead of an ImportError at the first file operation."""
    try:
        import fsspec  # optional: the except below names the extra that brings it

        fsspec.get_filesystem_class("gcs" if scheme == "gs" else scheme)
    except (ImportError, ValueError):
        if importlib.util.find_spec("tensorflow") is None:
            hint = "pip install -e '.[tpu]' (it brings gcsfs)" if scheme == "gs" else \
                f"install fsspec's file system for {scheme}://"
            raise UserError(f"{scheme}:// paths need a file system library: {hint}") from None


def is_local(path: AnyPath) -> bool:
    """Is `path` on this machine's file system (where renames are atomic), whatever its type?
    A path in a bucket is a URL."""
    return "://" not in os.fspath(path)


def modified_time(path: AnyPath) -> float:
    """When `path` was last written (seconds since the epoch; whole seconds in a bucket)."""
    return os.stat(path).st_mtime if is_local(path) else float(path.stat().mtime)


def runs_dir() -> AnyPath:
    """The folder holding all runs (`$FLAN_NB_RUNS`, default `<repo>/runs`)."""
    env = os.environ.get(RUNS_ENV)
    return as_path(env) if env else repo_root() / "runs"
