"""Coreference cluster: DPR (Definite Pronoun Resolution), Winogrande and WSC273.

All three are classification tasks scored by accuracy with two answer choices per example (the
field `options`, in TFDS order): the candidates a pronoun (or Winogrande's blank `_`) may refer
to. The target is the candidate the TFDS label points at; `other` is the wrong one, used by the
turned-around templates ("write a sentence in which the pronoun refers to X rather than Y").

Splits: DPR has no validation split, so its labelled test split is our `validation`.
Winogrande trains on its largest training size (`train_xl`) and evaluates on `validation` (the
test labels are hidden; unlabelled examples are dropped). WSC273 exists only as a 273-example
test split; we train on its first 200 examples and evaluate on the last 73 (Winograd schemas come
as adjacent twins that differ in a word or two, so at most one twin pair straddles the cut).
"""

from __future__ import annotations

from typing import Any, Mapping

from flan_nb.collection._common import pick, t, text, texts, tfds_spec, turned

DPR_SPLITS = {"train": "train", "validation": "test"}
WINOGRANDE_SPLITS = {"train": "train_xl", "validation": "validation"}
WSC273_SPLITS = {"train": "test[:200]", "validation": "test[200:]"}


def choice_fields(candidates: list[str], label: Any) -> dict | None:
    """`options`, `answer` (the labelled candidate) and `other` for a two-way choice, or None
    for an unlabelled example."""
    if int(label) < 0:
        return None
    answer = pick(candidates, label)
    other = candidates[1 - int(label)]
    return {"options": tuple(candidates), "answer": answer, "other": other}


# --- DPR: which candidate does a pronoun refer to? -------------------------------------------
def _dpr_fields(example: Mapping[str, Any]) -> dict | None:
    choice = choice_fields(texts(example["candidates"]), example["label"])
    if choice is None:
        return None
    return {"sentence": text(example["sentence"]), "pronoun": text(example["pronoun"]),
            **choice}


tfds_spec(
    "dpr", "coreference", title="DPR", tfds_name="definite_pronoun_resolution:1.1.0",
    kind="classification", metric="accuracy", splits=DPR_SPLITS,
    templates=(
        t('{sentence}\n\nWho or what does "{pronoun}" refer to in the sentence above?',
          "{answer}"),
        t('In the sentence "{sentence}", what is the pronoun "{pronoun}" referring to?',
          "{answer}"),
        t("Sentence: {sentence}\nPronoun: {pronoun}\nReferent:", "{answer}"),
        t('Read the sentence and resolve the pronoun "{pronoun}".\n\n{sentence}', "{answer}"),
        t('{sentence}\n\nHere, "{pronoun}" means which of the following?', "{answer}"),
        t('Which candidate is "{pronoun}" about in this sentence? {sentence}', "{answer}"),
        t('Find the antecedent of "{pronoun}":\n{sentence}', "{answer}"),
        t('{sentence}\nIn that sentence, to whom or what does "{pronoun}" point?', "{answer}"),
        turned('Write a sentence in which the pronoun "{pronoun}" refers to "{answer}" rather '
               'than to "{other}".', "{sentence}"),
        turned('{sentence}\n\nWhich word in this sentence is a pronoun that stands for '
               '"{answer}"?', "{pronoun}"),
    ),
    to_fields=_dpr_fields,
    example={"sentence": "The firefighters rescued the kittens because they were brave.",
             "pronoun": "they", "candidates": ["The firefighters", "the kittens"],
             "label": 0},
    description="DPR: which of two candidates a definite pronoun refers to.",
)


# --- Winogrande: which option fills the blank? -----------------------------------------------
def _winogrande_fields(example: Mapping[str, Any]) -> dict | None:
    choice = choice_fields([text(example["option1"]), text(example["option2"])],
                           example["label"])
    return None if choice is None else {"sentence": text(example["sentence"]), **choice}


tfds_spec(
    "winogrande", "coreference", title="Winogrande", tfds_name="winogrande:1.2.0",
    kind="classification",
    metric="accuracy", splits=WINOGRANDE_SPLITS,
    templates=(
        t("{sentence}\n\nWhat should fill the blank (_)?", "{answer}"),
        t("Fill in the blank: {sentence}", "{answer}"),
        t("Which option best completes the sentence?\n\n{sentence}", "{answer}"),
        t("Sentence: {sentence}\nThe _ is:", "{answer}"),
        t("{sentence}\n\nWho or what does the underscore stand for?", "{answer}"),
        t("Complete the following with the right choice. {sentence}", "{answer}"),
        t("Use common sense to choose the word for the gap in this sentence: {sentence}",
          "{answer}"),
        t('In "{sentence}", which of the two options makes the sentence make sense?',
          "{answer}"),
        t("{sentence}\nReplace _ with the correct choice.", "{answer}"),
        turned('Write a sentence with a blank (_) that should be filled with "{answer}" '
               'rather than "{other}".', "{sentence}"),
    ),
    to_fields=_winogrande_fields,
    example={"sentence": "Maria lent her umbrella to Ana because _ was going out in the rain.",
             "option1": "Maria", "option2": "Ana", "label": 1},
    description="Winogrande: which of two options fills the blank of a sentence.",
)


# --- WSC273: the Winograd Schema Challenge's first 273 schemas --------------------------------
def _wsc273_fields(example: Mapping[str, Any]) -> dict | None:
    choice = choice_fields([text(example["option1"]), text(example["option2"])],
                           example["label"])
    if choice is None:
        return None
    return {"text": text(example["text"]), "pronoun": text(example["pronoun_text"]),
            **choice}


tfds_spec(
    "wsc273", "coreference", title="WSC273", tfds_name="wsc273:1.0.0", kind="classification",
    metric="accuracy", splits=WSC273_SPLITS,
    templates=(
        t('{text}\n\nIn the passage above, who or what is "{pronoun}"?', "{answer}"),
        t('Winograd schema: {text}\nWhat does "{pronoun}" refer to?', "{answer}"),
        t('Resolve the ambiguous pronoun "{pronoun}" in this text: {text}', "{answer}"),
        t('Text: {text}\nQuestion: Who is meant by "{pronoun}"?', "{answer}"),
        t('Use common sense to decide the referent of "{pronoun}".\n\n{text}', "{answer}"),
        t('{text}\n\nThe word "{pronoun}" here stands for which of these?', "{answer}"),
        t('Read: "{text}" Who or what is being called "{pronoun}"?', "{answer}"),
        t('Someone wrote: {text}\n\nWhat did they mean by "{pronoun}"?', "{answer}"),
        t('{text}\nIdentify what "{pronoun}" refers to.', "{answer}"),
        turned('Write a short passage in which "{pronoun}" refers to "{answer}" and not to '
               '"{other}".', "{text}"),
    ),
    to_fields=_wsc273_fields,
    example={"text": "The lawyer asked the witness a question,"
                     " but he was reluctant to answer it.",
             "option1": "The lawyer", "option1_normalized": "the lawyer",
             "option2": "the witness", "option2_normalized": "the witness",
             "pronoun_start": 45, "pronoun_end": 47, "pronoun_text": "he", "label": 1,
             "idx": 0},
    description="WSC273: resolve the ambiguous pronoun of a Winograd schema.",
)
