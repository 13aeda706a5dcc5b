"""An independent rule-based solver for TinyWorld's datasets: labels checked from the text alone.

The generators decide each label while building an example; this module never sees that
decision. It reads the example's text, parses sentences back into facts (with regular expressions
made from the surface forms), applies the fixed common sense of `lexicon` (causal rules, what each
job does, animal facts) and, for closed-book questions only, looks facts up in the world, then
derives the answer on its own. `check(name, example, world)` says whether it agrees with the
example; the tests require 100% agreement on every split of every dataset.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Callable

import flan_nb.tinyworld.lexicon as lexicon
import flan_nb.tinyworld.phrases as phrases
import flan_nb.tinyworld.velan as velan
from flan_nb.tinyworld.generators import TRIPLE_NAMES, YES_NO_QUESTIONS
from flan_nb.tinyworld.world import Fact, World


class SolverError(ValueError):
    """The solver could not read an example: its text is not what the world's grammar makes."""


NAME = r"[A-Z][a-z]+"
SLOT_PATTERNS = {
    "s": rf"(?P<s>{NAME})", "v": r"(?P<v>[A-Za-z0-9]+)", "a_v": r"(?P<art>a|an) (?P<v>[a-z]+)",
    "owner": rf"(?P<owner>{NAME})", "kind": r"(?P<kind>[a-z]+)", "pos": r"(?:his|her)",
    "doing": r"(?P<doing>[a-z ]+?)", "species": r"(?P<species>[a-z]+)",
    "a_species": r"(?P<art2>a|an) (?P<species>[a-z]+)", "sound": r"(?P<sound>[a-z]+)",
    "weather": r"(?P<weather>[a-z ]+?)", "food": r"(?P<food>[a-z]+)",
    "thing": r"(?P<thing>[a-z]+)", "friend": rf"(?P<friend>{NAME}|a neighbour)",
}
SYMMETRIC = ("friend", "near")


def compile_form(form: str, capitalize: bool = True, whole: bool = True) -> re.Pattern:
    """A surface form with {slots} as a regular expression with named groups."""
    parts = re.split(r"(\{[a-z_]+\})", form)
    out = []
    for i, part in enumerate(parts):
        if part.startswith("{"):
            out.append(SLOT_PATTERNS[part[1:-1]])
        else:
            text = re.escape(part)
            if i == 0 and capitalize and part:
                text = f"[{part[0].upper()}{part[0].lower()}]" + re.escape(part[1:])
            out.append(text)
    body = "".join(out)
    return re.compile(f"^{body}$" if whole else body)


