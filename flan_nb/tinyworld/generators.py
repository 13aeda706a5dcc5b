"""Example generators for TinyWorld's datasets: one function per dataset.

Each generator has the signature `make(g, label, split) -> dict | None`: `g` is a `Gen` (the world
and a seeded random stream), `label` the index of the answer option to produce (classification)
or None (generation), `split` the split being filled. It returns the example's fields, or None when
a random draw could not make one (the caller draws again). Labels come from how an example is
built; `flan_nb.tinyworld.solver` re-derives every one from the text alone.
"""

from __future__ import annotations

import dataclasses
import random
import re
import zlib

import flan_nb.tinyworld.lexicon as lexicon
import flan_nb.tinyworld.phrases as phrases
import flan_nb.tinyworld.velan as velan
from flan_nb.tinyworld.world import Fact, Person, World

YES_NO = ("yes", "no")
NLI_OPTIONS = ("yes", "it is not possible to tell", "no")
SENTIMENT = ("positive", "negative")
TREC_TYPES = ("description", "entity", "human", "location", "numeric")
TOPICS = ("weather", "animals", "work", "food")
PERSON_RELATIONS = ("job", "home", "food", "hobby", "favourite_colour", "age", "friend")
# Person rules whose cause is a plain state ("{s} was hungry"), used by the coreference sets.
STATE_RULES = ("hungry", "thirsty", "tired", "cold", "sick", "late")
# Relation names as the struct-to-text sets write them in a triple.
TRIPLE_NAMES = {"job": "job", "home": "home town", "food": "favourite food", "hobby": "hobby",
                "favourite_colour": "favourite colour", "age": "age", "friend": "best friend",
                "species": "species", "colour": "colour", "owner": "owner", "kind": "type",
                "landmark": "landmark", "weather": "weather", "near": "near"}


@dataclasses.dataclass
class Gen:
    """What a generator draws from: the world and one seeded random stream."""

    world: World
    rng: random.Random

    def person(self) -> Person:
        return self.rng.choice(self.world.people)

    def statement(self, fact: Fact) -> str:
        return phrases.random_statement(self.world, fact, self.rng)

    def other_value(self, fact: Fact) -> str:
        """A value `fact.relation` could have but does not have here."""
        pool = value_pool(self.world, fact)
        return self.rng.choice([v for v in pool if v != fact.value])


def value_pool(world: World, fact: Fact) -> list[str]:
    """Every value the relation of `fact` can take in this world."""
    relation = fact.relation
    if relation == "colour":
        return list(lexicon.ANIMAL_COLOURS if fact.subject in world.animal else lexicon.COLOURS)
    pools = {
        "job": list(lexicon.JOBS), "home": [p.name for p in world.places],
        "food": list(lexicon.FOODS), "hobby": list(lexicon.HOBBIES),
        "favourite_colour": list(lexicon.COLOURS), "age": [str(a) for a in range(18, 81)],
        "friend": [p.name for p in world.people if p.name != fact.subject],
        "species": list(lexicon.SPECIES), "owner": [p.name for p in world.people],
        "kind": list(lexicon.PLACE_KINDS), "landmark": list(lexicon.LANDMARKS),
        "weather": list(lexicon.WEATHER),
        "near": [p.name for p in world.places if p.name != fact.subject],
    }
    return pools[relation]


def person_facts(world: World, name: str) -> list[Fact]:
    return [f for f in world.facts_about(name) if f.relation in PERSON_RELATIONS]


def _mc(g: Gen, correct: str, wrong: list[str], label: int) -> tuple[list[str], str]:
    """Options with `correct` at position `label` and the wrong ones around it."""
    options = list(wrong)
    g.rng.shuffle(options)
    options.insert(label, correct)
    return options, correct


# --- Natural language inference -----------------------------------------------------------

def nli(g: Gen, label: int, split: str) -> dict | None:
    """MNLI-like: premise of 2-3 facts about one person; 0 entailed, 1 neutral, 2 contradicted."""
    person = g.person()
    facts = person_facts(g.world, person.name)
    g.rng.shuffle(facts)
    k = g.rng.randint(2, 3)
    stated, unstated = facts[:k], facts[k:]
    premise = " ".join(g.statement(f) for f in stated)
    target = g.rng.choice(stated)
    if label == 0:
        hyp = target
    elif label == 2:
        hyp = Fact(target.subject, target.relation, g.other_value(target))
    else:
        other = g.rng.choice(unstated)
        value = other.value if g.rng.random() < 0.5 else g.other_value(other)
        hyp = Fact(other.subject, other.relation, value)
    return {"premise": premise, "hypothesis": g.statement(hyp),
            "answer": NLI_OPTIONS[label], "label": label}


def rte(g: Gen, label: int, split: str) -> dict | None:
    """RTE-like: premise about two people; the hypothesis follows (yes) or does not (no)."""
    a, b = g.rng.sample(g.world.people, 2)
    facts = (g.rng.sample(person_facts(g.world, a.name), 2)
             + g.rng.sample(person_facts(g.world, b.name), 2))
    g.rng.shuffle(facts)
    premise = " ".join(g.statement(f) for f in facts)
    target = g.rng.choice(facts)
    if label == 0:
        hyp = target
    else:
        other = a.name if target.subject == b.name else b.name
        hyp = g.rng.choice([Fact(other, target.relation, target.value),
                            Fact(target.subject, target.relation, g.other_value(target))])
        if hyp in facts or hyp.value == hyp.subject:
            return None
    return {"premise": premise, "hypothesis": g.statement(hyp), "answer": YES_NO[label],
            "label": label}


