"""Paraphrase cluster: MRPC, QQP, PAWS, STS-B.

MRPC and PAWS ask whether two sentences mean the same ("yes" / "no") and share phrasings; QQP
asks it of two questions. STS-B is a similarity score from 0 to 5 in TFDS (a float); we make it
a classification over the six whole scores "0" ... "5" (the gold score rounded), so it is scored
like the rest of the cluster. PAWS uses the untokenized `labeled_final` text
(`paws_wiki/labeled_final_raw`), which reads like ordinary sentences; TFDS's default config holds
the same pairs tokenized.
"""

from __future__ import annotations

from typing import Any, Mapping

from flan_nb.collection._common import (TRAIN_VALIDATION, TRAIN_VALIDATION_TEST, YES_NO, pick,
                                        t, text, tfds_spec, turned)

CLUSTER = "paraphrase"
STSB_OPTIONS = ("0", "1", "2", "3", "4", "5")

_SAME = {"yes": "means the same as", "no": "does not mean the same as"}
_SAME_QUESTION = {"yes": "asks the same thing as", "no": "asks something different from"}

SENTENCE_PAIR_TEMPLATES = (
    t("Sentence 1: {sentence1}\nSentence 2: {sentence2}\n\nDo these two sentences mean the "
      "same thing?\n\n{options}", "{answer}"),
    t("{sentence1}\n{sentence2}\n\nAre the two sentences above paraphrases of each other?",
      "{answer}"),
    t("Do the following sentences say the same thing?\n\n{sentence1}\n{sentence2}",
      "{answer}"),
    t("Is \"{sentence2}\" a paraphrase of \"{sentence1}\"?", "{answer}"),
    t("Here are two sentences: \"{sentence1}\" and \"{sentence2}\". Do they have the same "
      "meaning?", "{answer}"),
    t("First: {sentence1}\nSecond: {sentence2}\n\nCould the second sentence replace the first "
      "without changing the meaning?", "{answer}"),
    t("Check whether these sentences are equivalent in meaning.\n{sentence1}\n{sentence2}",
      "{answer}"),
    t("{sentence1}\n\nDoes the sentence above express the same idea as the one below?\n\n"
      "{sentence2}", "{answer}"),
    turned("Write a sentence that {relation} this one: {sentence1}", "{sentence2}"),
    turned("{sentence2}\n\nWrite a sentence that {relation} the sentence above.",
           "{sentence1}"),
)

QQP_TEMPLATES = (
    t("Question 1: {question1}\nQuestion 2: {question2}\n\nAre these two questions asking the "
      "same thing?\n\n{options}", "{answer}"),
    t("{question1}\n{question2}\n\nWould an answer to one of these questions also answer the "
      "other?", "{answer}"),
    t("Are the questions \"{question1}\" and \"{question2}\" duplicates?", "{answer}"),
    t("Someone asked \"{question1}\" and someone else asked \"{question2}\". Do they want the "
      "same information?", "{answer}"),
    t("Do these two questions have the same meaning?\n{question1}\n{question2}", "{answer}"),
    t("First question: {question1}\nSecond question: {question2}\n\nIs the second a rewording "
      "of the first?", "{answer}"),
    t("On a question-and-answer site, should these two questions be merged into one?\n\n"
      "{question1}\n{question2}", "{answer}"),
    t("{question1}\n\nIs this question the same as \"{question2}\"?", "{answer}"),
    turned("Write a question that {relation} this one: {question1}", "{question2}"),
    t("Tell me whether these questions are duplicates.\n\n{question1}\n{question2}\n\n"
      "{options}", "{answer}"),
)

STSB_TEMPLATES = (
    t("Sentence A: {sentence1}\nSentence B: {sentence2}\n\nOn a scale from 0 to 5, how similar "
      "are the two sentences?\n\n{options}", "{answer}"),
    t("{sentence1}\n{sentence2}\n\nRate the similarity of these two sentences from 0 "
      "(unrelated) to 5 (same meaning).", "{answer}"),
    t("How close in meaning are \"{sentence1}\" and \"{sentence2}\"? Give a score from 0 to 5.",
      "{answer}"),
    t("Similarity of the two sentences below, from 0 to 5?\n{sentence1}\n{sentence2}",
      "{answer}"),
    t("First sentence: {sentence1}\nSecond sentence: {sentence2}\n\nOn a 0-5 scale, how much "
      "do they mean the same thing?", "{answer}"),
    t("Score the semantic similarity (0 to 5) of this pair.\n\n{sentence1}\n{sentence2}",
      "{answer}"),
    t("Do \"{sentence1}\" and \"{sentence2}\" mean the same? Answer with a number from 0 (not "
      "at all) to 5 (exactly).", "{answer}"),
    t("{sentence1}\n\nHow similar is the sentence above to the one below, from 0 to 5?\n\n"
      "{sentence2}", "{answer}"),
    turned("Write a sentence whose similarity to \"{sentence1}\" is {answer} on a scale from 0 "
           "to 5.", "{sentence2}"),
    t("Rate from 0 to 5 how alike these sentences are.\n\n{sentence1}\n{sentence2}\n\n"
      "{options}", "{answer}"),
)