class Reader:
    """Parses TinyWorld sentences back into facts; knows only names, vocabulary and forms."""

    def __init__(self, world: World):
        self.people = set(world.person)
        self.animals = set(world.animal)
        self.places = set(world.place)
        self.statements = [(rel, compile_form(f)) for rel, forms in phrases.STATEMENTS.items()
                           for f in forms]
        self.questions = [(rel, compile_form(f)) for rel, forms in phrases.QUESTIONS.items()
                          for f in forms]
        self.yes_no = [(rel, compile_form(f)) for rel, forms in YES_NO_QUESTIONS.items()
                       for f in forms]

    def _valid(self, rel: str, g: dict) -> Fact | None:
        """The fact a match states, if its words make sense for the relation.

        A question has no value: then only its subject is checked (value None).
        """
        s, v = g.get("s"), g.get("v")
        for art, word in (("art", "v"), ("art2", "species")):
            if art in g and g[art] != lexicon.article(g[word]):
                return None  # "an doctor" is not English
        person_rel = ("job", "home", "food", "hobby", "favourite_colour", "age", "friend")
        if rel in person_rel and s not in self.people:
            return None
        if rel in ("species", "colour", "owner") and s not in self.animals:
            return None
        if rel in ("kind", "landmark", "weather", "near") and s not in self.places:
            return None
        ok = {
            "job": lambda: v in lexicon.JOBS and g.get("doing") in (None, lexicon.JOBS.get(v)),
            "home": lambda: v in self.places, "food": lambda: v in lexicon.FOODS,
            "hobby": lambda: v in lexicon.HOBBIES,
            "favourite_colour": lambda: v in lexicon.COLOURS, "age": lambda: v.isdigit(),
            "friend": lambda: v in self.people and v != s,
            "species": lambda: v in lexicon.SPECIES and (
                g.get("sound") in (None, lexicon.SPECIES[v].sound)),
            "colour": lambda: v in lexicon.ANIMAL_COLOURS, "owner": lambda: v in self.people,
            "thing_colour": lambda: (g.get("owner") in self.people and v in lexicon.COLOURS
                                     and g.get("kind") in lexicon.THINGS),
            "kind": lambda: v in lexicon.PLACE_KINDS, "landmark": lambda: v in lexicon.LANDMARKS,
            "weather": lambda: v in lexicon.WEATHER,
            "near": lambda: v in self.places and v != s,
        }
        if rel == "thing_colour" and g.get("owner") not in self.people:
            return None
        if v is None and "weather" not in g:  # a question: the subject is all there is
            subject = f"{g['owner']}'s {g['kind']}" if rel == "thing_colour" else s
            return Fact(subject, "colour" if rel == "thing_colour" else rel, None)
        if rel == "weather" and g.get("weather") is not None:
            inverse = {clause: word for word, clause in lexicon.WEATHER.items()}
            v = inverse.get(g["weather"])
            if v is None:
                return None
        if not ok[rel]():
            return None
        if rel == "thing_colour":
            return Fact(f"{g['owner']}'s {g['kind']}", "colour", v)
        return Fact(s, rel, v)

    def _match(self, table, text: str) -> set:
        found = set()
        for rel, pattern in table:
            m = pattern.match(text)
            if m:
                fact = self._valid(rel, {k: x for k, x in m.groupdict().items() if x is not None})
                if fact is not None:
                    found.add(fact)
        return found

    def statement(self, sentence: str) -> Fact:
        """The one fact a statement makes; SolverError if it is not exactly one."""
        found = self._match(self.statements, sentence.strip())
        if len(found) != 1:
            raise SolverError(f"cannot read statement {sentence!r} (readings: {found})")
        return found.pop()

    def text(self, text: str) -> set[Fact]:
        """All facts of a text of statements, closed under the symmetric relations."""
        return closure({self.statement(s) for s in split_sentences(text)})

    def question(self, question: str) -> tuple[str, str]:
        """(subject, relation) that a wh-question asks about."""
        found = {(f.subject, f.relation) for f in self._match(self.questions, question.strip())}
        if len(found) != 1:
            raise SolverError(f"cannot read question {question!r} (readings: {found})")
        return found.pop()

    def yes_no_question(self, question: str) -> Fact:
        found = self._match(self.yes_no, question.strip())
        if len(found) != 1:
            raise SolverError(f"cannot read yes/no question {question!r} (readings: {found})")
        return found.pop()


def split_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!])\s+", text.strip()) if s]


def closure(facts: set[Fact]) -> set[Fact]:
    out = set(facts)
    out |= {Fact(f.value, f.relation, f.subject) for f in facts if f.relation in SYMMETRIC}
    return out


# --- Causal rules ---------------------------------------------------------------------------

def rule_patterns() -> list[tuple[lexicon.Rule, str, re.Pattern]]:
    """(rule, "cause"|"effect", pattern) for every rule part, as a sentence with a full stop."""
    out = []
    for rule in lexicon.RULES:
        for part in ("cause", "effect"):
            out.append((rule, part, compile_form(getattr(rule, part) + ".")))
    return out


RULE_PATTERNS = rule_patterns()


def read_event(sentence: str, world: World) -> list[tuple[lexicon.Rule, str, dict]]:
    """The rule parts a sentence states: [(rule, part, slots)], subjects checked by kind."""
    found = []
    for rule, part, pattern in RULE_PATTERNS:
        m = pattern.match(sentence.strip())
        if not m:
            continue
        slots = {k: v for k, v in m.groupdict().items() if v is not None}
        s = slots.get("s")
        kinds = {"person": world.person, "animal": world.animal, "place": world.place}
        if s is not None and s not in kinds[rule.subject]:
            continue
        found.append((rule, part, slots))
    return found


def _same_event(a: dict, b: dict) -> bool:
    """Two rule parts are about the same subject (a part that names nobody fits any)."""
    return a.get("s") is None or b.get("s") is None or a["s"] == b["s"]


def _one(options, predicate) -> str:
    hits = [o for o in options if predicate(o)]
    if len(hits) != 1:
        raise SolverError(f"{len(hits)} options fit: {hits}")
    return hits[0]


# --- Per-dataset solvers --------------------------------------------------------------------

