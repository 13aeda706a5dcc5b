"""English surface forms of TinyWorld facts: several paraphrases per relation, and questions.

The corpus states each fact in many of these phrasings; the datasets reuse them so that what a
task asks about is something the pretraining text said. Slots: {s} subject, {v} value, {a_v} value
with its article, plus relation-specific extras filled from the world ({pos}, {doing}, {species},
{sound}, {owner}, {kind}, {weather}).
"""

from __future__ import annotations

import random

import flan_nb.tinyworld.lexicon as lexicon
from flan_nb.tinyworld.world import Fact, World

STATEMENTS: dict[str, tuple[str, ...]] = {
    "job": ("{s} is {a_v}.", "{s} works as {a_v}.", "{s} has a job as {a_v}.",
            "By trade, {s} is {a_v}.", "{s} earns a living as {a_v}.",
            "{s} is {a_v} who {doing}."),
    "home": ("{s} lives in {v}.", "{s}'s home is in {v}.", "{s} has a house in {v}.",
             "{v} is where {s} lives.", "{s} is from {v}."),
    "food": ("{s} likes {v}.", "{s}'s favourite food is {v}.", "{s} loves eating {v}.",
             "Of all foods, {s} likes {v} best.", "{s} enjoys {v} more than any other food."),
    "hobby": ("{s} enjoys {v}.", "{s}'s hobby is {v}.", "In {pos} free time, {s} likes {v}.",
              "{s} spends the weekends {v}."),
    "favourite_colour": ("{s}'s favourite colour is {v}.", "{s} likes the colour {v} best.",
                         "The colour {s} loves most is {v}."),
    "age": ("{s} is {v} years old.", "{s}'s age is {v}.", "{s} turned {v} this year."),
    "friend": ("{s} and {v} are best friends.", "{s}'s best friend is {v}.",
               "{v} is the best friend of {s}."),
    "species": ("{s} is {a_v}.", "{s} is {a_v} that {sound}.", "The animal called {s} is {a_v}."),
    "colour": ("{s} is {a_v} {species}.", "The colour of {s} is {v}.", "{s} is {v} all over."),
    "owner": ("{s} belongs to {v}.", "{v} owns {s}.", "{v}'s pet is called {s}.",
              "{v} has {a_species} called {s}."),
    "thing_colour": ("{owner} has {a_v} {kind}.", "{owner}'s {kind} is {v}.",
                     "The {kind} that {owner} owns is {v}."),
    "kind": ("{s} is {a_v}.", "The place called {s} is {a_v}.", "{s} is known as {a_v}."),
    "landmark": ("There is {a_v} in {s}.", "{s} is known for its {v}.",
                 "The {v} in {s} is well known.", "{s} has {a_v}."),
    "weather": ("In {s}, {weather}.", "{s} is usually {v}.", "The weather in {s} is often {v}."),
    "near": ("{s} is near {v}.", "{s} and {v} are close to each other.",
             "{v} is not far from {s}."),
}

# Questions a fact answers; the answer is always the fact's value.
QUESTIONS: dict[str, tuple[str, ...]] = {
    "job": ("What is {s}'s job?", "What does {s} do for a living?", "What job does {s} have?"),
    "home": ("Where does {s} live?", "In which place does {s} live?", "Where is {s}'s home?"),
    "food": ("What food does {s} like best?", "What is {s}'s favourite food?"),
    "hobby": ("What is {s}'s hobby?", "What does {s} enjoy doing?"),
    "favourite_colour": ("What is {s}'s favourite colour?", "Which colour does {s} like best?"),
    "age": ("How old is {s}?", "What is {s}'s age?"),
    "friend": ("Who is {s}'s best friend?", "Who is the best friend of {s}?"),
    "species": ("What kind of animal is {s}?", "What animal is {s}?"),
    "colour": ("What colour is {s}?", "What is the colour of {s}?"),
    "owner": ("Who owns {s}?", "Whose pet is {s}?"),
    "thing_colour": ("What colour is {owner}'s {kind}?", "What is the colour of {owner}'s {kind}?"),
    "kind": ("What kind of place is {s}?", "Is {s} a town, a village or a city?"),
    "landmark": ("What is {s} known for?", "What can visitors see in {s}?"),
    "weather": ("What is the weather usually like in {s}?", "What weather does {s} often have?"),
    "near": ("Which place is near {s}?", "What place is close to {s}?"),
}


def relation_key(fact: Fact) -> str:
    """The phrasing table key: a thing's colour reads differently from an animal's."""
    if fact.relation == "colour" and "'s " in fact.subject:
        return "thing_colour"
    return fact.relation


def slots(world: World, fact: Fact) -> dict[str, str]:
    """Every slot value a phrasing of `fact` may use."""
    values = {"s": fact.subject, "v": fact.value, "a_v": lexicon.with_article(fact.value)}
    key = relation_key(fact)
    if fact.subject in world.person:
        person = world.person[fact.subject]
        job = fact.value if fact.relation == "job" else person.job
        values.update(pos=person.pos, doing=lexicon.JOBS.get(job, ""))
    if fact.subject in world.animal:
        species = fact.value if fact.relation == "species" else world.animal[fact.subject].species
        values.update(species=species, a_species=lexicon.with_article(species),
                      sound=lexicon.SPECIES[species].sound)
    if key == "thing_colour":
        owner, kind = fact.subject.split("'s ", 1)
        values.update(owner=owner, kind=kind)
    if fact.relation == "weather":
        values["weather"] = lexicon.WEATHER[fact.value]
    return values


def capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def statement(world: World, fact: Fact, index: int) -> str:
    """Phrasing number `index` (modulo the number of phrasings) of `fact`, as a sentence."""
    forms = STATEMENTS[relation_key(fact)]
    return capitalize(forms[index % len(forms)].format(**slots(world, fact)))


def random_statement(world: World, fact: Fact, rng: random.Random) -> str:
    return statement(world, fact, rng.randrange(len(STATEMENTS[relation_key(fact)])))


def num_phrasings(fact: Fact) -> int:
    return len(STATEMENTS[relation_key(fact)])


def question(world: World, fact: Fact, index: int) -> str:
    """Question number `index` (modulo) whose answer is `fact.value`."""
    forms = QUESTIONS[relation_key(fact)]
    return forms[index % len(forms)].format(**slots(world, fact))


def num_questions(fact: Fact) -> int:
    return len(QUESTIONS[relation_key(fact)])
