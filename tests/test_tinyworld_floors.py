"""Sanity floors: majority, random and bag-of-words probes behave as their definitions say."""

from __future__ import annotations

import pytest

from flan_nb.errors import UserError
from flan_nb.tinyworld import floors as floors_lib
from flan_nb.tinyworld.datasets import TW_DATASETS


def test_naive_bayes_finds_a_planted_word_shortcut():
    train = [f"filler {w} text" for w in ("good", "bad") * 20]
    labels = [0, 1] * 20
    assert floors_lib.bow_accuracy(train, labels, ["some good", "a bad one"], [0, 1], 2) == 1.0
    # Without the shortcut word the probe is at chance on balanced data.
    assert floors_lib.bow_accuracy(train, labels, ["filler", "filler"], [0, 1], 2) == 0.5


def test_choice_probe_finds_an_overlap_shortcut():
    # The right option always repeats a word of the input: the pairwise probe must see it.
    train = [(f"the {w} one", [f"{w}", "other"][::s], [0, 1][s == -1])
             for w in ("red", "blue", "tall", "cold") * 5 for s in (1, -1)]
    test = [("the green one", ["green", "other"], 0), ("the big one", ["other", "big"], 1)]
    assert floors_lib.choice_accuracy(train, test) == 1.0


@pytest.mark.parametrize("name", [d.name for d in TW_DATASETS if d.kind == "classification"])
def test_floors_of_every_classification_set(name):
    f = floors_lib.floors(name, seed=0, size="smoke")
    spec = next(d for d in TW_DATASETS if d.name == name)
    expected = {"majority", "random", "bow_probe"} | ({"hypothesis_only"}
                                                      if spec.hypothesis_field else set())
    assert set(f) == expected
    assert all(0.0 <= v <= 1.0 for v in f.values())
    assert f["random"] == pytest.approx(1 / spec.num_labels)
    assert f["majority"] <= 0.5 + 1e-9  # balanced splits: no label dominates


def test_floors_reject_generation_sets_and_unknown_names():
    with pytest.raises(UserError, match="generation task"):
        floors_lib.floors("tw_squad", size="smoke")
    with pytest.raises(UserError, match="unknown TinyWorld dataset 'tw_nope'"):
        floors_lib.floors("tw_nope", size="smoke")


def test_all_floors_lists_the_classification_sets():
    result = floors_lib.all_floors(seed=0, size="smoke")
    assert set(result) == {d.name for d in TW_DATASETS if d.kind == "classification"}