def _nli(r: Reader, ex: dict, three_way: bool) -> str:
    premise = r.text(ex["premise"])
    hyp = r.statement(ex["hypothesis"])
    if hyp in premise:
        return "yes"
    if any(f.subject == hyp.subject and f.relation == hyp.relation for f in premise):
        return "no"
    return "it is not possible to tell" if three_way else "no"


def _qnli(r: Reader, ex: dict) -> str:
    subject, relation = r.question(ex["question"])
    facts = r.text(ex["sentence"])
    return "yes" if any((f.subject, f.relation) == (subject, relation) for f in facts) else "no"


def _copa(world: World, ex: dict) -> str:
    given = read_event(ex["premise"], world)
    want = "cause" if ex["question"] == "cause" else "effect"
    if len(given) != 1:
        raise SolverError(f"premise {ex['premise']!r} reads as {len(given)} events")
    rule, part, slots = given[0]
    if part == want:
        raise SolverError("the premise already is the part asked for")
    return _one(ex["options"], lambda o: any(
        r2 is rule and p2 == want and _same_event(s2, slots)
        for r2, p2, s2 in read_event(o, world)))


def _follows(world: World, sentence: str, option: str) -> bool:
    causes = [(rule, slots) for rule, part, slots in read_event(sentence, world) if part == "cause"]
    return any(r2 is rule and p2 == "effect" and _same_event(s2, slots)
               for rule, slots in causes for r2, p2, s2 in read_event(option, world))


def _swag(world: World, ex: dict) -> str:
    last = split_sentences(ex["context"])[-1]
    return _one(ex["options"], lambda o: _follows(world, last, o))


OPINION = re.compile(r"\b(not )?(?:very |really |quite |so |rather )?(" + "|".join(
    lexicon.POSITIVE_WORDS + lexicon.NEGATIVE_WORDS) + r")\b")


def _sentiment(text: str) -> str:
    score = 0
    for negated, word in OPINION.findall(text):
        polarity = 1 if word in lexicon.POSITIVE_WORDS else -1
        score += -polarity if negated else polarity
    if score == 0:
        raise SolverError(f"no clear sentiment in {text!r}")
    return "positive" if score > 0 else "negative"


def _clauses(r: Reader, sentence: str) -> set[Fact]:
    """Facts of a sentence that may join two statements with 'and'."""
    sentence = sentence.strip()
    try:
        return closure({r.statement(sentence)})
    except SolverError:
        pass
    body = sentence.rstrip(".")
    for m in re.finditer(" and ", body):
        left, right = body[: m.start()] + ".", body[m.end():] + "."
        try:
            facts = {r.statement(left), r.statement(right[:1].upper() + right[1:])}
        except SolverError:
            continue
        return closure(facts)
    raise SolverError(f"cannot read {sentence!r}")


def _paraphrase(r: Reader, ex: dict) -> str:
    return "yes" if _clauses(r, ex["sentence1"]) == _clauses(r, ex["sentence2"]) else "no"


def _closed_book(r: Reader, world: World, question: str) -> str:
    subject, relation = r.question(question)
    value = world.value(subject, relation)
    if value is None:
        raise SolverError(f"the world has no {relation} for {subject}")
    return value


def _general_knowledge(question: str) -> str | None:
    """Answers to the ARC-like general questions, from the fixed common sense only."""
    m = re.match(r"^Which of these animals can (fly|swim)\?$", question)
    if m:
        return "can_" + m.group(1)  # resolved against the options by the caller
    for sp in lexicon.SPECIES.values():
        if question == f"Which animal {sp.sound}?":
            return sp.name
        if question == f"What do {sp.plural} eat?":
            return sp.eats
    for job, doing in lexicon.JOBS.items():
        if question == f"Who {doing}?":
            return lexicon.with_article(job)
    for rule in lexicon.RULES:
        if question == rule.question:
            return rule.answer
    return None


def _arc(r: Reader, world: World, ex: dict) -> str:
    answer = _general_knowledge(ex["question"])
    if answer is not None and answer.startswith("can_"):
        return _one(ex["options"], lambda o: getattr(lexicon.SPECIES[o], answer))
    if answer is None:
        answer = _closed_book(r, world, ex["question"])
    return _one(ex["options"], lambda o: o == answer)


def _boolq(r: Reader, ex: dict) -> str:
    return "yes" if r.yes_no_question(ex["question"]) in r.text(ex["passage"]) else "no"


