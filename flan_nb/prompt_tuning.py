"""Prompt tuning (the paper's section 4.6 and Figure 10; Lester et al., 2021).

A soft prompt is P trainable vectors of the model's width put before the embedded tokens of
every input (`flan_nb.model.Transformer`'s `soft_prompt`). The model stays frozen: only the
prompt is trained, with optax (Adafactor, as T5's prompt tuning), on a dataset's training
examples rendered through its templates (loss on the target, as in instruction tuning). With
the prompt in place, the model answers each test example by rank classification (summed
option log-likelihoods, the paper's way), one example per row so that every row sees the
prompt.

Lengths: a row holds the prompt, the input (cut at its end, as tuning cuts it) and the target,
at most `max_length` positions: the context of the model (the book's base was pretrained on
256-token rows). A prompt that leaves fewer than `MIN_INPUT_LENGTH` input tokens is an error.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import time
from typing import Any, Mapping, Sequence

import numpy as np

from flan_nb import metrics as metrics_lib
from flan_nb import packing, tasks
from flan_nb.errors import UserError, require

MIN_INPUT_LENGTH = 16  # input tokens (EOS included) a prompt must leave room for


@dataclasses.dataclass(frozen=True)
class PromptTuningConfig:
    """How a soft prompt is trained and scored."""

    prompt_length: int = 16  # P, the number of soft-prompt vectors
    num_steps: int = 150  # optimizer steps
    batch_size: int = 16  # rendered examples per step
    learning_rate: float = 0.3  # Adafactor's (Lester et al. use 0.3)
    max_length: int = 256  # positions per row: prompt + input + target (the model's context)
    max_target_length: int = 16  # target tokens kept, EOS included
    num_templates: int | None = None  # templates used to train and test (None: every one)
    score_batch_size: int = 32  # rows per forward pass when scoring

    def __post_init__(self):
        for name in ("num_steps", "batch_size", "max_length", "max_target_length",
                     "score_batch_size"):
            value = getattr(self, name)
            require(isinstance(value, int) and not isinstance(value, bool) and value >= 1,
                    f"prompt tuning {name} must be a positive integer, got {value!r}")
        require(isinstance(self.prompt_length, int) and self.prompt_length >= 0,
                f"prompt tuning prompt_length must be an integer >= 0, got "
                f"{self.prompt_length!r}")
        require(self.learning_rate > 0,
                f"prompt tuning learning_rate must be > 0, got {self.learning_rate!r}")
        require(self.num_templates is None or (isinstance(self.num_templates, int)
                                                and self.num_templates >= 1),
                f"prompt tuning num_templates must be >= 1 or null, got {self.num_templates!r}")
        room = self.max_length - self.prompt_length - self.max_target_length
        require(room >= MIN_INPUT_LENGTH,
                f"prompt_length={self.prompt_length} leaves {room} input tokens in a "
                f"{self.max_length}-position row with {self.max_target_length} target tokens; "
                f"inputs need at least {MIN_INPUT_LENGTH}: shorten the prompt or raise "
                f"max_length")

    @property
    def max_input_length(self) -> int:
        """Input tokens kept, EOS included: what the prompt and target leave of a row."""
        return self.max_length - self.prompt_length - self.max_target_length


def training_examples(dataset: str, num_examples: int | None, *, seed: int,
                      size: str = "book", data_dir: str | None = None) -> list[dict]:
    """`num_examples` training examples of `dataset` drawn with `seed` (None: the whole
    split); more than the split holds is an error."""
    pool = tasks.load_examples(dataset, "train", seed=0, size=size, data_dir=data_dir)
    if num_examples is None:
        return list(pool)
    check_num_examples(dataset, num_examples, len(pool))
    return random.Random(f"prompt-tuning\0{dataset}\0{seed}").sample(list(pool), num_examples)


def check_num_examples(dataset: str, num_examples: int | None, available: int) -> None:
    if num_examples is None:
        return
    require(isinstance(num_examples, int) and num_examples >= 1,
            f"prompt tuning num_examples must be a positive integer or null (all), got "
            f"{num_examples!r}")
    if num_examples > available:
        raise UserError(f"prompt tuning on {dataset} with {num_examples} examples: its "
                        f"training split holds {available}; use at most {available} or null "
                        f"(the whole split)")


def templates_of(spec, num_templates: int | None) -> list[int]:
    """The dataset's evaluation templates (not turned around), the first `num_templates`."""
    ids = [i for i, t in enumerate(spec.templates) if not t.turned_around]
    return ids if num_templates is None else ids[:num_templates]


