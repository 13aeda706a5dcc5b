"""TinyWorld's pretraining corpus: the world's facts, stories, quizzes and some Velan.

Like web text, the corpus mixes kinds of documents: profiles that state facts in many phrasings,
stories in which the causal rules play out, an encyclopedia of general knowledge, naturally
occurring questions and answers (FAQs, quizzes, dialogues, classroom exchanges), generic
narration, and text in Velan with a few bilingual pages. It never contains a dataset example.

Coverage is guaranteed, not left to chance: every fact appears in every one of its phrasings at
least once, and every piece of general knowledge is stated; random documents then fill the corpus
up to its target size. Facts in `world.statement_only` are never asked about in the question and
answer documents, so closed-book QA evaluated on them tests recall of statements; likewise the
general-knowledge questions held out for evaluation are never quizzed.
"""

from __future__ import annotations

import random
from typing import Callable

import flan_nb.tinyworld.lexicon as lexicon
import flan_nb.tinyworld.phrases as phrases
import flan_nb.tinyworld.velan as velan
from flan_nb.errors import UserError
from flan_nb.tinyworld.generators import held_out_question
from flan_nb.tinyworld.world import Fact, World, rng_for, size_spec

# Document kind -> share of the documents drawn after the coverage pass.
MIX = {"profile": 0.16, "story": 0.34, "encyclopedia": 0.06, "faq": 0.08, "dialogue": 0.08,
       "quiz": 0.06, "classroom": 0.04, "generic": 0.08, "velan": 0.07, "bilingual": 0.03}
# The kinds that ask questions in the open (FAQs, quizzes, dialogues, classroom exchanges).
QUESTION_KINDS = ("faq", "dialogue", "quiz", "classroom")
# Named variants of MIX, for the "what the corpus contains" sweep (notebook 07's CORPUS
# "tinyworld/<size>/<mix>"): the coverage pass is the same in each, so every corpus states every
# fact in every phrasing; only the documents drawn after it change.
DEFAULT_MIX = "default"
CORPUS_MIXES = {
    DEFAULT_MIX: MIX,
    "no-questions": {k: (0.0 if k in QUESTION_KINDS else w) for k, w in MIX.items()},
    "more-questions": {k: (3 * w if k in QUESTION_KINDS else w) for k, w in MIX.items()},
}
NUMBERS = {2: "two", 4: "four"}


def check_mix(mix: str) -> str:
    """`mix` if it names a corpus mix, else one UserError listing them."""
    if mix not in CORPUS_MIXES:
        raise UserError(f"unknown TinyWorld corpus mix {mix!r}: choose one of "
                        f"{', '.join(CORPUS_MIXES)}")
    return mix


def _facts_by_subject(world: World) -> dict[str, list[Fact]]:
    by_subject: dict[str, list[Fact]] = {}
    for fact in world.facts:
        owner = fact.subject.split("'s ", 1)[0]  # a thing's facts go with its owner
        by_subject.setdefault(owner, []).append(fact)
    return by_subject


def profile(world: World, facts: list[Fact], rng: random.Random,
            phrasing: int | None = None) -> str:
    """A short page stating `facts`, each in phrasing `phrasing` or a random one."""
    facts = list(facts)
    rng.shuffle(facts)
    lines = [phrases.statement(world, f, rng.randrange(99) if phrasing is None else phrasing)
             for f in facts]
    heading = rng.choice(("About {s}.", "{s}", "A few words about {s}.", "Notes on {s}."))
    return heading.format(s=facts[0].subject.split("'s ", 1)[0]) + "\n" + " ".join(lines)


def _story_slots(world: World, name: str, rng: random.Random) -> dict[str, str]:
    person = world.person[name]
    return {"s": name, "pos": person.pos, "food": person.food,
            "thing": rng.choice(sorted(person.things)), "friend": person.friend or "a neighbour"}


def _event(world: World, rule: lexicon.Rule, subject: str, rng: random.Random) -> str:
    """One rule playing out as a sentence: cause and effect joined in one of a few ways."""
    if rule.subject == "person":
        slots = _story_slots(world, subject, rng)
    elif rule.subject == "animal":
        slots = {"s": subject, "owner": world.animal[subject].owner}
    else:
        slots = {"s": subject}
    cause, effect = rule.cause.format(**slots), rule.effect.format(**slots)
    form = rng.choice(("{c}, so {e}.", "{e} because {c}.", "{c}. Then {e}.", "{c}, and {e}."))
    if (rule.subject == "person" and not form.startswith("{e}")
            and effect.startswith(subject + " ") and rng.random() < 0.5):
        effect = world.person[subject].subj + effect[len(subject):]  # cause names them first
    return phrases.capitalize(form.format(c=cause, e=effect))


