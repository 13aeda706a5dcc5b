"""Chapter 05 (instruction templates and prompt formats): its config and the figure of one
example through all its templates (the paper's Figure 4). The formats it shows are the stage's
own (`flan_nb.templates`, `flan_nb.formats`)."""

from __future__ import annotations

import dataclasses
import textwrap
from typing import Sequence

from flan_nb import tasks
from flan_nb.collection.catalog import SAMPLE_FEATURES
from flan_nb.errors import require
from flan_nb.formats import TOKEN_COUNTERS
from flan_nb.templates import Rendered, options_text


@dataclasses.dataclass(frozen=True)
class TemplatesChapterConfig:
    """Parameters of notebook 05 (defaults: its parameters cell)."""

    dataset: str  # a TinyWorld dataset (tw_*)
    size: str  # TinyWorld size
    split: str
    example_index: int
    tfds_dataset: str  # a dataset of the paper's collection, shown from its sample features
    num_shots: int
    tokenizer: str  # what counts few-shot tokens (flan_nb.formats.TOKEN_COUNTERS)
    vocab_size: int
    max_input_tokens: int
    budgets: tuple[int, ...]  # token budgets for the pruning table
    num_eval_examples: int
    seed: int

    def __post_init__(self):
        spec = tasks.get(self.dataset)
        require(spec.source == "tinyworld",
                f"DATASET must be a TinyWorld dataset (tw_*), got {self.dataset!r}")
        require(self.split in ("train", "validation", "test"),
                f"SPLIT must be train, validation or test, got {self.split!r}")
        require(self.example_index >= 0, f"EXAMPLE_INDEX must be >= 0, got {self.example_index}")
        require(self.tfds_dataset in SAMPLE_FEATURES,
                f"TFDS_DATASET must be a dataset of the paper's collection (see `flan-nb tasks "
                f"--source tfds`), got {self.tfds_dataset!r}")
        require(self.num_shots >= 0, f"NUM_SHOTS must be >= 0, got {self.num_shots}")
        require(self.tokenizer in TOKEN_COUNTERS,
                f"TOKENIZER must be one of {', '.join(TOKEN_COUNTERS)}, got {self.tokenizer!r}")
        require(self.vocab_size >= 100, f"VOCAB_SIZE must be >= 100, got {self.vocab_size}")
        require(self.max_input_tokens >= 1,
                f"MAX_INPUT_TOKENS must be >= 1, got {self.max_input_tokens}")
        require(len(self.budgets) > 0 and all(int(b) >= 1 for b in self.budgets),
                f"BUDGETS must be a non-empty list of positive token counts, got {self.budgets}")
        require(self.num_eval_examples >= 1,
                f"NUM_EVAL_EXAMPLES must be >= 1, got {self.num_eval_examples}")
        object.__setattr__(self, "budgets", tuple(int(b) for b in self.budgets))


def templates_figure(rendered: Sequence[Rendered], turned: Sequence[bool], title: str,
                     width: int = 48, max_lines: int = 10):
    """One example through each of its templates (the paper's Figure 4), two columns of boxes:
    the inputs, then the target; turned-around templates are marked."""
    import matplotlib.pyplot as plt  # lazily: see flan_nb/__init__.py

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