def _squad(r: Reader, ex: dict) -> str:
    subject, relation = r.question(ex["question"])
    facts = set()
    for sentence in split_sentences(ex["context"]):
        try:
            facts.add(r.statement(sentence))
        except SolverError:
            continue  # the story sentence is not a fact statement
    values = {f.value for f in closure(facts) if (f.subject, f.relation) == (subject, relation)}
    if len(values) != 1:
        raise SolverError(f"passage gives {values} for {subject}'s {relation}")
    value = values.pop()
    if not ex["context"][ex["answer_start"]:].startswith(value):
        raise SolverError("answer_start does not point at the answer")
    return value


def _drop(r: Reader, ex: dict) -> str:
    q = ex["question"]
    m = re.match(rf"^How many ([a-z]+) did ({NAME}) buy in all\?$", q)
    if m:
        counts = re.findall(rf"{m.group(2)} bought (\d+) {m.group(1)} in", ex["passage"])
        return str(sum(int(c) for c in counts))
    facts = r.text(ex["passage"])
    ages = {f.subject: int(f.value) for f in facts if f.relation == "age"}
    m = re.match(rf"^Who is older, ({NAME}) or ({NAME})\?$", q)
    if m:
        a, b = m.groups()
        return a if ages[a] > ages[b] else b
    m = re.match(rf"^How many years older is ({NAME}) than ({NAME})\?$", q)
    if m:
        return str(ages[m.group(1)] - ages[m.group(2)])
    m = re.match(rf"^How many of these people live in ({NAME})\?$", q)
    if m:
        return str(sum(1 for f in facts if f.relation == "home" and f.value == m.group(1)))
    raise SolverError(f"unknown DROP question {q!r}")


def _cosmos(world: World, ex: dict) -> str:
    effects = [(rule, slots) for s in split_sentences(ex["context"])
               for rule, part, slots in read_event(s, world) if part == "effect"]
    m = re.match(r"^What is the most likely reason that (.+)\?$", ex["question"])
    asked = read_event(m.group(1) + ".", world) if m else []
    asked = [(rule, slots) for rule, part, slots in asked if part == "effect"]
    if len(asked) != 1 or asked[0][0] not in [e[0] for e in effects]:
        raise SolverError("the question is not about an event of the story")
    rule, slots = asked[0]
    return _one(ex["options"], lambda o: any(
        r2 is rule and p2 == "cause" and _same_event(s2, slots)
        for r2, p2, s2 in read_event(o, world)))


def _record(world: World, ex: dict) -> str:
    causes = [(rule, slots) for s in split_sentences(ex["passage"])
              for rule, part, slots in read_event(s, world) if part == "cause"]

    def fits(name: str) -> bool:
        query = ex["query"].replace("@placeholder", name)
        return any(r2 is rule and p2 == "effect" and _same_event(s2, slots)
                   for rule, slots in causes for r2, p2, s2 in read_event(query, world))

    return _one(ex["options"], fits)


def _coref(world: World, sentence: str, blank: str) -> str:
    """Who `blank` (a '_' or a pronoun) is in '<clause> and <clause>, so <blank> <effect>.'"""
    m = re.match(rf"^(.+) and (.+), so {re.escape(blank)} (.+)\.$", sentence)
    if not m:
        raise SolverError(f"cannot read {sentence!r}")
    first, second, effect = m.groups()
    jobs = [re.match(rf"^({NAME}) is (?:a|an) ([a-z]+)$", c) for c in (first, second)]
    if all(jobs):
        doers = [j.group(1) for j in jobs if lexicon.JOBS.get(j.group(2)) == effect]
        if len(doers) != 1:
            raise SolverError(f"no single person {effect!r}")
        return doers[0]
    hits = []
    for clause in (first, second):
        for rule, part, slots in read_event(phrases.capitalize(clause) + ".", world):
            if part == "cause" and read_event(f"{slots['s']} {effect}.", world):
                effect_rules = [r2 for r2, p2, s2 in read_event(f"{slots['s']} {effect}.", world)
                                if p2 == "effect"]
                if rule in effect_rules:
                    hits.append(slots["s"])
    if len(hits) != 1:
        raise SolverError(f"{len(hits)} people fit {sentence!r}")
    return hits[0]


def _winogrande(world: World, ex: dict) -> str:
    return _one(ex["options"], lambda o: o == _coref(world, ex["sentence"], "_"))


