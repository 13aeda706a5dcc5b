"""Chapter 04 (tasks and clusters): its config, the tables of the held-out rules and of the
Figure 6 plan, the cluster map (the paper's Figure 3) and the held-out matrix. The registry and
the splits themselves are the stages' own (`flan_nb.tasks`, `flan_nb.splits`)."""

from __future__ import annotations

import dataclasses

from flan_nb import splits, tasks
from flan_nb.collection.catalog import title
from flan_nb.errors import require
from flan_nb.tinyworld import SIZES

# Colours of the twelve clusters, one hue each (the cluster map).
CLUSTER_COLOURS = dict(zip(tasks.CLUSTERS, (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#86bcb6", "#d4a6c8")))


@dataclasses.dataclass(frozen=True)
class TasksChapterConfig:
    """Parameters of notebook 04 (defaults: its parameters cell)."""

    split_source: str  # whose datasets the held-out split is drawn from: tinyworld or tfds
    held_out: str  # a cluster id
    size: str  # TinyWorld size
    seed: int

    def __post_init__(self):
        require(self.split_source in tasks.source_names(),
                f"SPLIT_SOURCE must be one of {', '.join(tasks.source_names())}, "
                f"got {self.split_source!r}")
        require(self.held_out in tasks.CLUSTERS,
                f"HELD_OUT must be a cluster id ({', '.join(tasks.CLUSTERS)}), "
                f"got {self.held_out!r}")
        require(self.size in SIZES, f"SIZE must be one of {', '.join(SIZES)}, got {self.size!r}")


def held_out_rows(source: str | None = None) -> list[dict]:
    """One row per cluster: datasets evaluated, clusters the rules remove, datasets tuned on."""
    rows = []
    for cluster in tasks.CLUSTERS:
        split = splits.held_out_split(cluster, source)
        removed = splits.excluded_clusters([cluster])
        rows.append({"held out": tasks.CLUSTERS[cluster], "eval": len(split.eval),
                     "also removed": ", ".join(tasks.CLUSTERS[c] for c in removed) or "-",
                     "excluded": len(split.excluded), "train": len(split.train)})
    return rows


def figure6_rows(source: str | None = None) -> list[dict]:
    """The Figure 6 plan as rows: the step number and what it adds, our dataset count and the
    paper's (which counts some configs, e.g. SQuAD v1/v2, as separate datasets)."""
    paper = dict(zip(splits.FIGURE6_ORDER, splits.FIGURE6_PAPER_DATASETS))
    return [{"step": splits.FIGURE6_ORDER.index(step) + 1,
             "added": splits.figure6_step_title(step),
             "train datasets": len(split.train), "paper's datasets": paper[step]}
            for step, split in splits.figure6_steps(source)]


def _dataset_label(spec: tasks.DatasetSpec) -> str:
    return title(spec.name) if spec.source == "tfds" else spec.name


def cluster_map_figure(source: str = "tfds", columns: int = 4):
    """The datasets of `source` in their 12 clusters, one box per cluster (Figure 3)."""
    import matplotlib.pyplot as plt  # lazily: see flan_nb/__init__.py

    rows = -(-len(tasks.CLUSTERS) // columns)
    fig, ax = plt.subplots(figsize=(3.1 * columns, 2.45 * rows))
    ax.set_xlim(0, columns)
    ax.set_ylim(0, rows)
    ax.axis("off")
    for i, (cluster, display) in enumerate(tasks.CLUSTERS.items()):
        x, y = i % columns, rows - 1 - i // columns
        specs = tasks.all_datasets(source=source, cluster=cluster)
        ax.add_patch(plt.Rectangle((x + 0.04, y + 0.04), 0.92, 0.92, linewidth=0,
                                   facecolor=CLUSTER_COLOURS[cluster], alpha=0.25))
        ax.text(x + 0.5, y + 0.9, f"{display} ({len(specs)})", ha="center", va="top",
                fontsize=9, fontweight="bold")
        names = [_dataset_label(s) for s in specs]
        size = 7.5 if len(names) <= 8 else 6.2
        ax.text(x + 0.5, y + 0.76, "\n".join(names), ha="center", va="top", fontsize=size,
                linespacing=1.25)
    where = "TFDS: the paper's collection" if source == "tfds" else source
    total = len(tasks.all_datasets(source=source))
    ax.set_title(f"{total} datasets in {len(tasks.CLUSTERS)} task clusters ({where})")
    fig.tight_layout()
    return fig


def held_out_matrix_figure(source: str = "tfds"):
    """Rows: the held-out cluster; columns: what happens to each cluster (evaluated, removed
    by the paper's rules, or tuned on), with the number of datasets in each cell."""
    import matplotlib.pyplot as plt  # lazily: see flan_nb/__init__.py
    from matplotlib.colors import ListedColormap  # with pyplot, lazily

    names = list(tasks.CLUSTERS)
    state = {"eval": 0, "excluded": 1, "train": 2}
    grid, counts = [], []
    for held_out in names:
        split = splits.held_out_split(held_out, source=source)
        part_of = {n: part for part, members in split.to_dict().items() for n in members}
        row, row_counts = [], []
        for cluster in names:
            members = [s.name for s in tasks.all_datasets(source=source, cluster=cluster)]
            part = part_of[members[0]] if members else "train"
            row.append(state[part])
            row_counts.append(len(members))
        grid.append(row)
        counts.append(row_counts)
    fig, ax = plt.subplots(figsize=(8.2, 6.4))
    cmap = ListedColormap(["#e15759", "#bab0ac", "#59a14f"])
    ax.imshow(grid, cmap=cmap, vmin=0, vmax=2)
    for r, row_counts in enumerate(counts):
        for c, count in enumerate(row_counts):
            ax.text(c, r, str(count), ha="center", va="center", fontsize=7, color="white")
    labels = [tasks.CLUSTERS[n] for n in names]
    ax.set_xticks(range(len(names)), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), labels, fontsize=8)
    ax.set_ylabel("held-out cluster")
    ax.set_title("Evaluated (red), removed by the rules (grey), tuned on (green)", fontsize=9)
    fig.tight_layout()
    return fig