def render_pairs(spec, examples: Sequence[Mapping[str, Any]], templates: Sequence[int],
                 tokenizer) -> list[tuple[list[int], list[int]]]:
    """(input ids, target ids) of every example through every template."""
    rendered = [spec.render(fields, t) for fields in examples for t in templates]
    inputs = tokenizer.encode_batch([r.inputs for r in rendered])
    targets = tokenizer.encode_batch([r.targets for r in rendered])
    return list(zip(inputs, targets))


def init_prompt(model, prompt_length: int, seed: int) -> np.ndarray:
    """(P, d_model) float32: the embeddings of P tokens drawn from the vocabulary (Lester et
    al.'s initialisation; ids 0-2 are pad, EOS and unk, so they are skipped)."""
    vocab_size = model.config.vocab_size
    ids = np.random.default_rng(seed).integers(3, vocab_size, size=prompt_length)
    # Only the P rows are gathered (on the device), not the whole table to the host.
    return np.asarray(model.embed[...][ids], np.float32)  # (P, d_model)


def _rows(pairs, config: PromptTuningConfig, length: int) -> dict[str, np.ndarray]:
    """One `inputs EOS targets EOS` segment per row (every row must see the prompt)."""
    segments = [packing.instruction_segment(i, t, config.max_input_length,
                                            config.max_target_length) for i, t in pairs]
    return packing.features([[s] for s in segments], length)


def _row_length(pairs, config: PromptTuningConfig) -> int:
    """The token length of rows for `pairs`: the longest segment, rounded up to 16, at most
    what the prompt leaves of `max_length`."""
    longest = max(min(len(i) + 1, config.max_input_length)
                  + min(len(t) + 1, config.max_target_length) for i, t in pairs)
    return min(-(-longest // 16) * 16, config.max_length - config.prompt_length)


@functools.lru_cache(maxsize=16)
def _compiled(graphdef, bidirectional_prefix: bool, learning_rate: float):
    import jax
    import jax.numpy as jnp
    import optax
    from flax import nnx

    from flan_nb.model import token_losses  # jax at import: the command line stays light

    def token_ll(prompt, state, batch):
        model = nnx.merge(graphdef, state)
        logits = model(batch["decoder_input_tokens"], batch["decoder_positions"],
                       batch["decoder_segment_ids"], batch["decoder_causal_attention"],
                       bidirectional_prefix=bidirectional_prefix, soft_prompt=prompt)
        # (rows, length): log p(target token) where the loss weight is 1
        return -token_losses(logits, batch["decoder_target_tokens"]) * (
            batch["decoder_loss_weights"])

    def loss(prompt, state, batch):
        weights = batch["decoder_loss_weights"]
        return -jnp.sum(token_ll(prompt, state, batch)) / jnp.maximum(jnp.sum(weights), 1)

    optimizer = optax.adafactor(learning_rate=learning_rate)

    @jax.jit
    def step(prompt, opt_state, state, batch):
        # Gradients with respect to the prompt only: the model's state is a constant input.
        value, grad = jax.value_and_grad(loss)(prompt, state, batch)
        updates, opt_state = optimizer.update(grad, opt_state, prompt)
        return optax.apply_updates(prompt, updates), opt_state, value

    @jax.jit
    def score(prompt, state, batch):
        return jnp.sum(token_ll(prompt, state, batch), axis=1)  # (rows,)

    return step, score, optimizer


@dataclasses.dataclass
class TrainedPrompt:
    prompt: np.ndarray  # (P, d_model) float32
    losses: list[float]  # per step
    seconds: float


def train_prompt(model, pairs: Sequence[tuple[Sequence[int], Sequence[int]]],
                 config: PromptTuningConfig, *, seed: int,
                 bidirectional_prefix: bool = False) -> TrainedPrompt:
    """Train a soft prompt on `pairs` (input ids, target ids) with the model frozen: `step`
    differentiates the loss with respect to the prompt alone, and the model's parameters
    are passed in as constants, never written."""
    import jax.numpy as jnp
    from flax import nnx

    require(len(pairs) >= 1, "prompt tuning needs at least one training example")
    graphdef, state = nnx.split(model)
    step, _, optimizer = _compiled(graphdef, bool(bidirectional_prefix),
                                   float(config.learning_rate))
    prompt = jnp.asarray(init_prompt(model, config.prompt_length, seed))
    opt_state = optimizer.init(prompt)
    length = _row_length(pairs, config)
    rng = np.random.default_rng(seed)
    order: list[int] = []
    losses = []
    start = time.perf_counter()
    for _ in range(config.num_steps):
        while len(order) < config.batch_size:  # epochs of the shuffled pairs
            order += list(rng.permutation(len(pairs)))
        chosen, order = order[:config.batch_size], order[config.batch_size:]
        batch = _rows([pairs[i] for i in chosen], config, length)
        prompt, opt_state, value = step(prompt, opt_state, state, batch)
        losses.append(float(value))
    return TrainedPrompt(np.asarray(prompt, np.float32), losses, time.perf_counter() - start)


def score_pairs(model, prompt: np.ndarray | None, pairs, config: PromptTuningConfig, *,
                bidirectional_prefix: bool = False) -> np.ndarray:
    """Summed target log-likelihood (EOS included) of each (input, target) pair with the
    soft `prompt` before the input (None or shape (0, d): the plain model)."""
    import jax.numpy as jnp
    from flax import nnx

    graphdef, state = nnx.split(model)
    _, score, _ = _compiled(graphdef, bool(bidirectional_prefix), float(config.learning_rate))
    soft = jnp.zeros((0, model.config.d_model), jnp.float32) if prompt is None else jnp.asarray(prompt)
    out = np.zeros(len(pairs))
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]))  # less padding
    size = config.score_batch_size
    for begin in range(0, len(order), size):
        chunk = order[begin:begin + size]
        group = [pairs[i] for i in chunk]
        group += [group[-1]] * (size - len(group))  # fixed shape: repeat the last pair
        batch = _rows(group, config, _row_length(group, config))
        out[chunk] = np.asarray(score(soft, state, batch), np.float64)[:len(chunk)]
    return out


