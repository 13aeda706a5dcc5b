"""Chapter 07 (pretraining): its config, the model-size table and the no-context baseline.

The training settings and the loss figures are shared with chapter 08 (`flan_nb.chapters.training`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from flan_nb import model as model_lib
from flan_nb.chapters.training import TrainingSettings
from flan_nb.errors import require

PAPER_PRETRAIN_TOKENS = 2.49e12  # LaMDA-PT's pretraining data (BPE tokens)


@dataclasses.dataclass(frozen=True)
class PretrainChapterConfig(TrainingSettings):
    """Notebook 07's parameters (one field per parameter), validated on construction."""

    corpus: str  # "tinyworld/<size>[/<mix>]" or a text file, one document per line
    vocab_size: int  # SentencePiece vocabulary
    eval_fraction: float  # documents held out to measure generalisation
    model: str  # a name from flan_nb.model.NAMED_CONFIGS
    dtype: str

    def __post_init__(self):
        require(self.dtype in ("float32", "bfloat16"),
                f"DTYPE must be float32 or bfloat16, got {self.dtype!r}")
        super().__post_init__()
        require(0 < self.eval_fraction < 0.5,
                f"EVAL_FRACTION must be in (0, 0.5), got {self.eval_fraction}")
        self.model_config(self.vocab_size)

    def model_config(self, vocab_size: int):
        return model_lib.named_config(self.model, vocab_size=vocab_size, dtype=self.dtype,
                                      dropout_rate=self.dropout_rate)


def unigram_entropy(documents_ids) -> float:
    """Cross-entropy (nats/token) of the best model that ignores context: token frequencies.
    A trained LM must beat it to have learned anything beyond word counts."""
    counts = np.bincount(np.concatenate([np.asarray(ids, np.int64) for ids in documents_ids]))
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def named_config_table(vocab_size: int | None = None) -> list[dict]:
    """One row per named model shape with its parameter count (the book's and the paper's)."""
    rows = []
    for name, fields in model_lib.NAMED_CONFIGS.items():
        overrides = {} if vocab_size is None or name.startswith("paper") else {
            "vocab_size": vocab_size}
        c = model_lib.named_config(name, **overrides)
        rows.append({"name": name, "d_model": c.d_model, "layers": c.num_layers,
                     "heads": c.num_heads, "d_ff": c.d_ff, "vocab": c.vocab_size,
                     "params": model_lib.param_count(c)})
    return rows