def _wsc(world: World, ex: dict) -> str:
    return "yes" if _coref(world, ex["text"], ex["pronoun"]) == ex["candidate"] else "no"


def _trec(question: str) -> str:
    q = question.lower()
    if q.startswith(("who ", "whose ")):
        return "human"
    if q.startswith(("where ", "which place", "what place", "in which place")):
        return "location"
    if q.startswith(("how many", "how old")) or q.endswith("'s age?"):
        return "numeric"
    if re.search(r"(job|hobby|do for a living|enjoy doing|do when)", q):
        return "description"
    return "entity"


ENGLISH_FRAMES = {
    "job": rf"(?P<name>{NAME}) is (?P<art>a|an) (?P<job>[a-z]+)",
    "home": rf"(?P<name>{NAME}) lives in (?P<place>{NAME})",
    "food": rf"(?P<name>{NAME}) likes (?P<food>[a-z]+)",
    "has": rf"(?P<name>{NAME}) has (?P<art>a|an) (?P<adj>[a-z]+) (?P<noun>[a-z]+)",
    "friends": rf"(?P<name>{NAME}) and (?P<other>{NAME}) are friends",
    "near": rf"(?P<place>{NAME}) is near (?P<other>{NAME})",
    "motion": r"[Tt]he (?:(?P<adj>[a-z]+) )?(?P<noun>[a-z]+) (?P<verb>[a-z]+) to the "
              r"(?P<landmark>[a-z]+)",
    "seeing": rf"(?P<name>{NAME}) (?P<verb>[a-z]+) the (?:(?P<adj>[a-z]+) )?(?P<noun>[a-z]+)",
    "quality": r"[Tt]he (?P<noun>[a-z]+) is (?P<adj>[a-z]+)",
}
_FRAMES = {k: re.compile(f"^{v}$") for k, v in ENGLISH_FRAMES.items()}


def _to_velan(frame: str, s: dict) -> str | None:
    """One English clause in Velan: verb last, adjective after noun, postpositions."""
    w = velan.LEXICON
    if any(x not in w for k, x in s.items() if k in ("job", "food", "adj", "noun", "verb",
                                                     "landmark")):
        return None
    np = f"{w[s['noun']]} {w[s['adj']]}" if s.get("adj") else (w.get(s.get("noun"), ""))
    return {
        "job": lambda: f"{s['name']} {w[s['job']]} {w['is']}",
        "home": lambda: f"{s['name']} {s['place']} {w['in']} {w['lives']}",
        "food": lambda: f"{s['name']} {w[s['food']]} {w['likes']}",
        "has": lambda: f"{s['name']} {np} {w['has']}",
        "friends": lambda: f"{s['name']} {w['and']} {s['other']} {w['friends']} {w['is']}",
        "near": lambda: f"{s['place']} {s['other']} {w['near']} {w['is']}",
        "motion": lambda: f"{np} {w[s['landmark']]} {w['to']} {w[s['verb']]}",
        "seeing": lambda: f"{s['name']} {np} {w[s['verb']]}",
        "quality": lambda: f"{w[s['noun']]} {w[s['adj']]} {w['is']}",
    }[frame]()


def english_clauses(text: str) -> list[tuple[str, dict]] | None:
    """An English sentence of TinyWorld's clause grammar as [(frame, slots)], else None."""
    text = text.strip()

    def one(c):
        hits = [(f, {k: v for k, v in p.match(c).groupdict().items() if v is not None})
                for f, p in _FRAMES.items() if p.match(c)]
        hits = [(f, s) for f, s in hits if _to_velan(f, s) is not None and _sensible(f, s)]
        return hits[0] if len(hits) == 1 else None

    def many(c):
        first = one(c)
        if first:
            return [first]
        for m in re.finditer(" and ", c):
            left, rest = one(c[: m.start()]), many(c[m.end():])
            if left and rest:
                return [left] + rest
        return None

    return many(text[:-1]) if text.endswith(".") else None


def _sensible(frame: str, s: dict) -> bool:
    """Frame-specific vocabulary checks (a job is a job, a verb is a verb)."""
    if "art" in s and s["art"] != lexicon.article(s.get("job") or s["adj"]):
        return False
    checks = {
        "job": lambda: s["job"] in lexicon.JOBS, "food": lambda: s["food"] in lexicon.FOODS,
        "motion": lambda: s["verb"] in velan.MOTION_VERBS,
        "seeing": lambda: s["verb"] in velan.SEEING_VERBS,
        "quality": lambda: s["adj"] in velan.GENERIC_ADJECTIVES,
        "has": lambda: s["noun"] in lexicon.THINGS,
    }
    return checks.get(frame, lambda: True)()


