"""Properties of packing: nothing lost or duplicated, segments isolated, features as in seqio."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flan_nb import packing
from flan_nb.errors import UserError
from flan_nb.packing import EOS_ID, attention_mask, features, instruction_segment, pack, unpack

SEQ = 24
MAX_IN, MAX_TG = 16, 8

token_lists = st.lists(st.integers(3, 99), max_size=20)
examples = st.lists(st.tuples(token_lists, token_lists), min_size=1, max_size=30)
packers = st.sampled_from(packing.PACKERS)


def _segments(pairs):
    return [instruction_segment(i, t, MAX_IN, MAX_TG, key=n) for n, (i, t) in enumerate(pairs)]


def test_matches_seqio_prefix_lm_example():
    """The packed example from seqio's PrefixLMFeatureConverter docstring, feature by feature."""
    rows, _ = pack([instruction_segment([7, 8, 5], [3, 9], 7, 8),
                    instruction_segment([8, 4, 9, 3], [4], 7, 8)], 15, "next_fit")
    got = {k: v[0].tolist() for k, v in features(rows, 15).items()}
    assert got == {
        "decoder_target_tokens": [7, 8, 5, 1, 3, 9, 1, 8, 4, 9, 3, 1, 4, 1, 0],
        "decoder_input_tokens": [0, 7, 8, 5, 1, 3, 9, 0, 8, 4, 9, 3, 1, 4, 0],
        "decoder_loss_weights": [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0],
        "decoder_positions": [0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0],
        "decoder_segment_ids": [1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 0],
        "decoder_causal_attention": [1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0],
    }


@settings(max_examples=60, deadline=None)
@given(examples, packers)
def test_unpack_gives_back_every_example_once(pairs, name):
    segments = _segments(pairs)
    rows, stats = pack(segments, SEQ, name, max_open_rows=4)
    # Every key exactly once over all rows: nothing lost, nothing duplicated.
    assert sorted(s.key for row in rows for s in row) == list(range(len(pairs)))
    back = unpack(features(rows, SEQ))
    assert [[(s.tokens, s.prefix_length) for s in row] for row in back] == [
        [(s.tokens, s.prefix_length) for s in row] for row in rows]
    by_key = {s.key: s for row in rows for s in row}
    for n, (inputs, targets) in enumerate(pairs):
        seg = by_key[n]
        if not seg.truncated:
            assert (list(seg.inputs), list(seg.targets)) == (inputs, targets)
    assert stats.num_segments == len(pairs)


@settings(max_examples=60, deadline=None)
@given(examples, packers)
def test_segments_contiguous_positions_restart_and_loss_on_targets(pairs, name):
    rows, _ = pack(_segments(pairs), SEQ, name, max_open_rows=3)
    batch = features(rows, SEQ)
    for r, row in enumerate(rows):
        ids = batch["decoder_segment_ids"][r]
        for s, seg in enumerate(row, start=1):
            where = np.flatnonzero(ids == s)
            assert len(where) == len(seg) and np.all(np.diff(where) == 1)  # one block, in row
            assert batch["decoder_positions"][r, where].tolist() == list(range(len(seg)))
            weights = batch["decoder_loss_weights"][r, where]
            assert weights.tolist() == [0] * seg.prefix_length + [1] * (len(seg) - seg.prefix_length)
            assert batch["decoder_input_tokens"][r, where[0]] == 0  # BOS restarts per segment
            causal = batch["decoder_causal_attention"][r, where]
            assert causal.tolist() == [1] * (seg.prefix_length + 1) + [0] * (
                len(seg) - seg.prefix_length - 1)
        padding = ids == 0
        for name_ in packing.FEATURES:
            assert not batch[name_][r, padding].any()  # padding is all zeros
    # Segment ids run 1..k from the left; padding only at the end of a row.
    ids = batch["decoder_segment_ids"]
    assert np.all((np.diff(ids, axis=1) >= 0) | (ids[:, 1:] == 0))


@settings(max_examples=40, deadline=None)
@given(examples, packers, st.booleans())
def test_attention_mask_causal_block_diagonal_no_padding(pairs, name, bidirectional):
    rows, _ = pack(_segments(pairs), SEQ, name, max_open_rows=3)
    batch = features(rows, SEQ)
    ids, causal = batch["decoder_segment_ids"], batch["decoder_causal_attention"]
    mask = attention_mask(ids, causal, bidirectional_prefix=bidirectional)
    assert mask.shape == (len(rows), 1, SEQ, SEQ) and mask.dtype == bool
    m = mask[:, 0]
    q, k = np.meshgrid(np.arange(SEQ), np.arange(SEQ), indexing="ij")
    same = (ids[:, :, None] == ids[:, None, :]) & (ids[:, :, None] > 0)
    assert not (m & ~same).any()  # block-diagonal by segment, nothing on padding
    future = m & (k > q)[None]
    if bidirectional:
        # Only prefix positions look ahead, and only at prefix positions.
        assert not (future & ~(causal[:, :, None] & causal[:, None, :]).astype(bool)).any()
    else:
        assert not future.any()
    # Everything causal within a segment is allowed.
    assert (m | ~(same & (k <= q)[None])).all()


def test_attention_mask_under_jit_matches_numpy():
    import jax
    import jax.numpy as jnp

    rows, _ = pack(_segments([([5, 6, 7], [8]), ([9] * 10, [4, 4]), ([3], [3] * 5)]), SEQ)
    batch = features(rows, SEQ)
    for bidirectional in (False, True):
        want = attention_mask(batch["decoder_segment_ids"], batch["decoder_causal_attention"],
                              bidirectional)
        got = jax.jit(lambda s, c, b=bidirectional: attention_mask(s, c, b))(
            jnp.asarray(batch["decoder_segment_ids"]), jnp.asarray(batch["decoder_causal_attention"]))
        np.testing.assert_array_equal(np.asarray(got), want)


