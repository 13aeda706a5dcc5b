"""What chapters 07 (pretraining) and 08 (instruction tuning) share: the training settings every
training notebook exposes as parameters, and the figures of a training run.

`TrainingSettings` is one type: both chapter configs extend it with their own data and model
fields, so a training parameter is declared, checked and turned into a `flan_nb.train.TrainConfig`
in one place.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from flan_nb.errors import require
from flan_nb.plotting import PAPER_STYLE
from flan_nb.sharding import check_mesh_sizes
from flan_nb.train import TrainConfig


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """The training parameters of a training notebook (defaults: its parameters cell)."""

    seed: int  # data order, initialisation, dropout
    dropout_rate: float
    seq_length: int  # packed sequence length
    batch_tokens: int  # tokens per update (= batch_size x seq_length)
    grad_accum_steps: int  # microbatches per update
    num_steps: int  # optimizer updates
    learning_rate: float  # Adafactor, constant
    checkpoint_every: int  # steps between checkpoints (and one at the end)
    mesh_data: int  # mesh axis sizes (-1: the remaining devices)
    mesh_fsdp: int
    mesh_tensor: int

    def __post_init__(self):
        check_mesh_sizes(self.mesh_data, self.mesh_fsdp, self.mesh_tensor)
        require(0.0 <= self.dropout_rate < 1.0,
                f"DROPOUT_RATE must be in [0, 1), got {self.dropout_rate}")
        self.train_config()

    def train_config(self, **extra) -> TrainConfig:
        """These settings as the trainer's config; `extra`: TrainConfig fields a chapter adds."""
        return TrainConfig(num_steps=self.num_steps, batch_tokens=self.batch_tokens,
                           seq_length=self.seq_length, grad_accum_steps=self.grad_accum_steps,
                           learning_rate=self.learning_rate, seed=self.seed,
                           checkpoint_every=self.checkpoint_every,
                           log_every=max(1, min(10, self.num_steps // 20)),
                           mesh_data=self.mesh_data, mesh_fsdp=self.mesh_fsdp,
                           mesh_tensor=self.mesh_tensor, **extra)


def smooth(values, window: int):
    """Trailing moving average (the first points average what exists so far)."""
    values = np.asarray(values, dtype=float)
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(0, idx - window)
    return (cumulative[idx] - cumulative[lo]) / (idx - lo)


def plot_loss(history: list[dict], *, label: str, reference: dict[str, float] | None = None,
              ax=None):
    """Training loss per step (raw and smoothed) with horizontal reference lines."""
    import matplotlib.pyplot as plt  # lazily: see flan_nb/__init__.py

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.6))
    steps = [r["step"] for r in history]
    losses = [r["loss"] for r in history]
    ax.plot(steps, losses, color="0.8", lw=0.8, label=f"{label} (each step)")
    ax.plot(steps, smooth(losses, max(1, len(losses) // 30)), color="C0", lw=1.8,
            label=f"{label} (moving average)")
    for i, (name, value) in enumerate((reference or {}).items()):
        ax.axhline(value, ls="--", lw=1, color=f"C{i + 1}", label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats / target token)")
    ax.legend(frameon=False, fontsize=8)
    return ax.figure


def plot_tokens_seen(history: list[dict], *, paper_tokens: float, paper_label: str):
    """Tokens seen per step (ours), with the paper's total as a reference. Steps, not seconds:
    a figure the book tracks draws no timings (they differ on every machine; notebooks print
    them)."""
    import matplotlib.pyplot as plt  # lazily: see flan_nb/__init__.py

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.2))
    ax1.plot([r["step"] for r in history], [r["tokens_seen"] for r in history])
    ax1.set_xlabel("step")
    ax1.set_ylabel("tokens seen")
    ours = history[-1]["tokens_seen"] if history else 0
    ax2.bar(["ours"], [ours], color="C0")
    ax2.bar([paper_label], [paper_tokens], **PAPER_STYLE)
    ax2.set_yscale("log")
    ax2.set_ylabel("tokens (log scale)")
    for x, value in enumerate((ours, paper_tokens)):
        ax2.text(x, value, f"{value:.3g}", ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    return fig
