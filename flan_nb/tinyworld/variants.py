"""TinyWorld task variants: hundreds of small tuning tasks for Flan 2022's "number of tasks" axis.

Flan 2022 (2210.11416) finds held-out gains grow with the number of tuning *tasks* (9 -> 89 -> 282
-> 1,836). TinyWorld's 31 datasets are too few to draw that curve, so this module makes more:
each variant is one task of one of the paper's clusters, fixed by a family (what is asked: a
fact from memory, a fact from a passage, entailment, paraphrase, ...), a parameter (usually the
relation asked about: job, home, a pet's owner, ...) and an answer format:

    free     the answer is written (generation)
    named    the options are named inside the instruction ("is it A, B or C?")
    yes_no   a claim is verified (yes / no)
    choice   multiple choice, options in the paper's OPTIONS block
    fill     a sentence with a blank (___) to fill in

Every variant has its own 5 templates: instruction wordings of its format that name its relation,
so wording varies across a variant's templates and across variants. Variants are registered in
`flan_nb.tasks` under names starting `twv_` as *variants* (not listed with the datasets; see
`flan_nb.tinyworld.source`) and enter a tuning mixture only through `NUM_TUNING_TASKS`
(`flan_nb.splits.select_tuning_tasks`).

What keeps evaluation clean:
- every variant belongs to exactly one cluster, so a held-out cluster (and what the paper's rules
  remove with it) takes its variants out of tuning too;
- no variant asks about a statement-only fact (the facts closed-book QA evaluates on; the corpus
  never quizzes them), whatever its cluster;
- an example whose input strings contain all the inputs of any validation or test example of a
  `tw_*` dataset is never made (it would reproduce an evaluation example in another dress).
Labels are confirmed from the text alone by `check` (the independent solver's readers), which
the tests require for every example.
"""

from __future__ import annotations

import dataclasses
import re
import zlib
from typing import Callable

from flan_nb import tasks
from flan_nb.templates import Template
import flan_nb.tinyworld.generators as gen
import flan_nb.tinyworld.lexicon as lexicon
import flan_nb.tinyworld.phrases as phrases
import flan_nb.tinyworld.solver as solver
import flan_nb.tinyworld.velan as velan
from flan_nb.tinyworld.datasets import BY_NAME as DATASETS
from flan_nb.tinyworld.world import Fact, SizeSpec, World, rng_for

PREFIX = "twv_"
TEMPLATES_PER_VARIANT = 5
MIN_TRAIN = 8  # training examples a variant needs in a world to exist there (`exists`)
MAX_FAILED_DRAWS = 300  # consecutive draws without a new example before a split stops short
SPLIT_ORDER = ("test", "validation", "train")
TRUE_FALSE = ("true", "false")
NLI_WORDS = ("entailment", "neutral", "contradiction")
SAME_DIFFERENT = ("same", "different")
GOOD_BAD = ("good", "bad")

# Relation keys of `phrases` and how an instruction names each.
RELATIONS: dict[str, str] = {
    "job": "a person's job", "home": "where a person lives", "food": "a person's favourite food",
    "hobby": "a person's hobby", "favourite_colour": "a person's favourite colour",
    "age": "a person's age", "friend": "a person's best friend", "species": "what kind of "
    "animal a pet is", "colour": "the colour of a pet", "owner": "who owns a pet",
    "thing_colour": "the colour of someone's thing", "kind": "what kind of place a place is",
    "landmark": "what a place is known for", "weather": "the weather of a place",
    "near": "which place is near another",
}
NLI_RELATIONS = tuple(k for k in RELATIONS if k != "thing_colour")  # a thing has one fact only


