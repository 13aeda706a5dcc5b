"""The TinyWorld generator: people, animals, places and things, their facts, from a seed.

A world is a plain data structure: entities with attributes, a flat list of `Fact(subject,
relation, value)` triples (the only thing the corpus and the datasets state), and the fixed causal
rules of `lexicon.RULES`. The same (seed, size) always gives the same world; every random choice
comes from a `random.Random` seeded by a string naming its purpose, so changing one part of the
generator never reshuffles another.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Iterable

from flan_nb.errors import UserError
import flan_nb.tinyworld.lexicon as lexicon


@dataclasses.dataclass(frozen=True)
class SizeSpec:
    """How big a world, its corpus and its dataset splits are."""

    name: str
    num_people: int
    num_places: int
    pet_fraction: float
    things_per_person: int
    corpus_words: int  # target size of the pretraining corpus, in whitespace words
    # Training examples of a dataset whose real counterpart reaches the paper's 30,000-example
    # limit; smaller ones get their real share of it (`flan_nb.tinyworld.datasets.train_size`).
    train: int
    validation: int  # examples per dataset (every dataset alike, so evaluation sizes are equal)
    test: int

    @property
    def scale(self) -> float:
        """Real examples per TinyWorld example: the paper's 30,000 over `train`."""
        return PAPER_MAX_EXAMPLES / self.train

    @property
    def split_sizes(self) -> dict[str, int]:
        return {"train": self.train, "validation": self.validation, "test": self.test}


SIZE_SPECS = {
    spec.name: spec for spec in (
        SizeSpec("smoke", 12, 6, 0.6, 2, 30_000, 24, 8, 8),
        SizeSpec("book", 96, 24, 0.6, 2, 2_000_000, 1000, 100, 200),
        SizeSpec("large", 400, 40, 0.6, 3, 20_000_000, 10_000, 1000, 2000),
    )
}
SIZES = tuple(SIZE_SPECS)
PAPER_MAX_EXAMPLES = 30_000  # training examples the paper uses per dataset (flan_nb.mixture's too)
# Share of facts that the corpus states only as plain statements, never as a question and answer;
# closed-book QA evaluates on them so that a model cannot pass by recalling a quiz it read.
STATEMENT_ONLY_FRACTION = 0.3
SYMMETRIC_RELATIONS = ("friend", "near")


def size_spec(size: str) -> SizeSpec:
    """The SizeSpec called `size`; a UserError naming the choices otherwise."""
    if size not in SIZE_SPECS:
        raise UserError(f"unknown TinyWorld size {size!r}: choose one of {', '.join(SIZES)}")
    return SIZE_SPECS[size]


def rng_for(seed: int, size: str, purpose: str) -> random.Random:
    """An independent random stream for one purpose (string seeds hash the same everywhere)."""
    return random.Random(f"tinyworld/{seed}/{size}/{purpose}")


@dataclasses.dataclass(frozen=True)
class Fact:
    """One statement about the world: `subject`'s `relation` is `value`."""

    subject: str
    relation: str
    value: str


@dataclasses.dataclass
class Person:
    name: str
    gender: str  # "female" or "male": chooses she/he in stories
    job: str
    home: str
    food: str
    hobby: str
    favourite_colour: str
    age: int
    friend: str | None = None
    pet: str | None = None
    things: dict[str, str] = dataclasses.field(default_factory=dict)  # kind -> colour

    @property
    def subj(self) -> str:
        return "she" if self.gender == "female" else "he"

    @property
    def pos(self) -> str:
        return "her" if self.gender == "female" else "his"


@dataclasses.dataclass
class Animal:
    name: str
    species: str
    colour: str
    owner: str


@dataclasses.dataclass
class Place:
    name: str
    kind: str
    landmark: str
    weather: str
    near: str | None = None
    residents: list[str] = dataclasses.field(default_factory=list)


def thing_subject(owner: str, kind: str) -> str:
    """The subject string of a thing's colour fact, e.g. "Anna's kite"."""
    return f"{owner}'s {kind}"


@dataclasses.dataclass
class World:
    """A generated world: entities, facts and the fixed causal rules."""

    seed: int
    size: str
    people: list[Person]
    animals: list[Animal]
    places: list[Place]
    facts: tuple[Fact, ...] = ()
    statement_only: frozenset[Fact] = frozenset()
    rules: tuple[lexicon.Rule, ...] = lexicon.RULES

    def __post_init__(self):
        self.person = {p.name: p for p in self.people}
        self.animal = {a.name: a for a in self.animals}
        self.place = {p.name: p for p in self.places}
        if not self.facts:
            self.facts = tuple(_facts_of(self))
        self._values = {(f.subject, f.relation): f.value for f in self.facts}
        self._by_subject: dict[str, list[Fact]] = {}
        for f in self.facts:
            self._by_subject.setdefault(f.subject, []).append(f)
        self._quiz: list[Fact] | None = None
        self._statement_only_list: list[Fact] | None = None

    def value(self, subject: str, relation: str) -> str | None:
        """The value of `relation` for `subject`, or None when the world does not say."""
        return self._values.get((subject, relation))

    def facts_about(self, subject: str) -> list[Fact]:
        return list(self._by_subject.get(subject, ()))

    @property
    def quiz_facts(self) -> list[Fact]:
        """Facts the corpus may also ask about in questions and answers."""
        if self._quiz is None:
            self._quiz = [f for f in self.facts if f not in self.statement_only]
        return self._quiz

    @property
    def statement_only_facts(self) -> list[Fact]:
        """`statement_only` as a list in the order of `facts` (for seeded draws)."""
        if self._statement_only_list is None:
            self._statement_only_list = [f for f in self.facts if f in self.statement_only]
        return self._statement_only_list

    def entity_kind(self, name: str) -> str:
        if name in self.person:
            return "person"
        if name in self.animal:
            return "animal"
        if name in self.place:
            return "place"
        if "'s " in name:
            return "thing"
        raise KeyError(name)

    def stats(self) -> dict[str, int]:
        """Counts for the book's tables."""
        return {
            "people": len(self.people), "animals": len(self.animals),
            "places": len(self.places),
            "things": sum(len(p.things) for p in self.people),
            "facts": len(self.facts), "statement_only_facts": len(self.statement_only),
            "relations": len({f.relation for f in self.facts}), "rules": len(self.rules),
        }