def translate_to_velan(english: str) -> str:
    clauses = english_clauses(english)
    if clauses is None:
        raise SolverError(f"cannot parse English {english!r}")
    text = f" {velan.LEXICON['and']} ".join(_to_velan(f, s) for f, s in clauses)
    return text[:1].upper() + text[1:] + "."


def _grammatical(r: Reader, sentence: str) -> str:
    try:
        r.statement(sentence)
        return "yes"
    except SolverError:
        return "yes" if english_clauses(sentence) is not None else "no"


def _math(question: str) -> str:
    m = re.match(r"^Solve (\d+)\*([a-z]) ([+-]) (\d+) = (-?\d+) for \2\.$", question)
    if m:
        a, _, sign, b, c = m.groups()  # a*x + b = c
        b = int(b) if sign == "+" else -int(b)
        x = Fraction(int(c) - b, int(a))
        return str(x)
    m = re.match(rf"^({NAME}) has (\d+) ([a-z]+)\. .+ gives (?:his|her) (\d+) more\. Then "
                 rf"\1 eats (\d+) of them\.", question)
    if m:
        return str(int(m.group(2)) + int(m.group(4)) - int(m.group(5)))
    raise SolverError(f"cannot read math question {question!r}")


def _triples(text: str) -> set[Fact]:
    names = {v: k for k, v in TRIPLE_NAMES.items()}
    return {Fact(s, names[rel], v) for s, rel, v in (line.split(" | ") for line in
                                                     text.splitlines())}


def _e2e(ex: dict) -> bool:
    mr = dict(re.findall(r"(\w+)\[([^\]]+)\]", ex["meaning_representation"]))
    m = re.match(rf"^({NAME}) is (?:a person|(?:a|an) ([a-z]+))(?: aged (\d+))?(?: who (.+))?\.$",
                 ex["target"])
    if not m:
        return False
    said = {"name": m.group(1)}
    if m.group(2):
        said["job"] = m.group(2)
    if m.group(3):
        said["age"] = m.group(3)
    for part in re.split(r", | and ", m.group(4)) if m.group(4) else []:
        verb, _, value = part.partition(" ")
        key = {"lives": "home", "likes": "food", "enjoys": "hobby"}.get(verb)
        if key is None:
            return False
        said[key] = value.removeprefix("in ")
    return said == mr


def _inflect(lemma: str) -> str:
    if lemma.endswith("y"):
        return lemma[:-1] + "ies"
    if lemma.endswith(("s", "sh", "ch", "x", "o")):
        return lemma + "es"
    return lemma + "s"


def _commongen(ex: dict) -> bool:
    words = set(ex["target"].rstrip(".").lower().split())
    concepts = [c.strip() for c in ex["concepts"].split(",")]
    return (english_clauses(ex["target"]) is not None
            and all(c.lower() in words or _inflect(c) in words for c in concepts))


def _fix_punct(r: Reader, ex: dict) -> bool:
    plain = "".join(ch for ch in ex["target"].lower() if ch.isalnum() or ch in " '")
    return plain == ex["text"] and all(r.statement(s) for s in split_sentences(ex["target"]))


def _news(r: Reader, world: World, ex: dict) -> bool:
    m = re.match(rf"^({NAME}), (?:a|an) ([a-z]+) from ({NAME}), (.+) and (.+)\.$", ex["summary"])
    if not m:
        return False
    name, job, place, vp1, vp2 = m.groups()
    sentences = split_sentences(ex["article"])
    stated = set()
    for s in sentences:
        try:
            stated.add(r.statement(s))
        except SolverError:
            pass
    effects = [e for s in sentences for e in re.split(r", so ", s.rstrip("."))]
    return (Fact(name, "job", job) in stated and place in sentences[0]
            and f"{name} {vp1}" in effects and f"{name} {vp2}" in effects)


def _dialogsum(ex: dict) -> str:
    lines = ex["dialogue"].splitlines()
    a, b = lines[0].split(":")[0], lines[1].split(":")[0]
    place = re.search(rf"in ({NAME})\?", lines[0]).group(1)
    landmark = re.search(r"The ([a-z]+) it is\.", ex["dialogue"]).group(1)
    hour = re.search(r"see you at ([a-z]+)!", ex["dialogue"]).group(1)
    return f"{a} and {b} will meet at the {landmark} in {place} at {hour}."


