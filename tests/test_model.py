"""The decoder-only LM: shapes, parameter counts, masking, packing isolation, KV-cache decoding."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flan_nb import model as model_lib
from flan_nb.errors import UserError

CONFIG = model_lib.named_config("test")  # d_model 32, 2 layers, 4 heads, vocab 64
LENGTH = 24


@pytest.fixture(scope="module")
def model():
    return model_lib.create_model(CONFIG, seed=0)


@pytest.fixture(scope="module")
def forward():
    """A jitted forward pass (one compile per input shape for the whole module)."""
    from flax import nnx

    @nnx.jit(static_argnames="bidirectional_prefix")
    def run(model, tokens, positions, segments, causal=None, bidirectional_prefix=False):
        return model(tokens, positions, segments, causal, bidirectional_prefix=bidirectional_prefix)

    return run


@pytest.fixture(scope="module")
def cached():
    """Jitted prefill and decode_step."""
    from flax import nnx

    prefill = nnx.jit(lambda model, tokens, cache: model.prefill(tokens, cache))
    step = nnx.jit(lambda model, tokens, positions, cache: model.decode_step(tokens, positions,
                                                                             cache))
    return prefill, step


def packed_row(lengths, vocab=64, seed=0):
    """One row holding segments of `lengths` (LM segments), padded to LENGTH."""
    rng = np.random.RandomState(seed)
    tokens = np.zeros(LENGTH, np.int32)
    positions = np.zeros(LENGTH, np.int32)
    segments = np.zeros(LENGTH, np.int32)
    start = 0
    for i, n in enumerate(lengths):
        tokens[start:start + n] = rng.randint(3, vocab, n)
        positions[start:start + n] = np.arange(n)
        segments[start:start + n] = i + 1
        start += n
    return tokens, positions, segments


def test_named_config_counts_match_the_initialised_model():
    for name in ("test", "tiny-250k", "tiny-500k", "tiny-1m", "small-5m"):
        for tied in (True, False):
            config = model_lib.named_config(name, tied_embeddings=tied)
            assert model_lib.param_count(config) == model_lib.initialized_param_count(
                model_lib.abstract_model(config))


@pytest.mark.parametrize("name,size", [("tiny-250k", 0.25e6), ("tiny-500k", 0.5e6),
                                       ("tiny-1m", 1e6), ("small-5m", 5e6),
                                       ("paper-422m", 422e6), ("paper-2b", 2e9),
                                       ("paper-8b", 8e9), ("paper-68b", 68e9),
                                       ("paper-137b", 137e9)])
def test_named_configs_have_their_nominal_size(name, size):
    count = model_lib.param_count(model_lib.named_config(name))
    assert abs(count - size) / size < 0.12, count


def test_bad_configs_fail_with_a_clear_message():
    with pytest.raises(UserError, match="num_heads=5 must divide d_model=32"):
        model_lib.ModelConfig(d_model=32, num_heads=5)
    with pytest.raises(UserError, match="dtype 'float16'"):
        model_lib.ModelConfig(dtype="float16")
    with pytest.raises(UserError, match="unknown model config 'huge'"):
        model_lib.named_config("huge")
    with pytest.raises(UserError, match="unknown model setting"):
        model_lib.named_config("test", width=3)


def test_logits_shape_and_finite(model, forward):
    tokens, positions, segments = packed_row([10, 8])
    logits = forward(model, tokens[None], positions[None], segments[None])
    assert logits.shape == (1, LENGTH, CONFIG.vocab_size)
    assert logits.dtype == jnp.float32
    assert bool(jnp.isfinite(logits).all())  # padding rows are fully masked but stay finite


@settings(max_examples=8, deadline=None)
@given(st.lists(st.integers(1, 8), min_size=1, max_size=3))
def test_packed_segments_do_not_see_each_other(model, forward, lengths):
    """Each segment's logits in a packed row equal those of the segment alone in a row."""
    tokens, positions, segments = packed_row(lengths, seed=sum(lengths))
    packed = np.asarray(forward(model, tokens[None], positions[None], segments[None]))[0]
    start = 0
    for n in lengths:
        alone_t, alone_p, alone_s = (np.zeros(LENGTH, np.int32) for _ in range(3))
        alone_t[:n], alone_p[:n], alone_s[:n] = tokens[start:start + n], np.arange(n), 1
        alone = np.asarray(forward(model, alone_t[None], alone_p[None], alone_s[None]))[0]
        np.testing.assert_allclose(packed[start:start + n], alone[:n], atol=2e-5, rtol=2e-5)
        start += n


