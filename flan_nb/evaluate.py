"""Zero-shot evaluation: rank classification, generation, and scores per dataset and template.

Rank classification (the paper's way to answer a classification task): every (input, option)
pair is scored by the summed log-likelihood of the option's tokens given the input, and the best
option is the prediction; `length_normalize` divides by the number of option tokens instead. Each
pair is scored exactly as instruction tuning laid it out (`inputs EOS option EOS`, loss on the
option and its EOS, `flan_nb.packing.instruction_segment`). Three methods give the same numbers:

- `shared_prefix` (the default): many examples per forward pass, and each input run only once
  into a key/value cache; all options of an input then run as one block over that cache, so the
  work is about one pass per example instead of one per option (`score_options_shared`);
- `packed`: many (input, option) pairs packed into fixed-shape rows by the packing code, whose
  segment ids keep pairs from attending to each other (`score_pairs`);
- `naive`: one forward pass per pair (`score_pairs_naive`), the baseline of `flan-nb bench eval`
  and the reference of the tests.

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
import json
import time
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from flan_nb import formats
from flan_nb import metrics as metrics_lib
from flan_nb import packing
from flan_nb import splits as splits_lib
from flan_nb import tasks
from flan_nb.checkpoint import (TRAIN_FINGERPRINT_FILE, checkpoint_dir, load_model,
                                load_tokenizer, trained_run_path)
from flan_nb.decoding import greedy_decode, prompt_ids
from flan_nb.errors import UserError, require
from flan_nb.packing import EOS_ID
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
                      max_target_length: int | None = None,
                      bucket: int | None = None) -> PairScores:
    """The baseline: one forward pass per pair, a single row padded to `seq_length`, or, with
    `bucket`, to the pair's own length rounded up to a multiple of `bucket` (a few shapes)."""
    if not pairs:
        return PairScores(np.zeros(0), np.zeros(0, int), 0, 0)
    segments = _segments(pairs, seq_length, max_target_length)
    ll, counts = np.zeros(len(pairs)), np.zeros(len(pairs), int)
    passes = 0
    for segment in segments:
        length = seq_length if bucket is None else min(_bucket(len(segment), bucket), seq_length)
        passes += _collect([[segment]], length, 1, scorer, ll, counts)
    return PairScores(ll, counts, sum(s.truncated for s in segments), passes)


