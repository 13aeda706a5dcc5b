"""The data sources behind `flan_nb.tasks`, loaded by the registry on its first lookup.

Each source module defines its loader and its datasets' specs, and this module registers them,
in order, when it is imported: TinyWorld
(`flan_nb.tinyworld.source`, generated offline) and TFDS (`flan_nb.tfds_data`'s loader, with the
paper's 62 datasets from `flan_nb.collection.catalog`). The installed package names this module
as its `flan_nb.sources` entry point (pyproject.toml) and `flan_nb.tasks` loads it from there, so
`tasks` imports no source and no module imports the registry back through the package: the
dependencies point one way (source -> registry), and a new source is one import line here. The
price is paid once per process, at the first lookup: making every spec (TinyWorld's generators
and the collection's templates; not TFDS or TensorFlow, which load only with data) takes about
0.1 s here.
"""

from __future__ import annotations

from flan_nb import tasks, tfds_data
from flan_nb.collection import _common as collection_specs
from flan_nb.collection import catalog  # noqa: F401 - imports every cluster module, making its specs
from flan_nb.tinyworld import source as tinyworld_source

# Registration order is the registry's order: TinyWorld's datasets, then the paper's.
tasks.register_source(tinyworld_source.SOURCE)
for _spec in tinyworld_source.specs():
    tasks.register(_spec)
for _spec in tinyworld_source.variant_specs():
    tasks.register(_spec, variant=True)
for _spec in tinyworld_source.cot_specs():
    tasks.register(_spec, variant=True)
tasks.register_source(tfds_data.SOURCE)
for _spec in collection_specs.SPECS:
    tasks.register(_spec)