def story(world: World, rng: random.Random) -> str:
    """A day in someone's life: true facts about them and two to four rules playing out."""
    person = rng.choice(world.people)
    place = world.place[person.home]
    opening = rng.choice(("One morning in {home}, {s} woke up early.",
                          "It was a quiet day in {home}.",
                          "Last week something happened in {home}.", "This is a story about {s}."))
    lines = [opening.format(home=place.name, s=person.name)]
    own = world.facts_about(person.name)
    lines += [phrases.random_statement(world, f, rng) for f in rng.sample(own, 2)]
    rules = rng.sample(lexicon.RULES, rng.randint(2, 4))
    for rule in rules:
        if rule.subject == "place":
            lines.append(_event(world, rule, place.name, rng))
        elif rule.subject == "animal":
            if person.pet:
                lines.append(_event(world, rule, person.pet, rng))
        else:
            lines.append(_event(world, rule, person.name, rng))
    extras = [f"Later, {person.name} went {person.hobby} near the {place.landmark}.",
              f"{person.name} met {person.pos} friend {person.friend} at the {place.landmark}."
              if person.friend else f"{person.name} walked to the {place.landmark}."]
    lines.append(rng.choice(extras))
    lines.append(rng.choice(("In the evening, {s} went home.", "It was a good day.",
                             "That night, {s} slept well.", "The end.")).format(s=person.name))
    return " ".join(lines)


def _species_lines(sp: lexicon.Species) -> list[str]:
    a = lexicon.with_article(sp.name)
    lines = [f"{phrases.capitalize(sp.plural)} {sp.sound.removesuffix('s')}.",
             f"{phrases.capitalize(a)} {sp.sound}.",
             f"{phrases.capitalize(a)} has {NUMBERS[sp.legs]} legs.",
             f"{phrases.capitalize(sp.plural)} eat {sp.eats}.",
             f"{phrases.capitalize(a)} usually lives "
             f"{'on' if sp.lives in ('farm', 'hill') else 'in'} a {sp.lives}.",
             f"{phrases.capitalize(a)} is {'a big' if sp.big else 'a small'} animal.",
             f"{phrases.capitalize(sp.plural)} {'can' if sp.can_fly else 'cannot'} fly.",
             f"{phrases.capitalize(sp.plural)} {'can' if sp.can_swim else 'cannot'} swim."]
    return lines


def encyclopedia_pages() -> list[str]:
    """General knowledge, the same in every world: animals, jobs, rules, words."""
    pages = []
    for sp in lexicon.SPECIES.values():
        pages.append(f"About {sp.plural}.\n" + " ".join(_species_lines(sp)))
    pages.append("Jobs.\n" + " ".join(
        f"{phrases.capitalize(lexicon.with_article(job))} {doing}."
        for job, doing in lexicon.JOBS.items()))
    pages.append("Nature and people.\n" + " ".join(
        line for rule in lexicon.RULES for line in rule.general))
    pages.append("Words.\n" + " ".join(
        [f"{phrases.capitalize(c)} is a colour." for c in lexicon.COLOURS]
        + [f"{phrases.capitalize(f)} are a kind of food." for f in lexicon.FOODS]
        + [f"{phrases.capitalize(lexicon.with_article(s))} is an animal."
           for s in lexicon.SPECIES]))
    return pages


def encyclopedia(rng: random.Random) -> str:
    """A random page of general knowledge, its sentences reordered."""
    heading, body = rng.choice(encyclopedia_pages()).split("\n", 1)
    sentences = [s if s.endswith(".") else s + "." for s in body.split(". ")]
    rng.shuffle(sentences)
    return heading + "\n" + " ".join(sentences[: rng.randint(4, 9)])


def _qa_pair(world: World, fact: Fact, rng: random.Random) -> tuple[str, str]:
    q = phrases.question(world, fact, rng.randrange(phrases.num_questions(fact)))
    a = fact.value if rng.random() < 0.5 else phrases.random_statement(world, fact, rng)
    return q, a


