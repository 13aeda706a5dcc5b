"""flan_nb: the tested helper package behind the FLAN notebook book.

One module per stage of the data path (see DESIGN.md):
tasks/templates -> tokenize -> mixture -> packing -> model/train -> evaluate -> plotting.
"""

__version__ = "0.1.0"
