"""The paper's collection: 62 TFDS datasets in 12 clusters, registered in `flan_nb.tasks`.

Importing this package registers every dataset (`flan_nb.tasks` imports it lazily, the first time
the registry is read). One module per cluster; `_common` holds the helpers they share.
"""

from __future__ import annotations

import importlib

# One module per cluster, in the paper's order (Figure 3).
CLUSTER_MODULES = (
    "nli", "commonsense", "sentiment", "paraphrase", "closed_book_qa", "struct_to_text",
    "translation", "reading_comprehension", "rc_commonsense", "coreference", "misc",
    "summarization",
)

for _module in CLUSTER_MODULES:
    try:
        importlib.import_module(f"{__name__}.{_module}")
    except ModuleNotFoundError as _err:
        if _err.name != f"{__name__}.{_module}":  # a real import error inside the module
            raise
