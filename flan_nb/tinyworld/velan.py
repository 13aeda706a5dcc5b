"""Velan, TinyWorld's made-up second language, and the clauses both languages can say.

Velan has its own lexicon (invented words, generated once from a fixed seed so it is the same in
every world) and a word order unlike English: the verb comes last (subject-object-verb), adjectives
follow their noun, places take postpositions ("river to" for "to the river"), and there are no
articles. Names of people and places are the same in both languages. A `Clause` is a small
meaning (a frame and its slots) that `english()` and `velan()` each say in their own grammar, so
translation pairs are exact by construction.
"""

from __future__ import annotations

import dataclasses
import random

import flan_nb.tinyworld.lexicon as lexicon

ANIMATE_NOUNS = ("man", "woman", "child", "boy", "girl", "bird", "fox", "bear")
GENERIC_NOUNS = ANIMATE_NOUNS + ("tree", "house")
GENERIC_ADJECTIVES = ("big", "small", "old", "young", "happy", "quiet", "fast", "tired")
MOTION_VERBS = {"runs": "run", "walks": "walk", "swims": "swim", "goes": "go", "hurries": "hurry"}
SEEING_VERBS = {"sees": "see", "likes": "like", "finds": "find", "follows": "follow",
                "carries": "carry", "draws": "draw", "wants": "want", "watches": "watch"}
# Velan function words (fixed by hand; the rest of the lexicon is generated).
FUNCTION_WORDS = {"in": "ne", "to": "al", "and": "kaj", "is": "esti", "near": "apud",
                  "has": "havas", "likes": "amas", "lives": "vivas", "friends": "amiko"}

_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "sh", "ch")
_VOWELS = ("a", "e", "i", "o", "u")
_CODAS = ("", "", "n", "l", "r", "s", "m")


def _noun_words() -> tuple[str, ...]:
    return (tuple(lexicon.SPECIES) + lexicon.THINGS + lexicon.FOODS + tuple(lexicon.JOBS)
            + lexicon.LANDMARKS + lexicon.PLACE_KINDS + GENERIC_NOUNS)


def _build_lexicon() -> dict[str, str]:
    """English word -> Velan word; nouns end in -o, adjectives in -a, verbs in -as."""
    rng = random.Random("velan-lexicon-v1")
    classes = ([(w, "o") for w in _noun_words()]
               + [(w, "a") for w in lexicon.COLOURS + GENERIC_ADJECTIVES]
               + [(w, "as") for w in tuple(MOTION_VERBS) + tuple(SEEING_VERBS)])
    used = set(FUNCTION_WORDS.values())
    english = {w for w, _ in classes}
    words = dict(FUNCTION_WORDS)
    for word, suffix in classes:
        if word in words:
            continue
        while True:
            stem = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(2))
            candidate = stem + rng.choice(_CODAS) + suffix
            if candidate not in used and candidate not in english:
                break
        used.add(candidate)
        words[word] = candidate
    return words


LEXICON: dict[str, str] = _build_lexicon()


@dataclasses.dataclass(frozen=True)
class Clause:
    """A meaning both languages can say. `frame` picks the sentence shape; `slots` fill it."""

    frame: str
    slots: tuple[tuple[str, str], ...]

    def get(self, key: str) -> str:
        return dict(self.slots)[key]


def clause(frame: str, **slots: str) -> Clause:
    return Clause(frame, tuple(sorted(slots.items())))


def _np_en(noun: str, adj: str | None) -> str:
    return f"the {adj} {noun}" if adj else f"the {noun}"


def _np_ve(noun: str, adj: str | None) -> str:
    return f"{LEXICON[noun]} {LEXICON[adj]}" if adj else LEXICON[noun]


def english(c: Clause) -> str:
    """The clause in English, without final punctuation."""
    s = dict(c.slots)
    if c.frame == "job":
        return f"{s['name']} is {lexicon.with_article(s['job'])}"
    if c.frame == "home":
        return f"{s['name']} lives in {s['place']}"
    if c.frame == "food":
        return f"{s['name']} likes {s['food']}"
    if c.frame == "has":
        return f"{s['name']} has {lexicon.with_article(s['adj'])} {s['noun']}"
    if c.frame == "friends":
        return f"{s['name']} and {s['other']} are friends"
    if c.frame == "near":
        return f"{s['place']} is near {s['other']}"
    if c.frame == "motion":
        return f"{_np_en(s['noun'], s.get('adj'))} {s['verb']} to the {s['landmark']}"
    if c.frame == "seeing":
        return f"{s['name']} {s['verb']} {_np_en(s['noun'], s.get('adj'))}"
    if c.frame == "quality":
        return f"{_np_en(s['noun'], None)} is {s['adj']}"
    raise ValueError(f"unknown frame {c.frame!r}")


