"""The knowledge probe: does a model know a TinyWorld fact, and can it say it when asked?

Instruction tuning is meant to unlock what a pretrained model already knows. A model that fails
a closed-book question either does not know the fact or cannot follow the instruction; this
probe separates the two. For facts that closed-book QA evaluates on (`world.statement_only`: the
corpus states them, never asks about them), the true value is ranked against alternatives (other
values of the same relation in the world) in two forms, with the same candidates:

- cloze: the whole sentence in each of the corpus's own phrasings (`tinyworld.phrases`), once
  per candidate, scored as plain language-model text (the pretraining layout); the sentence
  with the highest log-likelihood is the model's answer;
- template: the fact's question rendered through each evaluation template of `tw_trivia_qa`
  and the candidates ranked as options after it (rank classification, the tuning layout).

Both are accuracies over the same facts with the same chance level (1 / candidates). Cloze
above chance and template at chance is the gap instruction tuning is supposed to close.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any, Sequence

import numpy as np

from flan_nb import packing, tasks
from flan_nb.errors import require
from flan_nb.evaluate import _collect, eval_templates, model_scorer, score_options_shared
from flan_nb.tinyworld import phrases
from flan_nb.tinyworld.world import SYMMETRIC_RELATIONS, Fact

TRIVIA_DATASET = "tw_trivia_qa"  # the closed-book QA dataset that asks about these facts


@dataclasses.dataclass(frozen=True)
class ProbeItem:
    """One fact, its candidates (the true value among them) and which question form asks it."""

    subject: str
    relation: str
    candidates: tuple[str, ...]
    answer: int  # index of the true value in `candidates`
    question_index: int


def probe_items(world, num_facts: int, num_alternatives: int = 3,
                seed: int = 0) -> list[ProbeItem]:
    """Up to `num_facts` statement-only facts of `world`, each with `num_alternatives` wrong
    values of the same relation, the true value at a seeded random position (so a tie, which
    goes to the earlier candidate, favours no one)."""
    require(num_facts >= 1 and num_alternatives >= 1,
            f"num_facts and num_alternatives must be >= 1, got {num_facts}, {num_alternatives}")
    values: dict[str, set[str]] = {}
    for fact in world.facts:
        values.setdefault(phrases.relation_key(fact), set()).add(fact.value)
    true = {(f.subject, f.relation, f.value) for f in world.facts}

    def wrong_values(fact) -> list[str]:
        # A value that is also true is no alternative: "A is near B" holds when B's neighbour
        # is A (symmetric relations are stated from both sides).
        return sorted(v for v in values[phrases.relation_key(fact)]
                      if (fact.subject, fact.relation, v) not in true
                      and not (fact.relation in SYMMETRIC_RELATIONS
                               and (v, fact.relation, fact.subject) in true))

    rng = random.Random(f"knowledge-probe/{seed}")
    eligible = [f for f in world.statement_only_facts
                if len(wrong_values(f)) >= num_alternatives]
    items = []
    for fact in rng.sample(eligible, min(num_facts, len(eligible))):
        wrong = rng.sample(wrong_values(fact), num_alternatives)
        answer = rng.randrange(num_alternatives + 1)
        candidates = tuple(wrong[:answer] + [fact.value] + wrong[answer:])
        items.append(ProbeItem(fact.subject, fact.relation, candidates, answer,
                               rng.randrange(phrases.num_questions(fact))))
    return items


def cloze_sentences(world, item: ProbeItem, form: int) -> list[str]:
    """The corpus's phrasing number `form` of the fact, once with each candidate as value."""
    return [phrases.statement(world, Fact(item.subject, item.relation, c), form)
            for c in item.candidates]


def num_forms(item: ProbeItem) -> int:
    return phrases.num_phrasings(Fact(item.subject, item.relation, item.candidates[0]))


def question_fields(world, item: ProbeItem) -> dict[str, str]:
    """The fact as a `tw_trivia_qa` example (its fields), asked the way the dataset asks."""
    fact = Fact(item.subject, item.relation, item.candidates[item.answer])
    return {"question": phrases.question(world, fact, item.question_index),
            "answer": fact.value}


def text_log_likelihoods(model, tokenizer, texts: Sequence[str], *, seq_length: int = 256,
                         batch_rows: int = 8) -> np.ndarray:
    """Summed log-likelihood of each text as plain LM text (every token scored, BOS first),
    many texts packed per row; (len(texts),)."""
    ids = tokenizer.encode_batch(list(texts))
    segments = [packing.Segment(tuple(x[:seq_length]), 0, i) for i, x in enumerate(ids)]
    rows, _ = packing.pack(segments, seq_length, "best_fit", max_open_rows=4 * batch_rows)
    ll, counts = np.zeros(len(texts)), np.zeros(len(texts), int)
    _collect(rows, seq_length, batch_rows, model_scorer(model), ll, counts)
    return ll


def run_probe(model, tokenizer, world, items: Sequence[ProbeItem], *,
              bidirectional_prefix: bool = False, max_input_length: int = 159,
              batch_size: int = 8) -> dict[str, Any]:
    """Per item, accuracy in percent: `cloze` averaged over the corpus's phrasings, `template`
    averaged over the evaluation templates of tw_trivia_qa. Returns both arrays (items,) and
    the forms and templates used."""
    sentences, owner = [], []
    for i, item in enumerate(items):
        for form in range(num_forms(item)):
            sentences += cloze_sentences(world, item, form)
            owner.append(i)
    ll = text_log_likelihoods(model, tokenizer, sentences)
    cloze_hits: list[list[float]] = [[] for _ in items]
    start = 0
    for i in owner:
        k = len(items[i].candidates)
        cloze_hits[i].append(float(np.argmax(ll[start:start + k]) == items[i].answer))
        start += k
    spec = tasks.get(TRIVIA_DATASET)
    templates = eval_templates(spec)
    option_ids = [tokenizer.encode_batch(list(item.candidates)) for item in items]
    template_hits = np.zeros((len(items), len(templates)))
    for j, template in enumerate(templates):
        inputs = [spec.render(question_fields(world, item), template).inputs for item in items]
        scores, _, _ = score_options_shared(
            model, tokenizer.encode_batch(inputs), option_ids, batch_size=batch_size,
            max_input_length=max_input_length, bidirectional_prefix=bidirectional_prefix)
        template_hits[:, j] = [float(np.argmax(s) == item.answer)
                               for s, item in zip(scores, items)]
    return {"cloze": [100.0 * float(np.mean(h)) for h in cloze_hits],
            "template": [100.0 * float(v) for v in template_hits.mean(axis=1)],
            "templates": list(templates),
            "chance": 100.0 * float(np.mean([1 / len(item.candidates) for item in items]))}


def example_item(world, item: ProbeItem) -> dict[str, Any]:
    """One item in both forms, for showing in a chapter."""
    spec = tasks.get(TRIVIA_DATASET)
    return {"cloze": cloze_sentences(world, item, 0),
            "template": spec.render(question_fields(world, item),
                                    eval_templates(spec)[0]).inputs,
            "answer": item.candidates[item.answer]}
