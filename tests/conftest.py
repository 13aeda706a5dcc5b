"""Shared fixtures. Notebook tests execute a notebook once per session with the `smoke` profile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"

# Property tests draw the same examples on every run (a seed per test), so CI on a fresh clone
# cannot fail on one rare draw that a local run never saw. `--hypothesis-profile default` draws
# fresh examples on each run.
settings.register_profile("repeatable", derandomize=True)
settings.load_profile("repeatable")

# Unit tests run on CPU; keep JAX from grabbing all memory or looking for accelerators.
os.environ.setdefault("JAX_PLATFORMS", "cpu")


@pytest.fixture(scope="session")
def smoke_runs_dir(tmp_path_factory) -> Path:
    """One runs folder for every notebook executed in this test session (so 08 finds 07's run)."""
    path = tmp_path_factory.mktemp("runs")
    os.environ["FLAN_NB_RUNS"] = str(path)
    return path


@pytest.fixture(scope="session")
def run_smoke(smoke_runs_dir):
    """`run_smoke("07_pretraining")` executes that notebook with the smoke profile (once per
    session) and returns its `flan_nb.runs.Run`; later calls return the same run."""
    from flan_nb.runner import run_notebook

    done = {}

    def _run(stem: str):
        if stem not in done:
            done[stem] = run_notebook(NOTEBOOKS / f"{stem}.ipynb", profile="smoke",
                                      progress=False, timeout_s=600)
        return done[stem]

    return _run