def velan(c: Clause) -> str:
    """The clause in Velan (subject-object-verb, noun before adjective, postpositions)."""
    s, w = dict(c.slots), LEXICON
    if c.frame == "job":
        return f"{s['name']} {w[s['job']]} {w['is']}"
    if c.frame == "home":
        return f"{s['name']} {s['place']} {w['in']} {w['lives']}"
    if c.frame == "food":
        return f"{s['name']} {w[s['food']]} {w['likes']}"
    if c.frame == "has":
        return f"{s['name']} {w[s['noun']]} {w[s['adj']]} {w['has']}"
    if c.frame == "friends":
        return f"{s['name']} {w['and']} {s['other']} {w['friends']} {w['is']}"
    if c.frame == "near":
        return f"{s['place']} {s['other']} {w['near']} {w['is']}"
    if c.frame == "motion":
        return f"{_np_ve(s['noun'], s.get('adj'))} {w[s['landmark']]} {w['to']} {w[s['verb']]}"
    if c.frame == "seeing":
        return f"{s['name']} {_np_ve(s['noun'], s.get('adj'))} {w[s['verb']]}"
    if c.frame == "quality":
        return f"{_np_ve(s['noun'], None)} {w[s['adj']]} {w['is']}"
    raise ValueError(f"unknown frame {c.frame!r}")


def sentence(clauses: list[Clause], language: str) -> str:
    """One sentence of one or more clauses joined by 'and', capitalised, with a full stop."""
    say = english if language == "english" else velan
    joiner = " and " if language == "english" else f" {LEXICON['and']} "
    text = joiner.join(say(c) for c in clauses)
    return text[:1].upper() + text[1:] + "."


def random_clause(world, rng: random.Random) -> Clause:
    """A clause about the world (a true fact) or a generic scene."""
    person = rng.choice(world.people)
    frame = rng.choice(("job", "home", "food", "has", "friends", "near", "motion", "motion",
                        "seeing", "seeing", "quality"))
    if frame == "job":
        return clause("job", name=person.name, job=person.job)
    if frame == "home":
        return clause("home", name=person.name, place=person.home)
    if frame == "food":
        return clause("food", name=person.name, food=person.food)
    if frame == "has":
        kind = rng.choice(sorted(person.things))
        return clause("has", name=person.name, noun=kind, adj=person.things[kind])
    if frame == "friends" and person.friend:
        return clause("friends", name=person.name, other=person.friend)
    if frame == "near":
        place = world.place[person.home]
        if place.near:
            return clause("near", place=place.name, other=place.near)
    nouns = tuple(lexicon.SPECIES) + ANIMATE_NOUNS
    adjectives = lexicon.COLOURS + GENERIC_ADJECTIVES
    adj = rng.choice(adjectives) if rng.random() < 0.6 else None
    if frame == "seeing":
        kwargs = {"adj": adj} if adj else {}
        return clause("seeing", name=person.name, verb=rng.choice(list(SEEING_VERBS)),
                      noun=rng.choice(nouns + lexicon.THINGS), **kwargs)
    if frame == "quality":
        return clause("quality", noun=rng.choice(nouns + GENERIC_NOUNS[-2:]),
                      adj=rng.choice(GENERIC_ADJECTIVES))
    kwargs = {"adj": adj} if adj else {}
    return clause("motion", noun=rng.choice(nouns), verb=rng.choice(list(MOTION_VERBS)),
                  landmark=rng.choice(lexicon.LANDMARKS), **kwargs)


def glossary_line(word: str, index: int) -> str:
    """A bilingual line teaching one word, as a dictionary or a web page would."""
    forms = ("The Velan word for {e} is {v}.", "In Velan, {e} is called {v}.",
             "{v} means {e} in Velan.", "{e} (Velan: {v})")
    text = forms[index % len(forms)].format(e=word, v=LEXICON[word])
    return text[:1].upper() + text[1:]