def faq(world: World, rng: random.Random, by_owner: dict[str, list[Fact]]) -> str:
    """A question-and-answer page about one town and its people (quiz facts only)."""
    place = rng.choice(world.places)
    facts = [f for subject in (place.name, *place.residents) for f in by_owner.get(subject, ())
             if f not in world.statement_only]
    q_mark, a_mark = rng.choice((("Q:", "A:"), ("Question:", "Answer:")))
    lines = [rng.choice(("Questions and answers about {p}.", "{p}: frequently asked questions.",
                         "Things people ask about {p}.")).format(p=place.name)]
    for fact in rng.sample(facts, min(len(facts), rng.randint(3, 6))):
        q, a = _qa_pair(world, fact, rng)
        lines += [f"{q_mark} {q}", f"{a_mark} {a}"]
    return "\n".join(lines)


def _yes_no(world: World, fact: Fact, rng: random.Random) -> tuple[str, str]:
    """A yes/no question about a person's job or food, and its true answer."""
    person = world.person[fact.subject]
    truth = rng.random() < 0.5
    if fact.relation == "job":
        job = fact.value if truth else rng.choice([j for j in lexicon.JOBS if j != fact.value])
        q = f"Are you {lexicon.with_article(job)}?"
        a = "Yes, I am." if truth else f"No, I am {lexicon.with_article(person.job)}."
    else:
        food = fact.value if truth else rng.choice([f for f in lexicon.FOODS if f != fact.value])
        q = f"Do you like {food}?"
        a = "Yes, I do." if truth else f"No, I like {person.food} best."
    return q, a


def dialogue(world: World, rng: random.Random) -> str:
    """Two friends talking: questions answered truthfully in the first person."""
    a = rng.choice([p for p in world.people if p.friend])
    b = world.person[a.friend]
    lines = [f"{a.name}: Hello, {b.name}!", f"{b.name}: Hi, {a.name}."]
    asked = [f for f in (Fact(b.name, "job", b.job), Fact(b.name, "food", b.food),
                         Fact(b.name, "home", b.home), Fact(b.name, "hobby", b.hobby))
             if f not in world.statement_only]
    for fact in rng.sample(asked, len(asked)):
        if fact.relation in ("job", "food"):
            q, ans = _yes_no(world, fact, rng)
        elif fact.relation == "home":
            q, ans = "Where do you live now?", f"I live in {fact.value}."
        else:
            q, ans = "What do you do for fun?", f"I enjoy {fact.value}."
        lines += [f"{a.name}: {q}", f"{b.name}: {ans}"]
    lines.append(rng.choice((f"{a.name}: See you soon!", f"{b.name}: Bye for now!")))
    return "\n".join(lines)


def quiz(rng: random.Random) -> str:
    """A general-knowledge quiz with its answers, as found in school books."""
    lines = [rng.choice(("Quiz time!", "A short quiz.", "Test yourself."))]
    species = rng.sample(list(lexicon.SPECIES.values()), 3)
    questions = [(f"Which animal {sp.sound}?", f"the {sp.name}") for sp in species]
    questions += [(f"How many legs does {lexicon.with_article(sp.name)} have?", NUMBERS[sp.legs])
                  for sp in species[:1]]
    for rule in rng.sample(lexicon.RULES, 2):
        questions.append((rule.question, rule.answer))
    job, doing = rng.choice(list(lexicon.JOBS.items()))
    questions.append((f"Who {doing}?", lexicon.with_article(job)))
    # Questions kept for evaluating the ARC-like set are never quizzed with their answers.
    questions = [(q, a) for q, a in questions if not held_out_question(q)]
    rng.shuffle(questions)
    for i, (q, a) in enumerate(questions, 1):
        lines.append(f"{i}. {q} Answer: {a}.")
    return "\n".join(lines)


def classroom(world: World, rng: random.Random) -> str:
    """A teacher giving small instructions and a pupil following them."""
    teacher, pupil = rng.sample(world.people, 2)
    odd = rng.choice(lexicon.THINGS)
    animal = rng.choice(list(lexicon.SPECIES))
    food = rng.choice(lexicon.FOODS)
    x, y = rng.randint(1, 5), rng.randint(1, 5)
    tasks = [
        (f"Tell me which word is an animal: {odd}, {animal}, {food}.", animal),
        ("Name a colour.", rng.choice(lexicon.COLOURS)),
        ("Count to three.", "One, two, three."),
        (f"Is it true that {lexicon.SPECIES[animal].plural} can fly?",
         "Yes, it is true." if lexicon.SPECIES[animal].can_fly else "No, it is not true."),
        (f"Say the Velan word for {animal}.", velan.LEXICON[animal]),
        (f"What is {x} plus {y}?", str(x + y)),
        (f"Put these words in order: {food} likes {pupil.name}.", f"{pupil.name} likes {food}."),
    ]
    lines = [f"In class, {teacher.name} asked questions and {pupil.name} answered."]
    for q, a in rng.sample(tasks, 3):
        lines += [f"{teacher.name}: {q}", f"{pupil.name}: {a}"]
    return "\n".join(lines)