def _bucket(n: int, step: int = 32) -> int:
    """`n` rounded up to a multiple of `step`: few distinct shapes, so few compiles."""
    return -(-n // step) * step


@functools.lru_cache(maxsize=64)
def _compiled_options(graphdef, batch: int, prompt_length: int, block_length: int,
                      bidirectional_prefix: bool):
    """One pass per batch: the prompts fill a cache, then all options of each prompt run as one
    block over it (`Transformer.extend`), each option seeing the prompt and its own tokens."""
    import jax
    import jax.numpy as jnp
    from flax import nnx

    @jax.jit
    def score(state, prompts, lengths, first_targets, block, positions, groups, targets):
        # prompts (batch, prompt_length) right-padded, `lengths` (batch,) of them cached;
        # first_targets (batch, options): each option's first token; block, positions, groups,
        # targets (batch, block_length): tokens fed, their positions, option number (0: the
        # shared root, -1: padding), tokens scored (0 where none)
        model = nnx.merge(graphdef, state)
        cache = model.init_cache(batch, prompt_length + block_length)
        prefix = jnp.arange(prompt_length)[None, :] < lengths[:, None]  # (batch, prompt)
        if bidirectional_prefix:
            # The whole prompt (EOS included) is the bidirectional prefix, so it is prefilled
            # at once and the first option token is read at its EOS.
            logits, cache = model.prefill(prompts, cache, prefix.astype(jnp.int32),
                                          bidirectional_prefix=True)
            first = logits[jnp.arange(batch), lengths - 1]  # (batch, vocab)
        else:
            # Causal: the prompt without its EOS (its logits are unused, so XLA drops the
            # vocabulary projection); the EOS is the block's root, read for the first token.
            _, cache = model.prefill(prompts, cache)
        own = ((groups[:, None, :] == groups[:, :, None])
               & (jnp.arange(block_length)[None, :] <= jnp.arange(block_length)[:, None]))
        mask = jnp.concatenate([  # (batch, block, prompt + block): the prompt, root, own tokens
            jnp.broadcast_to(prefix[:, None, :], (batch, block_length, prompt_length)),
            own | (groups[:, None, :] == 0)], axis=-1)
        logits, _ = model.extend(block, positions, prompt_length, mask, cache)
        if not bidirectional_prefix:
            first = logits[:, 0]  # (batch, vocab)
        lp_first = jnp.take_along_axis(jax.nn.log_softmax(first), first_targets, axis=-1)
        lp_rest = jnp.take_along_axis(jax.nn.log_softmax(logits), targets[..., None], axis=-1)
        return lp_first, lp_rest[..., 0] * (targets > 0)  # (batch, options), (batch, block)

    return score


def _option_block(length: int, choices: Sequence[Sequence[int]], root: bool) -> tuple:
    """The block of one prompt of `length` tokens (EOS included): the EOS as shared root when
    `root`, then each option's tokens, each predicting the next one and the last its EOS."""
    block, positions, groups, targets = ([EOS_ID], [length - 1], [0], [0]) if root else (
        [], [], [], [])
    for k, choice in enumerate(choices, start=1):
        block += choice
        positions += range(length, length + len(choice))
        groups += [k] * len(choice)
        targets += [*choice[1:], EOS_ID]
    return block, positions, groups, targets


def score_options_shared(model, input_ids: Sequence[Sequence[int]],
                         option_ids: Sequence[Sequence[Sequence[int]]], *,
                         batch_size: int = 8, max_input_length: int = 254,
                         bidirectional_prefix: bool = False) -> tuple[list[np.ndarray],
                                                                      list[np.ndarray], int]:
    """Option log-likelihoods with one forward pass over each input shared by all its options.

    The prompt `BOS inputs EOS` fills a key/value cache once per example; all its options then
    run together as one block over that cache (`Transformer.extend`), each attending to the
    prompt and its own earlier tokens only: the same numbers as scoring every
    `inputs EOS option EOS` segment, in one pass per `batch_size` examples. Inputs longer than
    `max_input_length` are cut at their end, as training cuts them (`packing._trim_with_eos`,
    seqio's rule), so a model is scored on the inputs it was tuned on. Returns
    (scores, token counts incl. EOS) per example and the number of truncated inputs.
    """
    from flax import nnx

    require(batch_size >= 1, f"batch_size must be >= 1, got {batch_size}")
    graphdef, state = nnx.split(model)
    root = not bidirectional_prefix  # causal: the EOS runs in the block, see _compiled_options
    # Batch inputs of similar length together (less padding), then restore the order.
    order = sorted(range(len(input_ids)), key=lambda i: len(input_ids[i]))
    scores: list = [None] * len(input_ids)
    truncated = 0
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        options = [option_ids[i] for i in chunk]
        truncated += sum(len(input_ids[i]) > max_input_length for i in chunk)
        prompts = [prompt_ids(list(input_ids[i])[:max_input_length]) for i in chunk]
        cached = [p[:-1] if root else p for p in prompts]
        blocks = [_option_block(len(p), c, root) for p, c in zip(prompts, options)]
        prompt_length = _bucket(max(len(p) for p in cached), 16)
        block_length = _bucket(max(len(b[0]) for b in blocks), 4)
        num_options = max(len(o) for o in options)
        tokens = np.zeros((batch_size, prompt_length), np.int32)  # (batch, prompt)
        lengths = np.ones((batch_size,), np.int32)  # filler rows: a lone BOS
        first = np.full((batch_size, num_options), EOS_ID, np.int32)  # (batch, options)
        # the block's tokens, positions, groups and targets (see `_compiled_options`)
        feed = np.zeros((4, batch_size, block_length), np.int32)
        feed[2] = -1  # groups: padding
        for i, (prompt, choices, block) in enumerate(zip(cached, options, blocks)):
            tokens[i, :len(prompt)], lengths[i] = prompt, len(prompt)
            first[i, :len(choices)] = [(c[0] if c else EOS_ID) for c in choices]
            feed[:, i, :len(block[0])] = block
        fn = _compiled_options(graphdef, batch_size, prompt_length, block_length,
                               bool(bidirectional_prefix))
        lp_first, lp_rest = map(np.asarray, fn(state, tokens, lengths, first, *feed))
        for i, (index, choices) in enumerate(zip(chunk, options)):
            rest = np.bincount(np.maximum(feed[2, i], 0), weights=lp_rest[i],
                               minlength=len(choices) + 1)[1:]  # (options,) tokens 2.., EOS
            scores[index] = lp_first[i, :len(choices)].astype(np.float64) + rest
    counts = [np.array([len(c) + 1 for c in option_ids[i]]) for i in range(len(option_ids))]
    return scores, counts, truncated


@dataclasses.dataclass(frozen=True)
class RankResult:
    """Rank classification of a list of examples."""

    predictions: list[int]  # index of the chosen option, per example
    option_scores: list[np.ndarray]  # per example, one score per option
    num_truncated: int


METHODS = ("shared_prefix", "packed", "naive")


def rank_classify(model, tokenizer, examples: Sequence[Any], *, method: str = "shared_prefix",
                  length_normalize: bool = False, bidirectional_prefix: bool = False,
                  **options: Any) -> RankResult:
    """Pick, for each rendered example (`.inputs`, `.options`), its most likely option.

    Scores are summed option log-likelihoods (divided by the option's token count, EOS included,
    with `length_normalize`); ties go to the earlier option. `method`: `shared_prefix` (one pass
    per input, `score_options_shared`; needs a model), `packed` (`score_pairs`) or `naive`
    (`score_pairs_naive`); the last two also take a Scorer instead of a model. `options` go to
    the scoring function.
    """
    if method not in METHODS:
        raise UserError(f"unknown rank classification method {method!r}: choose one of "
                        f"{', '.join(METHODS)}")
    for i, example in enumerate(examples):
        if not example.options:
            raise UserError(f"example {i} has no options: rank classification needs a "
                            f"classification template (not a turned-around one)")
    input_ids = tokenizer.encode_batch([e.inputs for e in examples])
    texts = sorted({o for e in examples for o in e.options})
    ids_of = dict(zip(texts, tokenizer.encode_batch(texts)))
    if method == "shared_prefix":
        scores, counts, truncated = score_options_shared(
            model, input_ids, [[ids_of[o] for o in e.options] for e in examples],
            bidirectional_prefix=bidirectional_prefix, **options)
    else:
        scorer = (model_scorer(model, bidirectional_prefix=bidirectional_prefix)
                  if hasattr(model, "init_cache") else model)
        pairs = [(input_ids[i], ids_of[o]) for i, e in enumerate(examples) for o in e.options]
        scored = (score_pairs if method == "packed" else score_pairs_naive)(
            scorer, pairs, **options)
        bounds = np.cumsum([0] + [len(e.options) for e in examples])
        scores = [scored.log_likelihood[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        counts = [scored.num_tokens[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        truncated = scored.num_truncated
    if length_normalize:
        scores = [s / c for s, c in zip(scores, counts)]
    return RankResult([int(np.argmax(s)) for s in scores], list(scores), truncated)


# -- many datasets, templates and splits at once ---------------------------------------------

@dataclasses.dataclass(frozen=True)
class Cell:
    """One (dataset, template, split) to evaluate on its examples (field dicts), in a prompt
    format: FLAN's template ("zero-shot"), one of Figure 8's ablation formats, which have one
    rendering per example (template 0), or "few-shot-K" (Figure 9): K exemplars drawn from
    `pool` (the training split) with `shot_seed`, through the same template, pruned to the
    input budget (`formats.TokenBudget`), never the evaluated example itself."""

    dataset: str
    template: int
    split: str
    examples: Sequence[Mapping[str, Any]]
    format: str = "zero-shot"
    pool: Sequence[Mapping[str, Any]] = ()  # few-shot: where exemplars come from
    shot_seed: int = 0  # few-shot: the seed of the exemplar draw

    @property
    def shots(self) -> int:
        return formats.parse_eval_format(self.format)[1]

    def render(self, spec, fields, budget: formats.TokenBudget | None = None):
        fmt, k = formats.parse_eval_format(self.format)
        if fmt == "few-shot":
            return formats.render_format(fmt, spec, fields, self.template, pool=self.pool, k=k,
                                         budget=budget, seed=self.shot_seed)
        return formats.render_format(fmt, spec, fields, self.template)


@dataclasses.dataclass(frozen=True)
class EvalSettings:
    """How to evaluate: rank classification method and shapes, decoding length."""

    method: str = "shared_prefix"  # rank classification: shared_prefix | packed | naive
    batch_size: int = 8  # examples per pass (shared_prefix) and rows per decoding call
    max_input_length: int = 254  # longer inputs are cut at the end, as in training
    seq_length: int = 256  # row length (packed, naive)
    batch_rows: int = 16  # rows per forward pass (packed)
    # Generation budget per example, EOS included: None decodes up to the dataset's longest
    # reference (rounded up to 8 tokens), never more than `max_target_length`; decoding stops
    # early once every row of a batch has produced EOS.
    max_new_tokens: int | None = None
    max_target_length: int = 256  # the profile's target length (tuning's MAX_TARGET_LENGTH)
    length_normalize: bool = False  # the paper sums log-likelihoods (no normalization)
    bidirectional_prefix: bool = False  # must match how the model was trained
    # Few-shot prompts are pruned to this many input tokens (EOS included), and cut there
    # (None: max_input_length + 1, the zero-shot budget).
    few_shot_max_input_length: int | None = None

    def __post_init__(self):
        require(self.method in METHODS,
                f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        for name in ("batch_size", "max_input_length", "seq_length", "batch_rows",
                     "max_new_tokens", "max_target_length", "few_shot_max_input_length"):
            value = getattr(self, name)
            if name in ("max_new_tokens", "few_shot_max_input_length") and value is None:
                continue
            require(isinstance(value, int) and value >= 1,
                    f"{name} must be a positive integer, got {value!r}")

    def rank_options(self) -> dict[str, Any]:
        """Keyword arguments of `rank_classify` for this method."""
        if self.method == "shared_prefix":
            extra = dict(batch_size=self.batch_size, max_input_length=self.max_input_length)
        elif self.method == "packed":
            extra = dict(seq_length=self.seq_length, batch_rows=self.batch_rows)
        else:
            extra = dict(seq_length=self.seq_length)
        return dict(method=self.method, length_normalize=self.length_normalize,
                    bidirectional_prefix=self.bidirectional_prefix, **extra)


def eval_templates(spec, num_templates: int | None = None) -> list[int]:
    """The template ids used for evaluation: the first `num_templates` that are not turned
    around (a turned-around template asks a different task, e.g. write a review for a label)."""
    ids = [i for i, t in enumerate(spec.templates) if not t.turned_around]
    return ids if num_templates is None else ids[:num_templates]


def decoding_budget(tokenizer, references: Sequence[Any],
                    settings: EvalSettings | None = None) -> int:
    """New tokens to decode (EOS included) for a dataset whose targets are `references`
    (strings or lists of strings): `settings.max_new_tokens` when set, else the longest
    reference plus EOS rounded up to 8 tokens (a few compiled shapes), at most the profile's
    `max_target_length`. Greedy decoding stops at EOS, so a generous budget costs little."""
    settings = settings or EvalSettings()
    if settings.max_new_tokens is not None:
        return settings.max_new_tokens
    texts = [t for r in references for t in ([r] if isinstance(r, str) else list(r))]
    longest = max((len(ids) for ids in tokenizer.encode_batch(texts)), default=0) + 1
    return max(1, min(_bucket(longest, 8), settings.max_target_length))


def generate_texts(model, tokenizer, inputs: Sequence[str],
                   settings: EvalSettings | None = None,
                   max_new_tokens: int | None = None) -> list[str]:
    """Greedy answers (text) to rendered inputs, at most `max_new_tokens` tokens (default:
    the settings' budget, else its `max_target_length`); over-long inputs are cut at their
    end, as in training."""

    settings = settings or EvalSettings()
    budget = max_new_tokens or settings.max_new_tokens or settings.max_target_length
    ids = tokenizer.encode_batch(list(inputs))
    prompts = [prompt_ids(x[:settings.max_input_length]) for x in ids]
    outputs = greedy_decode(model, prompts, max_new_tokens=budget,
                            max_prompt_length=_bucket(max(len(p) for p in prompts)),
                            batch_size=settings.batch_size,
                            bidirectional_prefix=settings.bidirectional_prefix)
    return [tokenizer.decode(o) for o in outputs]


def few_shot_budget(tokenizer, settings: EvalSettings) -> formats.TokenBudget:
    """The budget few-shot prompts are pruned to: the model's own tokens, the settings'
    few-shot input length less the EOS."""
    length = settings.few_shot_max_input_length or settings.max_input_length + 1
    return formats.TokenBudget(lambda text: len(tokenizer.encode(text)), length - 1)


def evaluate_model(model, tokenizer, cells: Sequence[Cell], *, model_name: str,
                   settings: EvalSettings | None = None,
                   timings: dict[str, float] | None = None,
                   run: str = "", prompt_log: dict[str, dict] | None = None
                   ) -> list[TemplateScore]:
    """Score `model` on every cell: rank classification for classification templates, greedy
    decoding otherwise, all cells of a kind and input budget in one call. Scores are
    percentages. Few-shot cells are pruned to (and cut at) the few-shot input length; per
    format, `prompt_log` sums what pruning did (prompts, exemplars asked and kept, prompts
    over budget without any exemplar)."""
    settings = settings or EvalSettings()
    few = [c for c in cells if c.shots]
    if few and len(few) < len(cells):
        zero = [c for c in cells if not c.shots]
        scored = {id(c): s for group in (zero, few) for c, s in zip(group, evaluate_model(
            model, tokenizer, group, model_name=model_name, settings=settings,
            timings=timings, run=run, prompt_log=prompt_log))}
        return [scored[id(c)] for c in cells]
    budgets: dict[str, formats.TokenBudget] = {}
    if few:
        length = settings.few_shot_max_input_length or settings.max_input_length + 1
        settings = dataclasses.replace(settings, max_input_length=length - 1)
        budgets = {c.format: few_shot_budget(tokenizer, settings) for c in few}
    rendered = _render_cells(cells, budgets)
    if prompt_log is not None:
        for label, budget in budgets.items():
            log = prompt_log.setdefault(label, {"prompts": 0, "over_budget": 0,
                                                "exemplars_asked": 0, "exemplars_kept": 0,
                                                "max_input_tokens": budget.max_input_tokens})
            for key in ("prompts", "over_budget", "exemplars_asked", "exemplars_kept"):
                log[key] += getattr(budget, key)
    return _score_rendered(model, tokenizer, cells, rendered, model_name, settings, timings,
                           run)


def _render_cells(cells, budgets):

    rendered = []
    for cell in cells:
        spec = tasks.get(cell.dataset)
        if not cell.examples:
            raise UserError(f"no examples for {cell.dataset} ({cell.split}): nothing to evaluate")
        budget = budgets.get(cell.format)
        rendered.append((spec, [cell.render(spec, f, budget) for f in cell.examples]))
    return rendered


def _score_rendered(model, tokenizer, cells, rendered, model_name, settings, timings, run):
    classify = [i for i, (_, rs) in enumerate(rendered) if rs[0].options]
    generate = [i for i in range(len(cells)) if i not in set(classify)]
    predictions: dict[int, list[str]] = {}
    start = time.perf_counter()
    if classify:
        flat = [r for i in classify for r in rendered[i][1]]
        chosen = iter(rank_classify(model, tokenizer, flat,
                                    **settings.rank_options()).predictions)
        for i in classify:
            predictions[i] = [r.options[next(chosen)] for r in rendered[i][1]]
    mid = time.perf_counter()
    by_dataset: dict[str, list[int]] = {}
    for i in generate:  # one decoding budget per dataset (its longest reference)
        by_dataset.setdefault(cells[i].dataset, []).append(i)
    for members in by_dataset.values():
        budget = decoding_budget(tokenizer, [r.targets for i in members
                                             for r in rendered[i][1]], settings)
        flat_inputs = [r.inputs for i in members for r in rendered[i][1]]
        texts = iter(generate_texts(model, tokenizer, flat_inputs, settings, budget))
        for i in members:
            predictions[i] = [next(texts).strip() for _ in rendered[i][1]]
    if timings is not None:
        timings["rank_classification_s"] = timings.get("rank_classification_s", 0) + mid - start
        timings["generation_s"] = timings.get("generation_s", 0) + time.perf_counter() - mid
    scores = []
    for i, cell in enumerate(cells):
        spec, rs = rendered[i]
        references = [r.targets for r in rs]
        value = metrics_lib.score(spec.metric, predictions[i], references)
        per_example = example_values(spec.metric, predictions[i], references)
        scores.append(TemplateScore(model_name, cell.dataset, spec.cluster, cell.template,
                                    cell.split, spec.metric, value, len(rs),
                                    tuple(round(v, 4) for v in per_example),
                                    tuple(predictions[i]), run, cell.format))
    return scores


def example_values(metric: str, predictions: Sequence[str],
                   references: Sequence[Any]) -> list[float]:
    """The metric of each example alone, in percent. For accuracy, exact match and F1 their
    mean is the dataset's score; BLEU and ROUGE are corpus metrics, so per example they are
    the sentence-level values (their mean approximates the corpus score)."""
    return [metrics_lib.score(metric, [p], [r]) for p, r in zip(predictions, references)]


# -- evaluating the runs of a held-out experiment ------------------------------------------

@dataclasses.dataclass
class LoadedModel:
    """A trained model from a run folder, with what evaluation must know about its training."""

    run: str
    model: Any
    step: int
    bidirectional_prefix: bool
    tokenizer: Any  # the one it was trained with, saved beside its checkpoints


def load_run_model(run_name: str, mesh=None) -> LoadedModel:
    """The newest checkpoint of a run (a name under the runs folder, or a path, local or gs://)
    and its attention mode, with its parameters sharded over `mesh` (default: replicated)."""

    path = trained_run_path(run_name)
    model, step = load_model(path, mesh=mesh)
    fingerprint = checkpoint_dir(path) / TRAIN_FINGERPRINT_FILE
    train = json.loads(fingerprint.read_text())["train"] if fingerprint.exists() else {}
    return LoadedModel(run_name, model, int(step), bool(train.get("bidirectional_prefix")),
                       load_tokenizer(path))


def held_out_cells(datasets: Sequence[str], *, num_templates: int | None,
                   max_examples: int | None, splits: Sequence[str] = ("validation", "test"),
                   size: str = "book", seed: int = 0, data_dir: str | None = None,
                   format: str = "zero-shot", shot_seed: int = 0,
                   max_pool: int | None = None) -> list[Cell]:
    """Cells for every dataset x evaluation template x split, at most `max_examples` each; an
    ablation `format` (Figure 8) has one rendering per example, so one cell per split. A
    "few-shot-K" format draws its exemplars from the first `max_pool` training examples (all
    when None), with `shot_seed`; a training split smaller than K is an error."""

    fmt, k = formats.parse_eval_format(format)
    cells = []
    for name in datasets:
        spec = tasks.get(name)
        pool = few_shot_pool(name, k, size=size, seed=seed, data_dir=data_dir,
                             max_pool=max_pool) if k else ()
        for split in splits:
            examples = tasks.load_examples(name, split, seed=seed, size=size,
                                           data_dir=data_dir, limit=max_examples)
            templates = (eval_templates(spec, num_templates) if fmt in formats.TEMPLATED_FORMATS
                         else [0])
            for template in templates:
                cells.append(Cell(name, template, split, examples, format, pool, shot_seed))
    return cells


@functools.lru_cache(maxsize=32)
def _training_pool(dataset: str, size: str, seed: int, data_dir: str | None,
                   max_pool: int | None) -> tuple:
    """A training split, loaded once per process: every k and split of a dataset draws its
    exemplars from the same pool (up to 30k TFDS examples; read-only)."""

    return tuple(tasks.load_examples(dataset, "train", seed=seed, size=size, data_dir=data_dir,
                                     limit=max_pool))


def few_shot_pool(dataset: str, k: int, *, size: str = "book", seed: int = 0,
                  data_dir: str | None = None,
                  max_pool: int | None = None) -> Sequence[Mapping[str, Any]]:
    """The training examples few-shot exemplars of `dataset` are drawn from; fails (one line)
    when the split holds fewer than `k` + 1 (an exemplar is never the evaluated example, so
    an example drawn from the training split itself still gets k others)."""
    pool = _training_pool(dataset, size, seed, data_dir, max_pool)
    if len(pool) < k + 1:
        raise UserError(f"few-shot k={k} is too large for {dataset}: its training split "
                        f"{'(capped at max_pool) ' if max_pool else ''}holds {len(pool)} "
                        f"examples; use k <= {max(len(pool) - 1, 0)}")
    return pool


def evaluate_runs(base_run: str, tuned_runs: Mapping[str, str], *,
                  num_templates: int | None, max_examples: int | None, source: str = "tinyworld",
                  size: str = "book", seed: int = 0, data_dir: str | None = None,
                  settings: EvalSettings | None = None, mesh=None,
                  timings: dict[str, float] | None = None) -> list[TemplateScore]:
    """The held-out experiment: each tuned run (held-out cluster -> run name) on the datasets
    of its held-out cluster, and the base run on all of them, with the same templates. Each
    run's model reads its own tokenizer's ids (saved with its checkpoints).

    Scores are labelled `model="base"` or `model="tuned"`.
    """

    settings = settings or EvalSettings()
    cells_of = {c: held_out_cells(splits_lib.held_out_split(c, source=source).eval,
                                  num_templates=num_templates, max_examples=max_examples,
                                  size=size, seed=seed, data_dir=data_dir) for c in tuned_runs}
    scores = []
    for label, runs in (("base", {None: base_run}), ("tuned", tuned_runs)):
        for cluster, run_name in runs.items():
            cells = ([c for cl in cells_of for c in cells_of[cl]] if cluster is None
                     else cells_of[cluster])
            scores += evaluate_run(run_name, cells, label, settings, mesh, timings)
    return scores


def evaluate_run(run_name: str, cells: Sequence[Cell], label: str,
                 settings: EvalSettings | None = None, mesh=None,
                 timings: dict[str, float] | None = None, loaded: LoadedModel | None = None,
                 prompt_log: dict[str, dict] | None = None) -> list[TemplateScore]:
    """Scores of one run's model (loaded here unless `loaded`) on `cells`, labelled `label`
    ("base" or "tuned"), in the attention mode it was trained with."""

    loaded = loaded or load_run_model(run_name, mesh)
    mode = dataclasses.replace(settings or EvalSettings(),
                      bidirectional_prefix=loaded.bidirectional_prefix)
    return evaluate_model(loaded.model, loaded.tokenizer, cells, model_name=label,
                          settings=mode, timings=timings, run=run_name, prompt_log=prompt_log)
