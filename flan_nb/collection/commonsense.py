"""Commonsense cluster: COPA, HellaSwag, PIQA, StoryCloze.

All four are multiple choice: the candidate answers differ per example, so they travel in the
field `options` and the gold one in `answer`. StoryCloze has no training split in TFDS (only the
2016 spring validation and test sets, both labelled); like the paper's release we tune on its
validation set and evaluate on its test set. It needs a manual download.
"""

from __future__ import annotations

from typing import Any, Mapping

from flan_nb.collection._common import (TRAIN_VALIDATION, manual_instructions, pick, t, text,
                                        texts, tfds_spec, turned)

CLUSTER = "commonsense"

COPA_TEMPLATES = (
    t("{premise} What was the {question} of this?\n\n{options}", "{answer}"),
    t("Premise: {premise}\n\nWhat is the more plausible {question}?", "{answer}"),
    t("Pick the more likely {question} of the following event.\n\n{premise}", "{answer}"),
    t("\"{premise}\" Which of the options is the {question}?", "{answer}"),
    t("Here is a situation: {premise}\nI am looking for its {question}. Which option fits "
      "best?", "{answer}"),
    t("Think about what happened: {premise}\n\nWhich of these is more likely to be the "
      "{question}?", "{answer}"),
    t("{premise}\n\nSelect the most plausible {question}:\n\n{options}", "{answer}"),
    t("Which is the likelier {question} of \"{premise}\"?", "{answer}"),
    turned("Write a sentence describing an event whose {question} could be this: {answer}",
           "{premise}"),
    t("Event: {premise}\nAsked for: the {question}\n\nAnswer by choosing one option.",
      "{answer}"),
)

HELLASWAG_TEMPLATES = (
    t("{context}\n\nWhat is the most natural continuation of the text above?\n\n{options}",
      "{answer}"),
    t("Complete the description with the most sensible ending.\n\n{context}", "{answer}"),
    t("Topic: {activity}\n\n{context}\n\nHow does it continue?", "{answer}"),
    t("{context}\nWhich of the following is the best ending?", "{answer}"),
    t("Finish this scene about {activity}: {context}", "{answer}"),
    t("Here is the beginning of a text about {activity}.\n{context}\n\nWhat comes next?",
      "{answer}"),
    t("Choose the sentence that best continues the passage.\n\nPassage: {context}", "{answer}"),
    t("{context}\n\nPick the most likely next part.", "{answer}"),
    turned("Write the beginning of a short text about {activity} that ends with: \"{answer}\"",
           "{context}"),
    t("How would you continue this text?\n\n{context}\n\n{options}", "{answer}"),
)

PIQA_TEMPLATES = (
    t("Goal: {goal}\n\nWhich of the following methods is more reasonable for accomplishing "
      "this goal?\n\n{options}", "{answer}"),
    t("How do I do this: {goal}", "{answer}"),
    t("{goal}\n\nWhich solution makes more sense?", "{answer}"),
    t("Here is a goal: {goal}\nPick the better way to reach it.", "{answer}"),
    t("What is the best way to achieve the following? {goal}", "{answer}"),
    t("Choose the most sensible solution to the problem below.\n\nProblem: {goal}",
      "{answer}"),
    t("A question of everyday physics. {goal}\n\nWhich approach works?", "{answer}"),
    t("Someone wants to do this: {goal}\nWhat should they do?", "{answer}"),
    turned("Write a goal that the following instructions would achieve.\n\n{answer}",
           "{goal}"),
    t("{goal} Which option is correct?\n\n{options}", "{answer}"),
)

STORY_CLOZE_TEMPLATES = (
    t("{context}\n\nWhat is the best ending to this story?\n\n{options}", "{answer}"),
    t("Read the first four sentences of a story and choose its last sentence.\n\n{context}",
      "{answer}"),
    t("Story: {context}\n\nHow does the story end?", "{answer}"),
    t("{context}\nWhich sentence finishes the story best?", "{answer}"),
    t("Pick the most sensible conclusion for this short story: {context}", "{answer}"),
    t("Here is an unfinished story.\n\n{context}\n\nWhat happens at the end?", "{answer}"),
    t("Continue the story with one sentence.\n{context}", "{answer}"),
    t("{context}\n\nWhich of these endings fits the story?", "{answer}"),
    turned("Write the first four sentences of a story that ends like this: {answer}",
           "{context}"),
    t("Choose the right ending.\n\nBeginning: {context}\n\n{options}", "{answer}"),
)


