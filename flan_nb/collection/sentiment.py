"""Sentiment cluster: IMDB, Sentiment140, SST-2, Yelp.

All four are binary (answers "negative" / "positive"), so they share one set of phrasings with
the kind of text written in ("movie review", "tweet", ...). Templates 7 and 8 turn the task
around: given the label, write such a text. IMDB, Sentiment140 and Yelp have no labelled
validation split in TFDS, so we evaluate on their test split. Sentiment140's test set also holds
neutral tweets (polarity 2); the binary task drops them.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from flan_nb.collection._common import (POSITIVE_NEGATIVE, TRAIN_VALIDATION, pick, t, text,
                                        tfds_spec, turned)
from flan_nb.templates import Template

CLUSTER = "sentiment"
TRAIN_TEST = {"train": "train", "validation": "test"}

# `<THING>` becomes the kind of text ("movie review", "tweet", ...).
_PHRASINGS = (
    ("{text}\n\nWhat is the sentiment of this <THING>?\n\n{options}", "{answer}", False),
    ("<THING>: {text}\n\nIs this <THING> positive or negative?", "{answer}", False),
    ("Decide whether the following <THING> is positive or negative.\n\n{text}", "{answer}",
     False),
    ("{text}\n\nHow does the writer feel, positively or negatively?", "{answer}", False),
    ("Here is a <THING>: \"{text}\"\nWould you call its tone positive or negative?",
     "{answer}", False),
    ("Classify the sentiment of the <THING> below.\n\n{text}", "{answer}", False),
    ("{text}\n\nDid this <THING> express a positive or a negative opinion?", "{answer}", False),
    ("Write a {answer} <THING>.", "{text}", True),
    ("Generate a <THING> that readers would call {answer}.", "{text}", True),
    ("Is the sentiment of the following <THING> negative or positive?\n\n{text}\n\n{options}",
     "{answer}", False),
)


def templates_for(thing: str) -> tuple[Template, ...]:
    """The ten sentiment templates for texts of kind `thing` (e.g. "movie review")."""
    made = []
    for inputs, targets, is_turned in _PHRASINGS:
        inputs = inputs.replace("<THING>:", thing[0].upper() + thing[1:] + ":")
        inputs = inputs.replace("<THING>", thing)
        made.append(turned(inputs, targets) if is_turned else t(inputs, targets))
    return tuple(made)


def _fields(review: Any, answer: str | None) -> dict | None:
    if answer is None:
        return None
    return {"text": text(review), "answer": answer}


def imdb_fields(ex: Mapping[str, Any]) -> dict | None:
    """imdb_reviews/plain_text: text (with HTML line breaks), label in (neg, pos)."""
    review = re.sub(r"\s*<br\s*/?>\s*", " ", text(ex["text"]))
    return _fields(review, pick(POSITIVE_NEGATIVE, ex["label"]))


def sentiment140_fields(ex: Mapping[str, Any]) -> dict | None:
    """sentiment140: text, polarity 0 (negative), 2 (neutral, dropped) or 4 (positive)."""
    answer = {0: "negative", 4: "positive"}.get(int(ex["polarity"]))
    return _fields(ex["text"], answer)


def sst2_fields(ex: Mapping[str, Any]) -> dict | None:
    """glue/sst2: sentence, label in (negative, positive), -1 on test."""
    return _fields(ex["sentence"], pick(POSITIVE_NEGATIVE, ex["label"]))


def yelp_fields(ex: Mapping[str, Any]) -> dict | None:
    """yelp_polarity_reviews: text (with literal \\n escapes), label in ("1", "2")."""
    review = text(ex["text"]).replace("\\n", " ")
    return _fields(review, pick(POSITIVE_NEGATIVE, ex["label"]))


tfds_spec(
    "imdb", CLUSTER, title="IMDB", tfds_name="imdb_reviews/plain_text:1.0.0",
    kind="classification", metric="accuracy", options=POSITIVE_NEGATIVE,
    templates=templates_for("movie review"), to_fields=imdb_fields, splits=TRAIN_TEST,
    description="Long movie reviews from IMDB, positive or negative.",
    example={"label": 1,
             "text": "I went in expecting very little.<br /><br />The script is sharp, the "
                     "two leads are wonderful together and the last twenty minutes had the "
                     "whole cinema laughing. Go and see it."},
)
tfds_spec(
    "sentiment140", CLUSTER, title="Sent140", tfds_name="sentiment140:1.0.0",
    kind="classification", metric="accuracy", options=POSITIVE_NEGATIVE,
    templates=templates_for("tweet"), to_fields=sentiment140_fields, splits=TRAIN_TEST,
    description="Tweets labelled by their emoticons; neutral test tweets are dropped.",
    example={"polarity": 0, "date": "Mon Apr 06 22:19:45 PDT 2009", "query": "NO_QUERY",
             "user": "demo_user", "text": "missed the last bus home again and it is raining"},
)
tfds_spec(
    "sst2", CLUSTER, title="SST-2", tfds_name="glue/sst2:2.0.0",
    kind="classification", metric="accuracy", options=POSITIVE_NEGATIVE,
    templates=templates_for("movie review sentence"), to_fields=sst2_fields,
    splits=TRAIN_VALIDATION,
    description="Stanford Sentiment Treebank, single sentences from movie reviews.",
    example={"idx": 9, "label": 1,
             "sentence": "a warm , funny and surprisingly moving film about two old friends "},
)
tfds_spec(
    "yelp", CLUSTER, title="Yelp", tfds_name="yelp_polarity_reviews:0.2.0",
    kind="classification", metric="accuracy", options=POSITIVE_NEGATIVE,
    templates=templates_for("Yelp review"), to_fields=yelp_fields, splits=TRAIN_TEST,
    description="Yelp business reviews: 1-2 stars negative, 3-4 stars positive.",
    example={"label": 0,
             "text": "We waited forty minutes for a cold pizza.\\nThe staff never apologised "
                     "and the table was sticky. Not coming back."},
)
