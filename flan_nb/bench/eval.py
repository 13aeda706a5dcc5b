"""`flan-nb bench eval`: rank classification three ways on the same examples (the shared-prefix
default, packed pairs, one pass per option), in one run."""

from __future__ import annotations

import time
from typing import Any

from flan_nb import model as model_lib
from flan_nb import tasks
from flan_nb.evaluate import eval_templates, rank_classify
from flan_nb.tokenize import tinyworld_tokenizer

def _best_time(fn, repeats: int = 3) -> tuple[float, Any]:
    """The fastest of `repeats` timed calls (the machine is shared) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


BENCH_DATASETS = ("tw_nli", "tw_rte", "tw_qnli", "tw_boolq", "tw_arc")


def benchmark(quick: bool = False) -> dict:
    """Rank classification throughput of the three methods, measured in this one invocation.

    A randomly initialised `tiny-1m` model (speed does not depend on the weights; `quick` uses
    the 2-layer `test` model and fewer examples, for tests) scores test
    examples of the classification datasets the book's plan holds out, through two templates.
    `examples_per_s` is the default method (`shared_prefix`), `packed_examples_per_s` packs
    (input, option) pairs into rows of 256 tokens, and `naive_examples_per_s` runs one forward
    pass per option, padded to its own length rounded up to 32 tokens. All score the same
    examples, each after a warm-up pass that compiles every shape, best of three timed passes;
    all must agree on every prediction.
    """
    size = "smoke" if quick else "book"
    tokenizer = tinyworld_tokenizer(vocab_size=500 if quick else 2000, size=size)
    config = model_lib.named_config("test" if quick else "tiny-1m",
                                    vocab_size=tokenizer.vocab_size)
    model = model_lib.create_model(config, seed=0)
    examples = []
    # the book plan's held-out classification datasets (two of them when quick)
    for name in BENCH_DATASETS[3:] if quick else BENCH_DATASETS:
        spec = tasks.get(name)
        fields = tasks.load_examples(name, "test", size=size, limit=4 if quick else 40)
        examples += [spec.render(f, t) for t in eval_templates(spec, 2)
                     for f in fields[t % 2::2]]  # half the examples through each template
    runs = {"shared_prefix": dict(batch_size=8),
            "packed": dict(seq_length=256, batch_rows=4),
            "naive": dict(seq_length=256, bucket=32)}
    rates, predictions = {}, {}
    for method, options in runs.items():
        rank_classify(model, tokenizer, examples, method=method, **options)  # compile
        seconds, result = _best_time(
            lambda: rank_classify(model, tokenizer, examples, method=method, **options),
            repeats=1 if quick else 3)
        rates[method] = len(examples) / seconds
        predictions[method] = result.predictions
    agree = all(p == predictions["naive"] for p in predictions.values())
    return {
        "examples": len(examples),
        "options_per_example": sum(len(e.options) for e in examples) / len(examples),
        "model_params": model_lib.param_count(config),
        "examples_per_s": round(rates["shared_prefix"], 2),
        "packed_examples_per_s": round(rates["packed"], 2),
        "naive_examples_per_s": round(rates["naive"], 2),
        "speedup": round(rates["shared_prefix"] / rates["naive"], 2),
        "packed_speedup": round(rates["packed"] / rates["naive"], 2),
        "predictions_agree": bool(agree),
    }
