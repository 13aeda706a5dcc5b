"""Closed-book QA cluster: ARC (easy and challenge), Natural Questions (open), TriviaQA.

The model answers from what it knows, without a passage. ARC is multiple choice (its choices
travel in `options`); Natural Questions and TriviaQA are generation tasks scored by exact match
against any gold answer, which the fields keep in `answers` (the first one is `answer`, the
target). The paper counts ARC's two parts as one dataset: both TFDS configs are read. TriviaQA
uses the `rc.nocontext` config: the paper's `rc` questions and answers without the evidence
documents (gigabytes) that a closed-book model never reads.
"""

from __future__ import annotations

from typing import Any, Mapping

from flan_nb.collection._common import (TRAIN_VALIDATION, TRAIN_VALIDATION_TEST, t, text, texts,
                                        tfds_spec, turned)

CLUSTER = "closed_book_qa"

ARC_TEMPLATES = (
    t("{question}\n\nPick the answer from these options.\n\n{options}", "{answer}"),
    t("Answer this grade-school science question.\n\n{question}", "{answer}"),
    t("Question: {question}\n\nWhat is the correct answer?", "{answer}"),
    t("{question}\nChoose the best answer.", "{answer}"),
    t("Here is a science exam question: {question}\nWhich option is right?", "{answer}"),
    t("Test your science knowledge. {question}", "{answer}"),
    t("Which answer is correct? {question}", "{answer}"),
    t("Science quiz.\n\nQ: {question}\n\n{options}\n\nA:", "{answer}"),
    turned("Write a science question whose answer is \"{answer}\".", "{question}"),
    t("I am studying for a science test. Can you help me with this one? {question}",
      "{answer}"),
)

NQ_TEMPLATES = (
    t("Question: {question}\nAnswer:", "{answer}"),
    t("Answer the following question. {question}", "{answer}"),
    t("What is the answer to this question? {question}", "{answer}"),
    t("Please answer this: {question}", "{answer}"),
    t("Quick question: {question}", "{answer}"),
    t("Here is a question people often search the web for.\n\n{question}\n\nWhat is the "
      "answer?", "{answer}"),
    t("Give a short answer. {question}", "{answer}"),
    t("{question}\n\nAnswer in a few words.", "{answer}"),
    turned("Write a question whose answer is: {answer}", "{question}"),
    t("Q: {question}\nA:", "{answer}"),
)

TRIVIA_QA_TEMPLATES = (
    t("Answer the following trivia question.\n\n{question}", "{answer}"),
    t("Trivia: {question}", "{answer}"),
    t("{question}\n\nWhat is the answer?", "{answer}"),
    t("Question: {question}\nAnswer:", "{answer}"),
    t("Here is a quiz question. {question}", "{answer}"),
    t("Can you answer this pub quiz question? {question}", "{answer}"),
    t("Test your general knowledge: {question}", "{answer}"),
    t("{question} Give a short answer.", "{answer}"),
    turned("Write a trivia question whose answer is {answer}.", "{question}"),
    t("Q: {question}\nA:", "{answer}"),
)

_ARC_LETTERS = "ABCDE"  # TFDS ClassLabel names of ARC's `answerKey` and `choices.label`


def arc_fields(ex: Mapping[str, Any]) -> dict | None:
    """ai2_arc/*: question, choices {text, label}, answerKey (class labels over A-E)."""
    choices = ex["choices"]
    options = tuple(texts(choices["text"]))
    labels = [int(label) for label in list(choices["label"])]
    key = int(ex["answerKey"])
    if len(labels) != len(options) or key not in labels or len(set(options)) != len(options):
        return None
    return {"question": text(ex["question"]), "options": options,
            "answer": options[labels.index(key)]}


def _qa_fields(question: str, answers: list[str]) -> dict | None:
    answers = [a for a in dict.fromkeys(answers) if a]  # unique, in order, non-empty
    if not question or not answers:
        return None
    return {"question": question, "answer": answers[0], "answers": answers}


def nq_fields(ex: Mapping[str, Any]) -> dict | None:
    """natural_questions_open: question (lower case, no '?'), answer (a list of strings)."""
    question = text(ex["question"])
    if question and not question.endswith("?"):
        question += "?"
    return _qa_fields(question, texts(ex["answer"]))


def trivia_qa_fields(ex: Mapping[str, Any]) -> dict | None:
    """trivia_qa/rc.nocontext: question, answer {value, aliases, ...} (empty on the test split)."""
    answer = ex["answer"]
    return _qa_fields(text(ex["question"]), [text(answer["value"]), *texts(answer["aliases"])])


tfds_spec(
    "arc", CLUSTER, title="ARC (easy/chal.)",
    tfds_name=("ai2_arc/ARC-Easy:1.0.0", "ai2_arc/ARC-Challenge:1.0.0"),
    kind="classification", metric="accuracy", templates=ARC_TEMPLATES, to_fields=arc_fields,
    splits=TRAIN_VALIDATION_TEST,
    description="AI2 Reasoning Challenge: grade-school science questions, easy and challenge.",
    example={"id": "Demo_2024_4_12", "answerKey": 1,
             "question": "Which tool is best for measuring the mass of a rock?",
             "choices": {"text": ["a ruler", "a balance", "a thermometer", "a stopwatch"],
                         "label": [0, 1, 2, 3]}},
)
tfds_spec(
    "natural_questions", CLUSTER, title="Natural Questions",
    tfds_name="natural_questions_open:1.0.0", kind="generation", metric="exact_match",
    templates=NQ_TEMPLATES, to_fields=nq_fields, splits=TRAIN_VALIDATION,
    description="Natural Questions (open): real search queries with short answers.",
    example={"question": "what is the tallest mountain in the alps",
             "answer": ["Mont Blanc", "Monte Bianco"]},
)
tfds_spec(
    "trivia_qa", CLUSTER, title="TriviaQA", tfds_name="trivia_qa/rc.nocontext:1.1.0",
    kind="generation", metric="exact_match", templates=TRIVIA_QA_TEMPLATES,
    to_fields=trivia_qa_fields, splits=TRAIN_VALIDATION,
    description="TriviaQA questions without their evidence documents (closed book).",
    example={"question": "Which planet in our solar system has the most moons?",
             "question_id": "demo_0042", "question_source": "http://www.example.org/quiz",
             "answer": {"value": "Saturn", "aliases": ["Saturn", "Planet Saturn"],
                        "normalized_value": "saturn",
                        "normalized_aliases": ["saturn", "planet saturn"],
                        "matched_wiki_entity_name": "", "normalized_matched_wiki_entity_name": "",
                        "type": "WikipediaEntity"},
             "entity_pages": {"doc_source": [], "filename": [], "title": [], "wiki_context": []},
             "search_results": {"description": [], "filename": [], "rank": [],
                                "search_context": [], "title": [], "url": []}},
)