def qnli(g: Gen, label: int, split: str) -> dict | None:
    """QNLI-like: does the sentence answer the question?"""
    fact = g.rng.choice(g.world.facts)
    question = phrases.question(g.world, fact, g.rng.randrange(phrases.num_questions(fact)))
    if label == 0:
        sentence_fact = fact
    else:
        same_subject = [f for f in g.world.facts_about(fact.subject) if f.relation != fact.relation]
        same_relation = [f for f in g.world.facts if f.relation == fact.relation
                         and f.subject not in (fact.subject, fact.value)
                         and f.value != fact.subject  # a mirrored friendship answers it too
                         and phrases.relation_key(f) == phrases.relation_key(fact)]
        pool = same_subject if (same_subject and g.rng.random() < 0.5) else same_relation
        if not pool:
            return None
        sentence_fact = g.rng.choice(pool)
    return {"question": question, "sentence": g.statement(sentence_fact),
            "answer": YES_NO[label], "label": label}


# --- Commonsense --------------------------------------------------------------------------

def _rule_subject(g: Gen, rule: lexicon.Rule) -> str | None:
    if rule.subject == "place":
        return g.rng.choice(g.world.places).name
    if rule.subject == "animal":
        return g.rng.choice(g.world.animals).name if g.world.animals else None
    return g.person().name


def rule_slots(world: World, rule: lexicon.Rule, subject: str, rng: random.Random) -> dict:
    """Slot values that make a rule's cause and effect about `subject`."""
    if rule.subject == "person":
        p = world.person[subject]
        return {"s": subject, "pos": p.pos, "food": p.food, "thing": rng.choice(sorted(p.things)),
                "friend": p.friend or "a neighbour"}
    if rule.subject == "animal":
        return {"s": subject, "owner": world.animal[subject].owner}
    return {"s": subject}


def _sentence(text: str) -> str:
    return phrases.capitalize(text) + "."


def copa(g: Gen, label: int, split: str) -> dict | None:
    """COPA-like: a premise and two alternatives; which is its cause (or effect)?"""
    rule = g.rng.choice([r for r in lexicon.RULES if r.subject != "animal"])  # needs a sibling
    subject = _rule_subject(g, rule)
    if subject is None:
        return None
    slots = rule_slots(g.world, rule, subject, g.rng)
    others = [r for r in lexicon.RULES if r.subject == rule.subject and r.name != rule.name]
    wrong_rule = g.rng.choice(others)
    wrong_slots = dict(slots, **{k: v for k, v in rule_slots(g.world, wrong_rule, subject,
                                                              g.rng).items() if k not in slots})
    ask = g.rng.choice(("cause", "effect"))
    part = "cause" if ask == "cause" else "effect"
    given = rule.effect if ask == "cause" else rule.cause
    correct = _sentence(getattr(rule, part).format(**slots))
    wrong = _sentence(getattr(wrong_rule, part).format(**wrong_slots))
    options, answer = _mc(g, correct, [wrong], label)
    return {"premise": _sentence(given.format(**slots)), "question": ask,
            "choice1": options[0], "choice2": options[1], "options": options,
            "answer": answer, "label": label}


def swag(g: Gen, label: int, split: str) -> dict | None:
    """HellaSwag-like: a short context and four endings, one of which follows by a rule."""
    rule = g.rng.choice([r for r in lexicon.RULES if r.subject == "person"])
    person = g.person()
    slots = rule_slots(g.world, rule, person.name, g.rng)
    wrong_rules = g.rng.sample([r for r in lexicon.RULES
                                if r.subject == "person" and r.name != rule.name], 3)
    opening = g.rng.choice(("It was a busy day in {home}.", "{s} spent the day in {home}.",
                            "It was evening in {home}.", "{s} was at home in {home}."))
    ctx = (opening.format(home=person.home, s=person.name) + " "
           + _sentence(rule.cause.format(**slots)))
    options, answer = _mc(g, _sentence(rule.effect.format(**slots)),
                          [_sentence(r.effect.format(**slots)) for r in wrong_rules], label)
    return {"context": ctx, "options": options, "answer": answer, "label": label}


# --- Sentiment ----------------------------------------------------------------------------

INTENSIFIERS = ("", "very ", "really ", "quite ", "so ", "rather ")
REVIEW_THINGS = ("the food", "the bread", "the soup", "the staff", "the room", "the music",
                 "the view", "the tea", "the service", "the cake", "the walk", "the show")


def be(noun: str) -> str:
    """'was' or 'were' for a noun phrase (TinyWorld's plurals all end in s)."""
    return "were" if noun.endswith("s") else "was"