def _facts_of(world: World) -> Iterable[Fact]:
    for p in world.people:
        yield Fact(p.name, "job", p.job)
        yield Fact(p.name, "home", p.home)
        yield Fact(p.name, "food", p.food)
        yield Fact(p.name, "hobby", p.hobby)
        yield Fact(p.name, "favourite_colour", p.favourite_colour)
        yield Fact(p.name, "age", str(p.age))
        if p.friend:
            yield Fact(p.name, "friend", p.friend)
        for kind, colour in p.things.items():
            yield Fact(thing_subject(p.name, kind), "colour", colour)
    for a in world.animals:
        yield Fact(a.name, "species", a.species)
        yield Fact(a.name, "colour", a.colour)
        yield Fact(a.name, "owner", a.owner)
    for pl in world.places:
        yield Fact(pl.name, "kind", pl.kind)
        yield Fact(pl.name, "landmark", pl.landmark)
        yield Fact(pl.name, "weather", pl.weather)
        if pl.near:
            yield Fact(pl.name, "near", pl.near)


def _names(pool: tuple[str, ...], count: int, rng: random.Random, taken: set[str]) -> list[str]:
    """`count` distinct names: from `pool` first, then made of syllables (large worlds only)."""
    names = [n for n in pool if n not in taken]
    rng.shuffle(names)
    names = names[:count]
    while len(names) < count:
        word = "".join(rng.choice(lexicon.NAME_SYLLABLES) for _ in range(rng.choice((2, 3))))
        word = word.capitalize()
        if word not in taken and word not in names:
            names.append(word)
    taken.update(names)
    return names


def _pairs(items: list, rng: random.Random) -> list[tuple]:
    items = list(items)
    rng.shuffle(items)
    return [(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]


def generate_world(seed: int = 0, size: str = "book") -> World:
    """A fresh World for (seed, size); the same arguments always give the same world."""
    spec = size_spec(size)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise UserError(f"seed must be an integer, got {seed!r}")
    rng = rng_for(seed, size, "world")
    taken: set[str] = set()
    place_names = _names(lexicon.PLACE_NAMES, spec.num_places, rng, taken)
    places = [Place(n, rng.choice(lexicon.PLACE_KINDS), rng.choice(lexicon.LANDMARKS),
                    rng.choice(list(lexicon.WEATHER))) for n in place_names]
    for a, b in _pairs(places, rng):
        a.near, b.near = b.name, a.name

    num_female = spec.num_people // 2
    genders = ["female"] * num_female + ["male"] * (spec.num_people - num_female)
    names = (_names(lexicon.FEMALE_NAMES, num_female, rng, taken)
             + _names(lexicon.MALE_NAMES, spec.num_people - num_female, rng, taken))
    homes = [places[i % len(places)].name for i in range(spec.num_people)]
    rng.shuffle(homes)  # every place gets residents, in a seeded order
    jobs, hobbies = list(lexicon.JOBS), list(lexicon.HOBBIES)
    people = []
    for name, gender, home in zip(names, genders, homes):
        person = Person(name, gender, rng.choice(jobs), home, rng.choice(lexicon.FOODS),
                        rng.choice(hobbies), rng.choice(lexicon.COLOURS), rng.randint(18, 80))
        kinds = rng.sample(lexicon.THINGS, spec.things_per_person)
        person.things = {kind: rng.choice(lexicon.COLOURS) for kind in kinds}
        people.append(person)
        next(pl for pl in places if pl.name == home).residents.append(name)
    rng.shuffle(people)
    for a, b in _pairs(people, rng):
        a.friend, b.friend = b.name, a.name

    owners = rng.sample(people, round(spec.pet_fraction * len(people)))
    pet_names = _names(lexicon.PET_NAMES, len(owners), rng, taken)
    animals = []
    for owner, pet_name in zip(owners, pet_names):
        animals.append(Animal(pet_name, rng.choice(list(lexicon.SPECIES)),
                              rng.choice(lexicon.ANIMAL_COLOURS), owner.name))
        owner.pet = pet_name
    people.sort(key=lambda p: names.index(p.name))
    world = World(seed, size, people, animals, places)
    world.statement_only = _statement_only(world, rng_for(seed, size, "statement-only"))
    return world


def _statement_only(world: World, rng: random.Random) -> frozenset[Fact]:
    """About STATEMENT_ONLY_FRACTION of the facts; both directions of a symmetric pair together."""
    chosen = set()
    for fact in world.facts:
        if fact.relation in SYMMETRIC_RELATIONS and fact.value < fact.subject:
            continue  # decided together with its mirror image below
        if rng.random() < STATEMENT_ONLY_FRACTION:
            chosen.add(fact)
            if fact.relation in SYMMETRIC_RELATIONS:
                chosen.add(Fact(fact.value, fact.relation, fact.subject))
    return frozenset(chosen)