@settings(max_examples=60, deadline=None)
@given(token_lists, token_lists, st.integers(1, 12), st.integers(1, 12))
def test_truncation_keeps_eos_and_is_flagged(inputs, targets, max_in, max_tg):
    seg = instruction_segment(inputs, targets, max_in, max_tg)
    assert seg.prefix_length <= max_in and len(seg) - seg.prefix_length <= max_tg
    assert seg.tokens[seg.prefix_length - 1] == EOS_ID and seg.tokens[-1] == EOS_ID
    assert seg.truncated == (len(inputs) >= max_in or len(targets) >= max_tg)
    assert list(seg.inputs) == inputs[: max_in - 1] and list(seg.targets) == targets[: max_tg - 1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(3, 99), max_size=40), min_size=1, max_size=10), packers)
def test_lm_segments_keep_every_token_and_weight_all(docs, name):
    segments = [s for n, doc in enumerate(docs) for s in packing.lm_segments(doc, SEQ, key=n)]
    rows, _ = pack(segments, SEQ, name)
    batch = features(rows, SEQ)
    nonpad = batch["decoder_segment_ids"] > 0
    np.testing.assert_array_equal(batch["decoder_loss_weights"], nonpad.astype(np.int32))
    assert not batch["decoder_causal_attention"].any()
    pieces = sorted((s.key, s.tokens) for row in rows for s in row)
    for n, doc in enumerate(docs):
        joined = [t for key, tokens in pieces if key[0] == n for t in tokens]
        assert joined == doc + [EOS_ID]


def test_best_fit_pads_less_than_next_fit():
    rng = np.random.default_rng(0)
    pairs = [(list(rng.integers(3, 99, rng.integers(1, 40))),
              list(rng.integers(3, 99, rng.integers(1, 12)))) for _ in range(2000)]
    segments = [instruction_segment(i, t, 48, 16) for i, t in pairs]
    _, next_fit = pack(segments, 64, "next_fit")
    _, best_fit = pack(segments, 64, "best_fit")
    assert best_fit.num_segments == next_fit.num_segments == len(pairs)
    assert best_fit.pad_fraction <= 0.5 * next_fit.pad_fraction


def test_bad_values_raise_user_errors():
    with pytest.raises(UserError, match="unknown packer 'first_fit'"):
        packing.make_packer("first_fit", 8)
    with pytest.raises(UserError, match="seq_length"):
        packing.make_packer("next_fit", 1)
    with pytest.raises(UserError, match="cannot fit a row of 4"):
        packing.NextFitPacker(4).add(instruction_segment([5] * 9, [6], 16, 4))
    with pytest.raises(UserError, match="needs causal_attention"):
        attention_mask(np.ones((1, 3), np.int32), bidirectional_prefix=True)


def test_flan_2021_packing_writes_a_row_as_one_sequence():
    """isolate=False: the seqio example again, as FLAN 2021 packs it (EOS between examples, one
    sequence to the model); only the attention-related features change, not the loss."""
    rows, _ = pack([instruction_segment([7, 8, 5], [3, 9], 7, 8),
                    instruction_segment([8, 4, 9, 3], [4], 7, 8)], 15, "next_fit")
    isolated = {k: v[0].tolist() for k, v in features(rows, 15).items()}
    shared = {k: v[0].tolist() for k, v in features(rows, 15, isolate=False).items()}
    assert shared["decoder_segment_ids"] == [1] * 14 + [0]
    assert shared["decoder_positions"] == list(range(14)) + [0]
    assert shared["decoder_input_tokens"] == [0, 7, 8, 5, 1, 3, 9, 1, 8, 4, 9, 3, 1, 4, 0]
    for name in ("decoder_target_tokens", "decoder_loss_weights", "decoder_causal_attention"):
        assert shared[name] == isolated[name]


@settings(max_examples=30, deadline=None)
@given(examples, packers)
def test_only_isolation_stops_a_token_attending_to_the_previous_example(pairs, name):
    rows, _ = pack(_segments(pairs), SEQ, name)
    for isolate in (True, False):
        batch = features(rows, SEQ, isolate=isolate)
        mask = attention_mask(batch["decoder_segment_ids"])[:, 0]  # (rows, seq, seq)
        for r, row in enumerate(rows):
            starts = np.cumsum([0] + [len(s) for s in row])
            for k in range(1, len(row)):  # the first token of example k, the previous example
                sees_previous = mask[r, starts[k], starts[k - 1]:starts[k]]
                assert sees_previous.all() if not isolate else not sees_previous.any()
            used = starts[-1]
            assert not mask[r, :, used:].any() and not mask[r, used:, :].any()  # never padding


def test_isolation_decides_whether_the_model_sees_the_previous_example():
    """End to end through the model: the second example's logits ignore the first example's
    tokens with isolation, and depend on them without it."""
    from flax import nnx

    from flan_nb import model as model_lib

    lm = model_lib.create_model(model_lib.named_config("test"), seed=0)
    forward = nnx.jit(lambda m, batch: model_lib.logits_for_batch(m, batch))
    second = instruction_segment([9, 10, 11], [12, 13], 8, 8)
    for isolate in (True, False):
        logits = []
        for first in ([5, 6, 7], [20, 21, 22]):  # two rows differing only in example 1
            rows = [[instruction_segment(first, [4], 8, 8), second]]
            logits.append(np.asarray(forward(lm, features(rows, SEQ, isolate=isolate)))[0])
        at = slice(6, 6 + len(second))  # the second example's positions
        same = np.allclose(logits[0][at], logits[1][at], atol=1e-5)
        assert same == isolate
