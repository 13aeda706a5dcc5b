"""flan_nb: the tested helper package behind the FLAN notebook book.

One module per stage of the data path (see DESIGN.md), in order:
tasks (registry; sources plug in) -> templates/formats/splits -> tokenize -> mixture -> packing
-> pipeline -> model/train/checkpoint -> evaluate/decoding/metrics -> report/plotting.
Each notebook's config, figures and chapter-only helpers live in `flan_nb.chapters`.

Imports sit at the top of each module, with one measured exception: jax, flax, optax, orbax and
matplotlib cost about 0.5-2.5 s each to import (measured on the 2-core CI machine), so modules
that light commands import (`flan-nb tasks`, `show`, `split`, `params`, `results`) import them
inside the functions that need them. Importing the package plugs the data sources into the
dataset registry (`flan_nb.sources`).
"""

__version__ = "0.1.0"

from flan_nb import sources  # noqa: E402,F401 - fills flan_nb.tasks' registry (see sources)
