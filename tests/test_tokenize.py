"""The SentencePiece wrapper: ids, lossless round trip, and the load-or-train cache."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flan_nb.errors import UserError
from flan_nb.tokenize import (EOS_ID, PAD_ID, UNK_ID, SentencePieceSettings, load_or_train,
                              train_sentencepiece)

_rng = random.Random(0)
_WORDS = "the a cat dog sat ran on mat house red blue big small Anna Bob likes eats".split()
CORPUS = [" ".join(_rng.choice(_WORDS) for _ in range(_rng.randint(3, 20))) + "."
          for _ in range(3000)]
_SP = train_sentencepiece(CORPUS, SentencePieceSettings(vocab_size=320))


def test_special_ids_follow_the_project_convention():
    assert [_SP.sp.id_to_piece(i) for i in (PAD_ID, EOS_ID, UNK_ID)] == ["<pad>", "</s>", "<unk>"]
    assert _SP.vocab_size == 320
    assert PAD_ID not in _SP.encode("the cat sat on the mat.")


def test_unigram_trains_too():
    tok = train_sentencepiece(CORPUS, SentencePieceSettings(vocab_size=295, model_type="unigram"))
    assert tok.decode(tok.encode("the big dog.")) == "the big dog."


# SentencePiece writes spaces as U+2581; a literal U+2581 in the input would decode as a space.
@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                      blacklist_characters="\u2581")))
def test_round_trip_on_any_text(text):
    assert _SP.decode(_SP.encode(text)) == text


def test_encode_batch_equals_encode():
    texts = CORPUS[:5] + ["unseen ü text"]
    assert _SP.encode_batch(texts) == [_SP.encode(t) for t in texts]


def test_cache_trains_once_and_reloads(tmp_path):
    settings_ = SentencePieceSettings(vocab_size=310)
    first = load_or_train(CORPUS, settings_, tmp_path)
    files = list(tmp_path.glob("*.model"))
    assert len(files) == 1
    second = load_or_train(CORPUS, settings_, tmp_path)
    assert second.model_proto == first.model_proto
    load_or_train(CORPUS, SentencePieceSettings(vocab_size=311), tmp_path)
    assert len(list(tmp_path.glob("*.model"))) == 2  # other settings, other key


def test_corrupt_cache_entry_is_retrained(tmp_path):
    settings_ = SentencePieceSettings(vocab_size=310)
    load_or_train(CORPUS, settings_, tmp_path)
    path = next(tmp_path.glob("*.model"))
    path.write_bytes(b"not a model")
    tok = load_or_train(CORPUS, settings_, tmp_path)
    assert tok.decode(tok.encode("the cat.")) == "the cat."


@pytest.mark.parametrize("kwargs", [{"vocab_size": 10}, {"model_type": "word"},
                                    {"character_coverage": 0.5}])
def test_bad_settings_are_clear_errors(kwargs):
    with pytest.raises(UserError):
        SentencePieceSettings(**kwargs)


def test_too_large_vocabulary_is_a_clear_error():
    with pytest.raises(UserError, match="lower vocab_size"):
        train_sentencepiece(CORPUS[:50], SentencePieceSettings(vocab_size=5000))
