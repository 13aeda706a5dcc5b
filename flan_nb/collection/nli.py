"""Natural language inference cluster: ANLI (R1-R3), CB, MNLI, QNLI, RTE, SNLI, WNLI.

Every NLI example becomes the fields `premise`, `hypothesis`, `answer` and `relation` (a phrase
for the turned-around templates: "follows from", "contradicts", ...). Three-way datasets answer
with "yes" / "it is not possible to tell" / "no", two-way ones with "yes" / "no", the same option
strings the other clusters use. The templates are shared by datasets of the same shape, as in
the paper's release, where NLI datasets reuse one set of phrasings.
"""

from __future__ import annotations

from typing import Any, Mapping

from flan_nb.collection._common import (NLI_OPTIONS, TRAIN_VALIDATION, TRAIN_VALIDATION_TEST,
                                        YES_NO, pick, t, text, tfds_spec, turned)

CLUSTER = "nli"

# answer -> how the hypothesis relates to the premise (for the turned-around templates).
_RELATIONS = {
    "yes": "follows from",
    "it is not possible to tell": "is neither implied nor contradicted by",
    "no": "contradicts",
}

# Three-way entailment (ANLI, CB, MNLI, SNLI).
NLI3_TEMPLATES = (
    t("Premise: {premise}\nHypothesis: {hypothesis}\n\nDoes the premise entail the "
      "hypothesis?\n\n{options}", "{answer}"),
    t("{premise}\n\nBased on the paragraph above, can we conclude that \"{hypothesis}\"?"
      "\n\n{options}", "{answer}"),
    t("Read the text and decide whether the sentence after it is true.\n\nText: {premise}\n"
      "Sentence: {hypothesis}", "{answer}"),
    t("Assume the following is true: {premise}\nIs it then also true that \"{hypothesis}\"?",
      "{answer}"),
    t("{premise}\nQuestion: does this imply that \"{hypothesis}\"? Yes, no, or is it not "
      "possible to tell?", "{answer}"),
    t("If \"{premise}\", does it follow that \"{hypothesis}\"?", "{answer}"),
    t("Here is a claim: {hypothesis}\nAnd here is some evidence: {premise}\n\nDoes the "
      "evidence support the claim?", "{answer}"),
    turned("Passage: {premise}\n\nWrite a sentence that {relation} the passage.",
           "{hypothesis}"),
    turned("Statement: {hypothesis}\n\nWrite a short passage such that the statement "
           "{relation} it.", "{premise}"),
    t("Determine if the sentence is true based on the text below.\nSentence: {hypothesis}\n\n"
      "{premise}\n\n{options}", "{answer}"),
)

# Two-way entailment (RTE, WNLI).
NLI2_TEMPLATES = (
    t("{premise}\n\nBased on the passage above, is it true that \"{hypothesis}\"?\n\n{options}",
      "{answer}"),
    t("Premise: {premise}\nHypothesis: {hypothesis}\n\nDoes the premise entail the "
      "hypothesis?", "{answer}"),
    t("{premise}\n\nDoes this mean that \"{hypothesis}\" is true?", "{answer}"),
    t("Read the following and answer yes or no.\n\n{premise}\n\nCan we infer the following? "
      "{hypothesis}", "{answer}"),
    t("Given the statement \"{premise}\", is it guaranteed that \"{hypothesis}\"?", "{answer}"),
    t("{premise}\n\nIf the paragraph above is true, must the following be true too?\n"
      "{hypothesis}", "{answer}"),
    t("Sentence A: {premise}\nSentence B: {hypothesis}\n\nIf A is true, is B true as well?",
      "{answer}"),
    t("Does \"{premise}\" entail \"{hypothesis}\"?", "{answer}"),
    turned("{premise}\n\nWrite a sentence that {relation} the text above.", "{hypothesis}"),
    turned("Statement: {hypothesis}\n\nWrite a short text such that the statement {relation} "
           "it.", "{premise}"),
)

