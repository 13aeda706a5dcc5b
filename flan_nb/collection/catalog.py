"""The paper's collection as a catalog: importing this module imports every cluster's module,
which registers its datasets in `flan_nb.tasks` as `flan_nb.tfds_data.TFDSDatasetSpec`s
(`flan_nb.sources` imports it). Also the paper's display names (`title`), the hand-written
TFDS-shaped example of each dataset (`sample_features`) and the README's table of the 62 datasets
(`readme_table()`). It lives beside the cluster modules, not in the package's `__init__`, so that
a cluster module importing `_common` never imports the package that imports it back.
"""


from __future__ import annotations

# Imported in the paper's cluster order (Figure 3); `in_paper_order` sorts for display, as one
# module may import another (misc uses a summarization helper) and register it earlier.
from flan_nb.collection import nli  # noqa: I001
from flan_nb.collection import commonsense
from flan_nb.collection import sentiment
from flan_nb.collection import paraphrase
from flan_nb.collection import closed_book_qa
from flan_nb.collection import struct_to_text
from flan_nb.collection import translation
from flan_nb.collection import reading_comprehension
from flan_nb.collection import rc_commonsense
from flan_nb.collection import coreference
from flan_nb.collection import misc
from flan_nb.collection import summarization
from flan_nb.collection._common import SAMPLE_FEATURES, TITLES
from flan_nb import tasks
from flan_nb.errors import UserError

# Cluster id -> the module that registers its datasets, in the paper's order (Figure 3).
CLUSTER_MODULES = {
    "nli": nli, "commonsense": commonsense, "sentiment": sentiment, "paraphrase": paraphrase,
    "closed_book_qa": closed_book_qa, "struct_to_text": struct_to_text,
    "translation": translation, "reading_comprehension": reading_comprehension,
    "reading_comprehension_with_commonsense": rc_commonsense, "coreference": coreference,
    "misc": misc, "summarization": summarization,
}


# The paper's number of datasets per cluster (Figure 3).
PAPER_DATASETS_PER_CLUSTER = {
    "nli": 7, "commonsense": 4, "sentiment": 4, "paraphrase": 4, "closed_book_qa": 3,
    "struct_to_text": 4, "translation": 8, "reading_comprehension": 5,
    "reading_comprehension_with_commonsense": 2, "coreference": 3, "misc": 7,
    "summarization": 11,
}


def cluster_count_rows() -> list[dict]:
    """Per cluster: the paper's number of datasets beside the registry's, per source."""
    return [{"cluster": display, "paper": PAPER_DATASETS_PER_CLUSTER[cluster],
             "tfds": len(tasks.all_datasets(source="tfds", cluster=cluster)),
             "tinyworld": len(tasks.all_datasets(source="tinyworld", cluster=cluster))}
            for cluster, display in tasks.CLUSTERS.items()]


def in_paper_order(specs):
    """`specs` sorted by the paper's cluster order (Figure 3), keeping their order within one."""
    order = list(tasks.CLUSTERS)
    return sorted(specs, key=lambda spec: order.index(spec.cluster))


def title(name: str) -> str:
    """The paper's display name of a collection dataset (e.g. "ANLI (R1-R3)")."""
    return TITLES.get(name, name)


def sample_features(name: str) -> dict:
    """A copy of the hand-written, TFDS-shaped feature dict of dataset `name`."""
    if name not in SAMPLE_FEATURES:
        raise UserError(f"no sample features for {name!r}: only the TFDS collection has them")
    return dict(SAMPLE_FEATURES[name])


def readme_table() -> str:
    """A Markdown table of the 62 datasets: cluster, name, TFDS name(s), how the data arrives."""
    rows = ["| cluster | dataset | name | TFDS | data |", "|---|---|---|---|---|"]
    for spec in in_paper_order(tasks.all_datasets(source="tfds")):
        names = (spec.tfds_name,) if isinstance(spec.tfds_name, str) else spec.tfds_name
        how = "manual download" if spec.manual_download else "automatic"
        rows.append(f"| {tasks.CLUSTERS[spec.cluster]} | {title(spec.name)} | `{spec.name}` | "
                    f"{', '.join(f'`{n}`' for n in names)} | {how} |")
    return "\n".join(rows)