def opinion_kind(noun: str) -> str:
    """Which adjectives suit `noun` ("the soup" -> "food"): see lexicon.OPINION_WORDS."""
    word = noun.removeprefix("the ")
    if word in lexicon.FOODS or word in ("food", "bread", "soup", "tea", "cake"):
        return "food"
    if word in ("staff", "service"):
        return "people"
    if word in ("music", "walk", "show"):
        return "event"
    return "place"


def _opinion(g: Gen, positive: bool, noun: str) -> str:
    """An adjective phrase about `noun` meaning `positive`; sometimes a negated opposite."""
    negated = g.rng.random() < 0.3
    good, bad = lexicon.OPINION_WORDS[opinion_kind(noun)]
    word = g.rng.choice(good if positive != negated else bad)
    return "not " + word if negated else g.rng.choice(INTENSIFIERS) + word


def _opinions(g: Gen, label: int, nouns: list[str]) -> list[str]:
    """One opinion per noun (an odd number), the majority with the polarity of `label`."""
    count = len(nouns)
    agree = g.rng.randint(count // 2 + 1, count)
    polarities = [label == 0] * agree + [label != 0] * (count - agree)
    g.rng.shuffle(polarities)
    return [_opinion(g, p, n) for p, n in zip(polarities, nouns)]


def reviews(g: Gen, label: int, split: str) -> dict | None:
    """IMDB/Yelp-like: a review of a visit; the label is the majority opinion."""
    person, place = g.person(), g.rng.choice(g.world.places)
    spot = f"the {place.landmark} in {place.name}"
    things = g.rng.sample(REVIEW_THINGS, g.rng.choice((3, 5)))
    opinions = _opinions(g, label, things)
    lines = [g.rng.choice(("I went to {spot} last week.", "We visited {spot} on a {day}.",
                           "My friend {friend} took me to {spot}."))
             .format(spot=spot, day=g.rng.choice(("monday", "sunday", "friday")),
                     friend=person.friend or "Sam")]
    lines += [f"{phrases.capitalize(t)} {be(t)} {o}." for t, o in zip(things, opinions)]
    return {"text": " ".join(lines), "answer": SENTIMENT[label], "label": label}


def tweets(g: Gen, label: int, split: str) -> dict | None:
    """Sentiment140-like: a short post with one or three opinions."""
    person = g.person()
    things = [f"the {t}" for t in g.rng.sample(lexicon.FOODS + lexicon.LANDMARKS,
                                               g.rng.choice((1, 3)))]
    bits = [f"{t} {be(t)} {o}" for t, o in zip(things, _opinions(g, label, things))]
    text = g.rng.choice(("{where} today and {bits}", "{bits} {where}", "just saying {bits}"))
    where = g.rng.choice(("at the market", "in " + person.home, "at home", "with friends"))
    return {"text": text.format(where=where, bits=" and ".join(bits)),
            "answer": SENTIMENT[label], "label": label}


def sst2(g: Gen, label: int, split: str) -> dict | None:
    """SST-2-like: one sentence with one opinion."""
    noun = g.rng.choice(REVIEW_THINGS + tuple(f"the {w}" for w in lexicon.FOODS
                                              + lexicon.LANDMARKS + lexicon.THINGS))
    opinion = _opinion(g, label == 0, noun)
    frame = g.rng.choice(("{n} {be} {o}.", "I thought {n} {be} {o}.", "To me, {n} {be} {o}."))
    return {"sentence": phrases.capitalize(frame.format(n=noun, be=be(noun), o=opinion)),
            "answer": SENTIMENT[label], "label": label}


# --- Paraphrase ---------------------------------------------------------------------------

def mrpc(g: Gen, label: int, split: str) -> dict | None:
    """MRPC-like: two sentences; do they say the same thing?"""
    fact = g.rng.choice(g.world.facts)
    n = phrases.num_phrasings(fact)
    i, j = g.rng.sample(range(n), 2)
    first = phrases.statement(g.world, fact, i)
    if label == 0:
        second = phrases.statement(g.world, fact, j)
    elif g.rng.random() < 0.5:  # same words around a different value
        second = phrases.statement(g.world, Fact(fact.subject, fact.relation,
                                                 g.other_value(fact)), i)
    else:  # same subject, another relation
        others = [f for f in g.world.facts_about(fact.subject) if f.relation != fact.relation]
        if not others:
            return None
        second = phrases.statement(g.world, g.rng.choice(others), j)
    return {"sentence1": first, "sentence2": second, "answer": YES_NO[label], "label": label}


def paws(g: Gen, label: int, split: str) -> dict | None:
    """PAWS-like: both sentences use the same words; swapped values change the meaning."""
    a, b = g.rng.sample(g.world.people, 2)
    relation = g.rng.choice(("job", "home", "food", "hobby", "favourite_colour"))
    va, vb = g.world.value(a.name, relation), g.world.value(b.name, relation)
    if va == vb:
        return None
    if g.rng.random() < 0.5:  # the first sentence is sometimes false, so truth gives nothing away
        va, vb = vb, va
    form = g.rng.randrange(len(phrases.STATEMENTS[relation]))

    keep_case = phrases.STATEMENTS[relation][form].startswith("{")  # opens with a name

    def say(x, vx, y, vy):
        one = phrases.statement(g.world, Fact(x, relation, vx), form).rstrip(".")
        two = phrases.statement(g.world, Fact(y, relation, vy), form).rstrip(".")
        return f"{one} and {two if keep_case else two[:1].lower() + two[1:]}."

    first = say(a.name, va, b.name, vb)
    second = say(b.name, vb, a.name, va) if label == 0 else say(a.name, vb, b.name, va)
    return {"sentence1": first, "sentence2": second, "answer": YES_NO[label], "label": label}


# --- Closed-book QA -----------------------------------------------------------------------

def _qa_facts(g: Gen, split: str) -> list[Fact]:
    """Training questions use facts the corpus also quizzes; evaluation uses the others."""
    return g.world.quiz_facts if split == "train" else g.world.statement_only_facts


def trivia_qa(g: Gen, label: None, split: str) -> dict | None:
    """TriviaQA-like: a question about the world, answered from memory."""
    fact = g.rng.choice(_qa_facts(g, split))
    question = phrases.question(g.world, fact, g.rng.randrange(phrases.num_questions(fact)))
    return {"question": question, "answer": fact.value}


def held_out_question(question: str) -> bool:
    """Whether a general-knowledge question is kept for evaluation (a stable 30% of them)."""
    return zlib.crc32(question.encode()) % 10 < 3


def _arc_general(g: Gen, label: int, split: str) -> dict | None:
    species = list(lexicon.SPECIES.values())
    kind = g.rng.choice(("fly", "swim", "sound", "eats", "job", "rule"))
    if kind in ("fly", "swim"):
        able = [s.name for s in species if getattr(s, "can_" + kind)]
        unable = [s.name for s in species if not getattr(s, "can_" + kind)]
        question = f"Which of these animals can {kind}?"
        correct, wrong = g.rng.choice(able), g.rng.sample(unable, 3)
    elif kind == "sound":
        sp = g.rng.choice(species)
        question = f"Which animal {sp.sound}?"
        correct = sp.name
        wrong = g.rng.sample([s.name for s in species if s.sound != sp.sound], 3)
    elif kind == "eats":
        sp = g.rng.choice(species)
        question = f"What do {sp.plural} eat?"
        correct = sp.eats
        wrong = g.rng.sample(sorted({s.eats for s in species} - {sp.eats}), 3)
    elif kind == "job":
        job, doing = g.rng.choice(list(lexicon.JOBS.items()))
        question = f"Who {doing}?"
        correct = lexicon.with_article(job)
        wrong = [lexicon.with_article(j) for j in g.rng.sample(
            [j for j in lexicon.JOBS if j != job], 3)]
    else:
        rule = g.rng.choice(lexicon.RULES)
        question = rule.question
        correct = rule.answer
        wrong = g.rng.sample([r.answer for r in lexicon.RULES if r.answer != rule.answer], 3)
    if held_out_question(question) != (split != "train"):
        return None
    options, answer = _mc(g, correct, wrong, label)
    return {"question": question, "options": options, "answer": answer, "label": label}


def arc(g: Gen, label: int, split: str) -> dict | None:
    """ARC-like: a four-way multiple-choice question on general knowledge or the world."""
    if g.rng.random() < 0.5:
        return _arc_general(g, label, split)
    fact = g.rng.choice(_qa_facts(g, split))
    pool = [v for v in value_pool(g.world, fact) if v != fact.value]
    if len(pool) < 3:
        return None
    question = phrases.question(g.world, fact, g.rng.randrange(phrases.num_questions(fact)))
    options, answer = _mc(g, fact.value, g.rng.sample(pool, 3), label)
    return {"question": question, "options": options, "answer": answer, "label": label}


# --- Struct to text -----------------------------------------------------------------------

def triple_text(fact: Fact) -> str:
    return f"{fact.subject} | {TRIPLE_NAMES[fact.relation]} | {fact.value}"


def webnlg(g: Gen, label: None, split: str) -> dict | None:
    """WebNLG-like: one to four triples about a person and their pet or town -> text."""
    person = g.person()
    facts = person_facts(g.world, person.name)
    extra = g.world.facts_about(person.pet) if person.pet else g.world.facts_about(person.home)
    chosen = g.rng.sample(facts, g.rng.randint(1, 3))
    if g.rng.random() < 0.5:
        chosen.append(g.rng.choice(extra))
    text = " ".join(g.statement(f) for f in chosen)
    return {"triples": "\n".join(triple_text(f) for f in chosen), "text": text}


E2E_ORDER = ("job", "home", "food", "hobby", "age")


def e2e_sentence(name: str, attrs: dict[str, str]) -> str:
    """One sentence realising a person's attributes (the E2E-like set's reference)."""
    head = f"{name} is " + (lexicon.with_article(attrs["job"]) if "job" in attrs else "a person")
    if "age" in attrs:
        head += f" aged {attrs['age']}"
    parts = []
    if "home" in attrs:
        parts.append(f"lives in {attrs['home']}")
    if "food" in attrs:
        parts.append(f"likes {attrs['food']}")
    if "hobby" in attrs:
        parts.append(f"enjoys {attrs['hobby']}")
    if not parts:
        return head + "."
    tail = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{head} who {tail}."


def e2e(g: Gen, label: None, split: str) -> dict | None:
    """E2E-NLG-like: a meaning representation of a person -> one sentence."""
    person = g.person()
    keys = sorted(g.rng.sample(E2E_ORDER, g.rng.randint(2, 4)), key=E2E_ORDER.index)
    attrs = {k: g.world.value(person.name, k) for k in keys}
    mr = ", ".join([f"name[{person.name}]"] + [f"{k}[{v}]" for k, v in attrs.items()])
    return {"meaning_representation": mr, "target": e2e_sentence(person.name, attrs)}


def commongen(g: Gen, label: None, split: str) -> dict | None:
    """CommonGen-like: a few concepts -> a sentence that uses them all."""
    while True:
        c = velan.random_clause(g.world, g.rng)
        if c.frame in ("motion", "seeing"):
            break
    s = dict(c.slots)
    verbs = {**velan.MOTION_VERBS, **velan.SEEING_VERBS}
    concepts = [s["noun"], verbs[s["verb"]]] + ([s["landmark"]] if "landmark" in s else [])
    if "adj" in s:
        concepts.append(s["adj"])
    g.rng.shuffle(concepts)
    if c.frame == "seeing":
        concepts.insert(g.rng.randrange(len(concepts) + 1), s["name"])
    return {"concepts": ", ".join(concepts), "target": velan.sentence([c], "english")}


# --- Translation --------------------------------------------------------------------------

def _parallel(g: Gen) -> tuple[str, str]:
    clauses = [velan.random_clause(g.world, g.rng) for _ in range(g.rng.choice((1, 1, 2)))]
    return velan.sentence(clauses, "english"), velan.sentence(clauses, "velan")


def translate(g: Gen, label: None, split: str) -> dict | None:
    """WMT-like: one English sentence and its Velan translation."""
    english, velan_text = _parallel(g)
    return {"english": english, "velan": velan_text}


# --- Reading comprehension ----------------------------------------------------------------

YES_NO_QUESTIONS = {
    "job": ("Is {s} {a_v}?", "Does {s} work as {a_v}?"),
    "home": ("Does {s} live in {v}?", "Is {s}'s home in {v}?"),
    "food": ("Is {s}'s favourite food {v}?", "Does {s} like {v} best?"),
    "hobby": ("Is {s}'s hobby {v}?",),
    "favourite_colour": ("Is {s}'s favourite colour {v}?",),
    "age": ("Is {s} {v} years old?",),
    "friend": ("Is {v} {s}'s best friend?",),
    "species": ("Is {s} {a_v}?",),
    "colour": ("Is {s} {v}?",),
    "owner": ("Does {s} belong to {v}?",),
    "thing_colour": ("Is {owner}'s {kind} {v}?",),
}


def yes_no_question(world: World, fact: Fact, index: int) -> str:
    forms = YES_NO_QUESTIONS[phrases.relation_key(fact)]
    return forms[index % len(forms)].format(**phrases.slots(world, fact))


def _passage(g: Gen, name: str, count: int) -> list[Fact]:
    facts = [f for f in g.world.facts_about(name) if phrases.relation_key(f) in YES_NO_QUESTIONS]
    person = g.world.person.get(name)
    if person is not None:
        facts += [g.rng.choice([f for kind in person.things
                                for f in g.world.facts_about(f"{name}'s {kind}")])]
    g.rng.shuffle(facts)
    return facts[:count]


def boolq(g: Gen, label: int, split: str) -> dict | None:
    """BoolQ-like: a passage about someone, and a yes/no question it answers."""
    subject = g.rng.choice([p.name for p in g.world.people] + [a.name for a in g.world.animals])
    facts = _passage(g, subject, g.rng.randint(3, 5))
    fact = g.rng.choice(facts)
    asked = fact if label == 0 else Fact(fact.subject, fact.relation, g.other_value(fact))
    key = phrases.relation_key(fact)
    question = yes_no_question(g.world, asked, g.rng.randrange(len(YES_NO_QUESTIONS[key])))
    return {"title": subject, "passage": " ".join(g.statement(f) for f in facts),
            "question": question, "answer": YES_NO[label], "label": label}


def squad(g: Gen, label: None, split: str) -> dict | None:
    """SQuAD-like: a story-like passage; the answer is a span of it."""
    person = g.person()
    facts = _passage(g, person.name, g.rng.randint(3, 5))
    if person.pet and g.rng.random() < 0.5:
        facts.append(g.rng.choice(g.world.facts_about(person.pet)))
    rule = g.rng.choice([r for r in lexicon.RULES if r.subject == "person"])
    slots = rule_slots(g.world, rule, person.name, g.rng)
    lines = [g.statement(f) for f in facts]
    lines.insert(g.rng.randrange(len(lines) + 1),
                 _sentence(f"{rule.cause}, so {rule.effect}".format(**slots)))
    context = " ".join(lines)
    fact = g.rng.choice(facts)
    question = phrases.question(g.world, fact, g.rng.randrange(phrases.num_questions(fact)))
    match = re.search(rf"\b{re.escape(fact.value)}\b", context)
    if match is None:
        return None
    start = match.start()
    return {"title": person.name, "context": context, "question": question,
            "answer": fact.value, "answer_start": start}


def drop(g: Gen, label: None, split: str) -> dict | None:
    """DROP-like: a passage with numbers; the answer needs counting or arithmetic."""
    kind = g.rng.choice(("older", "difference", "count", "sum"))
    if kind in ("older", "difference"):
        a, b = g.rng.sample(g.world.people, 2)
        if a.age == b.age:
            return None
        facts = [Fact(a.name, "age", str(a.age)), Fact(b.name, "age", str(b.age)),
                 Fact(a.name, "job", a.job), Fact(b.name, "home", b.home)]
        g.rng.shuffle(facts)
        passage = " ".join(g.statement(f) for f in facts)
        old, young = (a, b) if a.age > b.age else (b, a)
        if kind == "older":
            return {"passage": passage, "question": f"Who is older, {a.name} or {b.name}?",
                    "answer": old.name}
        return {"passage": passage,
                "question": f"How many years older is {old.name} than {young.name}?",
                "answer": str(old.age - young.age)}
    if kind == "count":
        people = g.rng.sample(g.world.people, min(len(g.world.people), g.rng.randint(3, 6)))
        place = g.world.place[g.rng.choice(people).home]
        facts = [Fact(p.name, "home", p.home) for p in people]
        question = f"How many of these people live in {place.name}?"
        answer = sum(p.home == place.name for p in people)
        return {"passage": " ".join(g.statement(f) for f in facts), "question": question,
                "answer": str(answer)}
    person, food = g.person(), g.rng.choice(lexicon.FOODS)
    counts = [g.rng.randint(1, 9) for _ in range(g.rng.randint(2, 3))]
    places = g.rng.sample(g.world.places, len(counts))
    lines = [f"{person.name} bought {n} {food} in {p.name}." for n, p in zip(counts, places)]
    return {"passage": " ".join(lines),
            "question": f"How many {food} did {person.name} buy in all?",
            "answer": str(sum(counts))}


# --- Reading comprehension with commonsense -----------------------------------------------

def cosmos_qa(g: Gen, label: int, split: str) -> dict | None:
    """CosmosQA-like: the story tells what happened; why it happened is common sense."""
    person = g.person()
    rule = g.rng.choice([r for r in lexicon.RULES if r.name in STATE_RULES])
    slots = rule_slots(g.world, rule, person.name, g.rng)
    effect = rule.effect.format(**slots)
    context = " ".join([f"It was a day like any other in {person.home}.",
                        g.statement(Fact(person.name, "job", person.job)), _sentence(effect),
                        g.rng.choice(("Later, the day went on as usual.",
                                      f"After that, {person.subj} met a friend.",
                                      "Nothing else happened that day."))])
    question = f"What is the most likely reason that {effect}?"
    wrong = [r for r in lexicon.RULES if r.name in STATE_RULES and r.name != rule.name]
    options, answer = _mc(
        g, _sentence(rule.cause.format(**slots)),
        [_sentence(r.cause.format(**slots)) for r in g.rng.sample(wrong, 3)], label)
    return {"context": context, "question": question, "options": options, "answer": answer,
            "label": label}


def record(g: Gen, label: int, split: str) -> dict | None:
    """ReCoRD-like: fill @placeholder in a query with an entity from the passage."""
    people = g.rng.sample(g.world.people, 3)
    target = g.rng.choice(people)
    place = g.world.place[people[0].home]
    lines = [f"News from {place.name}."]
    rule = g.rng.choice([r for r in lexicon.RULES if r.name in STATE_RULES + ("gift",)])
    for p in people:
        others = [f for f in person_facts(g.world, p.name) if f.relation != "friend"]
        lines.append(g.statement(g.rng.choice(others)))
    slots = rule_slots(g.world, rule, target.name, g.rng)
    lines.append(_sentence(rule.cause.format(**slots)))
    query = _sentence(rule.effect.format(**slots)).replace(target.name, "@placeholder", 1)
    if "@placeholder" not in query or any(p.name in query for p in people):
        return None
    names = [p.name for p in people]
    options, answer = _mc(g, target.name, [n for n in names if n != target.name], label)
    return {"passage": " ".join(lines), "query": query, "options": options, "answer": answer,
            "label": label}


# --- Coreference --------------------------------------------------------------------------

def _two_of_a_gender(g: Gen):
    gender = g.rng.choice(("female", "male"))
    pool = [p for p in g.world.people if p.gender == gender]
    return g.rng.sample(pool, 2)


def _coref_story(g: Gen) -> tuple[str, str, str, str] | None:
    """(first clause, second clause, effect without subject, who) for the coreference sets."""
    a, b = _two_of_a_gender(g)
    if g.rng.random() < 0.5:
        if a.job == b.job:
            return None
        who = g.rng.choice((a, b))
        return (f"{a.name} is {lexicon.with_article(a.job)}", f"{b.name} is "
                f"{lexicon.with_article(b.job)}", lexicon.JOBS[who.job], who.name)
    r1, r2 = g.rng.sample([lexicon.RULES_BY_NAME[n] for n in STATE_RULES], 2)
    who, rule = g.rng.choice(((a, r1), (b, r2)))
    s1 = rule_slots(g.world, r1, a.name, g.rng)
    s2 = rule_slots(g.world, r2, b.name, g.rng)
    effect = rule.effect.format(**(s1 if who is a else s2))
    return (r1.cause.format(**s1), r2.cause.format(**s2), effect[len(who.name) + 1:], who.name)


def winogrande(g: Gen, label: int, split: str) -> dict | None:
    """Winogrande-like: fill the blank with one of two people of the same gender."""
    story = _coref_story(g)
    if story is None:
        return None
    first, second, effect, who = story
    a, b = first.split()[0], second.split()[0]
    sentence = f"{phrases.capitalize(first)} and {second}, so _ {effect}."
    options, answer = _mc(g, who, [b if who == a else a], label)
    return {"sentence": sentence, "option1": options[0], "option2": options[1],
            "options": options, "answer": answer, "label": label}


def wsc(g: Gen, label: int, split: str) -> dict | None:
    """WSC-like: does the pronoun refer to the named person?"""
    story = _coref_story(g)
    if story is None:
        return None
    first, second, effect, who = story
    a, b = first.split()[0], second.split()[0]
    pronoun = g.world.person[a].subj
    candidate = who if label == 0 else (b if who == a else a)
    return {"text": f"{phrases.capitalize(first)} and {second}, so {pronoun} {effect}.",
            "pronoun": pronoun, "candidate": candidate, "answer": YES_NO[label],
            "label": label}


# --- Misc ---------------------------------------------------------------------------------

def fix_punctuation(g: Gen, label: None, split: str) -> dict | None:
    """Fix Punctuation: lower-cased text without punctuation -> the original sentences."""
    person = g.person()
    facts = g.rng.sample(person_facts(g.world, person.name), g.rng.randint(2, 3))
    target = " ".join(g.statement(f) for f in facts)
    plain = "".join(ch for ch in target.lower() if ch.isalnum() or ch in " '")
    return {"text": plain, "target": target}


def _trec_question(g: Gen, label: int) -> str | None:
    kind = TREC_TYPES[label]
    fact = g.rng.choice(g.world.facts)
    rel = phrases.relation_key(fact)
    by_type = {"description": ("job", "hobby"), "human": ("friend", "owner"),
               "location": ("home", "near"), "numeric": ("age",),
               "entity": ("food", "favourite_colour", "species", "colour", "thing_colour",
                          "landmark")}
    if g.rng.random() < 0.25:  # general questions widen the pool
        sp = g.rng.choice(list(lexicon.SPECIES.values()))
        a, b = g.rng.sample(g.world.people, 2)
        general = {"description": f"What does {lexicon.with_article(sp.name)} do when it "
                                  f"is hungry?",
                   "human": f"Who {g.rng.choice(list(lexicon.JOBS.values()))}?",
                   "location": f"Where does {lexicon.with_article(sp.name)} usually live?",
                   "numeric": f"How many years older is {a.name} than {b.name}?",
                   "entity": f"What do {sp.plural} eat?"}
        return general[kind]
    if rel not in by_type[kind]:
        return None
    return phrases.question(g.world, fact, g.rng.randrange(phrases.num_questions(fact)))


def trec(g: Gen, label: int, split: str) -> dict | None:
    """TREC-like: what kind of answer does a question ask for?"""
    question = _trec_question(g, label)
    if question is None:
        return None
    return {"question": question, "answer": TREC_TYPES[label], "label": label}


def _corrupt(g: Gen, sentence: str) -> str | None:
    """An ungrammatical variant: agreement, article, or verb-final (Velan) word order."""
    words = sentence.rstrip(".").split()
    how = g.rng.choice(("agreement", "article", "order"))
    if how == "agreement":
        spots = [i for i, w in enumerate(words) if w in ("lives", "likes", "works", "is", "has")]
        if not spots:
            return None
        i = g.rng.choice(spots)
        words[i] = {"lives": "live", "likes": "like", "works": "work", "is": "are",
                    "has": "have"}[words[i]]
    elif how == "article":
        spots = [i for i, w in enumerate(words[:-1]) if w in ("a", "an")]
        if not spots:
            return None
        i = g.rng.choice(spots)
        words[i] = "an" if words[i] == "a" else "a"
    else:
        spots = [i for i, w in enumerate(words[1:-1], 1) if w in ("lives", "likes", "has", "is",
                                                                 "works", "sees", "runs")]
        if not spots:
            return None
        words.append(words.pop(g.rng.choice(spots)))
    return " ".join(words) + "."


def cola(g: Gen, label: int, split: str) -> dict | None:
    """CoLA-like: is the sentence grammatical? (yes: as generated; no: corrupted)."""
    if g.rng.random() < 0.5:
        fact = g.rng.choice(g.world.facts)
        sentence = g.statement(fact)
    else:
        sentence = velan.sentence([velan.random_clause(g.world, g.rng)], "english")
    if label == 1:
        sentence = _corrupt(g, sentence)
        if sentence is None:
            return None
    return {"sentence": sentence, "answer": YES_NO[label], "label": label}


def math(g: Gen, label: None, split: str) -> dict | None:
    """Math-dataset-like: a linear equation in one unknown, or a word problem."""
    if g.rng.random() < 0.5:
        x, a = g.rng.randint(-9, 9), g.rng.randint(2, 9)
        b = g.rng.randint(-20, 20)
        var = g.rng.choice("xyzn")
        sign = "+" if b >= 0 else "-"
        question = f"Solve {a}*{var} {sign} {abs(b)} = {a * x + b} for {var}."
        return {"question": question, "answer": str(x)}
    person, food = g.person(), g.rng.choice(lexicon.FOODS)
    have, more, eat = g.rng.randint(2, 9), g.rng.randint(1, 9), g.rng.randint(0, 5)
    friend = person.friend or "a friend"
    question = (f"{person.name} has {have} {food}. {friend} gives {person.pos} {more} more. "
                f"Then {person.name} eats {eat} of them. How many {food} does {person.name} "
                f"have now?")
    answer = have + more - eat
    if answer < 0:
        return None
    return {"question": question, "answer": str(answer)}


# --- Summarization ------------------------------------------------------------------------

def news(g: Gen, label: None, split: str) -> dict | None:
    """XSum/CNN-like: a local news story -> a one-sentence summary of what happened."""
    person = g.person()
    place = g.world.place[person.home]
    rules = g.rng.sample([r for r in lexicon.RULES if r.subject == "person"], 2)
    slots = rule_slots(g.world, rules[0], person.name, g.rng)
    slots2 = rule_slots(g.world, rules[1], person.name, g.rng)
    events = [_sentence(f"{rules[0].cause}, so {rules[0].effect}".format(**slots)),
              _sentence(f"{rules[1].cause}, so {rules[1].effect}".format(**slots2))]
    filler = [f"The weather in {place.name} is often {place.weather}.",
              f"The {place.landmark} in {place.name} was busy.",
              g.statement(Fact(person.name, "hobby", person.hobby))]
    article = [g.rng.choice(("Local news from {p}.", "A report from {p}.", "{p} today."))
               .format(p=place.name), g.statement(Fact(person.name, "job", person.job))]
    article += g.rng.sample(filler, 2) + events
    vp = [rules[0].effect.format(**slots), rules[1].effect.format(**slots2)]
    vp = [v[len(person.name) + 1:] if v.startswith(person.name + " ") else None for v in vp]
    if None in vp:
        return None
    summary = (f"{person.name}, {lexicon.with_article(person.job)} from {place.name}, "
               f"{vp[0]} and {vp[1]}.")
    return {"article": " ".join(article), "summary": summary}


def dialogsum(g: Gen, label: None, split: str) -> dict | None:
    """SAMSum-like: two friends plan to meet -> who meets where and when."""
    a = g.rng.choice([p for p in g.world.people if p.friend])
    b = g.world.person[a.friend]
    place = g.world.place[g.rng.choice((a.home, b.home))]
    first, final = g.rng.sample(lexicon.LANDMARKS, 2)
    hour = g.rng.choice(lexicon.NUMBER_WORDS[1:])
    lines = [f"{a.name}: Hi {b.name}! Shall we meet at the {first} in {place.name}?",
             f"{b.name}: Not the {first}, it is too busy. What about the {final}?",
             f"{a.name}: Good idea. The {final} it is. At {hour}?",
             f"{b.name}: Yes, see you at {hour}!"]
    if g.rng.random() < 0.5:
        lines.insert(1, f"{b.name}: Hello {a.name}. Where?")
    summary = f"{a.name} and {b.name} will meet at the {final} in {place.name} at {hour}."
    return {"dialogue": "\n".join(lines), "summary": summary}


def _topic_sentence(g: Gen, topic: str) -> str:
    person, place = g.person(), g.rng.choice(g.world.places)
    if topic == "weather":
        rule = g.rng.choice([r for r in lexicon.RULES if r.subject == "place"])
        return _sentence(f"{rule.cause}, so {rule.effect}".format(s=place.name))
    if topic == "animals":
        sp = g.rng.choice(list(lexicon.SPECIES.values()))
        return g.rng.choice((f"{phrases.capitalize(sp.plural)} eat {sp.eats}.",
                             f"A {sp.name} was seen near the {place.landmark} in {place.name}.",
                             f"People in {place.name} keep {sp.plural}."))
    if topic == "work":
        job = g.rng.choice(list(lexicon.JOBS))
        return g.rng.choice((f"{person.name} started a new job as {lexicon.with_article(job)}.",
                             f"More people in {place.name} now work as {job}s.",
                             f"The {job}s of {place.name} worked late this week."))
    food = g.rng.choice(lexicon.FOODS)
    return g.rng.choice((f"The price of {food} went up in {place.name}.",
                         f"{person.name} cooked {food} for the whole street.",
                         f"The market in {place.name} sold fresh {food}."))


def ag_news(g: Gen, label: int, split: str) -> dict | None:
    """AG-News-like: a short article -> its topic."""
    topic = TOPICS[label]
    text = " ".join(_topic_sentence(g, topic) for _ in range(g.rng.randint(2, 3)))
    return {"text": text, "answer": topic, "label": label}