_RELATIONS2 = {"yes": "follows from", "no": "does not follow from"}
_QNLI_RELATIONS = {"yes": "answers", "no": "does not answer"}

QNLI_TEMPLATES = (
    t("Does the sentence \"{sentence}\" answer the question \"{question}\"?\n\n{options}",
      "{answer}"),
    t("Question: {question}\nSentence: {sentence}\n\nDoes the sentence contain the answer to "
      "the question?", "{answer}"),
    t("{question}\n\nIs \"{sentence}\" a good answer to the question above?", "{answer}"),
    t("Someone asked: {question}\nA reply was: {sentence}\nDoes the reply answer the question?",
      "{answer}"),
    t("Can the question \"{question}\" be answered using this sentence?\n{sentence}",
      "{answer}"),
    t("Here is a sentence: {sentence}\n\nWould it help someone answer \"{question}\"?",
      "{answer}"),
    t("Answer yes if the sentence answers the question, otherwise no.\n\nQuestion: {question}\n"
      "Sentence: {sentence}", "{answer}"),
    t("{sentence}\n\nDoes the text above tell us the answer to this: {question}", "{answer}"),
    turned("Sentence: {sentence}\n\nWrite a question that this sentence {relation}.",
           "{question}"),
    turned("Question: {question}\n\nWrite a sentence that {relation} this question.",
           "{sentence}"),
)


def _nli_fields(premise: Any, hypothesis: Any, answer: str | None,
                relations: Mapping[str, str] = _RELATIONS) -> dict | None:
    if answer is None:  # unlabelled (test splits, SNLI's no-gold-label pairs)
        return None
    return {"premise": text(premise), "hypothesis": text(hypothesis), "answer": answer,
            "relation": relations[answer]}


def anli_fields(ex: Mapping[str, Any]) -> dict | None:
    """anli/r*: context, hypothesis, label in (e, n, c)."""
    return _nli_fields(ex["context"], ex["hypothesis"], pick(NLI_OPTIONS, ex["label"]))


def cb_fields(ex: Mapping[str, Any]) -> dict | None:
    """super_glue/cb: label in (entailment, contradiction, neutral)."""
    answer = pick(("yes", "no", "it is not possible to tell"), ex["label"])
    return _nli_fields(ex["premise"], ex["hypothesis"], answer)


def mnli_fields(ex: Mapping[str, Any]) -> dict | None:
    """glue/mnli and snli: label in (entailment, neutral, contradiction)."""
    return _nli_fields(ex["premise"], ex["hypothesis"], pick(NLI_OPTIONS, ex["label"]))


def qnli_fields(ex: Mapping[str, Any]) -> dict | None:
    """glue/qnli: question, sentence, label in (entailment, not_entailment)."""
    answer = pick(YES_NO, ex["label"])
    if answer is None:
        return None
    return {"question": text(ex["question"]), "sentence": text(ex["sentence"]),
            "answer": answer, "relation": _QNLI_RELATIONS[answer]}


def rte_fields(ex: Mapping[str, Any]) -> dict | None:
    """super_glue/rte: label in (entailment, not_entailment)."""
    return _nli_fields(ex["premise"], ex["hypothesis"], pick(YES_NO, ex["label"]), _RELATIONS2)


def wnli_fields(ex: Mapping[str, Any]) -> dict | None:
    """glue/wnli: sentence1, sentence2, label in (not_entailment, entailment) - note the order."""
    return _nli_fields(ex["sentence1"], ex["sentence2"], pick(("no", "yes"), ex["label"]),
                       _RELATIONS2)


