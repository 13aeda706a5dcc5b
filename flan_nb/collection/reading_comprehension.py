"""Reading comprehension cluster: BoolQ, DROP, MultiRC, OpenBookQA, SQuAD (v1.1 and v2.0).

The answer is in (or follows from) a passage given with the question. BoolQ and MultiRC are
yes/no; OpenBookQA is multiple choice with a supporting science fact; DROP and SQuAD are
generation tasks scored by F1 against any gold answer (kept in `answers`). The paper counts SQuAD
v1.1 and v2.0 as one dataset: both TFDS configs are read, and v2.0's unanswerable questions get
the answer "unanswerable", which the templates mention.
"""

from __future__ import annotations

from typing import Any, Mapping

from flan_nb.collection._common import (TRAIN_VALIDATION, TRAIN_VALIDATION_TEST, YES_NO, t,
                                        text, texts, tfds_spec, turned)

CLUSTER = "reading_comprehension"
UNANSWERABLE = "unanswerable"

BOOLQ_TEMPLATES = (
    t("{passage}\n\nBased on the passage, {question}\n\n{options}", "{answer}"),
    t("Read the passage and answer the question with yes or no.\n\nPassage: {passage}\n"
      "Question: {question}", "{answer}"),
    t("Article: {title}\n\n{passage}\n\nQuestion: {question}", "{answer}"),
    t("{passage}\n\nCan you tell me: {question}", "{answer}"),
    t("Here is a text about {title}.\n\n{passage}\n\nAnswer this question: {question}",
      "{answer}"),
    t("Passage: {passage}\n\nAfter reading the passage, answer: {question}", "{answer}"),
    t("{question}\n\nAnswer using the text below.\n\n{passage}", "{answer}"),
    t("Read this and answer yes or no.\n\n{passage}\n\n{question}", "{answer}"),
    turned("{passage}\n\nWrite a yes-or-no question about the passage whose answer is "
           "\"{answer}\".", "{question}"),
    t("Text: {passage}\n\n{options}\n\nQ: {question}\nA:", "{answer}"),
)

DROP_TEMPLATES = (
    t("Answer a question about this passage.\n\n{passage}\n\n{question}", "{answer}"),
    t("{passage}\n\nQuestion: {question}\nAnswer:", "{answer}"),
    t("Read the text and answer the question; it may need counting, adding or comparing.\n\n"
      "{passage}\n\n{question}", "{answer}"),
    t("Passage: {passage}\n\nBased on the passage, answer this. {question}", "{answer}"),
    t("{question}\n\nFind the answer in this text:\n\n{passage}", "{answer}"),
    t("Here is a passage.\n\n{passage}\n\nUse it to answer: {question}", "{answer}"),
    t("Work out the answer from the passage below.\n\nQuestion: {question}\n\nPassage: "
      "{passage}", "{answer}"),
    t("{passage}\n\n{question} Give a short answer.", "{answer}"),
    turned("{passage}\n\nWrite a question about the passage whose answer is \"{answer}\".",
           "{question}"),
    t("Read this passage and then answer.\n\n{passage}\n\nQ: {question}\nA:", "{answer}"),
)

_CORRECTNESS = {"yes": "a correct", "no": "an incorrect"}

MULTIRC_TEMPLATES = (
    t("{paragraph}\n\nQuestion: \"{question}\"\n\nResponse: \"{response}\"\n\nDoes the response "
      "correctly answer the question?\n\n{options}", "{answer}"),
    t("Read the text and decide whether the proposed answer to the question is correct.\n\n"
      "Text: {paragraph}\nQuestion: {question}\nProposed answer: {response}", "{answer}"),
    t("{paragraph}\n\nAfter reading the above, is \"{response}\" a correct answer to the "
      "question \"{question}\"?", "{answer}"),
    t("Paragraph: {paragraph}\n\nQ: {question}\nA: {response}\n\nIs the answer right?",
      "{answer}"),
    t("{question}\n\nCould \"{response}\" be a correct answer, according to this paragraph?\n\n"
      "{paragraph}", "{answer}"),
    t("Here is a passage.\n\n{paragraph}\n\nSomeone answered the question \"{question}\" with "
      "\"{response}\". Were they right?", "{answer}"),
    t("Check the answer against the text.\n\n{paragraph}\n\nQuestion: {question}\nAnswer "
      "given: {response}", "{answer}"),
    t("{paragraph}\n\nIs \"{response}\" a true answer to this question: {question}",
      "{answer}"),
    turned("{paragraph}\n\nWrite a question about the paragraph for which \"{response}\" is "
           "{correctness} answer.", "{question}"),
    t("Based on the paragraph below, decide if the answer is correct.\n\n{paragraph}\n\n"
      "Question: {question}\nAnswer: {response}\n\n{options}", "{answer}"),
)

