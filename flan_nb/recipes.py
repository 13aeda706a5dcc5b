"""The two training recipes of the book: pretraining the base LM (chapter 07) and instruction
tuning it with one cluster held out (chapter 08).

Each recipe is a validated config (the notebook's parameters) plus one function that wires the
stages together: corpus or mixture -> tokenizer -> packed batches -> `flan_nb.train`. Training
resumes from the run's own checkpoints, so re-executing a notebook after a kill continues where it
stopped, and re-executing a finished one only reloads it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from flan_nb.errors import UserError
from flan_nb.params import require


def _train_config(cfg, **extra):
    from flan_nb.train import TrainConfig

    return TrainConfig(num_steps=cfg.num_steps, batch_tokens=cfg.batch_tokens,
                       seq_length=cfg.seq_length, learning_rate=cfg.learning_rate,
                       seed=cfg.seed, checkpoint_every=cfg.checkpoint_every,
                       mesh_data=cfg.mesh_data, mesh_fsdp=cfg.mesh_fsdp,
                       mesh_tensor=cfg.mesh_tensor, **extra)


@dataclasses.dataclass(frozen=True)
class PretrainConfig:
    """Parameters of chapter 07 (pretraining the base LM)."""

    corpus: str = "tinyworld/book"  # "tinyworld/<size>" or a text file, one document per line
    seed: int = 0
    vocab_size: int = 2000
    model: str = "tiny-1m"  # a name of flan_nb.model.NAMED_CONFIGS
    dtype: str = "float32"
    seq_length: int = 128
    batch_tokens: int = 4096
    num_steps: int = 350
    learning_rate: float = 3e-3
    checkpoint_every: int = 100
    mesh_data: int = -1
    mesh_fsdp: int = 1
    mesh_tensor: int = 1

    def __post_init__(self):
        from flan_nb.model import NAMED_CONFIGS

        require(self.model in NAMED_CONFIGS,
                f"MODEL must be one of {', '.join(NAMED_CONFIGS)}, got {self.model!r}")
        require(self.dtype in ("float32", "bfloat16"),
                f"DTYPE must be float32 or bfloat16, got {self.dtype!r}")
        self.train_config()  # checks steps, batch and lengths before anything runs

    def train_config(self):
        return _train_config(self)


def corpus_tokenizer(corpus: str, vocab_size: int, seed: int = 0):
    """The SentencePiece model of a corpus (chapter 02's, cached)."""
    from flan_nb.tokenize import SentencePieceSettings, load_corpus, load_or_train

    return load_or_train(load_corpus(corpus, seed=seed),
                         SentencePieceSettings(vocab_size=vocab_size, seed=seed))


def pretrain(cfg: PretrainConfig, run, progress: bool = True):
    """Pretrain (or resume, or reload) the base LM of `cfg` into `run`; returns TrainResult."""
    from flan_nb.model import named_config
    from flan_nb.pipeline import make_lm_batches
    from flan_nb.tokenize import load_corpus
    from flan_nb.train import train

    tokenizer = corpus_tokenizer(cfg.corpus, cfg.vocab_size, cfg.seed)
    model_config = named_config(cfg.model, vocab_size=tokenizer.vocab_size, dtype=cfg.dtype)
    train_config = cfg.train_config()
    data = make_lm_batches(load_corpus(cfg.corpus, seed=cfg.seed), tokenizer,
                           seq_length=cfg.seq_length, batch_size=train_config.batch_size,
                           seed=cfg.seed)
    return train(model_config, train_config, data, run=run, progress=progress)


@dataclasses.dataclass(frozen=True)
class TuningConfig:
    """Parameters of chapter 08 (instruction tuning with one cluster held out)."""

    held_out: str = "nli"  # the cluster left out of tuning (evaluated zero-shot in chapter 09)
    base_run: str = "07_pretraining"  # run name under runs/, or a path to a run folder
    source: str = "tinyworld"  # tinyworld or tfds
    size: str = "book"  # TinyWorld size
    data_dir: str = ""  # TFDS data folder ("" = TFDS's default)
    seed: int = 0
    vocab_size: int = 2000  # must be the base run's tokenizer
    tokenizer_corpus: str = "tinyworld/book"  # the corpus the tokenizer was trained on
    max_input_length: int = 160
    max_target_length: int = 96
    seq_length: int = 256
    batch_tokens: int = 4096
    num_steps: int = 200
    learning_rate: float = 1e-3
    rate_cap: int = 3000  # examples-proportional mixing: rate = min(examples, cap)
    max_examples: int = 30000  # training examples per dataset
    checkpoint_every: int = 50
    mesh_data: int = -1
    mesh_fsdp: int = 1
    mesh_tensor: int = 1

    def __post_init__(self):
        from flan_nb.tasks import SOURCES, check_cluster

        check_cluster(self.held_out)
        require(self.source in SOURCES, f"SOURCE must be one of {SOURCES}, got {self.source!r}")
        require(self.rate_cap > 0 and self.max_examples > 0,
                f"RATE_CAP and MAX_EXAMPLES must be positive, got {self.rate_cap} and "
                f"{self.max_examples}")
        self.train_config()

    def train_config(self):
        return _train_config(self, max_input_length=self.max_input_length,
                             max_target_length=self.max_target_length)


def base_run_path(base_run: str) -> Path | str:
    """A run name under the runs folder, or a path (local or gs://) to a run folder."""
    from flan_nb.runs import runs_dir

    if "/" in base_run:
        return base_run
    path = runs_dir() / base_run
    if not (path / "checkpoints").is_dir():
        raise UserError(f"base run {base_run!r} has no checkpoints under {runs_dir()}: execute "
                        f"notebook 07 first (e.g. `flan-nb run notebooks/07_pretraining.ipynb "
                        f"--profile book` makes 07_pretraining-book; the book build makes "
                        f"07_pretraining)")
    return path


def tune(cfg: TuningConfig, run, progress: bool = True):
    """Instruction-tune the base LM on every cluster but `cfg.held_out` (and those the paper's
    rules remove with it); returns (TrainResult, HeldOutSplit)."""
    from flan_nb.pipeline import make_batches
    from flan_nb.splits import held_out_split
    from flan_nb.train import base_params, train

    split = held_out_split(cfg.held_out, source=cfg.source)
    tokenizer = corpus_tokenizer(cfg.tokenizer_corpus, cfg.vocab_size, cfg.seed)
    model_config, params = base_params(base_run_path(cfg.base_run))
    if model_config.vocab_size != tokenizer.vocab_size:
        raise UserError(f"the base model has {model_config.vocab_size} token ids but the "
                        f"tokenizer has {tokenizer.vocab_size}: use the base run's VOCAB_SIZE")
    train_config = cfg.train_config()
    data = make_batches(split.train, tokenizer, batch_size=train_config.batch_size,
                        max_input_length=cfg.max_input_length,
                        max_target_length=cfg.max_target_length, seq_length=cfg.seq_length,
                        seed=cfg.seed, size=cfg.size, rate_cap=cfg.rate_cap,
                        max_examples=cfg.max_examples, data_dir=cfg.data_dir or None)
    result = train(model_config, train_config, data, run=run, init_params=params,
                   progress=progress)
    return result, split
