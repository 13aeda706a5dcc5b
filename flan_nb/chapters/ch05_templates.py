"""Chapter 05 (instruction templates and prompt formats): its config. The formats it shows are
the stage's own (`flan_nb.templates`, `flan_nb.formats`)."""

from __future__ import annotations

import dataclasses

from flan_nb import tasks
from flan_nb.collection import SAMPLE_FEATURES
from flan_nb.errors import require
from flan_nb.formats import TOKEN_COUNTERS


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