def test_causal_and_bidirectional_prefix(model, forward):
    tokens, positions, segments = packed_row([12])
    causal = np.zeros(LENGTH, np.int32)
    causal[:6] = 1  # a 6-token input prefix
    changed = tokens.copy()
    changed[4] = (changed[4] + 1) % 60 + 3  # a later prefix token
    args = dict(causal=causal[None], bidirectional_prefix=True)
    base = forward(model, tokens[None], positions[None], segments[None], **args)
    other = forward(model, changed[None], positions[None], segments[None], **args)
    assert not np.allclose(base[0, 2], other[0, 2])  # the prefix sees forward within itself
    base_c = forward(model, tokens[None], positions[None], segments[None])
    other_c = forward(model, changed[None], positions[None], segments[None])
    np.testing.assert_allclose(base_c[0, :4], other_c[0, :4], atol=1e-6)  # causal: it doesn't
    changed_target = tokens.copy()
    changed_target[9] = (changed_target[9] + 1) % 60 + 3
    later = forward(model, changed_target[None], positions[None], segments[None], **args)
    np.testing.assert_allclose(base[0, :9], later[0, :9], atol=1e-6)  # targets stay unseen


def test_kv_cache_decoding_matches_the_full_forward(model, forward, cached):
    prefill, decode_step = cached
    tokens, positions, segments = packed_row([14], seed=3)
    batch = np.stack([tokens, np.roll(tokens, 1)])[:, :14]  # (2, 14)
    full = forward(model, batch, np.broadcast_to(np.arange(14), (2, 14)), np.ones((2, 14),
                                                                                  np.int32))
    cache = model.init_cache(batch_size=2, max_length=16)
    logits, cache = prefill(model, jnp.asarray(batch[:, :5]), cache)
    np.testing.assert_allclose(logits, full[:, :5], atol=1e-5)
    for p in range(5, 14):
        step_logits, cache = decode_step(model, jnp.asarray(batch[:, p]), jnp.full((2,), p),
                                         cache)
        np.testing.assert_allclose(step_logits, full[:, p], atol=1e-5)


def test_kv_cache_rows_at_different_positions(model, forward, cached):
    prefill, decode_step = cached
    """Right-padded prompts of different lengths decode like their unpadded selves."""
    tokens, _, _ = packed_row([10], seed=5)
    prompt = np.zeros((2, 8), np.int32)
    prompt[0, :6], prompt[1, :8] = tokens[:6], tokens[:8]
    cache = model.init_cache(2, 12)
    _, cache = prefill(model, jnp.asarray(prompt), cache)
    logits, cache = decode_step(model, jnp.asarray(tokens[[6, 8]]), jnp.array([6, 8]), cache)
    for row, n in enumerate((7, 9)):
        alone = forward(model, tokens[None, :n], np.arange(n)[None], np.ones((1, n), np.int32))
        np.testing.assert_allclose(logits[row], alone[0, -1], atol=1e-5)


