"""Greedy decoding with a key/value cache, compiled once per shape with `jax.jit`.

Generation tasks (closed-book QA, translation, summarization...) are answered by decoding. A
prompt is what the packed training segments put before the first target token: BOS (id 0), the
input ids, EOS. Prompts of a batch are right-padded to one fixed length and the batch is padded
to a fixed number of rows, so every call has the same shapes and compiles once: the model's
`prefill` fills the cache for all prompt positions, then `decode_step` adds one token per row
inside a `lax.while_loop` that stops when every row has produced EOS (or at `max_new_tokens`).
Row i's first new token comes from the logits at its own last prompt position; a padded slot is
overwritten before anything attends to it (see `flan_nb.model.Transformer.prefill`).

`greedy_decode_uncached` recomputes the whole sequence at every step: slow, obviously correct, and
what the tests compare the cached loop with.
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np

from flan_nb.errors import UserError
from flan_nb.errors import require

PAD_ID, EOS_ID = 0, 1


def prompt_ids(input_ids: Sequence[int]) -> list[int]:
    """The decoder prompt of an input: BOS (0), the input ids, EOS (the training layout)."""
    return [PAD_ID, *input_ids, EOS_ID]


def strip_output(ids: Sequence[int]) -> list[int]:
    """Generated ids up to (not including) the first EOS."""
    ids = [int(i) for i in ids]
    return ids[: ids.index(EOS_ID)] if EOS_ID in ids else ids


def _check(prompts: Sequence[Sequence[int]], max_prompt_length: int, max_new_tokens: int,
           batch_size: int) -> None:
    require(max_new_tokens >= 1, f"max_new_tokens must be >= 1, got {max_new_tokens}")
    require(batch_size >= 1, f"batch_size must be >= 1, got {batch_size}")
    for i, prompt in enumerate(prompts):
        if not 1 <= len(prompt) <= max_prompt_length:
            raise UserError(f"prompt {i} has {len(prompt)} tokens; prompts need 1 to "
                            f"max_prompt_length={max_prompt_length} (truncate inputs or raise it)")


@functools.lru_cache(maxsize=16)
def _compiled_generate(graphdef, batch_size: int, max_prompt_length: int, max_new_tokens: int,
                       bidirectional_prefix: bool):
    """The jitted prefill + greedy loop for one model structure and one set of shapes."""
    # jax/flax on use (cost: flan_nb/__init__): reading results imports evaluate
    import jax
    import jax.numpy as jnp
    from flax import nnx

    @jax.jit
    def generate(state, tokens, lengths):
        # tokens (batch, max_prompt_length) right-padded; lengths (batch,)
        model = nnx.merge(graphdef, state)
        cache = model.init_cache(batch_size, max_prompt_length + max_new_tokens)
        prefix = (jnp.arange(max_prompt_length)[None, :] < lengths[:, None]).astype(jnp.int32)
        logits, cache = model.prefill(tokens, cache, prefix,
                                      bidirectional_prefix=bidirectional_prefix)
        rows = jnp.arange(batch_size)
        first = jnp.argmax(logits[rows, lengths - 1], axis=-1).astype(jnp.int32)  # (batch,)
        out = jnp.zeros((batch_size, max_new_tokens), jnp.int32).at[:, 0].set(first)

        def cond(carry):
            step, _, _, done, _ = carry
            return (step < max_new_tokens) & ~jnp.all(done)

        def body(carry):
            step, token, cache, done, out = carry
            logits, cache = model.decode_step(token, lengths + step - 1, cache)
            nxt = jnp.argmax(logits, axis=-1).astype(jnp.int32)  # (batch,)
            nxt = jnp.where(done, PAD_ID, nxt)  # finished rows emit padding
            out = out.at[:, step].set(nxt)
            return step + 1, nxt, cache, done | (nxt == EOS_ID), out

        carry = (jnp.int32(1), first, cache, first == EOS_ID, out)
        return jax.lax.while_loop(cond, body, carry)[-1]  # (batch, max_new_tokens)

    return generate


def greedy_decode(model, prompts: Sequence[Sequence[int]], *, max_new_tokens: int,
                  max_prompt_length: int | None = None, batch_size: int = 32,
                  bidirectional_prefix: bool = False) -> list[list[int]]:
    """Greedy continuation of each prompt (ids, see `prompt_ids`), stopped at EOS (excluded).

    `max_prompt_length` (default: the longest prompt) and `batch_size` fix the compiled shapes;
    pass the same values across calls to compile once.
    """
    # jax/flax on use (cost: flan_nb/__init__): reading results imports evaluate
    from flax import nnx

    if not prompts:
        return []
    max_prompt_length = max_prompt_length or max(len(p) for p in prompts)
    _check(prompts, max_prompt_length, max_new_tokens, batch_size)
    graphdef, state = nnx.split(model)
    generate = _compiled_generate(graphdef, batch_size, max_prompt_length, max_new_tokens,
                                  bool(bidirectional_prefix))
    outputs: list[list[int]] = []
    for start in range(0, len(prompts), batch_size):
        chunk = prompts[start:start + batch_size]
        tokens = np.zeros((batch_size, max_prompt_length), np.int32)  # (batch, prompt)
        lengths = np.ones((batch_size,), np.int32)  # filler rows: a lone BOS
        for i, prompt in enumerate(chunk):
            tokens[i, :len(prompt)] = prompt
            lengths[i] = len(prompt)
        generated = np.asarray(generate(state, tokens, lengths))  # (batch, max_new_tokens)
        outputs.extend(strip_output(row) for row in generated[:len(chunk)])
    return outputs


@functools.lru_cache(maxsize=16)
def _compiled_forward(graphdef, bidirectional_prefix: bool):
    # jax/flax on use (cost: flan_nb/__init__): reading results imports evaluate
    import jax
    import jax.numpy as jnp
    from flax import nnx

    @jax.jit
    def next_token(state, tokens, length, prompt_length):
        # tokens (1, total) right-padded; segment 0 marks the padding after `length` tokens
        model = nnx.merge(graphdef, state)
        positions = jnp.arange(tokens.shape[1])[None, :]  # (1, total)
        segments = (positions < length).astype(jnp.int32)
        prefix = (positions < prompt_length).astype(jnp.int32)
        logits = model(tokens, positions, segments, prefix,
                       bidirectional_prefix=bidirectional_prefix)  # (1, total, vocab)
        return jnp.argmax(logits[0, length - 1])

    return next_token


def greedy_decode_uncached(model, prompts: Sequence[Sequence[int]], *, max_new_tokens: int,
                           bidirectional_prefix: bool = False) -> list[list[int]]:
    """The same greedy decoding without a cache: a full forward pass per new token."""
    # jax/flax on use (cost: flan_nb/__init__): reading results imports evaluate
    from flax import nnx

    graphdef, state = nnx.split(model)
    next_token = _compiled_forward(graphdef, bool(bidirectional_prefix))
    total = max(len(p) for p in prompts) + max_new_tokens if prompts else 0
    outputs = []
    for prompt in prompts:
        tokens = np.zeros((1, total), np.int32)  # (1, total)
        tokens[0, :len(prompt)] = prompt
        length, generated = len(prompt), []
        while len(generated) < max_new_tokens:
            token = int(next_token(state, tokens, length, len(prompt)))
            if token == EOS_ID:
                break
            generated.append(token)
            tokens[0, length] = token
            length += 1
        outputs.append(generated)
    return outputs
