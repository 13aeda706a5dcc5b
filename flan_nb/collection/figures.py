"""Figures of chapters 04 and 05, drawn from the registry: the cluster map (the paper's Figure 3),
the held-out rules as a matrix, and one example through all its templates (Figure 4).

Matplotlib is imported inside the functions; each returns the figure for `flan_nb.plotting.savefig`.
"""

from __future__ import annotations

import textwrap
from typing import Sequence

from flan_nb import splits, tasks
from flan_nb.collection import title
from flan_nb.templates import Rendered, options_text

# Colours of the twelve clusters, one hue each (the map, the matrix and chapter 05 share them).
CLUSTER_COLOURS = dict(zip(tasks.CLUSTERS, (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#86bcb6", "#d4a6c8")))


def _dataset_label(spec: tasks.DatasetSpec) -> str:
    return title(spec.name) if spec.source == "tfds" else spec.name


def cluster_map_figure(source: str = "tfds", columns: int = 4):
    """The datasets of `source` in their 12 clusters, one box per cluster (Figure 3)."""
    import matplotlib.pyplot as plt

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
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

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


def templates_figure(rendered: Sequence[Rendered], turned: Sequence[bool], title: str,
                     width: int = 48, max_lines: int = 10):
    """One example through each of its templates (the paper's Figure 4), two columns of boxes:
    the inputs, then the target; turned-around templates are marked."""
    import matplotlib.pyplot as plt

    rows = -(-len(rendered) // 2)
    fig, axes = plt.subplots(rows, 2, figsize=(11, 2.05 * rows))
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(rendered):
            continue
        inputs = rendered[i].inputs
        if rendered[i].options:  # one line for the options block, to keep the boxes small
            inputs = inputs.replace(options_text(rendered[i].options),
                                    "OPTIONS: " + " | ".join(rendered[i].options))
        lines = [line for part in inputs.split("\n")
                 for line in (textwrap.wrap(part, width) or [""])]
        if len(lines) > max_lines:
            lines = lines[: max_lines - 1] + ["[...]"]
        mark = " (turned around)" if turned[i] else ""
        ax.set_title(f"template {i}{mark}", fontsize=8, loc="left",
                     color="#b07aa1" if turned[i] else "black")
        ax.text(0.0, 1.0, "\n".join(lines), va="top", ha="left", fontsize=6.8,
                family="monospace", transform=ax.transAxes)
        target = textwrap.shorten(rendered[i].targets, width=width + 10)
        ax.text(0.0, 0.0, f"-> {target}", va="bottom", ha="left", fontsize=7,
                fontweight="bold", transform=ax.transAxes, color="#4e79a7")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
