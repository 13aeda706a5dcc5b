"""A fake notebooks/ folder for plan and publishing tests (imported by the tests that need it)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import nbformat

from flan_nb import results


def notebook_workspace(tmp_path: Path, monkeypatch, notebook: str, parameters: str, *,
                       more_cells: tuple[str, ...] = (),
                       profile_yaml: str | Mapping[str, str] = "{}\n") -> Path:
    """tmp_path/notebooks with one notebook (its `parameters` cell, then `more_cells`) and the
    three profiles (each `profile_yaml`, or its entry when a mapping by profile); runs and
    results go under tmp_path. Returns the notebooks folder."""
    nb_dir = tmp_path / "notebooks"
    (nb_dir / "params").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
                *(nbformat.v4.new_code_cell(source) for source in more_cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, nb_dir / notebook)
    for profile in ("smoke", "book", "tpu_full"):
        text = profile_yaml if isinstance(profile_yaml, str) else profile_yaml[profile]
        (nb_dir / "params" / f"{profile}.yaml").write_text(text)
    monkeypatch.setenv("FLAN_NB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path / "results"))
    return nb_dir
