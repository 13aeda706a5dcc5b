"""Figures: one `savefig` that writes `figures/<chapter>/<name>.svg` deterministically.

SVGs are reproducible byte for byte (fixed hash salt, no date in the metadata), so a rebuilt book
only changes a figure when its data changed. Figures are shown inline by the notebook as usual.
`figures/` holds the book's figures and only the book build writes them (`make book` sets
`FLAN_NB_BOOK_BUILD=1`). A notebook executed any other way (`flan-nb run`, plain papermill,
Jupyter) writes its figures into its own run folder, `runs/<run>/figures/<chapter>/`, and leaves
the tracked ones untouched. Figures draw no timings, dates or machine details (the notebooks print
those), so the book build redraws a figure byte for byte unless its data changed.
"""

from __future__ import annotations

import matplotlib

matplotlib.rcParams["svg.hashsalt"] = "flan-nb"
matplotlib.rcParams["figure.dpi"] = 100
matplotlib.rcParams["axes.spines.top"] = False
matplotlib.rcParams["axes.spines.right"] = False

import io  # noqa: E402
import os  # noqa: E402
from typing import Mapping  # noqa: E402

import numpy as np  # noqa: E402

from flan_nb.runs import (  # noqa: E402
    BOOK_BUILD_ENV, FIGURES_DIR, RUN_DIR_ENV, active_run, as_path, repo_root, runs_dir)
from flan_nb.sharding import is_primary  # noqa: E402

# Paper-reported numbers are drawn in this style beside ours, and labelled as the paper's.
PAPER_STYLE = {"color": "0.6", "hatch": "//", "edgecolor": "0.3"}


def figures_dir(chapter: str):
    """`<run>/figures/<chapter>` for the notebook's run; `figures/<chapter>` in the book build."""
    run_dir = os.environ.get(RUN_DIR_ENV)
    if run_dir:
        return as_path(run_dir) / FIGURES_DIR / chapter
    if os.environ.get(BOOK_BUILD_ENV):
        return repo_root() / FIGURES_DIR / chapter
    run = active_run()
    base = run.path if run is not None else runs_dir() / chapter
    return base / FIGURES_DIR / chapter


def savefig(fig, name: str, chapter: str):
    """Write `fig` to figures/<chapter>/<name>.svg (deterministic; process 0 of a multi-host job)
    and return the path."""
    path = figures_dir(chapter) / f"{name}.svg"
    if not is_primary():  # another host of the job writes it
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()  # matplotlib writes local files only; a run may live in a bucket
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    path.write_bytes(buffer.getvalue())
    return path

# The book's map (chapter 00): each stage of the data path, its module, and its chapter.
DATA_PATH = [
    ("raw examples", "TinyWorld generator | TFDS", "flan_nb.tasks, flan_nb.tinyworld", "03, 04"),
    ("instruction templates", "(inputs, targets, options) text", "flan_nb.templates", "05"),
    ("token ids", "BPE from scratch, SentencePiece", "flan_nb.bpe, flan_nb.tokenize", "01, 02"),
    ("mixture", "examples-proportional, capped, seeded", "flan_nb.mixture", "06"),
    ("packed batches", "segments, positions, loss mask", "flan_nb.packing", "06"),
    ("decoder-only LM", "Flax NNX + Adafactor, sharded", "flan_nb.model, flan_nb.train", "07, 08"),
    ("checkpoints", "Orbax, resumable", "flan_nb.checkpoint", "07, 08"),
    ("scores", "rank classification, decoding, metrics", "flan_nb.evaluate", "09"),
    ("figures", "runs/<run>/metrics.json -> figures/", "flan_nb.plotting", "all"),
]


def draw_data_path():
    """The data path of the book as a vertical flow chart (chapter 00's map)."""
    # pyplot on use: its first import builds a font cache (see flan_nb/__init__)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 6.4))
    ax.set_axis_off()
    n = len(DATA_PATH)
    for i, (stage, detail, module, chapters) in enumerate(DATA_PATH):
        y = n - 1 - i
        ax.add_patch(plt.Rectangle((0, y - 0.35), 4.2, 0.7, facecolor="#e8eef7",
                                   edgecolor="#4a6fa5"))
        ax.text(0.15, y + 0.08, stage, fontsize=10, weight="bold", va="center")
        ax.text(0.15, y - 0.17, detail, fontsize=8, va="center", color="0.25")
        ax.text(4.4, y + 0.08, module, fontsize=8.5, family="monospace", va="center")
        ax.text(4.4, y - 0.17, f"chapter {chapters}", fontsize=8, va="center", color="0.35")
        if i < n - 1:
            ax.annotate("", xy=(2.1, y - 0.62), xytext=(2.1, y - 0.36),
                        arrowprops={"arrowstyle": "->", "color": "#4a6fa5"})
    ax.set_xlim(-0.1, 8.2)
    ax.set_ylim(-0.6, n - 0.4)
    return fig


def grouped_bars(ax, centers, width, series):
    """Draw grouped bars: series = [(label, values, errors|None, style)]; an error is a
    (below, above) pair (asymmetric, e.g. a confidence interval) or None."""
    n = len(series)
    for i, (label, values, errors, style) in enumerate(series):
        x = np.asarray(centers) + (i - (n - 1) / 2) * width
        present = [v is not None for v in values]
        yerr = None
        if errors is not None:
            kept = [e for e, p in zip(errors, present) if p]
            yerr = np.array(kept, dtype=float).T if kept else None  # (2, bars)
        ax.bar(x[present], [v for v in values if v is not None], width, label=label,
               yerr=yerr, capsize=3, **style)


def ci_error(interval: Mapping[str, float] | None) -> tuple[float, float] | None:
    """(below, above) error-bar lengths of a published `{mean, ci_low, ci_high}`."""
    if interval is None:
        return None
    return (interval["mean"] - interval["ci_low"], interval["ci_high"] - interval["mean"])