def test_extend_runs_a_tree_of_continuations_like_the_full_forward(model, forward, cached):
    """Two continuations of one cached prompt in one block, each seeing the prompt and its own
    earlier tokens only, give the logits of running prompt + continuation whole."""
    from flax import nnx

    prefill, _ = cached
    tokens, _, _ = packed_row([12], seed=7)
    prompt, first, second = tokens[:5], tokens[5:8], tokens[8:10]
    cache = model.init_cache(1, 8 + 5)  # slots 0..7 the prompt (padded), 8..12 the block
    _, cache = prefill(model, jnp.asarray(np.pad(prompt, (0, 3))[None]), cache)
    block = np.concatenate([first, second])[None]  # (1, 5)
    positions = np.array([[5, 6, 7, 5, 6]])
    group = np.array([0, 0, 0, 1, 1])
    tree = (group[:, None] == group[None, :]) & (np.arange(5)[None, :] <= np.arange(5)[:, None])
    mask = np.concatenate([np.broadcast_to(np.arange(8) < 5, (5, 8)), tree], axis=1)[None]
    extend = nnx.jit(lambda model, *args: model.extend(*args), static_argnums=3)
    logits, cache = extend(model, jnp.asarray(block), jnp.asarray(positions), 8,
                           jnp.asarray(mask), cache)
    for cont, rows in ((first, slice(0, 3)), (second, slice(3, 5))):
        whole = np.concatenate([prompt, cont])[None]
        n = whole.shape[1]
        full = forward(model, whole, np.arange(n)[None], np.ones((1, n), np.int32))
        np.testing.assert_allclose(logits[0, rows], full[0, 5:], atol=1e-5)
    assert np.all(np.asarray(cache[0]["k"][0, :, 8:]) != 0)  # the block's keys were stored


def test_untied_bfloat16_and_dropout():
    from flax import nnx

    config = model_lib.named_config("test", tied_embeddings=False, dtype="bfloat16",
                                    dropout_rate=0.5)
    model = model_lib.create_model(config)
    f32 = model_lib.create_model(model_lib.named_config("test", tied_embeddings=False))
    tokens, positions, segments = packed_row([12])
    args = (jnp.asarray(tokens[None]), jnp.asarray(positions[None]), jnp.asarray(segments[None]))

    @nnx.jit
    def outputs(model, f32, key):
        return (model(*args), model(*args, dropout_rng=key),
                model(*args, dropout_rng=jax.random.fold_in(key, 1)), f32(*args))

    plain, dropped, dropped_other, full = outputs(model, f32, jax.random.key(1))
    assert plain.dtype == jnp.float32 and bool(jnp.isfinite(plain).all())
    np.testing.assert_array_equal(plain, outputs(model, f32, jax.random.key(1))[0])
    np.testing.assert_array_equal(dropped, outputs(model, f32, jax.random.key(1))[1])
    assert not np.allclose(dropped, plain) and not np.allclose(dropped, dropped_other)
    np.testing.assert_allclose(plain, full, atol=0.1)  # same init, bfloat16 matmuls


def _textbook_attention(q, k, v, mask):
    s = jnp.einsum("bhqd,bhkd->bhqk", q, k) / np.sqrt(q.shape[-1])
    p = jax.nn.softmax(jnp.where(mask, s, -1e9), axis=-1)
    return jnp.einsum("bhqk,bhkd->bhqd", p, v)


