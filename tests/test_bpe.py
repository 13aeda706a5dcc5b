"""BPE from scratch: the classic example exactly, the tie rule, lossless round trips, bad input."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flan_nb.bpe import BPETokenizer, learn_bpe, merge_pair, split_chunks, vocabulary_after
from flan_nb.errors import UserError

CLASSIC = {"hug": 10, "pug": 5, "pun": 12, "bun": 4, "hugs": 5}
TRAIN_TEXT = "the quick brown fox jumps over the lazy dog. The dog sleeps; 42 cats nap!\n" * 20


def test_classic_example_merges_and_vocabulary():
    merges = learn_bpe(CLASSIC, 3)
    assert merges == [("u", "g"), ("u", "n"), ("h", "ug")]
    assert vocabulary_after(CLASSIC, merges) == "b g h hug n p s u ug un".split()


def test_ties_break_on_the_smallest_pair_whatever_the_dict_order():
    # (a, b) and (c, d) are equally frequent; (a, b) sorts first.
    assert learn_bpe({"cd": 3, "ab": 3}, 1) == [("a", "b")]
    assert learn_bpe({"ab": 3, "cd": 3}, 1) == [("a", "b")]


def test_learning_stops_when_no_pair_is_left():
    assert learn_bpe({"ab": 2}, 10) == [("a", "b")]


@pytest.mark.parametrize("word_freqs, num_merges, message", [
    ({"a": -3}, 2, "word_freqs['a'] is -3"),
    ({"ab": 0}, 2, "word_freqs['ab'] is 0"),
    ({"ab": 1.5}, 2, "word_freqs['ab'] is 1.5"),
    ({"ab": True}, 2, "word_freqs['ab'] is True"),
    ({"": 2}, 2, "non-empty strings"),
    ({3: 2}, 2, "non-empty strings"),
    (["ab"], 2, "must be a dict"),
    ({"ab": 2}, -1, "num_merges"),
    ({"ab": 2}, 2.0, "num_merges"),
])
def test_learn_bpe_rejects_bad_counts_words_and_merges(word_freqs, num_merges, message):
    with pytest.raises(UserError, match=re.escape(message)):
        learn_bpe(word_freqs, num_merges)


def test_train_and_encode_reject_non_text_with_a_clear_message():
    with pytest.raises(UserError, match=re.escape('join them first, e.g. "\\n".join(docs)')):
        BPETokenizer.train(TRAIN_TEXT.splitlines(), 320)
    with pytest.raises(UserError, match="vocab_size must be an integer"):
        BPETokenizer.train(TRAIN_TEXT, 320.0)
    with pytest.raises(UserError, match="takes one str, got bytes"):
        _TOKENIZER.encode(b"the dog")


def test_lone_surrogates_are_rejected_not_half_encoded():
    with pytest.raises(UserError, match="U\\+D800 at index 0, .*not a valid Unicode scalar"):
        _TOKENIZER.encode("\ud800x")
    with pytest.raises(UserError, match="U\\+DC00 at index 3"):
        BPETokenizer.train("abc\udc00", 300)
    assert _TOKENIZER.decode(_TOKENIZER.encode("x\U0001F600")) == "x\U0001F600"  # astral: fine


def test_merge_pair_is_left_to_right_and_non_overlapping():
    assert merge_pair(list("aaa"), ("a", "a")) == ["aa", "a"]


def test_train_reaches_vocab_size_and_ids_are_reserved():
    tok = BPETokenizer.train(TRAIN_TEXT, 320)
    assert tok.vocab_size == 320
    assert tok.pieces[:3] == ["<pad>", "</s>", "<unk>"]
    assert min(tok.encode(TRAIN_TEXT)) > 2  # pad/eos/unk are never produced by encode


def test_more_merges_compress_more():
    tok = BPETokenizer.train(TRAIN_TEXT, 330)
    lengths = [len(tok.truncated(n).encode(TRAIN_TEXT)) for n in (0, 10, 40)]
    assert lengths[0] > lengths[1] > lengths[2]


def test_save_and_load_give_the_same_encoding(tmp_path):
    tok = BPETokenizer.train(TRAIN_TEXT, 300)
    tok.save(tmp_path / "bpe.json")
    again = BPETokenizer.load(tmp_path / "bpe.json")
    assert again.encode(TRAIN_TEXT) == tok.encode(TRAIN_TEXT)


_TOKENIZER = BPETokenizer.train(TRAIN_TEXT, 320)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_round_trip_on_any_text(text):
    assert "".join(split_chunks(text)) == text
    assert _TOKENIZER.decode(_TOKENIZER.encode(text)) == text


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(alphabet="abcd", min_size=1, max_size=6),
                       st.integers(1, 20), min_size=1, max_size=12),
       st.integers(0, 12))
def test_merges_only_join_existing_symbols(word_freqs, num_merges):
    merges = learn_bpe(word_freqs, num_merges)
    symbols = {ch for word in word_freqs for ch in word}
    for left, right in merges:
        assert left in symbols and right in symbols
        symbols.add(left + right)
    assert len(merges) <= num_merges
