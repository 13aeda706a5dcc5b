"""Scores of the paper's evaluation: accuracy, exact match, F1, BLEU and ROUGE.

Data path, stage 6 of 6: tasks -> templates -> tokenize -> mixture/packing/pipeline -> model/train
-> evaluate, decoding, **metrics**, report.

The paper picks one metric per cluster: accuracy for most NLU tasks, F1 for DROP, MultiRC and
SQuAD, exact match for closed-book QA, BLEU for translation, ROUGE for struct-to-text and
summarization. BLEU comes from sacrebleu and ROUGE from rouge-score (well-kept libraries whose
tokenization is the field's reference); exact match and F1 are the SQuAD definitions with the
standard answer normalization (lower case, no punctuation, no articles, single spaces), written
here because they are ten lines each. Every corpus-level score is a percentage (0-100), as the
paper reports them. A reference may be one string or a list of acceptable strings.
"""

from __future__ import annotations

import collections
import re
import string
from typing import Sequence

import sacrebleu

from flan_nb.errors import UserError

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
# The one number reported for a ROUGE metric (summaries in the paper's appendix use all three).
PRIMARY_ROUGE = "rougeL"

Reference = str | Sequence[str]


def normalize_answer(text: str) -> str:
    """SQuAD normalization: lower case, drop punctuation and articles, collapse whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _as_list(reference: Reference) -> list[str]:
    refs = [reference] if isinstance(reference, str) else [str(r) for r in reference]
    if not refs:
        raise UserError("an example has no reference answer: every example needs at least one")
    return refs


def exact_match_score(prediction: str, reference: Reference) -> float:
    """1.0 if the normalized prediction equals any normalized reference, else 0.0."""
    norm = normalize_answer(prediction)
    return float(any(norm == normalize_answer(r) for r in _as_list(reference)))


def _f1_pair(prediction: str, reference: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    ref_tokens = normalize_answer(reference).split()
    if not pred_tokens or not ref_tokens:  # SQuAD v2: empty only matches empty
        return float(pred_tokens == ref_tokens)
    common = collections.Counter(pred_tokens) & collections.Counter(ref_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(pred_tokens)
    recall = overlap / len(ref_tokens)
    return 2 * precision * recall / (precision + recall)


def f1_score(prediction: str, reference: Reference) -> float:
    """SQuAD token F1 (0-1) of `prediction` against the best-matching reference."""
    return max(_f1_pair(prediction, r) for r in _as_list(reference))


def _check_lengths(predictions: Sequence[str], references: Sequence[Reference]) -> None:
    if len(predictions) != len(references):
        raise UserError(f"{len(predictions)} predictions but {len(references)} references: "
                        f"score one prediction per example")
    if not predictions:
        raise UserError("no predictions to score: evaluate at least one example")


def accuracy(predictions: Sequence[str], references: Sequence[Reference]) -> float:
    """Percentage of predictions equal (after stripping spaces) to one of their references."""
    _check_lengths(predictions, references)
    hits = sum(p.strip() in {r.strip() for r in _as_list(ref)}
               for p, ref in zip(predictions, references))
    return 100.0 * hits / len(predictions)


def exact_match(predictions: Sequence[str], references: Sequence[Reference]) -> float:
    """Mean SQuAD exact match, in percent."""
    _check_lengths(predictions, references)
    return 100.0 * sum(map(exact_match_score, predictions, references)) / len(predictions)


# A chain-of-thought answer follows its rationale after this phrase ("... So the answer is Z.").
ANSWER_MARKER = re.compile(r"the answer is\b", re.IGNORECASE)


def extract_answer(text: str) -> str:
    """The answer in a generated text: after the last "the answer is" (any case) up to the end
    of that sentence, else the whole text (a direct answer). A marker with nothing after it
    gives "" (no answer, never a match)."""
    found = list(ANSWER_MARKER.finditer(text))
    if not found:
        return text.strip()
    rest = text[found[-1].end():].lstrip(" :\t")
    answer = re.split(r"\.(?:\s|$)|\n", rest, maxsplit=1)[0]
    return answer.strip().rstrip(".").strip()


def answer_match(predictions: Sequence[str], references: Sequence[Reference]) -> float:
    """Exact match of the answers `extract_answer` finds in prediction and reference, in
    percent: one metric for direct answers and for rationales that end in their answer."""
    _check_lengths(predictions, references)
    hits = sum(exact_match_score(extract_answer(p), [extract_answer(r) for r in _as_list(ref)])
               for p, ref in zip(predictions, references))
    return 100.0 * hits / len(predictions)


def f1(predictions: Sequence[str], references: Sequence[Reference]) -> float:
    """Mean SQuAD token F1, in percent."""
    _check_lengths(predictions, references)
    return 100.0 * sum(map(f1_score, predictions, references)) / len(predictions)


def bleu(predictions: Sequence[str], references: Sequence[Reference]) -> float:
    """Corpus BLEU from sacrebleu (its default 13a tokenization), in percent."""
    _check_lengths(predictions, references)
    refs = [_as_list(r) for r in references]
    num_streams = max(len(r) for r in refs)
    # sacrebleu takes one stream per reference position; None marks a missing reference.
    streams = [[r[i] if i < len(r) else None for r in refs] for i in range(num_streams)]
    return float(sacrebleu.corpus_bleu(list(predictions), streams).score)


def rouge(predictions: Sequence[str], references: Sequence[Reference]) -> dict[str, float]:
    """Mean ROUGE-1/2/L F-measures (rouge-score, Porter stemming), in percent.

    With several references an example takes its best-scoring one.
    """
    # rouge_score on use (cost: flan_nb/__init__): only ROUGE needs it
    from rouge_score import rouge_scorer

    _check_lengths(predictions, references)
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    totals = dict.fromkeys(ROUGE_TYPES, 0.0)
    for prediction, reference in zip(predictions, references):
        scores = scorer.score_multi(_as_list(reference), prediction)
        for key in ROUGE_TYPES:
            totals[key] += scores[key].fmeasure
    return {key: 100.0 * value / len(predictions) for key, value in totals.items()}


def score(metric: str, predictions: Sequence[str], references: Sequence[Reference]) -> float:
    """The one number a dataset reports under `metric` (a DatasetSpec.metric), in percent."""
    if metric == "accuracy":
        return accuracy(predictions, references)
    if metric == "exact_match":
        return exact_match(predictions, references)
    if metric == "f1":
        return f1(predictions, references)
    if metric == "bleu":
        return bleu(predictions, references)
    if metric == "rouge":
        return rouge(predictions, references)[PRIMARY_ROUGE]
    if metric == "answer_match":
        return answer_match(predictions, references)
    raise UserError(f"unknown metric {metric!r}: choose one of accuracy, exact_match, f1, bleu, "
                    f"rouge, answer_match")
