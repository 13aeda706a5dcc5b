"""Misc. cluster: CoQA, QuAC, WiC, Math, Fix Punctuation, TREC and CoLA.

Rules chosen where the data allow several readings:
- CoQA stores a whole conversation (many questions about one story) per TFDS example. We keep
  one example per story: the earlier question-answer turns are the dialogue history and the LAST
  question is asked; its free-form answer is the target (token F1).
- QuAC: the target is the dialogue's original answer span (`orig_answer`); QuAC's
  `CANNOTANSWER` marker (also appended to every context) becomes the answer "The text does not
  say." (token F1).
- WiC and CoLA are yes/no questions (the options shared with other clusters); TREC asks for the
  coarse answer type (description, entity, abbreviation, person, number, location).
- Math is DeepMind's `algebra__linear_1d` (solve a linear equation); the answer must match
  exactly. Some releases store lines as Python bytes literals (`b'...\\n'`); those are unwrapped.
- Fix Punctuation is derived from ParaCrawl's English side: the input is the sentence lowercased
  with every punctuation character removed (spaces collapsed), the target is the original.
  Sentences that this leaves unchanged are dropped; the rewrite is scored with BLEU. It
  evaluates on ParaCrawl examples 4,000-8,000, which the translation task holds out too.
Unlabelled test examples (label -1) are dropped (`to_fields` returns None); where a dataset's
TFDS test split is unlabelled it is evaluated on TFDS's validation split, and where TFDS has no
validation split its labelled test split is our `validation`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Mapping

from flan_nb.collection._common import (TRAIN_VALIDATION, YES_NO, pick, t, text, texts,
                                        tfds_spec, turned)
from flan_nb.collection.summarization import sequence_column

TRAIN_TEST = {"train": "train", "validation": "test"}  # TFDS has no validation split
FIX_PUNCTUATION_SPLITS = {"train": "train[10000:]", "validation": "train[4000:6000]",
                          "test": "train[6000:8000]"}
TREC_OPTIONS: tuple[str, ...] = ("description", "entity", "abbreviation", "person", "number",
                                 "location")  # index = TFDS `label-coarse`
QUAC_NO_ANSWER = "CANNOTANSWER"
UNANSWERABLE = "The text does not say."
_BYTES_LITERAL = re.compile(r"""^b(['"])(.*?)(\\n)?\1$""", re.DOTALL)
# Apostrophes inside words and dots inside abbreviations vanish (don't -> dont, p.m. -> pm).
_INNER_MARK = re.compile(r"(?<=\w)['\u2019](?=\w)|(?<=[^\W\d])\.(?=[^\W\d])")


def yes_no(label: Any) -> str:
    """A binary TFDS label (0 = false/unacceptable, 1 = true/acceptable) as "no" / "yes"."""
    return YES_NO[0] if int(label) == 1 else YES_NO[1]


def strip_punctuation(sentence: str) -> str:
    """`sentence` lowercased, without punctuation characters, with single spaces.

    Apostrophes inside words and dots between letters are deleted; other punctuation becomes
    a space (so `well-known` becomes two words, and `3.5` does not become `35`).
    """
    sentence = _INNER_MARK.sub("", sentence)
    kept = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in sentence)
    return " ".join(kept.lower().split())


def unwrap_bytes_literal(value: str) -> str:
    """`b'x = 2\\n'` -> `x = 2` (older Math releases); other strings are returned unchanged."""
    match = _BYTES_LITERAL.match(value)
    return match.group(2).strip() if match else value


# --- CoQA: conversational question answering over a story ---------------------------------
def _coqa_fields(example: Mapping[str, Any]) -> dict | None:
    questions = texts(example["questions"])
    answers = sequence_column(example["answers"], "input_text")
    if not questions or len(questions) != len(answers) or not answers[-1]:
        return None
    turns = [f"Q: {q}\nA: {a}" for q, a in zip(questions[:-1], answers[:-1])]
    return {"story": text(example["story"]),
            "history": "\n".join(turns) if turns else "(no earlier questions)",
            "question": questions[-1], "answer": answers[-1]}


tfds_spec(
    "coqa", "misc", title="CoQA", tfds_name="coqa:1.0.0", kind="generation", metric="f1",
    splits=TRAIN_TEST,
    templates=(
        t("{story}\n\nEarlier questions and answers:\n{history}\n\nNow answer this question: "
          "{question}", "{answer}"),
        t("Read the passage and continue the conversation about it.\n\n{story}\n\n"
          "{history}\nQ: {question}\nA:", "{answer}"),
        t("Passage: {story}\n\nConversation so far:\n{history}\n\nQuestion: {question}\n"
          "Answer:", "{answer}"),
        t('{story}\n\nAfter this exchange:\n{history}\n\nwhat is the answer to "{question}"?',
          "{answer}"),
        t("Answer the last question of a conversation about the text below.\n\n"
          "Text: {story}\n\nConversation:\n{history}\n\nLast question: {question}",
          "{answer}"),
        t("{history}\nQ: {question}\n\nUse this text to answer the last question briefly:\n"
          "{story}", "{answer}"),
        t("Here is a story:\n{story}\n\nTwo people have been discussing it:\n{history}\n\n"
          "Give a short answer to their next question: {question}", "{answer}"),
        t("Story: {story}\n\nPrevious turns:\n{history}\n\n{question}", "{answer}"),
        turned('{story}\n\n{history}\n\nThe next answer was "{answer}". What was the '
               "question?", "{question}"),
        turned("Text: {story}\n\nWrite a question about the text whose answer is: {answer}",
               "{question}"),
    ),
    to_fields=_coqa_fields,
    example={"source": "mctest",
             "story": "Mia had a small red boat. Every Sunday she sailed it across the pond "
                      "with her brother Leo. One day the wind took the boat to the far shore.",
             "questions": ["What color was the boat?", "Who sailed with her?",
                           "Where did the wind take it?"],
             "answers": {"input_text": ["red", "her brother Leo", "to the far shore"],
                         "answer_start": [17, 72, 109], "answer_end": [20, 87, 133]}},
    description="CoQA: answer the next question of a conversation about a story (one example "
                "per story: its last question, with the earlier turns as history).",
)


# --- QuAC: information-seeking questions about a Wikipedia section --------------------------
def _quac_fields(example: Mapping[str, Any]) -> dict | None:
    context = text(example["context"])
    if context.endswith(QUAC_NO_ANSWER):
        context = context[: -len(QUAC_NO_ANSWER)].strip()
    answer = text(example["orig_answer"]["text"])
    answer = UNANSWERABLE if answer == QUAC_NO_ANSWER else answer
    if not answer or not context:
        return None
    return {"title": text(example["title"]), "section_title": text(example["section_title"]),
            "background": text(example["background"]), "context": context,
            "question": text(example["question"]), "answer": answer}


tfds_spec(
    "quac", "misc", title="QuAC", tfds_name="quac:1.0.0", kind="generation", metric="f1",
    splits=TRAIN_VALIDATION,
    templates=(
        t("{background}\n\n{title} -- {section_title}\n\n{context}\n\nQuestion: {question}\n"
          "Answer:", "{answer}"),
        t("Answer the question with a passage from the text. If the text does not answer it, "
          "say so.\n\nText: {context}\n\nQuestion: {question}", "{answer}"),
        t("{context}\n\nBased on this section about {title}, answer: {question}", "{answer}"),
        t("Background: {background}\nSection: {section_title}\nPassage: {context}\n\n"
          "{question}", "{answer}"),
        t('Read about {title} ({section_title}):\n{context}\n\nWhat does the text say in reply '
          'to "{question}"?', "{answer}"),
        t("{context}\n\nQ: {question}\nA:", "{answer}"),
        t("A student is reading about {title}. Background: {background}\n\nThe section "
          '"{section_title}" says:\n{context}\n\nThe student asks: {question} Quote the answer '
          "from the section.", "{answer}"),
        t("Question about {title}: {question}\n\nFind the answer in this passage:\n{context}",
          "{answer}"),
        t("{title}\n{context}\n\n{question}", "{answer}"),
        turned("{context}\n\nA reader asked a question about {title} and got this reply: "
               "{answer}\nWhat might the question have been?", "{question}"),
    ),
    to_fields=_quac_fields,
    example={"context": "Reyes joined the orchestra in 1998 as a violinist. Two years later "
                        "she became its first female conductor. CANNOTANSWER",
             "followup": "y", "yesno": "x", "question": "When did she start conducting?",
             "answers": {"text": ["Two years later she became its first female conductor."],
                         "answer_start": [51]},
             "orig_answer": {"text": "Two years later she became its first female conductor.",
                             "answer_start": 51},
             "section_title": "Career", "background": "Elena Reyes is a Chilean conductor.",
             "title": "Elena Reyes"},
    description="QuAC: answer an information-seeking question about a Wikipedia section.",
)


# --- WiC: is a word used with the same meaning in two sentences? ----------------------------
def _wic_fields(example: Mapping[str, Any]) -> dict | None:
    if int(example["label"]) < 0:
        return None
    answer = yes_no(example["label"])
    return {"word": text(example["word"]), "sentence1": text(example["sentence1"]),
            "sentence2": text(example["sentence2"]), "answer": answer,
            "relation": "the same meaning" if answer == "yes" else "different meanings"}


tfds_spec(
    "wic", "misc", title="WiC", tfds_name="super_glue/wic:1.0.2", kind="classification",
    metric="accuracy", options=YES_NO, splits=TRAIN_VALIDATION,
    templates=(
        t('Does the word "{word}" mean the same thing in these two sentences?\n{sentence1}\n'
          "{sentence2}", "{answer}"),
        t('Sentence A: {sentence1}\nSentence B: {sentence2}\n\nIs "{word}" used with the same '
          "sense in both?", "{answer}"),
        t('{sentence1}\n{sentence2}\n\nIn the two sentences above, is the meaning of "{word}" '
          "identical?", "{answer}"),
        t('Here is a word, "{word}", used twice:\n1. {sentence1}\n2. {sentence2}\n\nIs it the '
          "same meaning both times?", "{answer}"),
        t('Decide whether "{word}" has the same definition in "{sentence1}" and in '
          '"{sentence2}".', "{answer}"),
        t("Word: {word}\nFirst use: {sentence1}\nSecond use: {sentence2}\nSame sense?",
          "{answer}"),
        t('Could one dictionary definition of "{word}" cover both of these uses?\n'
          "* {sentence1}\n* {sentence2}", "{answer}"),
        t('{sentence1}\n\n{sentence2}\n\nDoes "{word}" refer to the same concept in both '
          "sentences?", "{answer}"),
        t('Tell me if "{word}" carries the same meaning in both of the following sentences.'
          "\n\n{sentence1}\n{sentence2}", "{answer}"),
        turned('Write two sentences in which the word "{word}" has {relation}.',
               "{sentence1}\n{sentence2}"),
    ),
    to_fields=_wic_fields,
    example={"word": "bank", "sentence1": "We had a picnic on the bank of the river.",
             "sentence2": "She opened an account at the bank.", "start1": 29, "start2": 26,
             "end1": 33, "end2": 30, "idx": 0, "label": 0},
    description="WiC: is a word used with the same meaning in two sentences?",
)


# --- Math: solve a linear equation in one variable -------------------------------------------
def _math_fields(example: Mapping[str, Any]) -> dict | None:
    question = unwrap_bytes_literal(text(example["question"]))
    answer = unwrap_bytes_literal(text(example["answer"]))
    return {"question": question, "answer": answer} if question and answer else None


tfds_spec(
    "math_dataset", "misc", title="Math", tfds_name="math_dataset/algebra__linear_1d:1.0.0",
    kind="generation", metric="exact_match", splits=TRAIN_TEST,
    templates=(
        t("{question}", "{answer}"),
        t("Solve this problem and give only the answer.\n\n{question}", "{answer}"),
        t("Problem: {question}\nAnswer:", "{answer}"),
        t("What is the answer to this math question? {question}", "{answer}"),
        t("{question}\n\nWhat is the solution?", "{answer}"),
        t("Work out the following. Reply with just the number.\n{question}", "{answer}"),
        t("A student was given this exercise: {question} What should the student answer?",
          "{answer}"),
        t("Math question: {question}\nSolution:", "{answer}"),
        t("Find the value of the unknown. {question}", "{answer}"),
        turned("Write an algebra exercise whose answer is {answer}.", "{question}"),
    ),
    to_fields=_math_fields,
    example={"question": "Solve 3*k + 7 = -8 for k.", "answer": "-5"},
    description="Math (DeepMind mathematics, algebra__linear_1d): solve a linear equation.",
)


# --- Fix Punctuation: restore punctuation and capitals in ParaCrawl English sentences --------
def _fix_punctuation_fields(example: Mapping[str, Any]) -> dict | None:
    sentence = text(example["en"])
    stripped = strip_punctuation(sentence)
    if not stripped or stripped == sentence:
        return None
    return {"sentence": sentence, "stripped": stripped}


tfds_spec(
    "fix_punctuation", "misc", title="Fix Punctuation", tfds_name="para_crawl/enes:1.2.0",
    kind="generation",
    metric="bleu", splits=FIX_PUNCTUATION_SPLITS,
    templates=(
        t("Add the missing punctuation and capital letters to this text: {stripped}",
          "{sentence}"),
        t("{stripped}\n\nRewrite the text above with correct punctuation and "
          "capitalization.", "{sentence}"),
        t("Fix the punctuation: {stripped}", "{sentence}"),
        t("Unpunctuated: {stripped}\nPunctuated:", "{sentence}"),
        t("This sentence was typed without any punctuation or capitals. Restore them.\n\n"
          "{stripped}", "{sentence}"),
        t("{stripped}\n\nPlease write this properly, with commas, full stops and capital "
          "letters where they belong.", "{sentence}"),
        t("Correct the following text so that it reads like edited prose: {stripped}",
          "{sentence}"),
        t("Punctuate this sentence and capitalize the words that need it: {stripped}",
          "{sentence}"),
        t("Input: {stripped}\nOutput with punctuation:", "{sentence}"),
        turned("{sentence}\n\nRemove all punctuation from this sentence and write it in "
               "lowercase.", "{stripped}"),
    ),
    to_fields=_fix_punctuation_fields,
    example={"en": "Yes, the hotel's pool is open until 10 p.m. every day.",
             "es": "Sí, la piscina del hotel está abierta hasta las 10 p.m. todos los días."},
    description="Fix Punctuation (from ParaCrawl English): restore the punctuation and capitals "
                "of a lowercased sentence stripped of punctuation.",
)


# --- TREC: what kind of answer does a question ask for? --------------------------------------
def _trec_fields(example: Mapping[str, Any]) -> dict | None:
    if int(example["label-coarse"]) < 0:
        return None
    return {"question": text(example["text"]),
            "answer": pick(TREC_OPTIONS, example["label-coarse"])}


tfds_spec(
    "trec", "misc", title="TREC", tfds_name="trec:1.0.0", kind="classification", metric="accuracy",
    options=TREC_OPTIONS, splits=TRAIN_TEST,
    templates=(
        t("What type of thing is this question asking for?\n\n{question}", "{answer}"),
        t("{question}\n\nWhich category best describes the expected answer to this "
          "question?", "{answer}"),
        t("Question: {question}\nAnswer type:", "{answer}"),
        t("Classify the question by the kind of answer it seeks: {question}", "{answer}"),
        t('Would the answer to "{question}" be a description, an entity, an abbreviation, '
          "a person, a number, or a location?", "{answer}"),
        t("Here is a question someone asked: {question}\n\nWhat sort of answer are they "
          "expecting?", "{answer}"),
        t("{question}\n\nIs this question about a description, entity, abbreviation, person, "
          "number or location?", "{answer}"),
        t("Read the question and decide what kind of information would answer it.\n"
          "{question}", "{answer}"),
        turned('Write a question whose answer would be of the type "{answer}".',
               "{question}"),
        turned("Ask something that expects an answer of this kind: {answer}", "{question}"),
    ),
    to_fields=_trec_fields,
    example={"label-coarse": 5, "label-fine": 21,
             "text": "What city hosted the first modern Olympic Games?"},
    description="TREC: the coarse type of answer a question asks for.",
)


# --- CoLA: is a sentence grammatically acceptable? -------------------------------------------
def _cola_fields(example: Mapping[str, Any]) -> dict | None:
    if int(example["label"]) < 0:
        return None
    answer = yes_no(example["label"])
    return {"sentence": text(example["sentence"]), "answer": answer,
            "judgement": ("grammatically acceptable" if answer == "yes"
                          else "grammatically unacceptable")}


tfds_spec(
    "cola", "misc", title="CoLA", tfds_name="glue/cola:2.0.0", kind="classification",
    metric="accuracy",
    options=YES_NO, splits=TRAIN_VALIDATION,
    templates=(
        t("Is the following sentence grammatically acceptable?\n\n{sentence}", "{answer}"),
        t("{sentence}\n\nWould a native English speaker consider this sentence well formed?",
          "{answer}"),
        t('Sentence: "{sentence}"\nIs this a grammatical English sentence?', "{answer}"),
        t("Does this sentence follow the rules of English grammar? {sentence}", "{answer}"),
        t("Check the grammar: {sentence}\nIs it correct?", "{answer}"),
        t("{sentence}\nIs that acceptable English?", "{answer}"),
        t("A linguist is judging sentences. Would they accept this one as grammatical?\n\n"
          "{sentence}", "{answer}"),
        t("Here is a sentence: {sentence}\n\nCan this be said in English without any "
          "grammatical error?", "{answer}"),
        t('Is the sentence "{sentence}" grammatical?', "{answer}"),
        turned("Give an example of an English sentence that is {judgement}.", "{sentence}"),
    ),
    to_fields=_cola_fields,
    example={"sentence": "The book was read by the whole class.", "label": 1, "idx": 0},
    description="CoLA: is a sentence grammatically acceptable English?",
)
