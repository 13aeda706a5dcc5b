"""Metrics against values computed by hand."""

import math

import pytest
from hypothesis import given, strategies as st

from flan_nb import metrics
from flan_nb.errors import UserError


def test_normalize_answer_drops_case_punctuation_articles_and_spaces():
    assert metrics.normalize_answer("  The Cat, sat!  on a   MAT. ") == "cat sat on mat"
    assert metrics.normalize_answer("An apple") == "apple"
    assert metrics.normalize_answer("theatre") == "theatre"  # only whole-word articles


def test_exact_match_uses_normalization_and_any_reference():
    assert metrics.exact_match_score("the Blue house.", "blue house") == 1.0
    assert metrics.exact_match_score("red", ["blue", "Red!"]) == 1.0
    assert metrics.exact_match_score("red house", "red") == 0.0
    assert metrics.exact_match(["a red", "blue", "x"], ["red", ["green", "blue"], "y"]) == (
        pytest.approx(200 / 3))


def test_f1_by_hand():
    # pred {cat, sat}; ref {cat, sat, on, mat}: precision 1, recall 1/2 -> F1 2/3.
    assert metrics.f1_score("The cat sat", "cat sat on the mat") == pytest.approx(2 / 3)
    # tokens count with multiplicity: "x x y" and "x y y" share one x and one y.
    assert metrics.f1_score("x x y", "x y y") == pytest.approx(2 / 3)
    assert metrics.f1_score("nothing", "else") == 0.0
    assert metrics.f1_score("the", "") == 1.0  # both empty after normalization
    assert metrics.f1_score("cat", ["dog", "cat"]) == 1.0
    assert metrics.f1(["cat sat", "dog"], ["cat sat on mat", "dog"]) == pytest.approx(
        100 * (2 / 3 + 1) / 2)


def test_accuracy_strips_but_is_otherwise_exact():
    assert metrics.accuracy(["yes", " no", "Yes"], ["yes", "no", "yes"]) == pytest.approx(
        200 / 3)


def test_bleu_by_hand():
    # 1- to 4-gram precisions 4/5, 3/4, 2/3, 1/2; same length so no brevity penalty.
    expected = 100 * (0.8 * 0.75 * (2 / 3) * 0.5) ** 0.25
    assert metrics.bleu(["a b c d e"], ["a b c d f"]) == pytest.approx(expected, abs=1e-6)
    assert metrics.bleu(["a b c d e"], [["x y z w v", "a b c d e"]]) == pytest.approx(100)


def test_rouge_by_hand():
    scores = metrics.rouge(["the cat sat"], ["the cat sat on mat"])
    # unigrams: precision 3/3, recall 3/5 -> 0.75; bigrams: 2/2 and 2/4 -> 2/3; LCS = 3 words.
    assert scores["rouge1"] == pytest.approx(75.0)
    assert scores["rouge2"] == pytest.approx(200 / 3)
    assert scores["rougeL"] == pytest.approx(75.0)
    assert metrics.score("rouge", ["the cat sat"], ["the cat sat on mat"]) == pytest.approx(75)


def test_score_dispatches_and_rejects_bad_input():
    assert metrics.score("exact_match", ["The end"], ["end"]) == 100.0
    with pytest.raises(UserError, match="unknown metric 'acc'"):
        metrics.score("acc", ["a"], ["a"])
    with pytest.raises(UserError, match="2 predictions but 1 references"):
        metrics.accuracy(["a", "b"], ["a"])
    with pytest.raises(UserError, match="no predictions"):
        metrics.f1([], [])


words = st.lists(st.sampled_from(["a", "cat", "the", "sat", "Mat", "on", "red!"]), max_size=6)


@given(words, words)
def test_f1_bounded_and_exact_match_implies_full_f1(pred_words, ref_words):
    pred, ref = " ".join(pred_words), " ".join(ref_words)
    value = metrics.f1_score(pred, ref)
    assert 0.0 <= value <= 1.0
    assert value == metrics.f1_score(ref, pred)  # F1 is symmetric
    if metrics.exact_match_score(pred, ref):
        assert math.isclose(value, 1.0)