def _pair_fields(first: Any, second: Any, answer: str | None, names=("sentence1", "sentence2"),
                 relations: Mapping[str, str] = _SAME) -> dict | None:
    if answer is None:
        return None
    return {names[0]: text(first), names[1]: text(second), "answer": answer,
            "relation": relations[answer]}


def mrpc_fields(ex: Mapping[str, Any]) -> dict | None:
    """glue/mrpc: sentence1, sentence2, label in (not_equivalent, equivalent)."""
    return _pair_fields(ex["sentence1"], ex["sentence2"], pick(("no", "yes"), ex["label"]))


def qqp_fields(ex: Mapping[str, Any]) -> dict | None:
    """glue/qqp: question1, question2, label in (not_duplicate, duplicate)."""
    return _pair_fields(ex["question1"], ex["question2"], pick(("no", "yes"), ex["label"]),
                        names=("question1", "question2"), relations=_SAME_QUESTION)


def paws_fields(ex: Mapping[str, Any]) -> dict | None:
    """paws_wiki: sentence1, sentence2, label in (different_meaning, paraphrase)."""
    return _pair_fields(ex["sentence1"], ex["sentence2"], pick(("no", "yes"), ex["label"]))


def stsb_fields(ex: Mapping[str, Any]) -> dict | None:
    """glue/stsb: sentence1, sentence2, label a float in [0, 5] (-1 on test)."""
    score = float(ex["label"])
    if not 0.0 <= score <= 5.0:
        return None
    return {"sentence1": text(ex["sentence1"]), "sentence2": text(ex["sentence2"]),
            "answer": STSB_OPTIONS[int(score + 0.5)]}  # round half up, as a whole score


tfds_spec(
    "mrpc", CLUSTER, title="MRPC", tfds_name="glue/mrpc:2.0.0",
    kind="classification", metric="accuracy", options=YES_NO,
    templates=SENTENCE_PAIR_TEMPLATES, to_fields=mrpc_fields, splits=TRAIN_VALIDATION,
    description="Microsoft Research Paraphrase Corpus: news sentence pairs.",
    example={"idx": 2, "label": 1,
             "sentence1": "The company said profits rose 12 percent in the third quarter.",
             "sentence2": "Third-quarter profits were up 12 percent, the company said."},
)
tfds_spec(
    "qqp", CLUSTER, title="QQP", tfds_name="glue/qqp:2.0.0",
    kind="classification", metric="accuracy", options=YES_NO, templates=QQP_TEMPLATES,
    to_fields=qqp_fields, splits=TRAIN_VALIDATION,
    description="Quora Question Pairs: are two questions duplicates.",
    example={"idx": 11, "label": 0, "question1": "How do I learn to play the violin as an adult?",
             "question2": "How much does a good violin cost?"},
)
tfds_spec(
    "paws", CLUSTER, title="PAWS", tfds_name="paws_wiki/labeled_final_raw:1.1.0",
    kind="classification", metric="accuracy", options=YES_NO,
    templates=SENTENCE_PAIR_TEMPLATES, to_fields=paws_fields, splits=TRAIN_VALIDATION_TEST,
    description="Paraphrase Adversaries from Word Scrambling: high word overlap pairs.",
    example={"label": 0,
             "sentence1": "The river flows from the mountains in the north to the sea in the "
                          "south.",
             "sentence2": "The river flows from the mountains in the south to the sea in the "
                          "north."},
)
tfds_spec(
    "stsb", CLUSTER, title="STS-B", tfds_name="glue/stsb:2.0.0",
    kind="classification", metric="accuracy", options=STSB_OPTIONS, templates=STSB_TEMPLATES,
    to_fields=stsb_fields, splits=TRAIN_VALIDATION,
    description="Semantic Textual Similarity Benchmark, scores 0-5 rounded to whole numbers.",
    example={"idx": 6, "label": 3.6,
             "sentence1": "A girl is riding a bicycle down a hill.",
             "sentence2": "A child rides a bike down a slope."},
)
