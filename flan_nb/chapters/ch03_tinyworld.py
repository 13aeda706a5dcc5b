"""Chapter 03 (TinyWorld): its config, tables, figures and checks.

The notebook imports these so that its cells stay short: statistics of a world and its corpus,
one rendered example per cluster, the datasets-per-cluster figure beside the paper's counts, the
sanity-floor table and figure, and the solver's agreement with every label.
"""

from __future__ import annotations

import collections
import dataclasses

import numpy as np

from flan_nb import tasks
from flan_nb.errors import require
from flan_nb.plotting import PAPER_STYLE
from flan_nb.tasks import CLUSTERS
from flan_nb.tinyworld import solver
from flan_nb.tinyworld.world import SIZES


@dataclasses.dataclass(frozen=True)
class TinyWorldChapterConfig:
    """Parameters of notebook 03 (defaults: its parameters cell)."""

    seed: int
    size: str
    num_sample_documents: int
    sample_seed: int
    floor_split: str

    def __post_init__(self):
        require(isinstance(self.seed, int), f"SEED must be an integer, got {self.seed!r}")
        require(self.size in SIZES, f"SIZE must be one of {', '.join(SIZES)}, got {self.size!r}")
        require(1 <= self.num_sample_documents <= 20,
                f"NUM_SAMPLE_DOCUMENTS must be 1..20, got {self.num_sample_documents}")
        require(self.floor_split in ("validation", "test"),
                f"FLOOR_SPLIT must be 'validation' or 'test', got {self.floor_split!r}")


def corpus_composition(labelled: list[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """kind -> {"documents": n, "words": n}, largest share first."""
    table: dict[str, dict[str, int]] = collections.defaultdict(lambda: {"documents": 0,
                                                                        "words": 0})
    for kind, text in labelled:
        table[kind]["documents"] += 1
        table[kind]["words"] += len(text.split())
    return dict(sorted(table.items(), key=lambda kv: -kv[1]["words"]))


def sample_documents(labelled, kinds, rng) -> list[tuple[str, str]]:
    """One document of each of `kinds`, picked with `rng` (a random.Random)."""
    picked = []
    for kind in kinds:
        pool = [text for k, text in labelled if k == kind]
        if pool:
            picked.append((kind, rng.choice(pool)))
    return picked


def one_example_per_cluster(tw, split: str = "validation", template: int = 0) -> list[dict]:
    """The first dataset of each cluster, its first example rendered through `template`."""
    rows = []
    for cluster in tasks.CLUSTERS:
        spec = tasks.all_datasets(source="tinyworld", cluster=cluster)[0]
        example = tw.datasets[spec.name][split][0]
        rendered = spec.render(example, template)
        rows.append({"cluster": cluster, "dataset": spec.name, "inputs": rendered.inputs,
                     "targets": rendered.targets})
    return rows


def per_cluster_counts(tw) -> dict[str, dict[str, int]]:
    """cluster -> TinyWorld datasets, TinyWorld examples, and the paper's datasets (if the real
    collection is registered)."""
    counts = {}
    for cluster in tasks.CLUSTERS:
        ours = tasks.all_datasets(source="tinyworld", cluster=cluster)
        counts[cluster] = {
            "datasets": len(ours),
            "examples": sum(len(rows) for s in ours for rows in tw.datasets[s.name].values()),
            "paper_datasets": len(tasks.all_datasets(source="tfds", cluster=cluster)),
        }
    return counts


def plot_clusters(counts: dict[str, dict[str, int]]):
    """Bars: datasets per cluster (TinyWorld and the paper's) and examples per cluster."""
    import matplotlib.pyplot as plt  # lazily: see flan_nb/__init__.py

    clusters = list(counts)
    y = np.arange(len(clusters))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.6), sharey=True)
    left.barh(y - 0.2, [counts[c]["datasets"] for c in clusters], 0.4, label="TinyWorld")
    if any(counts[c]["paper_datasets"] for c in clusters):
        left.barh(y + 0.2, [counts[c]["paper_datasets"] for c in clusters], 0.4,
                  label="paper (FLAN, Figure 3)", **PAPER_STYLE)
    left.set_yticks(y, [CLUSTERS.get(c, c) for c in clusters])
    left.invert_yaxis()
    left.set_xlabel("datasets")
    left.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8,
                frameon=False)
    right.barh(y, [counts[c]["examples"] for c in clusters], color="tab:green")
    right.set_xlabel("TinyWorld examples (all splits)")
    fig.tight_layout()
    return fig


def plot_floors(table: dict[str, dict[str, float]]):
    """Bars per classification dataset: random, majority and bag-of-words probe accuracy."""
    import matplotlib.pyplot as plt  # lazily: see flan_nb/__init__.py

    names = list(table)
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(names) + 1.2))
    for offset, key, colour in ((-0.27, "random", "0.75"), (0.0, "majority", "tab:blue"),
                                (0.27, "bow_probe", "tab:red")):
        ax.barh(y + offset, [table[n][key] for n in names], 0.27, color=colour,
                label=key.replace("_", " "))
    hyp = [(i, table[n]["hypothesis_only"]) for i, n in enumerate(names)
           if "hypothesis_only" in table[n]]
    if hyp:
        ax.scatter([v for _, v in hyp], [i for i, _ in hyp], marker="D", color="black",
                   zorder=3, label="hypothesis only")
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("accuracy")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def solver_agreement(tw, split: str = "validation") -> dict[str, float]:
    """Per dataset, the share of `split` the independent solver agrees with (1.0 = all)."""
    return {name: solver.accuracy(name, splits[split], tw.world)
            for name, splits in tw.datasets.items()}
