"""flan_nb: the tested helper package behind the FLAN notebook book.

One module per stage of the data path (see DESIGN.md):
tasks/templates -> tokenize -> mixture -> packing -> model/train -> evaluate -> plotting.
Importing the package plugs the data sources into the dataset registry (`flan_nb.sources`).
"""

__version__ = "0.1.0"

from flan_nb import sources  # noqa: E402,F401 - fills flan_nb.tasks' registry (see sources)