@pytest.mark.parametrize("prefix_lm", [False, True])
def test_flash_attention_equals_the_textbook_formula(prefix_lm):
    """Blocked attention (query x key tiles, online softmax, hand-written backward) gives the
    outputs and gradients of autodiff through the masked softmax, for packed rows with several
    segments, padding and (prefix LM) bidirectional input prefixes, at several tile sizes."""
    rng = np.random.RandomState(0)
    length, hd = 96, 8
    q, k, v = (jnp.asarray(rng.randn(3, 2, length, hd).astype(np.float32)) for _ in range(3))
    segments = np.zeros((3, length), np.int32)
    segments[0, :50], segments[0, 50:] = 1, 2  # a boundary inside a tile
    segments[1, :32], segments[1, 32:64], segments[1, 64:90] = 1, 2, 3  # on tile edges; pad
    segments[2, :] = 1
    prefix = np.zeros((3, length), bool)
    prefix[0, :20], prefix[0, 50:75] = True, True  # each segment's input prefix
    prefix[1, :10], prefix[1, 32:60], prefix[2, :70] = True, True, True
    causal = jnp.asarray(prefix) if prefix_lm else None
    mask = model_lib.attention_mask(jnp.asarray(segments), causal, prefix_lm)
    real = jnp.asarray(segments != 0)[:, None, :, None]  # padding queries see nothing: left out

    def loss(f):
        return lambda q, k, v: jnp.sum(jnp.where(real, f(q, k, v), 0) ** 2 * jnp.arange(hd))

    want = _textbook_attention(q, k, v, mask)
    want_grads = jax.jit(jax.grad(loss(lambda *a: _textbook_attention(*a, mask)),
                                  argnums=(0, 1, 2)))(q, k, v)
    for block in (16, 32, 96):
        def flash(q, k, v, block=block):
            return model_lib.flash_attention(q, k, v, jnp.asarray(segments), causal,
                                             block=block)

        np.testing.assert_allclose(jnp.where(real, jax.jit(flash)(q, k, v), 0),
                                   jnp.where(real, want, 0), atol=1e-5, rtol=1e-5)
        got = jax.jit(jax.grad(loss(flash), argnums=(0, 1, 2)))(q, k, v)
        for a, b in zip(got, want_grads):
            np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)
    # A changed key of segment 1 moves no output of segment 2 (isolation across tiles).
    k2 = k.at[0, :, 10].add(5.0)
    out, out2 = (model_lib.flash_attention(q, kk, v, jnp.asarray(segments), causal, block=16)
                 for kk in (k, k2))
    np.testing.assert_array_equal(out[0, :, 50:], out2[0, :, 50:])
    assert not np.allclose(out[0, :, 10:50], out2[0, :, 10:50])


def test_tiled_forward_pass_equals_the_cached_path_and_isolates_segments(model, forward,
                                                                        cached):
    """At 128 tokens the forward pass runs in two tiles (rotary tables, q/k/v and the output
    reshaped tile-major): it equals `prefill` (unblocked attention, explicit mask), and a
    segment crossing the tile edge gives the logits it gives alone."""
    prefill, _ = cached
    length = 128
    assert model_lib.attention_tiles(length) == 2
    rng = np.random.RandomState(11)
    tokens = rng.randint(3, 64, (2, length)).astype(np.int32)
    positions = np.broadcast_to(np.arange(length), (2, length))
    full = forward(model, tokens, positions, np.ones((2, length), np.int32))
    cached_logits, _ = prefill(model, jnp.asarray(tokens), model.init_cache(2, length))
    np.testing.assert_allclose(full, cached_logits, atol=2e-5, rtol=2e-5)
    segments = np.where(np.arange(length) < 90, 1, 2)[None].astype(np.int32)
    packed_positions = np.concatenate([np.arange(90), np.arange(length - 90)])[None]
    packed = forward(model, tokens[:1], packed_positions, segments)
    np.testing.assert_allclose(packed[0, :90], full[0, :90], atol=2e-5, rtol=2e-5)
    alone = np.zeros((1, length), np.int32)
    alone[0, :length - 90] = tokens[0, 90:]
    second = forward(model, alone, np.arange(length)[None],
                     (np.arange(length) < length - 90)[None].astype(np.int32))
    np.testing.assert_allclose(packed[0, 90:], second[0, :length - 90], atol=2e-5, rtol=2e-5)


def test_attention_tiles():
    assert model_lib.attention_tiles(256) == 4 and model_lib.attention_tiles(64) == 1
    assert model_lib.attention_tiles(24) == 1 and model_lib.attention_tiles(96, 32) == 3


def test_dense_backward_matches_autodiff():
    rng = np.random.RandomState(0)
    for shape_x, shape_w in [((2, 5, 8), (8, 3)), ((4, 3), (3, 9))]:
        x, w = jnp.asarray(rng.randn(*shape_x)), jnp.asarray(rng.randn(*shape_w))
        got = jax.grad(lambda x, w: jnp.sum(jnp.sin(model_lib.dense(x, w))), (0, 1))(x, w)
        want = jax.grad(lambda x, w: jnp.sum(jnp.sin(x @ w)), (0, 1))(x, w)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