def variant_split_sizes(size: SizeSpec) -> dict[str, int]:
    """Examples per split of every variant: a tenth of a full dataset's training split (Flan
    2022 caps its many small NIV2 tasks far below its FLAN datasets), a quarter of evaluation."""
    return {"train": max(16, size.train // 10), "validation": max(2, size.validation // 10),
            "test": max(2, size.test // 20)}


def exists(variant: "Variant", splits: dict[str, list[dict]]) -> bool:
    """Whether a world makes enough of a variant to tune on it: at least MIN_TRAIN training
    examples (two rounds of labels at least) and one validation and test example. A small
    world has few facts of some relations (book: 24 places), so such variants drop out."""
    return (len(splits["train"]) >= max(MIN_TRAIN, 2 * variant.num_labels)
            and len(splits["validation"]) >= 1 and len(splits["test"]) >= 1)


# --- drawing facts ------------------------------------------------------------------------

def _facts_of_key(world: World, key: str) -> list[Fact]:
    """Quiz facts (never statement-only ones) of relation key `key`, in world order."""
    cache = world.__dict__.setdefault("_variant_facts", {})
    if key not in cache:
        cache[key] = [f for f in world.quiz_facts if phrases.relation_key(f) == key]
    return cache[key]


def _with_value(fact: Fact, value: str) -> Fact:
    return Fact(fact.subject, fact.relation, value)


def _wrong_values(g: gen.Gen, fact: Fact, count: int) -> list[str] | None:
    pool = [v for v in gen.value_pool(g.world, fact) if v != fact.value and v != fact.subject]
    return g.rng.sample(pool, count) if len(pool) >= count else None


def _named(options: list[str]) -> str:
    return ", ".join(options[:-1]) + " or " + options[-1]


def _cloze(world: World, fact: Fact, rng) -> str | None:
    """A statement of `fact` with its value blanked out (forms that state the value only)."""
    key = phrases.relation_key(fact)
    forms = [f for f in phrases.STATEMENTS[key]
             if ("{v}" in f or "{a_v}" in f) and "{doing}" not in f and "{sound}" not in f
             and "{species}" not in f]
    if not forms:
        return None
    values = dict(phrases.slots(world, fact), v="___", a_v="___")
    return phrases.capitalize(rng.choice(forms).format(**values))


def _passage(g: gen.Gen, fact: Fact, count: int, without: str | None = None) -> list[Fact]:
    """`count` true facts about the subject of `fact` (its owner's, for a thing), `fact` first
    unless its relation is `without` (then that relation is left out altogether)."""
    subject = fact.subject.split("'s ")[0]
    others = [f for f in g.world.facts_about(subject)
              if f != fact and f.relation != without and phrases.relation_key(f) != "thing_colour"]
    g.rng.shuffle(others)
    chosen = others[: count - (without is None)]
    if without is None:
        chosen.insert(g.rng.randrange(len(chosen) + 1), fact)
    return chosen


# --- makers: (g, key, fmt, label) -> fields | None ------------------------------------------

def _qa_answer(g, fact, fmt, label, fields):
    """Fill the answer fields of a question about `fact` in format `fmt`."""
    if fmt == "free":
        return dict(fields, answer=fact.value)
    wrong = _wrong_values(g, fact, 2)
    if wrong is None:
        return None
    options, answer = gen._mc(g, fact.value, wrong, label)
    out = dict(fields, options=options, answer=answer, label=label)
    if fmt == "named":
        out["choices"] = _named(options)
    return out


def closed_book(g: gen.Gen, key: str, fmt: str, label: int | None) -> dict | None:
    """A fact of the world asked from memory (no passage)."""
    facts = _facts_of_key(g.world, key)
    if not facts:
        return None
    fact = g.rng.choice(facts)
    if fmt == "yes_no":
        claim = fact if label == 0 else _with_value(fact, g.other_value(fact))
        return {"statement": g.statement(claim), "answer": gen.YES_NO[label], "label": label}
    if fmt == "fill":
        cloze = _cloze(g.world, fact, g.rng)
        return None if cloze is None else {"sentence": cloze, "answer": fact.value}
    question = phrases.question(g.world, fact, g.rng.randrange(phrases.num_questions(fact)))
    return _qa_answer(g, fact, fmt, label, {"question": question})


def reading(g: gen.Gen, key: str, fmt: str, label: int | None) -> dict | None:
    """A fact asked about a short passage that states it."""
    facts = _facts_of_key(g.world, key)
    if not facts:
        return None
    fact = g.rng.choice(facts)
    passage = " ".join(g.statement(f) for f in _passage(g, fact, g.rng.randint(3, 4)))
    if fmt == "yes_no":
        claim = fact if label == 0 else _with_value(fact, g.other_value(fact))
        return {"passage": passage, "statement": g.statement(claim),
                "answer": gen.YES_NO[label], "label": label}
    question = phrases.question(g.world, fact, g.rng.randrange(phrases.num_questions(fact)))
    return _qa_answer(g, fact, fmt, label, {"passage": passage, "question": question})


def inference(g: gen.Gen, key: str, fmt: str, label: int) -> dict | None:
    """NLI about one relation: entailed (0), neutral (1, the premise does not say) or
    contradicted (2); the yes/no format asks only "entailed?" (0 yes, 1 no)."""
    facts = _facts_of_key(g.world, key)
    if not facts:
        return None
    fact = g.rng.choice(facts)
    three = 0 if label == 0 else (g.rng.choice((1, 2)) if fmt == "yes_no" else label)
    if three == 1:
        premise_facts = _passage(g, fact, g.rng.randint(2, 3), without=fact.relation)
        hyp = fact if g.rng.random() < 0.5 else _with_value(fact, g.other_value(fact))
    else:
        premise_facts = _passage(g, fact, g.rng.randint(2, 3))
        hyp = fact if three == 0 else _with_value(fact, g.other_value(fact))
    if not premise_facts or hyp.value == hyp.subject:
        return None
    fields = {"premise": " ".join(g.statement(f) for f in premise_facts),
              "hypothesis": g.statement(hyp)}
    if fmt == "yes_no":
        return dict(fields, answer=gen.YES_NO[label], label=label)
    words = NLI_WORDS if fmt == "named" else gen.NLI_OPTIONS
    return dict(fields, answer=words[label], label=label)


def paraphrase(g: gen.Gen, key: str, fmt: str, label: int) -> dict | None:
    """Two statements: the same fact in other words (0), or another value (1)."""
    facts = _facts_of_key(g.world, key)
    if not facts:
        return None
    fact = g.rng.choice(facts)
    i, j = g.rng.sample(range(phrases.num_phrasings(fact)), 2)
    other = fact if label == 0 else _with_value(fact, g.other_value(fact))
    if other.value == other.subject:
        return None
    words = gen.YES_NO if fmt == "yes_no" else SAME_DIFFERENT
    return {"sentence1": phrases.statement(g.world, fact, i),
            "sentence2": phrases.statement(g.world, other, j), "answer": words[label],
            "label": label}


def struct(g: gen.Gen, key: str, fmt: str, label: None) -> dict | None:
    """One fact as data (a triple, or a record) -> a sentence stating it."""
    facts = _facts_of_key(g.world, key)
    if not facts:
        return None
    fact = g.rng.choice(facts)
    if fmt == "triple":
        data = gen.triple_text(fact)
    else:
        data = f"subject[{fact.subject}], {gen.TRIPLE_NAMES[fact.relation]}[{fact.value}]"
    return {"data": data, "text": g.statement(fact)}


def punctuation(g: gen.Gen, key: str, fmt: str, label: None) -> dict | None:
    """Two statements of one relation, lower-cased without punctuation -> the sentences."""
    facts = _facts_of_key(g.world, key)
    if len(facts) < 2:
        return None
    target = " ".join(g.statement(f) for f in g.rng.sample(facts, 2))
    plain = "".join(ch for ch in target.lower() if ch.isalnum() or ch in " '")
    return {"text": plain, "target": target}


ENTITY_RELATIONS = {"person": ("job", "home", "food", "hobby", "favourite_colour", "age"),
                    "animal": ("species", "colour", "owner"),
                    "place": ("kind", "landmark", "weather")}


def relation_type(g: gen.Gen, key: str, fmt: str, label: int) -> dict | None:
    """Which attribute does a sentence about a person / pet / place state? (options: the
    entity kind's relations, named by their triple names)."""
    relation = ENTITY_RELATIONS[key][label]
    facts = _facts_of_key(g.world, relation)
    if not facts:
        return None
    options = [gen.TRIPLE_NAMES[r] for r in ENTITY_RELATIONS[key]]
    return {"sentence": g.statement(g.rng.choice(facts)), "options": options,
            "answer": options[label], "label": label}


def about(g: gen.Gen, key: str, fmt: str, label: int | None) -> dict | None:
    """A short text about one person / pet / place -> whom or what it is about."""
    pools = {"person": g.world.people, "animal": g.world.animals, "place": g.world.places}
    pool = [e.name for e in pools[key]]
    if len(pool) < 3:
        return None
    name = g.rng.choice(pool)
    quiz = g.world.__dict__.setdefault("_variant_quiz", frozenset(g.world.quiz_facts))
    facts = [f for f in g.world.facts_about(name) if f in quiz
             and f.relation not in ("friend", "near", "owner")]  # these name a second entity
    if len(facts) < 2:
        return None
    text = " ".join(g.statement(f) for f in g.rng.sample(facts, 2))
    if fmt == "free":
        return {"text": text, "answer": name}
    options, answer = gen._mc(g, name, g.rng.sample([n for n in pool if n != name], 2), label)
    return {"text": text, "options": options, "answer": answer, "label": label}


OPINION_NOUNS = {"food": tuple(f"the {w}" for w in lexicon.FOODS),
                 "people": ("the staff", "the service"),
                 "event": ("the music", "the walk", "the show"),
                 "place": tuple(f"the {w}" for w in lexicon.LANDMARKS)}


def opinion(g: gen.Gen, key: str, fmt: str, label: int) -> dict | None:
    """One or three opinions about things of one kind (food, people, events, places)."""
    nouns = [g.rng.choice(OPINION_NOUNS[key]) for _ in range(g.rng.choice((1, 3)))]
    if len(set(nouns)) != len(nouns):
        return None
    parts = [f"{n} {gen.be(n)} {o}" for n, o in zip(nouns, gen._opinions(g, label, nouns))]
    words = {"yes_no": gen.YES_NO, "named": GOOD_BAD, "choice": gen.SENTIMENT}[fmt]
    return {"text": phrases.capitalize(" and ".join(parts)) + ".", "answer": words[label],
            "label": label}


def cause_effect(g: gen.Gen, key: str, fmt: str, label: int) -> dict | None:
    """Cause or effect (the key: "<subject kind>_<cause|effect>") by the world's rules."""
    kind, ask = key.split("_")
    rules = [r for r in lexicon.RULES if r.subject == kind]
    rule, wrong_rule = g.rng.sample(rules, 2)
    subject = gen._rule_subject(g, rule)
    slots = gen.rule_slots(g.world, rule, subject, g.rng)
    wrong_slots = dict(slots, **{k: v for k, v in gen.rule_slots(
        g.world, wrong_rule, subject, g.rng).items() if k not in slots})
    given = rule.effect if ask == "cause" else rule.cause
    right = gen._sentence(getattr(rule, ask).format(**slots))
    wrong = gen._sentence(getattr(wrong_rule, ask).format(**wrong_slots))
    fields = {"event": gen._sentence(given.format(**slots))}
    if fmt == "yes_no":
        return dict(fields, candidate=right if label == 0 else wrong, answer=gen.YES_NO[label],
                    label=label)
    options, answer = gen._mc(g, right, [wrong], label)
    return dict(fields, options=options, answer=answer, label=label)


def blank_person(g: gen.Gen, key: str, fmt: str, label: int | None) -> dict | None:
    """Who does the blank / pronoun stand for, in "<a> and <b>, so _ <effect>"?"""
    story = gen._coref_story(g)
    if story is None:
        return None
    first, second, effect, who = story
    a, b = first.split()[0], second.split()[0]
    if fmt == "yes_no":
        candidate = who if label == 0 else (b if who == a else a)
        pronoun = g.world.person[a].subj
        return {"sentence": f"{phrases.capitalize(first)} and {second}, so {pronoun} {effect}.",
                "pronoun": pronoun, "candidate": candidate, "answer": gen.YES_NO[label],
                "label": label}
    sentence = f"{phrases.capitalize(first)} and {second}, so _ {effect}."
    if fmt == "free":
        return {"sentence": sentence, "answer": who}
    options, answer = gen._mc(g, who, [b if who == a else a], label)
    return {"sentence": sentence, "options": options, "answer": answer, "label": label}


def translation(g: gen.Gen, key: str, fmt: str, label: None) -> dict | None:
    """A Velan sentence of one or two clauses, either way round (key: "<from>_<clauses>")."""
    direction, count = key.split("_")
    clauses = [velan.random_clause(g.world, g.rng) for _ in range(int(count))]
    english, velan_text = velan.sentence(clauses, "english"), velan.sentence(clauses, "velan")
    source, target = (english, velan_text) if direction == "en" else (velan_text, english)
    return {"source": source, "target": target}


def story_reason(g: gen.Gen, key: str, fmt: str, label: int) -> dict | None:
    """A short story where a state rule's effect happens: why? (key: the rule's name)."""
    person = g.person()
    rule = lexicon.RULES_BY_NAME[key]
    slots = gen.rule_slots(g.world, rule, person.name, g.rng)
    effect = rule.effect.format(**slots)
    context = " ".join([g.rng.choice((f"{person.name} had a long day.",
                                      f"It was a quiet morning in {person.home}.",
                                      f"{person.name} was at home.")), gen._sentence(effect)])
    wrong = [lexicon.RULES_BY_NAME[n] for n in gen.STATE_RULES if n != key]
    right = gen._sentence(rule.cause.format(**slots))
    fields = {"story": context, "question": f"What is the most likely reason that {effect}?"}
    if fmt == "yes_no":
        candidate = right if label == 0 else gen._sentence(
            g.rng.choice(wrong).cause.format(**slots))
        return dict(fields, candidate=candidate, answer=gen.YES_NO[label], label=label)
    options, answer = gen._mc(g, right, [gen._sentence(r.cause.format(**slots))
                                         for r in g.rng.sample(wrong, 2)], label)
    return dict(fields, options=options, answer=answer, label=label)


# --- instruction wordings per (family, format) ------------------------------------------------
# {what} is the variant's subject ("a person's job", ...); other slots are example fields.

WORDINGS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("closed_book", "free"): (
        ("A question about {what}, from what you know: {question}", "{answer}"),
        ("{question}\nAnswer from memory ({what}).", "{answer}"),
        ("Quiz on {what}. {question}", "{answer}"),
        ("Without any text to read, answer: {question}", "{answer}"),
        ("Q: {question}\nA:", "{answer}"),
        ("Recall {what} and answer the question. {question}", "{answer}"),
        ("{question} Give a short answer.", "{answer}")),
    ("closed_book", "named"): (
        ("{question} Is it {choices}?", "{answer}"),
        ("About {what}: {question} Choose from {choices}.", "{answer}"),
        ("From memory, {question} The answer is one of {choices}.", "{answer}"),
        ("{question} (possible answers: {choices})", "{answer}"),
        ("Pick {choices}. {question}", "{answer}"),
        ("Which is right, {choices}? {question}", "{answer}")),
    ("closed_book", "yes_no"): (
        ("Is this true? {statement}", "{answer}"),
        ("From what you know about {what}: {statement} Yes or no?", "{answer}"),
        ("True or not: \"{statement}\"", "{answer}"),
        ("{statement}\nIs that correct?", "{answer}"),
        ("Check this claim about {what}. {statement}", "{answer}"),
        ("Someone said: {statement} Are they right?", "{answer}")),
    ("closed_book", "choice"): (
        ("{question}", "{answer}"),
        ("Quiz about {what}.\n{question}", "{answer}"),
        ("Choose the right answer. {question}", "{answer}"),
        ("{question}\nPick one option.", "{answer}"),
        ("Question: {question}\n{options}\nAnswer:", "{answer}"),
        ("Answer from memory: {question}", "{answer}")),
    ("closed_book", "fill"): (
        ("Fill in the blank: {sentence}", "{answer}"),
        ("{sentence}\nWhat goes in the blank?", "{answer}"),
        ("Complete the sentence about {what}: {sentence}", "{answer}"),
        ("What word is missing? {sentence}", "{answer}"),
        ("Replace ___ with the right word. {sentence}", "{answer}"),
        ("From memory, finish this: {sentence}", "{answer}")),
    ("reading", "free"): (
        ("{passage}\n\nQuestion: {question}", "{answer}"),
        ("Read the text and answer about {what}.\n{passage}\n{question}", "{answer}"),
        ("Text: {passage}\nQ: {question}\nA:", "{answer}"),
        ("{question}\nThe answer is in this text: {passage}", "{answer}"),
        ("Use the passage to answer. {passage} {question}", "{answer}"),
        ("Passage: {passage}\nWhat is the answer to \"{question}\"?", "{answer}")),
    ("reading", "named"): (
        ("{passage}\n{question} Is it {choices}?", "{answer}"),
        ("Read: {passage}\n{question} Choose {choices}.", "{answer}"),
        ("Text: {passage}\nQuestion about {what}: {question} ({choices})", "{answer}"),
        ("{passage} Based on this, {question} Answer with {choices}.", "{answer}"),
        ("Pick {choices} using the text. {passage} {question}", "{answer}")),
    ("reading", "yes_no"): (
        ("{passage}\nDoes the text say that {statement}", "{answer}"),
        ("Read the passage.\n{passage}\nIs this right? {statement}", "{answer}"),
        ("Text: {passage}\nClaim about {what}: {statement}\nDoes the text agree?", "{answer}"),
        ("{passage} According to this, is it true that {statement}", "{answer}"),
        ("Check the statement against the text. {passage}\nStatement: {statement}",
         "{answer}")),
    ("reading", "choice"): (
        ("{passage}\n\n{question}", "{answer}"),
        ("Read and choose.\n{passage}\n{question}", "{answer}"),
        ("Passage: {passage}\nQuestion: {question}\n{options}\nAnswer:", "{answer}"),
        ("Answer the question about {what} from the text. {passage} {question}",
         "{answer}"),
        ("{question}\nText: {passage}", "{answer}")),
    ("inference", "choice"): (
        ("Premise: {premise}\nHypothesis: {hypothesis}\nDoes the premise entail it?",
         "{answer}"),
        ("{premise}\nBased on this, is it true that {hypothesis}", "{answer}"),
        ("Read: {premise}\nCan we conclude that {hypothesis}", "{answer}"),
        ("Text: {premise}\nClaim about {what}: {hypothesis}\n{options}", "{answer}"),
        ("Given that {premise} Does it follow that {hypothesis}", "{answer}"),
        ("Decide if the claim follows. {premise} Claim: {hypothesis}", "{answer}")),
    ("inference", "named"): (
        ("Premise: {premise}\nHypothesis: {hypothesis}\nAnswer entailment, neutral or "
         "contradiction.", "{answer}"),
        ("{premise}\n\"{hypothesis}\" - is that entailment, neutral or contradiction?",
         "{answer}"),
        ("Label the pair as entailment, neutral or contradiction. First: {premise} Second: "
         "{hypothesis}", "{answer}"),
        ("Text: {premise}\nClaim about {what}: {hypothesis}\nRelation (entailment, neutral, "
         "contradiction):", "{answer}"),
        ("Does the text entail the claim, contradict it, or neither (neutral)? {premise} "
         "{hypothesis}", "{answer}")),
    ("inference", "yes_no"): (
        ("{premise}\nQuestion: does it follow that {hypothesis}", "{answer}"),
        ("Premise: {premise}\nHypothesis: {hypothesis}\nIs the hypothesis entailed?",
         "{answer}"),
        ("If {premise} then must it be that {hypothesis}", "{answer}"),
        ("Text: {premise}\nDoes the text prove this claim about {what}? {hypothesis}",
         "{answer}"),
        ("Read: {premise} Is \"{hypothesis}\" implied?", "{answer}")),
    ("paraphrase", "yes_no"): (
        ("Do these two sentences say the same thing?\n{sentence1}\n{sentence2}", "{answer}"),
        ("{sentence1}\n{sentence2}\nAre they paraphrases?", "{answer}"),
        ("Sentence A: {sentence1}\nSentence B: {sentence2}\nSame meaning?", "{answer}"),
        ("Is \"{sentence2}\" another way of saying \"{sentence1}\"?", "{answer}"),
        ("Both sentences are about {what}. Do they agree? {sentence1} {sentence2}",
         "{answer}")),
    ("paraphrase", "named"): (
        ("{sentence1}\n{sentence2}\nSame or different meaning?", "{answer}"),
        ("Is the meaning of these sentences the same or different? {sentence1} {sentence2}",
         "{answer}"),
        ("First: {sentence1}\nSecond: {sentence2}\nAnswer same or different.", "{answer}"),
        ("Compare what the sentences say about {what} (same / different):\n{sentence1}\n"
         "{sentence2}", "{answer}"),
        ("Say \"same\" if the sentences mean the same, else \"different\". {sentence1} "
         "{sentence2}", "{answer}")),
    ("struct", "triple"): (
        ("Turn this triple into a sentence: {data}", "{text}"),
        ("Data: {data}\nSentence:", "{text}"),
        ("{data}\n\nWrite it in plain English ({what}).", "{text}"),
        ("Express the fact (subject | relation | object) in words. {data}", "{text}"),
        ("Verbalize: {data}", "{text}")),
    ("struct", "record"): (
        ("Write a sentence from this record: {data}", "{text}"),
        ("Record: {data}\nIn words:", "{text}"),
        ("{data}\n\nSay this about {what} in one sentence.", "{text}"),
        ("Turn the attributes into a sentence. {data}", "{text}"),
        ("Here is a data record. {data} Write it out.", "{text}")),
    ("punctuation", "free"): (
        ("Add punctuation and capitals: {text}", "{target}"),
        ("{text}\n\nFix the punctuation.", "{target}"),
        ("These sentences about {what} lost their punctuation. Restore it: {text}",
         "{target}"),
        ("Text: {text}\nCorrected:", "{target}"),
        ("Rewrite properly, with full stops and capital letters.\n{text}", "{target}")),
    ("relation_type", "choice"): (
        ("What does this sentence tell us? {sentence}", "{answer}"),
        ("{sentence}\nWhich attribute is stated?", "{answer}"),
        ("Sentence: {sentence}\nKind of fact:", "{answer}"),
        ("Classify the fact about {what} by its attribute. {sentence}", "{answer}"),
        ("Which piece of information does \"{sentence}\" give?", "{answer}")),
    ("about", "free"): (
        ("{text}\n\nWho or what is this text about?", "{answer}"),
        ("Give a one-word title: {text}", "{answer}"),
        ("Text: {text}\nSubject:", "{answer}"),
        ("Name the {what} this text describes. {text}", "{answer}"),
        ("Summarize in one name: {text}", "{answer}")),
    ("about", "choice"): (
        ("{text}\n\nWho or what is this text about?", "{answer}"),
        ("Pick the title of this text. {text}", "{answer}"),
        ("Text: {text}\nWhich {what} is it about?", "{answer}"),
        ("Choose the best one-word summary. {text}", "{answer}"),
        ("What is the topic of the text? {text}", "{answer}")),
    ("opinion", "yes_no"): (
        ("{text}\nDid the writer like it?", "{answer}"),
        ("Is this a happy opinion about {what}? {text}", "{answer}"),
        ("Review: {text}\nWas the writer pleased?", "{answer}"),
        ("{text} Would the writer go back?", "{answer}"),
        ("Read the opinion and say if it is favourable. {text}", "{answer}")),
    ("opinion", "named"): (
        ("{text}\nWas the experience good or bad?", "{answer}"),
        ("Good or bad? {text}", "{answer}"),
        ("Rate this opinion about {what} as good or bad: {text}", "{answer}"),
        ("Review: {text}\nAnswer good or bad:", "{answer}"),
        ("Did the writer find it good or bad? {text}", "{answer}")),
    ("opinion", "choice"): (
        ("{text}\nWhat is the sentiment?", "{answer}"),
        ("Sentiment of this opinion about {what}: {text}", "{answer}"),
        ("Classify the review. {text}", "{answer}"),
        ("Text: {text}\nSentiment:", "{answer}"),
        ("Is the tone of this text positive or negative? {text}", "{answer}")),
    ("cause_effect", "choice"): (
        ("{event}\nWhat is the {what}?", "{answer}"),
        ("Event: {event}\nPick the more likely {what}.", "{answer}"),
        ("Use common sense. {event} Which is the {what}?", "{answer}"),
        ("{event} Choose the {what} that makes sense.", "{answer}"),
        ("Here is what happened: {event}\n{options}\nWhich one is the {what}?", "{answer}")),
    ("cause_effect", "yes_no"): (
        ("{event}\nIs \"{candidate}\" a likely {what}?", "{answer}"),
        ("Event: {event} Candidate {what}: {candidate} Does it make sense?", "{answer}"),
        ("Use common sense. {event} Could the {what} be: {candidate}", "{answer}"),
        ("{event} {candidate} Is the second sentence the {what} of the first?", "{answer}"),
        ("Does \"{candidate}\" fit as the {what} of \"{event}\"?", "{answer}")),
    ("blank_person", "choice"): (
        ("{sentence}\nWho is _?", "{answer}"),
        ("Fill in the blank with the right person: {sentence}", "{answer}"),
        ("In \"{sentence}\", who does _ stand for?", "{answer}"),
        ("Who fits the blank ({what})? {sentence}", "{answer}"),
        ("Sentence: {sentence}\nWhich option goes in the blank?", "{answer}")),
    ("blank_person", "free"): (
        ("{sentence}\nWho is _? Write the name.", "{answer}"),
        ("Name the person for the blank: {sentence}", "{answer}"),
        ("In \"{sentence}\", whose name goes in place of _?", "{answer}"),
        ("Resolve the blank ({what}). {sentence}", "{answer}"),
        ("Who does the blank mean here? {sentence}", "{answer}")),
    ("blank_person", "yes_no"): (
        ("{sentence}\nDoes \"{pronoun}\" mean {candidate}?", "{answer}"),
        ("In \"{sentence}\", is \"{pronoun}\" {candidate}?", "{answer}"),
        ("Pronoun check ({what}): {sentence} Is {pronoun} {candidate}?", "{answer}"),
        ("{sentence} Does the pronoun point to {candidate}?", "{answer}"),
        ("Read: {sentence}\nIs {candidate} the one called \"{pronoun}\"?", "{answer}")),
    ("translation", "free"): (
        ("Translate {what}: {source}", "{target}"),
        ("{source}\n\nTranslate this ({what}).", "{target}"),
        ("Give the translation {what}. {source}", "{target}"),
        ("Source: {source}\nTranslation:", "{target}"),
        ("Rewrite in the other language ({what}): {source}", "{target}")),
    ("story_reason", "choice"): (
        ("{story}\n\n{question}", "{answer}"),
        ("Story: {story}\nQuestion: {question}\nPick the best reason.", "{answer}"),
        ("Use common sense about {what}. {story} {question}", "{answer}"),
        ("{question}\nThe story: {story}", "{answer}"),
        ("Read the story and choose. {story}\n{question}", "{answer}")),
    ("story_reason", "yes_no"): (
        ("{story}\n{question} Could it be this: {candidate}", "{answer}"),
        ("Story: {story}\nIs \"{candidate}\" a likely reason?", "{answer}"),
        ("Use common sense about {what}. {story} Does this explain it? {candidate}",
         "{answer}"),
        ("{story} Reason given: {candidate} Does it make sense?", "{answer}"),
        ("Read the story. {story}\n{question}\nIs it: {candidate}", "{answer}")),
}


# --- the catalog ----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Variant:
    """One tuning task: a family, its parameter and an answer format, in one cluster."""

    name: str
    cluster: str
    family: str
    key: str
    fmt: str
    what: str  # how the instructions name the task's subject
    input_fields: tuple[str, ...]
    options: tuple[str, ...] = ()  # fixed answer options
    num_choices: int = 0  # per-example options
    metric: str = "accuracy"

    @property
    def kind(self) -> str:
        """How the registry scores it: a "named" variant names its options in the instruction
        and has no OPTIONS block, so it is generation (exact match on the named option)."""
        if self.fmt == "named" or not (self.options or self.num_choices):
            return "generation"
        return "classification"

    @property
    def spec_metric(self) -> str:
        return "exact_match" if self.fmt == "named" else self.metric

    @property
    def num_labels(self) -> int:
        return len(self.options) or self.num_choices

    def templates(self) -> tuple[Template, ...]:
        """The variant's own templates: TEMPLATES_PER_VARIANT wordings of its (family,
        format), chosen and ordered by its name, with its subject written in."""
        wordings = WORDINGS[(self.family, "choice" if self.family == "relation_type"
                             else self.fmt)]
        start = zlib.crc32(self.name.encode()) % len(wordings)
        chosen = [wordings[(start + i) % len(wordings)] for i in range(TEMPLATES_PER_VARIANT)]
        if not any("{what}" in inputs for inputs, _ in chosen):  # name the task at least once
            chosen[-1] = next(w for w in wordings if "{what}" in w[0])
        return tuple(Template(inputs.replace("{what}", self.what), targets)
                     for inputs, targets in chosen)

    def key_of(self, example: dict) -> str:
        return "\x1f".join(str(example[f]) for f in self.input_fields)


MAKERS: dict[str, Callable] = {
    "closed_book": closed_book, "reading": reading, "inference": inference,
    "paraphrase": paraphrase, "struct": struct, "punctuation": punctuation,
    "relation_type": relation_type, "about": about, "opinion": opinion,
    "cause_effect": cause_effect, "blank_person": blank_person, "translation": translation,
    "story_reason": story_reason,
}


def _catalog() -> tuple[Variant, ...]:
    out = []

    def add(cluster, family, key, fmt, what, fields, metric="accuracy", options=(), choices=0):
        name = f"{PREFIX}{family}_{key}_{fmt}"
        out.append(Variant(name, cluster, family, key, fmt, what, fields, options, choices,
                           metric))

    for key, what in RELATIONS.items():
        add("closed_book_qa", "closed_book", key, "free", what, ("question",), "exact_match")
        add("closed_book_qa", "closed_book", key, "named", what, ("question",), choices=3)
        add("closed_book_qa", "closed_book", key, "yes_no", what, ("statement",),
            options=gen.YES_NO)
        add("closed_book_qa", "closed_book", key, "choice", what, ("question",), choices=3)
        add("closed_book_qa", "closed_book", key, "fill", what, ("sentence",), "exact_match")
        rc = ("passage", "question")
        add("reading_comprehension", "reading", key, "free", what, rc, "f1")
        add("reading_comprehension", "reading", key, "named", what, rc, choices=3)
        add("reading_comprehension", "reading", key, "yes_no", what, ("passage", "statement"),
            options=gen.YES_NO)
        add("reading_comprehension", "reading", key, "choice", what, rc, choices=3)
        add("paraphrase", "paraphrase", key, "yes_no", what, ("sentence1", "sentence2"),
            options=gen.YES_NO)
        add("paraphrase", "paraphrase", key, "named", what, ("sentence1", "sentence2"),
            options=SAME_DIFFERENT)
        add("struct_to_text", "struct", key, "triple", what, ("data",), "rouge")
        add("struct_to_text", "struct", key, "record", what, ("data",), "rouge")
        add("misc", "punctuation", key, "free", what, ("text",), "rouge")
    for key in NLI_RELATIONS:
        nli = ("premise", "hypothesis")
        add("nli", "inference", key, "choice", RELATIONS[key], nli, options=gen.NLI_OPTIONS)
        add("nli", "inference", key, "named", RELATIONS[key], nli, options=NLI_WORDS)
        add("nli", "inference", key, "yes_no", RELATIONS[key], nli, options=gen.YES_NO)
    for key, rels in ENTITY_RELATIONS.items():
        add("misc", "relation_type", key, "choice", {"person": "a person", "animal": "a pet",
                                                     "place": "a place"}[key], ("sentence",),
            choices=len(rels))
        what = {"person": "person", "animal": "pet", "place": "place"}[key]
        add("summarization", "about", key, "free", what, ("text",), "rouge")
        add("summarization", "about", key, "choice", what, ("text",), choices=3)
    for key in OPINION_NOUNS:
        what = {"food": "food", "people": "people", "event": "an event", "place": "a place"}[key]
        add("sentiment", "opinion", key, "yes_no", what, ("text",), options=gen.YES_NO)
        add("sentiment", "opinion", key, "named", what, ("text",), options=GOOD_BAD)
        add("sentiment", "opinion", key, "choice", what, ("text",), options=gen.SENTIMENT)
    for kind in ("person", "place"):
        for ask in ("cause", "effect"):
            what = f"{ask} of what happened to a {kind}"
            add("commonsense", "cause_effect", f"{kind}_{ask}", "choice", what, ("event",),
                choices=2)
            add("commonsense", "cause_effect", f"{kind}_{ask}", "yes_no", what,
                ("event", "candidate"), options=gen.YES_NO)
    add("coreference", "blank_person", "story", "choice", "two people", ("sentence",),
        choices=2)
    add("coreference", "blank_person", "story", "free", "two people", ("sentence",),
        "exact_match")
    add("coreference", "blank_person", "story", "yes_no", "two people",
        ("sentence", "candidate"), options=gen.YES_NO)
    for direction, what in (("en", "from English to Velan"), ("ve", "from Velan to English")):
        for count in ("1", "2"):
            add("translation", "translation", f"{direction}_{count}", "free", what,
                ("source",), "bleu")
    for rule in gen.STATE_RULES:
        what = f"someone who was {rule}"
        rcwc = "reading_comprehension_with_commonsense"
        add(rcwc, "story_reason", rule, "choice", what, ("story", "question"), choices=3)
        add(rcwc, "story_reason", rule, "yes_no", what, ("story", "candidate"),
            options=gen.YES_NO)
    return tuple(out)


VARIANTS: tuple[Variant, ...] = _catalog()
BY_NAME: dict[str, Variant] = {v.name: v for v in VARIANTS}


def counts_per_cluster(names=None) -> dict[str, int]:
    """cluster -> number of variants among `names` (default: the whole catalog)."""
    chosen = [BY_NAME[n] for n in names] if names is not None else VARIANTS
    return {c: sum(v.cluster == c for v in chosen) for c in tasks.CLUSTERS}


# --- generation -----------------------------------------------------------------------------

def evaluation_keys(datasets: dict[str, dict[str, list[dict]]]) -> dict[str, list[frozenset]]:
    """input string -> the input sets (frozensets) of the tw_* validation and test examples
    that contain it: what a variant example must not reproduce."""
    index: dict[str, list[frozenset]] = {}
    for name, splits in datasets.items():
        fields = DATASETS[name].input_fields
        for split in ("validation", "test"):
            for ex in splits[split]:
                inputs = frozenset(str(ex[f]) for f in fields)
                for value in inputs:
                    index.setdefault(value, []).append(inputs)
    return index


def reproduces(example: dict, variant: Variant, index: dict[str, list[frozenset]]) -> bool:
    """Whether `example`'s input strings contain every input of an evaluation example."""
    mine = {str(example[f]) for f in variant.input_fields}
    return any(inputs <= mine for value in mine for inputs in index.get(value, ()))


def generate_variant(world: World, variant: Variant, split_sizes: dict[str, int],
                     index: dict[str, list[frozenset]]) -> dict[str, list[dict]]:
    """The splits of one variant: balanced labels, disjoint splits, nothing reproduced."""
    rng = rng_for(world.seed, world.size, f"variant/{variant.name}")
    g = gen.Gen(world, rng)
    make = MAKERS[variant.family]
    seen: set[str] = set()
    out = {}
    for split in SPLIT_ORDER:
        wanted, examples, failures = split_sizes.get(split, 0), [], 0
        if variant.num_labels:  # whole rounds of labels, so every split is balanced
            wanted = -(-wanted // variant.num_labels) * variant.num_labels
        while len(examples) < wanted and failures < MAX_FAILED_DRAWS:
            label = len(examples) % variant.num_labels if variant.num_labels else None
            example = make(g, variant.key, variant.fmt, label)
            key = None if example is None else variant.key_of(example)
            if example is None or key in seen or reproduces(example, variant, index):
                failures += 1
                continue
            failures = 0
            seen.add(key)
            examples.append(example)
        if failures and variant.num_labels:  # stopped short: keep whole rounds of labels
            examples = examples[: len(examples) - len(examples) % variant.num_labels]
        rng.shuffle(examples)
        out[split] = examples
    return {split: out[split] for split in ("train", "validation", "test")}


def generate_variants(world: World, size: SizeSpec, datasets: dict) -> dict[str, dict]:
    """The variants that exist in `world` (see `exists`): name -> split -> examples, in
    catalog order. `datasets` are the world's tw_* sets, whose evaluation examples are kept
    out."""
    index = evaluation_keys(datasets)
    sizes = variant_split_sizes(size)
    made = {v.name: generate_variant(world, v, sizes, index) for v in VARIANTS}
    return {name: splits for name, splits in made.items() if exists(BY_NAME[name], splits)}


# --- checking labels from the text alone ----------------------------------------------------

def _read_cloze(r, sentence: str, answer: str) -> Fact | None:
    for filler in (answer, lexicon.with_article(answer)):
        try:
            return r.statement(sentence.replace("___", filler))
        except solver.SolverError:
            continue
    return None


def check(variant: Variant, ex: dict, world: World, r) -> bool:
    """Whether the solver's readers (`r`: a `flan_nb.tinyworld.solver.Reader` of `world`), from
    the example's text alone (and, for questions asked from memory, the world's facts), agree
    with its answer or target."""
    fam, fmt = variant.family, variant.fmt
    yes = lambda cond: ("yes" if cond else "no") == ex["answer"]  # noqa: E731
    options = ex.get("options") or variant.options
    if variant.num_labels and ex["answer"] not in options:
        return False
    if fam == "closed_book":
        if fmt == "yes_no":
            fact = r.statement(ex["statement"])
            return yes(world.value(fact.subject, fact.relation) == fact.value)
        if fmt == "fill":
            fact = _read_cloze(r, ex["sentence"], ex["answer"])
            return fact is not None and world.value(fact.subject, fact.relation) == fact.value
        value = solver._closed_book(r, world, ex["question"])
        return value == ex["answer"] and (fmt == "free" or options.count(value) == 1)
    if fam == "reading":
        facts = r.text(ex["passage"])
        if fmt == "yes_no":
            return yes(r.statement(ex["statement"]) in facts)
        subject, relation = r.question(ex["question"])
        values = {f.value for f in facts if (f.subject, f.relation) == (subject, relation)}
        return values == {ex["answer"]} and (fmt == "free" or sum(o in values
                                                                  for o in options) == 1)
    if fam == "inference":
        three = solver._nli(r, ex, True)
        if fmt == "yes_no":
            return yes(three == "yes")
        index = gen.NLI_OPTIONS.index(three)
        return variant.options[index] == ex["answer"]
    if fam == "paraphrase":
        same = solver._paraphrase(r, {"sentence1": ex["sentence1"],
                                      "sentence2": ex["sentence2"]}) == "yes"
        return variant.options[0 if same else 1] == ex["answer"]
    if fam == "struct":
        m = re.match(r"^(.+) \| (.+) \| (.+)$", ex["data"]) if variant.fmt == "triple" else \
            re.match(r"^subject\[(.+)\], (.+)\[(.+)\]$", ex["data"])
        fact = r.statement(ex["text"])
        return m is not None and (fact.subject, gen.TRIPLE_NAMES[fact.relation], fact.value) \
            == m.groups()
    if fam == "punctuation":
        return solver._fix_punct(r, ex)
    if fam == "relation_type":
        fact = r.statement(ex["sentence"])
        return gen.TRIPLE_NAMES[fact.relation] == ex["answer"]
    if fam == "about":
        subjects = {r.statement(s).subject for s in solver.split_sentences(ex["text"])}
        return subjects == {ex["answer"]}
    if fam == "opinion":
        polarity = solver._sentiment(ex["text"])
        return variant.options[gen.SENTIMENT.index(polarity)] == ex["answer"]
    if fam == "cause_effect":
        ask = variant.key.split("_")[1]
        given = solver.read_event(ex["event"], world)

        def fits(sentence: str) -> bool:
            return any(r2 is rule and p2 == ask and solver._same_event(s2, slots)
                       for rule, _, slots in given
                       for r2, p2, s2 in solver.read_event(sentence, world))
        if fmt == "yes_no":
            return yes(fits(ex["candidate"]))
        return solver._one(ex["options"], fits) == ex["answer"]
    if fam == "blank_person":
        if fmt == "yes_no":
            return yes(solver._coref(world, ex["sentence"], ex["pronoun"]) == ex["candidate"])
        return solver._coref(world, ex["sentence"], "_") == ex["answer"]
    if fam == "translation":
        english, velan_text = ((ex["source"], ex["target"]) if variant.key.startswith("en")
                               else (ex["target"], ex["source"]))
        return solver.translate_to_velan(english) == velan_text
    if fam == "story_reason":
        if fmt == "yes_no":
            ex = dict(ex, options=[ex["candidate"], "Nothing happened."],
                      context=ex["story"])
            try:
                return yes(solver._cosmos(world, ex) == ex["candidate"])
            except solver.SolverError:
                return yes(False)
        return solver._cosmos(world, dict(ex, context=ex["story"])) == ex["answer"]
    raise ValueError(f"no check for family {fam!r}")