OPENBOOKQA_TEMPLATES = (
    t("Use this fact to answer the question: {fact}\n\n{question}\n\n{options}", "{answer}"),
    t("Fact: {fact}\nQuestion: {question}\n\nWhat is the answer?", "{answer}"),
    t("{question}\n\nChoose the correct answer.", "{answer}"),
    t("Knowing that \"{fact}\", how would you complete this: \"{question}\"?", "{answer}"),
    t("Here is a fact: {fact}\n\nNow answer this: {question}", "{answer}"),
    t("Open-book question. The book says: {fact}\n\n{question}", "{answer}"),
    t("{question}\n\nHint: {fact}", "{answer}"),
    t("Answer the elementary science question.\n\n{question}", "{answer}"),
    turned("Write a science question whose answer is \"{answer}\" and that this fact helps to "
           "answer: {fact}", "{question}"),
    t("Given the fact \"{fact}\", pick the right answer.\n\n{question}\n\n{options}",
      "{answer}"),
)

SQUAD_TEMPLATES = (
    t("Read this and answer the question. If the question cannot be answered from the text, "
      "say \"unanswerable\".\n\n{context}\n\n{question}", "{answer}"),
    t("{context}\n\nQuestion: {question}\nAnswer:", "{answer}"),
    t("Answer a question about this article about {title}.\n\n{context}\n\n{question}",
      "{answer}"),
    t("Here is a passage about {title}.\n\n{context}\n\nWhat is the answer to \"{question}\"? "
      "(Answer \"unanswerable\" if the passage does not say.)", "{answer}"),
    t("{question}\n\nFind the answer in the passage below.\n\n{context}", "{answer}"),
    t("Passage: {context}\n\nQ: {question}\nA:", "{answer}"),
    t("Extract the answer to the question from the text.\n\nText: {context}\nQuestion: "
      "{question}", "{answer}"),
    t("{context}\n\nUsing the paragraph above, answer: {question}", "{answer}"),
    turned("{context}\n\nWrite a question about the passage above whose answer is "
           "\"{answer}\".", "{question}"),
    t("Title: {title}\n\n{context}\n\nAnswer this: {question}", "{answer}"),
)


def _question(value: Any) -> str:
    """A question with a question mark (BoolQ's questions have none)."""
    question = text(value)
    return question if not question or question.endswith("?") else question + "?"


def boolq_fields(ex: Mapping[str, Any]) -> dict | None:
    """bool_q: title, passage, question (lower case, no '?'), answer (bool)."""
    return {"title": text(ex["title"]), "passage": text(ex["passage"]),
            "question": _question(ex["question"]), "answer": "yes" if bool(ex["answer"]) else "no"}


def _answers_fields(answers: list[str], **fields: str) -> dict | None:
    answers = [a for a in dict.fromkeys(answers) if a]  # unique, in order, non-empty
    if not answers:
        return None
    return {**fields, "answer": answers[0], "answers": answers}


def drop_fields(ex: Mapping[str, Any]) -> dict | None:
    """drop: passage, question, answer, validated_answers."""
    return _answers_fields([text(ex["answer"]), *texts(ex["validated_answers"])],
                           passage=text(ex["passage"]), question=text(ex["question"]))


def multirc_fields(ex: Mapping[str, Any]) -> dict | None:
    """super_glue/multirc: paragraph, question, answer (a candidate), label in (False, True)."""
    label = int(ex["label"])
    if label not in (0, 1):
        return None
    answer = YES_NO[1 - label]  # label 1 (True) -> "yes"
    return {"paragraph": text(ex["paragraph"]), "question": text(ex["question"]),
            "response": text(ex["answer"]), "answer": answer,
            "correctness": _CORRECTNESS[answer]}


def openbookqa_fields(ex: Mapping[str, Any]) -> dict | None:
    """openbookqa: question {stem, choice_A..D}, fact1, answerKey (class label over A-D)."""
    question = ex["question"]
    options = tuple(text(question[f"choice_{letter}"]) for letter in "ABCD")
    key = int(ex["answerKey"])
    if not 0 <= key < len(options) or len(set(options)) != len(options):
        return None
    return {"question": text(question["stem"]), "fact": text(ex["fact1"]), "options": options,
            "answer": options[key]}


