"""The data sources behind `flan_nb.tasks`, plugged in when the package is imported.

Each source registers its own loader and datasets when its module is imported: TinyWorld
(`flan_nb.tinyworld.source`, generated offline) and TFDS (`flan_nb.tfds_data`'s loader, with the
paper's 62 datasets from `flan_nb.collection`). `flan_nb/__init__.py` imports this module, and
Python runs a package's `__init__` before any of its modules, so the registry is full whoever
reads it first, while `tasks` imports no source: the dependencies point one way (source ->
registry) and a new source is one import line here. The price is paid once per process: making
every spec (importing TinyWorld's generators and the collection's templates; not TFDS or
TensorFlow, which load only with data) adds about 0.1 s to `import flan_nb` on the 2-core machine.
"""

from __future__ import annotations

# Registration order is the registry's order: TinyWorld's datasets, then the paper's.
from flan_nb.tinyworld import source as tinyworld_source  # noqa: I001
from flan_nb.collection import catalog as collection_catalog

__all__ = ["collection_catalog", "tinyworld_source"]
