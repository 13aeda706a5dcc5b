"""`flan-nb bench pack`: the packers' padding and the pipeline's speed vs what training consumes.

It times `flan_nb.pipeline` against one step of `flan_nb.train`, so it lives beside both rather
than in either (the pipeline feeds training; training does not feed back). The model and the
trainer are imported inside the function that times them: `use_all_cpu_cores` must run before
JAX is imported (they import it), and a missing model falls back to the pilot's figure.
"""

from __future__ import annotations

import time
from typing import Mapping

import numpy as np

from flan_nb import tokenize
from flan_nb.chapters import book_config
from flan_nb.mixture import Mixture
from flan_nb.pipeline import (InstructionPipeline, compare_packers, measure_throughput,
                              tinyworld_names)
from flan_nb.sharding import use_all_cpu_cores

# Training throughput of a 0.84M-parameter LM on this kind of 2-core machine, from the pilot in
# DESIGN.md (2.6M tokens in 4.5 minutes); used only when flan_nb.model cannot be timed.
PILOT_TRAIN_TOKENS, PILOT_TRAIN_SECONDS = 2_600_000, 4.5 * 60


def measure_train_tokens_per_s(batch: Mapping[str, np.ndarray], vocab_size: int,
                               model_name: str = "tiny-1m", steps: int = 5) -> float:
    """Row positions per second that `flan_nb.train`'s step of `model_name` consumes on `batch`."""
    # after use_all_cpu_cores (they import JAX; see the module docstring)
    from flan_nb import model as model_lib
    from flan_nb import train

    rows, seq = batch["decoder_target_tokens"].shape
    trainer = train.Trainer(model_lib.named_config(model_name, vocab_size=vocab_size),
                            train.TrainConfig(batch_tokens=rows * seq, seq_length=seq),
                            progress=False)
    trainer.train_step(batch)["loss"].block_until_ready()  # compile
    start = time.perf_counter()
    for _ in range(steps):
        metrics = trainer.train_step(batch)
    metrics["loss"].block_until_ready()
    return steps * rows * seq / (time.perf_counter() - start)


def benchmark(quick: bool = False) -> dict:
    """`flan-nb bench pack`: packers' padding and pipeline speed vs what training consumes.

    On the book mixture (every TinyWorld dataset; caps, vocabulary, lengths and batch are the
    defaults of notebook 06's parameters cell, which explains them) in one run: padding of
    next-fit and best-fit on the same samples, the whole pipeline's output rate (mixing,
    templating, tokenizing, packing) and one training step's consumption rate at the same batch.
    """
    use_all_cpu_cores()  # training runs as in notebooks 07/08 (one CPU device per core)
    size = "smoke" if quick else "book"
    book = book_config("06_mixing_and_packing", size=size)
    start = time.perf_counter()
    tokenizer = tokenize.tinyworld_tokenizer(vocab_size=book.vocab_size, size=size)
    mixture = Mixture.from_registry(tinyworld_names(), size=size, rate_cap=book.rate_cap,
                                    shard_index=0, num_shards=1)
    load_s = time.perf_counter() - start
    table = compare_packers(mixture, tokenizer, {
        "book": (book.max_input_length, book.max_target_length),
        "paper": (book.paper_input_length, book.paper_target_length)},
        batch_size=book.batch_size, num_batches=5 if quick else 60)
    pipe = InstructionPipeline(mixture, tokenizer, batch_size=book.batch_size,
                               max_input_length=book.max_input_length,
                               max_target_length=book.max_target_length)
    speed = measure_throughput(pipe, 5 if quick else 100)
    batch = next(pipe)
    try:
        # --quick (tests) times the smallest model: what matters there is that the path runs.
        train = measure_train_tokens_per_s(batch, tokenizer.vocab_size,
                                           model_name="test" if quick else "tiny-1m",
                                           steps=2 if quick else 5)
        measured = 1
    except ImportError:  # no model to time: the pilot's measured figure (DESIGN.md)
        train, measured = PILOT_TRAIN_TOKENS / PILOT_TRAIN_SECONDS, 0
    packed, paper = table["book"], table["paper"]
    return {
        "next_fit_pad_fraction": packed["next_fit"].pad_fraction,
        "best_fit_pad_fraction": packed["best_fit"].pad_fraction,
        "best_to_next_fit_padding": (packed["best_fit"].pad_fraction
                                     / max(packed["next_fit"].pad_fraction, 1e-12)),
        "paper_lengths_next_fit_pad_fraction": paper["next_fit"].pad_fraction,
        "paper_lengths_best_fit_pad_fraction": paper["best_fit"].pad_fraction,
        "truncated_fraction": packed["next_fit"].num_truncated / packed["next_fit"].num_segments,
        "segments_per_row_best_fit": packed["best_fit"].segments_per_row,
        "pipeline_tokens_per_s": speed["tokens_per_s"],
        "pipeline_nonpad_tokens_per_s": speed["nonpad_tokens_per_s"],
        "train_tokens_per_s_needed": train,
        "train_measured": measured,
        "pipeline_to_train_ratio": speed["tokens_per_s"] / train,
        "seq_length": book.seq_length,
        "batch_size": book.batch_size,
        "num_datasets": len(mixture.names),
        "load_s": load_s,
    }
