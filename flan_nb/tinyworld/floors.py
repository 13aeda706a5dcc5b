"""Sanity floors for TinyWorld's classification sets: what a model gets without understanding.

For each dataset: the majority-class accuracy (always answer the training set's most common
label), the random accuracy (expected, one option picked uniformly), and a shortcut probe: a
bag-of-words naive Bayes classifier trained on the raw inputs without any instruction. For NLI-style
sets also a hypothesis-only probe, the classic test for annotation artefacts. A model that does
not beat the probe has not shown that it learned more than word statistics of the generator.

Multiple-choice sets (options differ per example) use a pairwise probe: each (input, option) pair
is scored from the option's words and its word overlap with the input, the best-scoring option
wins.
"""

from __future__ import annotations

import collections
import functools
import re

import numpy as np

from flan_nb.errors import UserError
from flan_nb.tinyworld.datasets import BY_NAME, TW_DATASETS
from flan_nb.tinyworld.loader import load_split

WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


class NaiveBayes:
    """Multinomial naive Bayes over word counts with add-one smoothing (numpy only)."""

    def __init__(self, texts: list[str], labels: list[int], num_classes: int):
        vocab = sorted({w for t in texts for w in words(t)})
        self.index = {w: i for i, w in enumerate(vocab)}
        counts = np.ones((num_classes, len(vocab) + 1))  # (classes, vocab + unknown)
        for text, label in zip(texts, labels):
            np.add.at(counts[label], self._ids(text), 1.0)
        self.log_word = np.log(counts / counts.sum(axis=1, keepdims=True))
        prior = np.bincount(labels, minlength=num_classes) + 1.0
        self.log_prior = np.log(prior / prior.sum())

    def _ids(self, text: str) -> np.ndarray:
        unknown = len(self.index)
        return np.array([self.index.get(w, unknown) for w in words(text)], dtype=np.int64)

    def scores(self, text: str) -> np.ndarray:
        """Log joint probability of `text` under each class: (classes,)."""
        return self.log_prior + self.log_word[:, self._ids(text)].sum(axis=1)


def bow_accuracy(train_texts: list[str], train_labels: list[int], test_texts: list[str],
                 test_labels: list[int], num_classes: int) -> float:
    """Test accuracy of a bag-of-words naive Bayes classifier trained on the training texts."""
    model = NaiveBayes(train_texts, train_labels, num_classes)
    predicted = [int(np.argmax(model.scores(t))) for t in test_texts]
    return float(np.mean(np.array(predicted) == np.array(test_labels)))


def _pair_text(inputs: str, option: str) -> str:
    """Features of one (input, option) pair: the option's words, and which of them the input
    also contains (prefixed 'shared_'), so overlap shortcuts are visible to the probe."""
    seen = set(words(inputs))
    return " ".join(words(option) + [f"shared_{w}" for w in words(option) if w in seen]
                    + ["shared_any"] * any(w in seen for w in words(option)))


def choice_accuracy(train: list[tuple[str, list[str], int]],
                    test: list[tuple[str, list[str], int]]) -> float:
    """Pairwise probe for multiple choice: score every option as right/wrong, pick the best."""
    texts = [_pair_text(i, o) for i, opts, _ in train for o in opts]
    labels = [int(k == a) for _, opts, a in train for k in range(len(opts))]
    model = NaiveBayes(texts, labels, 2)
    correct = 0
    for inputs, options, answer in test:
        odds = [model.scores(_pair_text(inputs, o)) for o in options]
        correct += int(np.argmax([s[1] - s[0] for s in odds]) == answer)
    return correct / max(len(test), 1)


def _spec(name: str):
    if name not in BY_NAME:
        raise UserError(f"unknown TinyWorld dataset {name!r}; `flan-nb tasks --source tinyworld`"
                        f" lists them")
    spec = BY_NAME[name]
    if spec.kind != "classification":
        raise UserError(f"{name} is a generation task: floors are defined for classification "
                        f"datasets only")
    return spec


@functools.lru_cache(maxsize=256)
def floors(name: str, seed: int = 0, size: str = "book", split: str = "test") -> dict:
    """majority, random and bow_probe accuracy on `split` of dataset `name` (+ hypothesis_only
    for NLI-style sets), probes trained on the training split."""
    spec = _spec(name)
    train = load_split(name, "train", seed=seed, size=size)
    test = load_split(name, split, seed=seed, size=size)
    if not train or not test:
        raise UserError(f"{name} has an empty train or {split} split at size {size!r}")

    def text(ex, fields=spec.input_fields):
        return "\n".join(str(ex[f]) for f in fields)

    majority_label = collections.Counter(ex["label"] for ex in train).most_common(1)[0][0]
    result = {
        "majority": sum(ex["label"] == majority_label for ex in test) / len(test),
        "random": float(np.mean([1 / len(ex.get("options") or spec.options) for ex in test])),
    }
    if spec.options:
        args = ([text(e) for e in train], [e["label"] for e in train],
                [text(e) for e in test], [e["label"] for e in test], len(spec.options))
        result["bow_probe"] = bow_accuracy(*args)
        if spec.hypothesis_field:
            h = (spec.hypothesis_field,)
            result["hypothesis_only"] = bow_accuracy(
                [text(e, h) for e in train], args[1], [text(e, h) for e in test], args[3],
                len(spec.options))
    else:
        result["bow_probe"] = choice_accuracy(
            [(text(e), e["options"], e["label"]) for e in train],
            [(text(e), e["options"], e["label"]) for e in test])
    return result


def all_floors(seed: int = 0, size: str = "book", split: str = "test") -> dict[str, dict]:
    """Floors of every TinyWorld classification dataset: name -> floors(name)."""
    return {d.name: floors(d.name, seed, size, split) for d in TW_DATASETS
            if d.kind == "classification"}
