"""Figures: one `savefig` that writes `figures/<chapter>/<name>.svg` deterministically.

SVGs are reproducible byte for byte (fixed hash salt, no date in the metadata), so a rebuilt book
only changes a figure when its data changed. Figures are shown inline by the notebook as usual.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.rcParams["svg.hashsalt"] = "flan-nb"
matplotlib.rcParams["figure.dpi"] = 100
matplotlib.rcParams["axes.spines.top"] = False
matplotlib.rcParams["axes.spines.right"] = False

from flan_nb.runs import repo_root  # noqa: E402

# Paper-reported numbers are drawn in this style beside ours, and labelled as the paper's.
PAPER_STYLE = {"color": "0.6", "hatch": "//", "edgecolor": "0.3"}


def figures_dir(chapter: str) -> Path:
    return repo_root() / "figures" / chapter


def savefig(fig, name: str, chapter: str) -> Path:
    """Write `fig` to figures/<chapter>/<name>.svg (deterministic) and return the path."""
    path = figures_dir(chapter) / f"{name}.svg"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
    return path