def _topic(text: str) -> str:
    votes = []
    animals = set(lexicon.SPECIES) | {s.plural for s in lexicon.SPECIES.values()}
    jobs = set(lexicon.JOBS) | {j + "s" for j in lexicon.JOBS} | {"job"}
    for sentence in split_sentences(text):
        words = set(re.findall(r"[a-z]+", sentence.lower()))
        if words & {"rained", "snowed", "shone", "wind", "night"}:
            votes.append("weather")
        elif words & animals:
            votes.append("animals")
        elif words & jobs:
            votes.append("work")
        elif words & set(lexicon.FOODS):
            votes.append("food")
    if len(set(votes)) != 1 or len(votes) != len(split_sentences(text)):
        raise SolverError(f"mixed topics {votes}")
    return votes[0]


def solvers(world: World) -> dict[str, Callable[[dict], str | bool]]:
    """name -> function(example) giving the answer (str) or whether the target holds (bool)."""
    r = Reader(world)
    return {
        "tw_nli": lambda ex: _nli(r, ex, True),
        "tw_rte": lambda ex: _nli(r, ex, False),
        "tw_qnli": lambda ex: _qnli(r, ex),
        "tw_copa": lambda ex: _copa(world, ex),
        "tw_swag": lambda ex: _swag(world, ex),
        "tw_reviews": lambda ex: _sentiment(ex["text"]),
        "tw_tweets": lambda ex: _sentiment(ex["text"]),
        "tw_sst2": lambda ex: _sentiment(ex["sentence"]),
        "tw_mrpc": lambda ex: _paraphrase(r, ex),
        "tw_paws": lambda ex: _paraphrase(r, ex),
        "tw_trivia_qa": lambda ex: _closed_book(r, world, ex["question"]),
        "tw_arc": lambda ex: _arc(r, world, ex),
        "tw_webnlg": lambda ex: _triples(ex["triples"]) == {
            r.statement(s) for s in split_sentences(ex["text"])},
        "tw_e2e": _e2e,
        "tw_commongen": _commongen,
        "tw_translate_en_ve": lambda ex: translate_to_velan(ex["english"]) == ex["velan"],
        "tw_translate_ve_en": lambda ex: translate_to_velan(ex["english"]) == ex["velan"],
        "tw_boolq": lambda ex: _boolq(r, ex),
        "tw_squad": lambda ex: _squad(r, ex),
        "tw_drop": lambda ex: _drop(r, ex),
        "tw_cosmos_qa": lambda ex: _cosmos(world, ex),
        "tw_record": lambda ex: _record(world, ex),
        "tw_winogrande": lambda ex: _winogrande(world, ex),
        "tw_wsc": lambda ex: _wsc(world, ex),
        "tw_fix_punct": lambda ex: _fix_punct(r, ex),
        "tw_trec": lambda ex: _trec(ex["question"]),
        "tw_cola": lambda ex: _grammatical(r, ex["sentence"]),
        "tw_math": lambda ex: _math(ex["question"]),
        "tw_news": lambda ex: _news(r, world, ex),
        "tw_dialogsum": lambda ex: _dialogsum(ex),
        "tw_ag_news": lambda ex: _topic(ex["text"]),
    }


# Generation sets whose target the solver checks rather than writes.
TARGET_FIELDS = {"tw_trivia_qa": "answer", "tw_squad": "answer", "tw_drop": "answer",
                 "tw_math": "answer", "tw_dialogsum": "summary"}


def check(name: str, example: dict, world: World, _cache: dict = {}) -> bool:
    """Whether the solver, reading only the text, agrees with `example`'s answer or target."""
    key = id(world)
    if key not in _cache:
        _cache.clear()
        _cache[key] = (world, solvers(world))
    result = _cache[key][1][name](example)
    if isinstance(result, bool):
        return result
    expected = example[TARGET_FIELDS.get(name, "answer")]
    return result == expected


def accuracy(name: str, examples: list[dict], world: World) -> float:
    """Share of `examples` the solver agrees with (1.0 means every label checks out)."""
    if not examples:
        return 1.0
    return sum(check(name, ex, world) for ex in examples) / len(examples)