def squad_fields(ex: Mapping[str, Any]) -> dict | None:
    """squad/v1.1 and v2.0: title, context, question, answers {text, answer_start}; v2.0's
    unanswerable questions (no answers, `is_impossible`) answer "unanswerable"."""
    answers = texts(ex["answers"]["text"])
    if bool(ex.get("is_impossible", False)) or not answers:
        answers = [UNANSWERABLE]
    return _answers_fields(answers, title=text(ex["title"]).replace("_", " "),
                           context=text(ex["context"]), question=text(ex["question"]))


tfds_spec(
    "bool_q", CLUSTER, title="BoolQ", tfds_name="bool_q:1.0.0",
    kind="classification", metric="accuracy", options=YES_NO, templates=BOOLQ_TEMPLATES,
    to_fields=boolq_fields, splits=TRAIN_VALIDATION,
    description="Boolean Questions: naturally occurring yes/no questions about a passage.",
    example={"title": "Lighthouse", "answer": True,
             "question": "do lighthouses still have people living in them",
             "passage": "Most lighthouses are now automated, but a few still have keepers who "
                        "live on site and look after the lamp, the fog signal and the building."},
)
tfds_spec(
    "drop", CLUSTER, title="DROP", tfds_name="drop:2.0.0",
    kind="generation", metric="f1", templates=DROP_TEMPLATES, to_fields=drop_fields,
    splits={"train": "train", "validation": "dev"},
    description="Discrete Reasoning Over Paragraphs: counting, sorting and arithmetic.",
    example={"query_id": "demo-q-0", "answer": "3", "validated_answers": ["3", "three"],
             "question": "How many more goals did the home side score than the visitors?",
             "passage": "The home side took the lead after ten minutes and added three more "
                        "goals before half time. The visitors replied once in the second "
                        "half, and the match ended four goals to one."},
)
tfds_spec(
    "multirc", CLUSTER, title="MultiRC", tfds_name="super_glue/multirc:1.0.2",
    kind="classification", metric="f1", options=YES_NO, templates=MULTIRC_TEMPLATES,
    to_fields=multirc_fields, splits=TRAIN_VALIDATION,
    description="Multi-sentence reading comprehension: is a candidate answer correct (F1).",
    example={"idx": {"paragraph": 0, "question": 1, "answer": 2}, "label": 1,
             "paragraph": "Tom missed the early ferry, so he had breakfast at the harbour cafe. "
                          "He caught the ten o'clock boat and reached the island by noon.",
             "question": "Why did Tom eat at the harbour cafe?",
             "answer": "Because he had missed the early ferry."},
)
tfds_spec(
    "openbookqa", CLUSTER, title="OBQA", tfds_name="openbookqa:0.1.0",
    kind="classification", metric="accuracy", templates=OPENBOOKQA_TEMPLATES,
    to_fields=openbookqa_fields, splits=TRAIN_VALIDATION_TEST,
    description="OpenBookQA: elementary science questions with a supporting fact.",
    example={"answerKey": 2, "clarity": 2.0, "humanScore": 1.0, "turkIdAnonymized": "demo",
             "fact1": "metal conducts heat well",
             "question": {"stem": "A spoon left in a pot of hot soup becomes hot because it is "
                                  "made of",
                          "choice_A": "wood", "choice_B": "plastic", "choice_C": "metal",
                          "choice_D": "paper"}},
)
tfds_spec(
    "squad", CLUSTER, title="SQuAD (v1/v2)",
    tfds_name=("squad/v1.1:3.0.0", "squad/v2.0:3.0.0"),
    kind="generation", metric="f1", templates=SQUAD_TEMPLATES, to_fields=squad_fields,
    splits=TRAIN_VALIDATION,
    description="Stanford Question Answering Dataset: answer spans; v2.0 adds unanswerable.",
    example={"id": "demo-squad-1", "title": "Old_Town_Clock",
             "context": "The clock on the old town hall was built in 1874. It was stopped "
                        "during the war and restarted in 1952 by a local watchmaker.",
             "question": "Who restarted the clock in 1952?",
             "answers": {"text": ["a local watchmaker", "local watchmaker"],
                         "answer_start": [105, 107]}},
)