def copa_fields(ex: Mapping[str, Any]) -> dict | None:
    """super_glue/copa: premise, choice1, choice2, question (cause|effect), label in 0..1."""
    options = (text(ex["choice1"]), text(ex["choice2"]))
    answer = pick(options, ex["label"])
    if answer is None or options[0] == options[1]:
        return None
    return {"premise": text(ex["premise"]), "question": text(ex["question"]),
            "options": options, "answer": answer}


def hellaswag_fields(ex: Mapping[str, Any]) -> dict | None:
    """hellaswag: context, endings (4), activity_label, label (int32, -1 on test)."""
    options = tuple(texts(ex["endings"]))
    label = int(ex["label"])
    if not 0 <= label < len(options) or len(set(options)) != len(options):
        return None
    return {"context": text(ex["context"]), "activity": text(ex["activity_label"]),
            "options": options, "answer": options[label]}


def piqa_fields(ex: Mapping[str, Any]) -> dict | None:
    """piqa: goal, sol1, sol2, label in 0..1."""
    options = (text(ex["sol1"]), text(ex["sol2"]))
    answer = pick(options, ex["label"])
    if answer is None or options[0] == options[1]:
        return None
    return {"goal": text(ex["goal"]), "options": options, "answer": answer}


def story_cloze_fields(ex: Mapping[str, Any]) -> dict | None:
    """story_cloze/2016: context (4 sentences), endings (2), label = 1 or 2 (1-based)."""
    options = tuple(texts(ex["endings"]))
    label = int(ex["label"]) - 1
    if not 0 <= label < len(options) or len(set(options)) != len(options):
        return None
    return {"context": text(ex["context"]), "options": options, "answer": options[label]}


tfds_spec(
    "copa", CLUSTER, title="COPA", tfds_name="super_glue/copa:1.0.2",
    kind="classification", metric="accuracy", templates=COPA_TEMPLATES,
    to_fields=copa_fields, splits=TRAIN_VALIDATION,
    description="Choice of Plausible Alternatives: the more likely cause or effect.",
    example={"idx": 4, "label": 1, "question": "effect",
             "premise": "The baker left the bread in the oven for too long.",
             "choice1": "The bread rose higher than usual.",
             "choice2": "The crust of the bread turned black."},
)
tfds_spec(
    "hellaswag", CLUSTER, title="HellaSwag", tfds_name="hellaswag:1.1.0",
    kind="classification", metric="accuracy", templates=HELLASWAG_TEMPLATES,
    to_fields=hellaswag_fields, splits=TRAIN_VALIDATION,
    description="Pick the ending of a video caption or how-to step (adversarial filtering).",
    example={"source_id": "activitynet~v_demo01", "split_type": "indomain", "label": 2,
             "activity_label": "Painting a fence",
             "context": "A woman dips a wide brush into a can of white paint. She",
             "endings": ["throws the can over the fence and walks away.",
                         "paints the dog that is sleeping in the grass.",
                         "spreads the paint along the top board with long strokes.",
                         "puts the brush in the fridge and closes the door."]},
)
tfds_spec(
    "piqa", CLUSTER, title="PIQA", tfds_name="piqa:1.0.0",
    kind="classification", metric="accuracy", templates=PIQA_TEMPLATES,
    to_fields=piqa_fields, splits=TRAIN_VALIDATION,
    description="Physical Interaction QA: the better of two solutions to an everyday goal.",
    example={"id": "demo-17", "label": 0, "goal": "Keep a cut avocado from turning brown.",
             "sol1": "Brush the cut side with lemon juice and wrap it tightly.",
             "sol2": "Leave the cut side facing up on a sunny windowsill."},
)
tfds_spec(
    "story_cloze", CLUSTER, title="StoryCloze", tfds_name="story_cloze/2016:1.0.0",
    kind="classification", metric="accuracy", templates=STORY_CLOZE_TEMPLATES,
    to_fields=story_cloze_fields, splits={"train": "validation", "validation": "test"},
    manual_download=manual_instructions(
        "https://www.cs.rochester.edu/nlp/rocstories/",
        "the Story Cloze Test spring 2016 files (a form sends the link), renamed to "
        "cloze_test_val__spring2016.csv and cloze_test_test__spring2016.csv"),
    description="Choose the right fifth sentence of a four-sentence story (manual download).",
    example={"label": 1,
             "context": "Maya planted tomato seeds in April. She watered them every evening. "
                        "By July the plants were taller than her. One morning she found the "
                        "first red tomato.",
             "endings": ["She picked it and ate it with a little salt.",
                         "She decided she had never liked gardening."]},
)
