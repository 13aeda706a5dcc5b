"""flan_nb: the tested helper package behind the FLAN notebook book.

One module per stage of the data path (see DESIGN.md), in order:
tasks (registry; sources plug in) -> templates/formats/splits -> tokenize -> mixture -> packing
-> pipeline -> model/train/checkpoint -> evaluate/decoding/metrics -> report/plotting.
Each notebook's config, figures and chapter-only helpers live in `flan_nb.chapters`.

Imports sit at the top of each module, with measured exceptions (`python -c "import X"` on
the shared 2-core machine: jax 2.2 s, flax.nnx 2.8 s, optax 2.2 s, orbax 2.5 s, rouge_score
1.0 s, matplotlib.pyplot 0.85 s; later, warm: scipy.stats 0.5 s, papermill 0.3 s). Modules
that light commands import (`flan-nb tasks`, `show`, `split`, `params`) or that reading results
imports (`flan_nb.results` -> evaluate, stats) import these libraries inside the functions that
need them, each such import with a comment saying why; so does `flan_nb.checkpoint` for
`flan_nb.model` (jax, flax), and `flan_nb.paths` for etils/fsspec (only bucket URLs need them).
matplotlib.pyplot is imported inside each plotting function: on a fresh machine its import also
starts `fc-list` to build a font cache, which the assignment grader's sandbox refuses when it
imports a chapter module to check a forbidden function.

The dataset registry (`flan_nb.tasks`) loads the data sources on first use (`flan_nb.sources`).
"""

__version__ = "0.1.0"
