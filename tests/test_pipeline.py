"""The input pipelines: batch format, no example lost, exact resume, host shards, global arrays."""

from __future__ import annotations

import json
import zlib
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flan_nb import packing, pipeline
from flan_nb.errors import UserError
from test_mixture import fake_mixture


class WordTokenizer:
    """A stand-in tokenizer: one id (>= 3) per whitespace-separated word."""

    def encode(self, text):
        return [3 + zlib.crc32(w.encode()) % 500 for w in text.split()]


def _pipe(seed=0, packer="best_fit", batch_size=4, sizes=(30, 7, 90), isolate=True, **kwargs):
    return pipeline.InstructionPipeline(
        fake_mixture(list(sizes), seed=seed, **kwargs), WordTokenizer(), batch_size=batch_size,
        max_input_length=6, max_target_length=3, seq_length=16, packer=packer, max_open_rows=4,
        chunk_size=8, isolate=isolate)


def _segment_counter(rows):
    return Counter((s.tokens, s.prefix_length) for row in rows for s in row)


def test_batches_have_the_feature_format():
    batch = next(_pipe())
    assert sorted(batch) == sorted(packing.FEATURES)
    for value in batch.values():
        assert value.shape == (4, 16) and value.dtype == np.int32
    assert batch["decoder_segment_ids"].max() >= 2  # several examples per row


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(packing.PACKERS), st.integers(0, 1000), st.integers(1, 6))
def test_every_drawn_example_is_in_exactly_one_row(packer, seed, num_batches):
    pipe = _pipe(seed, packer)
    emitted = [row for batch in pipe.take(num_batches) for row in packing.unpack(batch)]
    waiting = pipe.packer.open_rows() + pipe._ready
    # The same samples, tokenized independently of the pipeline.
    drawn = fake_mixture([30, 7, 90], seed=seed).take(pipe.mixture.num_draws)
    tok = WordTokenizer()
    segments = [packing.instruction_segment(tok.encode(d.inputs), tok.encode(d.targets), 6, 3)
                for d in drawn]
    want = Counter((s.tokens, s.prefix_length) for s in segments)
    assert _segment_counter(emitted) + _segment_counter(waiting) == want
    assert pipe.stats.num_segments == sum(len(row) for row in emitted)
    # Inputs longer than 6 tokens (targets than 3) are cut, and the emitted cuts counted.
    cut = {(s.tokens, s.prefix_length): s.truncated for s in segments}
    assert pipe.stats.num_truncated == sum(cut[(s.tokens, s.prefix_length)]
                                           for row in emitted for s in row)


def test_truncated_examples_are_counted():
    pipe = _pipe(0, "next_fit")
    pipe.take(6)
    assert 0 < pipe.stats.num_truncated < pipe.stats.num_segments


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(packing.PACKERS), st.integers(0, 1000), st.integers(0, 5),
       st.integers(1, 4))
def test_save_then_restore_continues_the_identical_stream(packer, seed, before, after):
    original = _pipe(seed, packer)
    original.take(before)
    state = json.loads(json.dumps(original.get_state()))
    restored = _pipe(seed, packer)
    restored.set_state(state)
    for want, got in zip(original.take(after), restored.take(after)):
        for name in packing.FEATURES:
            np.testing.assert_array_equal(got[name], want[name])
    assert restored.get_state() == json.loads(json.dumps(original.get_state()))


def test_restore_with_other_settings_fails_clearly():
    state = _pipe(packer="next_fit").get_state()
    with pytest.raises(UserError, match="packer='next_fit' but this pipeline has 'best_fit'"):
        _pipe(packer="best_fit").set_state(state)


def test_hosts_build_their_own_share_of_the_global_batch():
    hosts = [_pipe(batch_size=4, shard_index=h, num_shards=2) for h in range(2)]
    batches = [next(h) for h in hosts]
    assert all(b["decoder_target_tokens"].shape == (2, 16) for b in batches)
    assert not np.array_equal(batches[0]["decoder_target_tokens"],
                              batches[1]["decoder_target_tokens"])
    with pytest.raises(UserError, match="multiple of the number of hosts 2"):
        _pipe(batch_size=3, shard_index=0, num_shards=2)


def test_to_global_lays_out_a_batch_on_the_mesh():
    import jax
    from jax.sharding import Mesh

    mesh = Mesh(np.array(jax.devices()), ("data",))
    batch = next(_pipe(batch_size=len(jax.devices()) * 2))
    arrays = pipeline.to_global(batch, pipeline.batch_sharding(mesh))
    for name, value in batch.items():
        assert arrays[name].shape == value.shape
        np.testing.assert_array_equal(np.asarray(arrays[name]), value)


def test_seq_length_must_hold_an_example():
    with pytest.raises(UserError, match="seq_length 5 must be >= max_input_length"):
        pipeline.InstructionPipeline(fake_mixture([3]), WordTokenizer(), batch_size=2,
                                     max_input_length=4, max_target_length=2, seq_length=5)


