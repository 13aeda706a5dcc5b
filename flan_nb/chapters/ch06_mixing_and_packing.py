"""Chapter 06 (mixing and packing): its config, the mixing rates beside the paper's, and the
figures of rates, padding and a packed batch. The mixture, the packers and the pipeline are the
stages' own (`flan_nb.mixture`, `flan_nb.packing`, `flan_nb.pipeline`)."""

from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

from flan_nb import mixture as mixture_lib
from flan_nb import packing
from flan_nb.errors import require
from flan_nb.packing import attention_mask
from flan_nb.tinyworld.datasets import BY_NAME


@dataclasses.dataclass(frozen=True)
class MixingChapterConfig:
    """Parameters of notebook 06 (defaults: its parameters cell)."""
    size: str  # TinyWorld size
    data_seed: int
    mix_seed: int
    rate_cap: int  # examples-proportional mixing, rate = min(examples, cap)
    max_examples: int  # training examples per dataset
    temperature: float
    vocab_size: int
    max_input_length: int
    max_target_length: int
    batch_size: int
    num_samples: int
    num_batches: int
    max_open_rows: int
    paper_input_length: int
    paper_target_length: int

    def __post_init__(self):
        for name in ("rate_cap", "max_examples", "vocab_size", "batch_size", "num_samples",
                     "num_batches", "max_open_rows"):
            value = getattr(self, name)
            require(isinstance(value, int) and value >= 1,
                    f"{name.upper()} must be a positive integer, got {value!r}")
        for name in ("max_input_length", "max_target_length", "paper_input_length",
                     "paper_target_length"):
            value = getattr(self, name)
            require(isinstance(value, int) and value >= 2,
                    f"{name.upper()} must be an integer >= 2 (a token and its EOS), "
                    f"got {value!r}")
        require(self.temperature > 0, f"TEMPERATURE must be > 0, got {self.temperature}")

    @property
    def seq_length(self) -> int:
        return self.max_input_length + self.max_target_length


@dataclasses.dataclass(frozen=True)
class RateRow:
    """One TinyWorld dataset next to the real dataset it mirrors: sizes and mixing rates."""

    name: str
    mirrors: str
    real_train: int  # the real dataset's training examples
    paper_rate: float  # its share at paper scale: min(real, 30,000, 3,000), normalised
    train: int  # TinyWorld's training examples
    rate: float  # TinyWorld's share with the book's caps


def rates_next_to_paper(num_examples: Mapping[str, int], *, rate_cap: int | None,
                        max_examples: int | None, temperature: float = 1.0) -> list[RateRow]:
    """TinyWorld's mixing rates (with the given caps) beside the paper-scale rates of the real
    datasets they mirror (the paper's caps, 3,000 and 30,000), largest real dataset first."""
    unknown = sorted(set(num_examples) - set(BY_NAME))
    require(not unknown, f"not TinyWorld datasets (no real size to compare): {unknown}")
    paper = mixture_lib.mixing_rates({n: BY_NAME[n].real_train for n in num_examples})
    ours = mixture_lib.mixing_rates(num_examples, rate_cap, max_examples, temperature)
    rows = [RateRow(n, BY_NAME[n].mirrors, BY_NAME[n].real_train, paper[n], num_examples[n],
                    ours[n]) for n in num_examples]
    return sorted(rows, key=lambda r: (-r.real_train, r.name))


def plot_rates(before: Mapping[str, float], after: Mapping[str, float],
               labels: tuple[str, str] = ("without caps", "with caps")):
    """Figure: mixing rate per dataset, two bars each, datasets sorted by the first rate."""
    import matplotlib.pyplot as plt  # lazily: see flan_nb/__init__.py

    names = sorted(before, key=before.get)
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7, 0.22 * len(names) + 1.2))
    ax.barh(y + 0.2, [before[n] for n in names], 0.4, label=labels[0], color="0.65")
    ax.barh(y - 0.2, [after[n] for n in names], 0.4, label=labels[1], color="C0")
    ax.set_yticks(y, names, fontsize=7)
    ax.set_xlabel("share of the mixture")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def plot_padding(table: Mapping[str, Mapping[str, packing.PackStats]]):
    """Figure: padding fraction of each packer at each length setting."""
    import matplotlib.pyplot as plt  # lazily: see flan_nb/__init__.py

    labels = list(table)
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for i, name in enumerate(packing.PACKERS):
        values = [100 * table[label][name].pad_fraction for label in labels]
        bars = ax.bar(x + (i - 0.5) * 0.38, values, 0.38, label=name.replace("_", "-"))
        ax.bar_label(bars, fmt="%.1f%%", fontsize=8)
    ax.set_xticks(x, labels)
    ax.set_ylabel("padding (% of positions)")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_packed_batch(batch: dict[str, np.ndarray], row: int = 0,
                      bidirectional_prefix: bool = True, num_segments: int = 2):
    """Figure: the batch's segment ids (rows x positions) and, for row `row`, the attention
    mask over its first `num_segments` segments (zoomed so the causal part is visible)."""
    import matplotlib.pyplot as plt  # lazily: see flan_nb/__init__.py
    from matplotlib.colors import ListedColormap  # with pyplot, lazily

    ids = batch["decoder_segment_ids"]  # (rows, seq)
    mask = attention_mask(ids[row:row + 1], batch["decoder_causal_attention"][row:row + 1],
                          bidirectional_prefix)[0, 0]  # (seq, seq)
    shown = int(np.flatnonzero((ids[row] > 0) & (ids[row] <= num_segments)).max()) + 1
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2),
                                      gridspec_kw={"width_ratios": [1.6, 1]})
    colours = ListedColormap(np.vstack([[1, 1, 1, 1], plt.get_cmap("tab10")(np.arange(10))]))
    left.imshow(np.where(ids > 0, (ids - 1) % 10 + 1, 0), cmap=colours, vmin=0, vmax=10,
                aspect="auto", interpolation="nearest")
    left.set(xlabel="position", ylabel="row", title="segment of each token (white: padding)")
    right.imshow(mask[:shown, :shown], cmap="Greys", interpolation="nearest")
    kind = "prefix both ways" if bidirectional_prefix else "causal"
    right.set(xlabel="key position", ylabel="query position",
              title=f"row {row}, first {num_segments} segments ({kind})")
    fig.tight_layout()
    return fig