def rank_classify(model, tokenizer, prompt, spec, examples, templates, config, *,
                  bidirectional_prefix: bool = False) -> dict[str, Any]:
    """Each example through each template, answered by its most likely option with the
    prompt in place. Returns per-example scores (percent, averaged over templates), the mean
    per template, and the predictions."""
    rendered = [[spec.render(fields, t) for t in templates] for fields in examples]
    flat = [r for per_example in rendered for r in per_example]
    if any(not r.options for r in flat):
        raise UserError(f"{spec.name} is not a classification dataset: prompt tuning is "
                        f"scored by rank classification")
    inputs = tokenizer.encode_batch([r.inputs for r in flat])
    texts = sorted({o for r in flat for o in r.options})
    ids_of = dict(zip(texts, tokenizer.encode_batch(texts)))
    pairs = [(inputs[i], ids_of[o]) for i, r in enumerate(flat) for o in r.options]
    ll = score_pairs(model, prompt, pairs, config, bidirectional_prefix=bidirectional_prefix)
    bounds = np.cumsum([0] + [len(r.options) for r in flat])
    predictions = [r.options[int(np.argmax(ll[a:b]))]
                   for r, a, b in zip(flat, bounds[:-1], bounds[1:])]
    values = [metrics_lib.score(spec.metric, [p], [r.targets])
              for p, r in zip(predictions, flat)]
    n = len(templates)
    per_example = [float(np.mean(values[i * n:(i + 1) * n])) for i in range(len(examples))]
    per_template = {t: float(np.mean(values[j::n])) for j, t in enumerate(templates)}
    return {"per_example": per_example, "per_template": per_template,
            "predictions": predictions}


def prompt_tune_and_score(model, tokenizer, dataset: str, train: Sequence[Mapping],
                          test: Sequence[Mapping], config: PromptTuningConfig, *, seed: int,
                          bidirectional_prefix: bool = False) -> dict[str, Any]:
    """Train a prompt on `train` and score the test examples with it: the whole stage."""
    spec = tasks.get(dataset)
    templates = templates_of(spec, config.num_templates)
    trained = train_prompt(model, render_pairs(spec, train, templates, tokenizer), config,
                           seed=seed, bidirectional_prefix=bidirectional_prefix)
    start = time.perf_counter()
    scored = rank_classify(model, tokenizer, trained.prompt, spec, test, templates, config,
                           bidirectional_prefix=bidirectional_prefix)
    return {**scored, "templates": templates, "losses": trained.losses,
            "train_seconds": trained.seconds, "score_seconds": time.perf_counter() - start,
            "prompt": trained.prompt}
