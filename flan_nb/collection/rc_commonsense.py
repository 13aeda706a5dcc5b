"""Reading comprehension with commonsense cluster: CosmosQA and ReCoRD.

Both are classification tasks scored by accuracy with per-example options (the field `options`).
CosmosQA: a short story, a question about what is likely (causes, effects, intentions) and four
candidate answers; the target is the labelled one.

ReCoRD: a news article (its `@highlight` bullet points become dash-led lines), and a cloze sentence
whose `@placeholder` (shown as `___`) hides an entity of the article. The options are the
article's entities. ReCoRD may list several correct surface forms; our rule: the FIRST answer (in
TFDS's sorted order) is the target, and the other correct forms are removed from the options so
exactly one option is right. Turned-around templates give the answer and ask for the question
(CosmosQA) or for the completed cloze sentence (ReCoRD). Unlabelled examples are dropped
(`to_fields` returns None); both datasets' test labels are hidden, so they are evaluated on TFDS's
validation split.
"""

from __future__ import annotations

from typing import Any, Mapping

from flan_nb.collection._common import (TRAIN_VALIDATION, pick, t, text, texts, tfds_spec,
                                        turned)

PLACEHOLDER = "@placeholder"
BLANK = "___"
HIGHLIGHT = "@highlight"


def record_passage(raw: str) -> str:
    """A ReCoRD passage with its `@highlight` markers turned into dash-led lines."""
    article, *highlights = raw.split(HIGHLIGHT)
    lines = [f"- {h.strip()}" for h in highlights if h.strip()]
    return article.strip() + ("\n\n" + "\n".join(lines) if lines else "")


# --- CosmosQA: commonsense questions about everyday stories ----------------------------------
def _cosmos_fields(example: Mapping[str, Any]) -> dict | None:
    if int(example["label"]) < 0:
        return None
    options = tuple(text(example[f"answer{i}"]) for i in range(4))
    return {"context": text(example["context"]), "question": text(example["question"]),
            "options": options, "answer": pick(options, example["label"])}


tfds_spec(
    "cosmos_qa", "reading_comprehension_with_commonsense", title="CosmosQA",
    tfds_name="cosmos_qa:1.0.0",
    kind="classification", metric="accuracy", splits=TRAIN_VALIDATION,
    templates=(
        t("{context}\n\nQuestion: {question}", "{answer}"),
        t("Read the passage and answer the question.\n\n{context}\n\n{question}", "{answer}"),
        t("Context: {context}\nQ: {question}\nA:", "{answer}"),
        t("{context}\n\nBased on the story above, answer this: {question}", "{answer}"),
        t("Here is a short story: {context}\n\nUsing common sense, answer the question "
          "below.\n{question}", "{answer}"),
        t("{question}\n\nAnswer using the following text: {context}", "{answer}"),
        t("Story: {context}\n\nWhat is the most plausible answer to this question? "
          "{question}", "{answer}"),
        t("Read between the lines to answer the question.\n\n{context}\n\nQuestion: "
          "{question}", "{answer}"),
        turned('{context}\n\nWrite a question about the passage whose answer is "{answer}".',
               "{question}"),
        turned("Context: {context}\nAnswer: {answer}\n\nWhat question is being answered?",
               "{question}"),
    ),
    to_fields=_cosmos_fields,
    example={"context": "I missed the last bus, so I walked home in the rain. When I got in, "
                        "my roommate handed me a towel and a cup of tea without a word.",
             "question": "Why did the roommate give the narrator a towel?",
             "answer0": "Because the narrator was wet from the rain.",
             "answer1": "Because the narrator asked for one.",
             "answer2": "Because the towel was new.",
             "answer3": "None of the above choices.",
             "label": 0, "id": "cosmos-example-0"},
    description="CosmosQA: a commonsense question about a short everyday story, four choices.",
)


# --- ReCoRD: fill the blank of a cloze sentence with an entity from the article --------------
def _record_fields(example: Mapping[str, Any]) -> dict | None:
    answers = [a for a in texts(example["answers"]) if a]
    if not answers:
        return None
    answer = answers[0]
    others = set(answers[1:]) - {answer}
    options = [e for e in dict.fromkeys(texts(example["entities"])) if e and e not in others]
    if answer not in options:
        options.append(answer)
    query = text(example["query"])
    return {"passage": record_passage(text(example["passage"])),
            "query": query.replace(PLACEHOLDER, BLANK),
            "completed": query.replace(PLACEHOLDER, answer),
            "options": tuple(options), "answer": answer}


tfds_spec(
    "record", "reading_comprehension_with_commonsense", title="ReCoRD",
    tfds_name="super_glue/record:1.0.2",
    kind="classification", metric="accuracy", splits=TRAIN_VALIDATION,
    templates=(
        t("{passage}\n\n{query}\n\nWhat should replace the blank (___)?", "{answer}"),
        t("Read the article and fill in the blank in the sentence that follows.\n\n"
          "{passage}\n\nSentence: {query}", "{answer}"),
        t("Article: {passage}\n\nCloze: {query}\nAnswer:", "{answer}"),
        t("{passage}\n\nWhich entity is missing from this sentence? {query}", "{answer}"),
        t('Using the news story below, complete the sentence "{query}"\n\n{passage}',
          "{answer}"),
        t("{query}\n\nFind the missing name in this passage:\n{passage}", "{answer}"),
        t("Here is a news article followed by a sentence with a gap.\n{passage}\n\n{query}"
          "\n\nWho or what goes in the gap?", "{answer}"),
        t("{passage}\n\nThe story goes on: {query}\nWhat is hidden behind the ___?",
          "{answer}"),
        t("Read this: {passage}\n\nNow fill the gap: {query}", "{answer}"),
        turned("{passage}\n\nWrite a sentence that follows from the article and mentions "
               "{answer}.", "{completed}"),
    ),
    to_fields=_record_fields,
    example={"passage": "Harbor officials in Portsmouth said a cargo ship ran aground on "
                        "Tuesday near the Round Tower. No one was hurt, and the Coast Guard "
                        "expects to refloat it at high tide.@highlight\nCargo ship runs "
                        "aground near Portsmouth@highlight\nNo injuries reported",
             "query": "The @placeholder will try to refloat the ship at high tide.",
             "entities": ["Coast Guard", "Portsmouth", "Round Tower"],
             "answers": ["Coast Guard"], "idx": {"passage": 0, "query": 0}},
    description="ReCoRD: fill the blank of a sentence about a news article with one of the "
                "article's entities.",
)