tfds_spec(
    "anli", CLUSTER, title="ANLI (R1-R3)",
    tfds_name=("anli/r1:0.1.0", "anli/r2:0.1.0", "anli/r3:0.1.0"),
    kind="classification", metric="accuracy", options=NLI_OPTIONS, templates=NLI3_TEMPLATES,
    to_fields=anli_fields, splits=TRAIN_VALIDATION_TEST,
    description="Adversarial NLI, three rounds written to fool strong models; 3-way.",
    example={"uid": "0f3c2a1b-r1", "label": 2,
             "context": "The Harbour Bridge in Port Ellis was opened in 1931 and carries a "
                        "railway line and six lanes of road traffic across the bay.",
             "hypothesis": "The bridge carries no trains."},
)
tfds_spec(
    "cb", CLUSTER, title="CB", tfds_name="super_glue/cb:1.0.2",
    kind="classification", metric="accuracy", options=NLI_OPTIONS, templates=NLI3_TEMPLATES,
    to_fields=cb_fields, splits=TRAIN_VALIDATION,
    description="CommitmentBank: does the speaker commit to an embedded clause; 3-way.",
    example={"idx": 7, "label": 2,
             "premise": "Anna looked at the clouds over the hill. She did not think the "
                        "picnic would be cancelled, but she packed an umbrella anyway.",
             "hypothesis": "the picnic would be cancelled"},
)
tfds_spec(
    "mnli", CLUSTER, title="MNLI", tfds_name="glue/mnli:2.0.0",
    kind="classification", metric="accuracy", options=NLI_OPTIONS, templates=NLI3_TEMPLATES,
    to_fields=mnli_fields,
    splits={"train": "train", "validation": "validation_matched+validation_mismatched"},
    description="Multi-genre NLI; both dev sets (matched and mismatched) are evaluated.",
    example={"idx": 12, "label": 0,
             "premise": "The shop on the corner sells fresh bread every morning until noon.",
             "hypothesis": "You can buy bread at the corner shop in the morning."},
)
tfds_spec(
    "qnli", CLUSTER, title="QNLI", tfds_name="glue/qnli:2.0.0",
    kind="classification", metric="accuracy", options=YES_NO, templates=QNLI_TEMPLATES,
    to_fields=qnli_fields, splits=TRAIN_VALIDATION,
    description="Question NLI: does a sentence from a Wikipedia paragraph answer the question.",
    example={"idx": 3, "label": 0, "question": "When did the observatory first open?",
             "sentence": "The observatory first opened to visitors in the spring of 1908."},
)
tfds_spec(
    "rte", CLUSTER, title="RTE", tfds_name="super_glue/rte:1.0.2",
    kind="classification", metric="accuracy", options=YES_NO, templates=NLI2_TEMPLATES,
    to_fields=rte_fields, splits=TRAIN_VALIDATION,
    description="Recognizing Textual Entailment (RTE1-3, 5); 2-way.",
    example={"idx": 21, "label": 1,
             "premise": "The city council voted on Tuesday to extend the opening hours of "
                        "the public library during exam season.",
             "hypothesis": "The library will close earlier during exam season."},
)
tfds_spec(
    "snli", CLUSTER, title="SNLI", tfds_name="snli:1.1.0",
    kind="classification", metric="accuracy", options=NLI_OPTIONS, templates=NLI3_TEMPLATES,
    to_fields=mnli_fields, splits=TRAIN_VALIDATION_TEST,
    description="Stanford NLI over image captions; pairs without a gold label are dropped.",
    example={"label": 1, "premise": "A man in a red jacket is walking a dog along the beach.",
             "hypothesis": "The man is walking his sister's dog."},
)
tfds_spec(
    "wnli", CLUSTER, title="WNLI", tfds_name="glue/wnli:2.0.0",
    kind="classification", metric="accuracy", options=YES_NO, templates=NLI2_TEMPLATES,
    to_fields=wnli_fields, splits=TRAIN_VALIDATION,
    description="Winograd NLI: a pronoun replaced by a candidate referent; 2-way.",
    example={"idx": 5, "label": 1,
             "sentence1": "The trophy did not fit into the suitcase because it was too big.",
             "sentence2": "The trophy was too big."},
)