DOCS = [[3 + (7 * d + i) % 90 for i in range(1 + (d * 5) % 23)] for d in range(40)]


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(packing.PACKERS), st.integers(0, 1000), st.integers(0, 6),
       st.integers(1, 4), st.booleans())
def test_lm_pipeline_resumes_and_weights_every_token(packer, seed, before, after, shuffle):
    make = lambda: pipeline.LMPipeline(DOCS, seq_length=16, batch_size=3, seed=seed,  # noqa
                                       shuffle=shuffle, packer=packer, max_open_rows=3,
                                       chunk_size=5)
    original = make()
    original.take(before)
    restored = make()
    restored.set_state(json.loads(json.dumps(original.get_state())))
    for want, got in zip(original.take(after), restored.take(after)):
        for name in packing.FEATURES:
            np.testing.assert_array_equal(got[name], want[name])
        np.testing.assert_array_equal(
            got["decoder_loss_weights"], (got["decoder_segment_ids"] > 0).astype(np.int32))
        assert not got["decoder_causal_attention"].any()


def test_lm_pipeline_covers_each_document_once_per_epoch():
    pipe = pipeline.LMPipeline(DOCS, seq_length=16, batch_size=2, seed=5, chunk_size=len(DOCS))
    emitted = packing.unpack(next(pipe))  # the one chunk drawn is exactly one epoch
    assert pipe.epochs_seen == 1.0
    rows = emitted + pipe.packer.open_rows() + pipe._ready
    want = Counter(s.tokens for d, doc in enumerate(DOCS)
                   for s in packing.lm_segments(doc, 16, key=d))
    assert Counter(s.tokens for row in rows for s in row) == want


def test_make_lm_batches_tokenizes_texts():
    pipe = pipeline.make_lm_batches(["a b c", "d e"], WordTokenizer(), seq_length=8,
                                    batch_size=1, shard_index=0, num_shards=1)
    assert pipe.documents == [WordTokenizer().encode("a b c"), WordTokenizer().encode("d e")]
    assert next(pipe)["decoder_target_tokens"].shape == (1, 8)


def test_compare_packers_sees_the_same_stream_and_rewinds():
    mixture = fake_mixture([30, 7, 90], seed=2)
    start = mixture.get_state()
    table = pipeline.compare_packers(mixture, WordTokenizer(), {"short": (6, 3), "long": (12, 6)},
                                     batch_size=4, num_batches=6, max_open_rows=8)
    assert mixture.get_state() == start
    for by_packer in table.values():
        assert set(by_packer) == set(packing.PACKERS)
        assert by_packer["best_fit"].num_rows == by_packer["next_fit"].num_rows == 24
        assert by_packer["best_fit"].pad_fraction <= by_packer["next_fit"].pad_fraction
    assert table["short"]["next_fit"].num_truncated > table["long"]["next_fit"].num_truncated


def test_measure_throughput_counts_what_was_produced():
    pipe = _pipe()
    speed = pipeline.measure_throughput(pipe, 3)
    assert pipe.num_batches == 3 and speed["seconds"] > 0
    assert speed["tokens_per_s"] == pytest.approx(3 * 4 * 16 / speed["seconds"])
    assert 0 < speed["nonpad_tokens_per_s"] <= speed["tokens_per_s"]


def test_bench_pack_prints_the_readme_figures():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "flan_nb", "bench", "pack", "--json", "--quick"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    for key in ("next_fit_pad_fraction", "best_fit_pad_fraction", "pipeline_tokens_per_s",
                "train_tokens_per_s_needed"):
        assert result[key] >= 0, key
    assert 0 <= result["best_fit_pad_fraction"] <= result["next_fit_pad_fraction"] < 1
    assert result["pipeline_to_train_ratio"] == pytest.approx(
        result["pipeline_tokens_per_s"] / result["train_tokens_per_s_needed"])


def test_isolation_is_a_pipeline_choice_kept_in_its_state():
    """The same stream with and without isolation: identical tokens and loss weights, one
    segment per row without it; a state restores only into a pipeline packing the same way."""
    isolated, shared = _pipe(), _pipe(isolate=False)
    a, b = next(isolated), next(shared)
    for name in ("decoder_target_tokens", "decoder_loss_weights"):
        np.testing.assert_array_equal(a[name], b[name])
    assert a["decoder_segment_ids"].max() >= 2 and b["decoder_segment_ids"].max() == 1
    state = shared.get_state()
    assert state["isolate"] is False
    with pytest.raises(UserError, match="isolate=False but this pipeline has True"):
        _pipe().set_state(json.loads(json.dumps(state)))
    restored = _pipe(isolate=False)
    restored.set_state(json.loads(json.dumps(state)))
    np.testing.assert_array_equal(next(restored)["decoder_input_tokens"],
                                  next(shared)["decoder_input_tokens"])
    old = {k: v for k, v in isolated.get_state().items() if k != "isolate"}  # saved before
    _pipe().set_state(old)  # the choice existed: such states were isolated
