"""One module per notebook: its config class, its figures and its chapter-only helpers.

Naming rule: notebook `notebooks/NN_slug.ipynb` has its code in `flan_nb/chapters/chNN_slug.py`
(`01_bpe` -> `ch01_bpe`; a module name cannot start with a digit). Code two chapters share lives
in a module named for what it holds (`training`: chapters 07 and 08). Stage modules (tasks,
templates, tokenize, mixture, packing, pipeline, model, train, checkpoint, ...) never import a
chapter; a chapter imports the stages it shows.

A config class has one field per notebook parameter and no defaults: the notebook's `parameters`
cell is the one home of each default (the `book` profile). `book_config` builds a config from
those defaults, for tests and tools that need one outside the notebook.
"""

from __future__ import annotations

from typing import Any

from flan_nb import params
from flan_nb.runs import repo_root


def book_config(notebook: str, **changes: Any):
    """The config notebook `notebook` (a stem, e.g. "08_instruction_tuning") builds from its
    parameters cell, with `changes` (field names, e.g. `num_steps=5`) applied; a UserError for a
    bad value, as in the notebook. File-system checks (BASE_RUN, CORPUS files) are not run."""
    path = repo_root() / "notebooks" / f"{notebook}.ipynb"
    values = params.all_values(path, {name.upper(): value for name, value in changes.items()})
    return params.build_config(path, values)