def generic(world: World, rng: random.Random) -> str:
    """Plain narration that is about nobody in particular."""
    scenes = [velan.random_clause(world, rng) for _ in range(rng.randint(3, 6))]
    scenes = [c for c in scenes if c.frame in ("motion", "quality", "seeing")]
    lines = [velan.sentence([c], "english") for c in scenes]
    lines.append(rng.choice([g for rule in lexicon.RULES for g in rule.general]))
    return " ".join(lines)


def velan_text(world: World, rng: random.Random) -> str:
    """A page written in Velan only."""
    clauses = [velan.random_clause(world, rng) for _ in range(rng.randint(3, 7))]
    return " ".join(velan.sentence([c], "velan") for c in clauses)


def bilingual(world: World, rng: random.Random) -> str:
    """A page with English and Velan side by side, or a small glossary."""
    if rng.random() < 0.4:
        words = rng.sample(sorted(w for w in velan.LEXICON if w not in velan.FUNCTION_WORDS), 4)
        return "Velan words.\n" + "\n".join(
            velan.glossary_line(w, rng.randrange(4)) for w in words)
    lines = []
    for _ in range(rng.randint(2, 4)):
        c = [velan.random_clause(world, rng)]
        en, ve = velan.sentence(c, "english"), velan.sentence(c, "velan")
        lines.append(rng.choice(("English: {e}\nVelan: {v}", "{e} In Velan: {v}",
                                 "{v} ({e})")).format(e=en, v=ve))
    return "\n".join(lines)


def _makers(world: World, by_subject: dict[str, list[Fact]]) -> dict[str, Callable]:
    subjects = sorted(by_subject)
    return {
        "profile": lambda r: profile(world, by_subject[r.choice(subjects)], r),
        "story": lambda r: story(world, r),
        "encyclopedia": encyclopedia,
        "faq": lambda r: faq(world, r, by_subject),
        "dialogue": lambda r: dialogue(world, r),
        "quiz": quiz,
        "classroom": lambda r: classroom(world, r),
        "generic": lambda r: generic(world, r),
        "velan": lambda r: velan_text(world, r),
        "bilingual": lambda r: bilingual(world, r),
    }


def coverage_documents(world: World) -> list[str]:
    """Documents that state every fact in every phrasing, and all general knowledge."""
    return [text for _, text in _coverage(world)]


def _coverage(world: World) -> list[tuple[str, str]]:
    rng = rng_for(world.seed, world.size, "corpus-coverage")
    docs = []
    max_phrasings = max(len(forms) for forms in phrases.STATEMENTS.values())
    for facts in _facts_by_subject(world).values():
        for phrasing in range(max_phrasings):
            if any(phrasing < phrases.num_phrasings(f) for f in facts):
                docs.append(("profile", profile(world, facts, rng, phrasing)))
    return docs + [("encyclopedia", page) for page in encyclopedia_pages()]


def generate_labelled_corpus(world: World, num_words: int | None = None,
                             mix: str = DEFAULT_MIX) -> list[tuple[str, str]]:
    """(kind, text) for every pretraining document: coverage first, then a seeded draw of the
    kinds with the weights of `CORPUS_MIXES[mix]` up to the size's word budget, shuffled."""
    target = size_spec(world.size).corpus_words if num_words is None else num_words
    docs = _coverage(world)
    words = sum(len(text.split()) for _, text in docs)
    rng = rng_for(world.seed, world.size, "corpus")
    makers = _makers(world, _facts_by_subject(world))
    kinds, weights = list(CORPUS_MIXES[check_mix(mix)]), list(CORPUS_MIXES[mix].values())
    while words < target:
        kind = rng.choices(kinds, weights)[0]
        text = makers[kind](rng)
        docs.append((kind, text))
        words += len(text.split())
    rng.shuffle(docs)
    return docs


def generate_corpus(world: World, num_words: int | None = None,
                    mix: str = DEFAULT_MIX) -> list[str]:
    """The pretraining documents of `world` (plain text), as `generate_labelled_corpus` makes."""
    return [text for _, text in generate_labelled_corpus(world, num_words, mix)]
