"""Zero-shot evaluation: rank classification, generation, and scores per dataset and template.

Rank classification (the paper's way to answer a classification task): every (input, option)
pair is scored by the summed log-likelihood of the option's tokens given the input, and the best
option is the prediction; `length_normalize` divides by the number of option tokens instead. Each
pair is laid out exactly as instruction tuning saw it (`inputs EOS option EOS`, loss on the option
and its EOS) by `flan_nb.packing.instruction_segment`, and many pairs are packed into fixed-shape
rows so that one forward pass scores dozens of them. The packing's segment ids keep pairs from
attending to each other, so the scores equal one-pair-at-a-time scoring (`score_pairs_naive`,
kept as the baseline of `flan-nb bench eval` and for the tests).

A scorer is any function from a packed batch (the six seqio `decoder_*` int32 arrays) to the
log-likelihood of each target token, 0 where the loss weight is 0 (rows, length). `model_scorer`
makes one from a `flan_nb.model.Transformer`, compiled once per batch shape.

Generation tasks are decoded greedily (`flan_nb.decoding`) and scored with `flan_nb.metrics`.
`evaluate_model` runs both for many (dataset, template, split) cells at once and returns
`flan_nb.report.TemplateScore` rows.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from flan_nb import metrics as metrics_lib
from flan_nb import packing
from flan_nb.errors import UserError
from flan_nb.params import require
from flan_nb.report import TemplateScore

Scorer = Callable[[Mapping[str, np.ndarray]], np.ndarray]
Pair = tuple[Sequence[int], Sequence[int]]  # (input ids, target ids), both without EOS


@functools.lru_cache(maxsize=16)
def _compiled_scorer(graphdef, bidirectional_prefix: bool):
    import jax
    from flax import nnx

    from flan_nb.model import logits_for_batch, token_losses

    @jax.jit
    def score(state, batch):
        model = nnx.merge(graphdef, state)
        logits = logits_for_batch(model, batch, bidirectional_prefix=bidirectional_prefix)
        # (rows, length): log p(target token), kept only where the loss weight is 1
        return -token_losses(logits, batch["decoder_target_tokens"]) * (
            batch["decoder_loss_weights"])

    return score


def model_scorer(model, *, bidirectional_prefix: bool = False) -> Scorer:
    """A Scorer for a `flan_nb.model.Transformer` (jitted; one compile per batch shape)."""
    from flax import nnx

    graphdef, state = nnx.split(model)
    score = _compiled_scorer(graphdef, bool(bidirectional_prefix))
    return lambda batch: np.asarray(score(state, dict(batch)))


@dataclasses.dataclass(frozen=True)
class PairScores:
    """Summed target log-likelihood and target token count (EOS included) per pair."""

    log_likelihood: np.ndarray  # (num_pairs,) float64
    num_tokens: np.ndarray  # (num_pairs,) int
    num_truncated: int  # pairs whose input or target was cut to fit
    num_forward_passes: int


def _segments(pairs: Sequence[Pair], seq_length: int,
              max_target_length: int | None) -> list[packing.Segment]:
    require(seq_length >= 4, f"seq_length must be at least 4, got {seq_length}")
    longest = max(len(t) for _, t in pairs) + 1  # + EOS
    max_target = min(max_target_length or longest, seq_length // 2)
    max_input = seq_length - max_target
    return [packing.instruction_segment(inp, tgt, max_input, max_target, key=i)
            for i, (inp, tgt) in enumerate(pairs)]


def _collect(rows: Sequence[Sequence[packing.Segment]], seq_length: int, batch_rows: int,
             scorer: Scorer, ll: np.ndarray, counts: np.ndarray) -> int:
    """Score `rows` in batches of `batch_rows`, writing per-segment sums by segment key."""
    passes = 0
    for start in range(0, len(rows), batch_rows):
        chunk = list(rows[start:start + batch_rows])
        chunk += [[] for _ in range(batch_rows - len(chunk))]  # fixed shape: empty rows pad
        feats = packing.features(chunk, seq_length)  # each (batch_rows, seq_length)
        token_ll = np.asarray(scorer(feats), np.float64)  # (batch_rows, seq_length)
        passes += 1
        for r, row in enumerate(chunk):
            if not row:
                continue
            seg = feats["decoder_segment_ids"][r]
            sums = np.bincount(seg, weights=token_ll[r], minlength=len(row) + 1)
            sizes = np.bincount(seg, weights=feats["decoder_loss_weights"][r],
                                minlength=len(row) + 1)
            for s, segment in enumerate(row, start=1):
                ll[segment.key], counts[segment.key] = sums[s], sizes[s]
    return passes


def score_pairs(scorer: Scorer, pairs: Sequence[Pair], *, seq_length: int = 256,
                batch_rows: int = 16, max_target_length: int | None = None,
                packer: str = "best_fit") -> PairScores:
    """Score every (input, target) pair, packing many pairs per row and `batch_rows` rows per
    forward pass. Inputs longer than `seq_length - max_target_length` are truncated (counted)."""
    require(batch_rows >= 1, f"batch_rows must be >= 1, got {batch_rows}")
    if not pairs:
        return PairScores(np.zeros(0), np.zeros(0, int), 0, 0)
    segments = _segments(pairs, seq_length, max_target_length)
    rows, _ = packing.pack(segments, seq_length, packer, max_open_rows=4 * batch_rows)
    ll, counts = np.zeros(len(pairs)), np.zeros(len(pairs), int)
    passes = _collect(rows, seq_length, batch_rows, scorer, ll, counts)
    return PairScores(ll, counts, sum(s.truncated for s in segments), passes)


def score_pairs_naive(scorer: Scorer, pairs: Sequence[Pair], *, seq_length: int = 256,
                      max_target_length: int | None = None) -> PairScores:
    """The baseline: one forward pass per pair (a single row, padded to `seq_length`)."""
    if not pairs:
        return PairScores(np.zeros(0), np.zeros(0, int), 0, 0)
    segments = _segments(pairs, seq_length, max_target_length)
    ll, counts = np.zeros(len(pairs)), np.zeros(len(pairs), int)
    passes = _collect([[s] for s in segments], seq_length, 1, scorer, ll, counts)
    return PairScores(ll, counts, sum(s.truncated for s in segments), passes)


@dataclasses.dataclass(frozen=True)
class RankResult:
    """Rank classification of a list of examples."""

    predictions: list[int]  # index of the chosen option, per example
    option_scores: list[np.ndarray]  # per example, one score per option
    num_truncated: int


def rank_classify(scorer: Scorer, tokenizer, examples: Sequence[Any], *,
                  length_normalize: bool = False, naive: bool = False,
                  **pack_options: Any) -> RankResult:
    """Pick, for each rendered example (`.inputs`, `.options`), its most likely option.

    Scores are summed option log-likelihoods (divided by the option's token count, EOS included,
    with `length_normalize`); ties go to the earlier option. `pack_options` go to `score_pairs`.
    """
    for i, example in enumerate(examples):
        if not example.options:
            raise UserError(f"example {i} has no options: rank classification needs a "
                            f"classification template (not a turned-around one)")
    input_ids = tokenizer.encode_batch([e.inputs for e in examples])
    texts = sorted({o for e in examples for o in e.options})
    option_ids = dict(zip(texts, tokenizer.encode_batch(texts)))
    pairs = [(input_ids[i], option_ids[o]) for i, e in enumerate(examples) for o in e.options]
    scored = (score_pairs_naive if naive else score_pairs)(scorer, pairs, **pack_options)
    values = scored.log_likelihood / (scored.num_tokens if length_normalize else 1)
    predictions, per_example, start = [], [], 0
    for e in examples:
        scores = values[start:start + len(e.options)]
        start += len(e.options)
        per_example.append(scores)
        predictions.append(int(np.argmax(scores)))
    return RankResult(predictions, per_example, scored.num_truncated)


# -- many datasets, templates and splits at once ---------------------------------------------

@dataclasses.dataclass(frozen=True)
class Cell:
    """One (dataset, template, split) to evaluate on its examples (field dicts)."""

    dataset: str
    template: int
    split: str
    examples: Sequence[Mapping[str, Any]]


@dataclasses.dataclass(frozen=True)
class EvalSettings:
    """How to evaluate: packing shapes, decoding length, normalization."""

    seq_length: int = 256  # row length for packed rank classification
    batch_rows: int = 16  # rows per forward pass
    max_new_tokens: int = 24  # generation budget per example
    decode_batch_size: int = 32  # rows per decoding call
    length_normalize: bool = False  # the paper sums log-likelihoods (no normalization)
    bidirectional_prefix: bool = False  # must match how the model was trained

    def __post_init__(self):
        for name in ("seq_length", "batch_rows", "max_new_tokens", "decode_batch_size"):
            value = getattr(self, name)
            require(isinstance(value, int) and value >= 1,
                    f"{name} must be a positive integer, got {value!r}")


def eval_templates(spec, num_templates: int | None = None) -> list[int]:
    """The template ids used for evaluation: the first `num_templates` that are not turned
    around (a turned-around template asks a different task, e.g. write a review for a label)."""
    ids = [i for i, t in enumerate(spec.templates) if not t.turned_around]
    return ids if num_templates is None else ids[:num_templates]


def _decode_texts(model, tokenizer, inputs: Sequence[str], settings: EvalSettings,
                  max_prompt_length: int) -> list[str]:
    from flan_nb.decoding import greedy_decode, prompt_ids

    ids = tokenizer.encode_batch(list(inputs))
    # Keep the end of an over-long input (where the question is) and the framing BOS/EOS.
    prompts = [prompt_ids(x[-(max_prompt_length - 2):]) for x in ids]
    outputs = greedy_decode(model, prompts, max_new_tokens=settings.max_new_tokens,
                            max_prompt_length=max_prompt_length,
                            batch_size=settings.decode_batch_size,
                            bidirectional_prefix=settings.bidirectional_prefix)
    return [tokenizer.decode(o) for o in outputs]


def evaluate_model(model, tokenizer, cells: Sequence[Cell], *, model_name: str,
                   settings: EvalSettings | None = None,
                   timings: dict[str, float] | None = None) -> list[TemplateScore]:
    """Score `model` on every cell: rank classification for classification templates (all
    cells' pairs packed together), greedy decoding otherwise. Scores are percentages."""
    from flan_nb import tasks

    settings = settings or EvalSettings()
    rendered = []
    for cell in cells:
        spec = tasks.get(cell.dataset)
        if not cell.examples:
            raise UserError(f"no examples for {cell.dataset} ({cell.split}): nothing to evaluate")
        rendered.append((spec, [spec.render(f, cell.template) for f in cell.examples]))
    classify = [i for i, (_, rs) in enumerate(rendered) if rs[0].options]
    generate = [i for i in range(len(cells)) if i not in set(classify)]
    predictions: dict[int, list[str]] = {}
    start = time.perf_counter()
    if classify:
        flat = [r for i in classify for r in rendered[i][1]]
        result = rank_classify(model_scorer(model, bidirectional_prefix=(
            settings.bidirectional_prefix)), tokenizer, flat,
            length_normalize=settings.length_normalize, seq_length=settings.seq_length,
            batch_rows=settings.batch_rows)
        chosen = iter(result.predictions)
        for i in classify:
            predictions[i] = [r.options[next(chosen)] for r in rendered[i][1]]
    mid = time.perf_counter()
    if generate:
        flat = [r.inputs for i in generate for r in rendered[i][1]]
        texts = iter(_decode_texts(model, tokenizer, flat, settings, settings.seq_length))
        for i in generate:
            predictions[i] = [next(texts).strip() for _ in rendered[i][1]]
    if timings is not None:
        timings["rank_classification_s"] = timings.get("rank_classification_s", 0) + mid - start
        timings["generation_s"] = timings.get("generation_s", 0) + time.perf_counter() - mid
    scores = []
    for i, cell in enumerate(cells):
        spec, rs = rendered[i]
        value = metrics_lib.score(spec.metric, predictions[i], [r.targets for r in rs])
        scores.append(TemplateScore(model_name, cell.dataset, spec.cluster, cell.template,
                                    cell.split, spec.metric, value, len(rs)))
    return scores
