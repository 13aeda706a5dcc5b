"""TinyWorld's chain-of-thought (CoT) datasets: questions that take two or more steps to answer.

Flan 2022 (Chung et al., 2210.11416) adds nine CoT datasets to its tuning mixture, each example an
input, a written rationale and an answer, and evaluates CoT on benchmarks it never tunes on. Here
a *chain* is one kind of multi-step question: "Where does the owner of Rex live?" needs Rex's
owner (a fact), then where that owner lives (a second fact). The solver of this module writes the
rationale, one sentence per step, each a sentence the corpus states in some form (a fact in one
of its `phrases` paraphrases, or a line of general knowledge from the encyclopedia pages: "Dogs
eat bones.", "When it rains, the ground gets wet."), then the answer:

    question   Where does the owner of Rex live?
    rationale  Rex belongs to Anna. Anna lives in Oakton.
    answer     Oakton     (a CoT target, `flan_nb.formats.cot_target`: "<rationale> So the
                          answer is Oakton.")

Two groups of chains, registered in `flan_nb.tasks` as variants (never listed with the datasets,
never drawn by NUM_TUNING_TASKS) under their own "clusters", which are Flan 2022's mixtures
rather than FLAN's task clusters (`flan_nb.tasks.MIXTURES`):

- `cot` (TUNING_CHAINS): the CoT tuning mixture, added to a tuning run by notebook 08's
  COT_MIXTURE. Two- and three-step chains over facts and general knowledge of animals and jobs.
- `cot_held_out` (HELD_OUT_CHAINS): evaluation only (no training split is made at all): chains
  of a kind never tuned on: a causal rule as the last step (person -> home -> weather -> what
  that weather does), three hops over people and pets, and a yes/no ability of a pet. They play
  the part of Flan 2022's held-out CoT benchmarks.

How this relates to FLAN's held-out rules: the CoT mixture is added whole whatever HELD_OUT is
(Flan 2022 keeps CoT as its own mixture), so it must not leak any held-out cluster's evaluation:
its chains use only quiz facts (never the statement-only facts that closed-book QA evaluates on),
ask no single-hop fact question and no general-knowledge question that ARC holds out, and never
use a causal rule (the commonsense clusters' knowledge); the held-out chains, which do, are never
tuned on. `check` confirms every example from its text alone.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Callable, Sequence

from flan_nb.templates import Template
import flan_nb.tinyworld.lexicon as lexicon
import flan_nb.tinyworld.phrases as phrases
from flan_nb.tinyworld.documents import encyclopedia_pages
from flan_nb.tinyworld.solver import SolverError, split_sentences
from flan_nb.tinyworld.world import Fact, SizeSpec, World, rng_for

PREFIX = "twc_"
TUNING_CLUSTER = "cot"  # Flan 2022's CoT mixture
HELD_OUT_CLUSTER = "cot_held_out"  # held-out multi-step questions: evaluation only
MAX_FAILED_DRAWS = 400
SPLIT_ORDER = ("test", "validation", "train")
NUMBER_WORDS = {2: "two", 4: "four"}  # the encyclopedia's words for legs
# Weather -> the causal rule it sets off (sunny and foggy places set off none).
WEATHER_RULES = {"rainy": "rain", "snowy": "snow", "windy": "wind"}

# The direct templates of every CoT dataset (the answer alone). The CoT prompt formats wrap
# them (`flan_nb.formats`: "cot" asks for the reasoning, "cot-trigger" adds "Let's think step
# by step."), so direct and CoT prompts ask the same question in the same words.
TEMPLATES = (
    Template("{question}", "{answer}"),
    Template("Answer the question. {question}", "{answer}"),
    Template("Q: {question}\nA:", "{answer}"),
    Template("Question: {question}\nGive a short answer.", "{answer}"),
    Template("{question} Answer in a few words.", "{answer}"),
)


@dataclasses.dataclass(frozen=True)
class Chain:
    """One kind of multi-step question, made by `make(world, rng, quiz_only)`."""

    name: str
    cluster: str
    what: str  # one line for the book's table
    make: Callable
    steps: int

    @property
    def dataset(self) -> str:
        return f"{PREFIX}{self.name}"


# --- the steps: sentences the corpus states --------------------------------------------------

def fact_sentence(world: World, fact: Fact, rng) -> str:
    """`fact` in one of its plain phrasings: the forms that state the fact and nothing else
    (not "Anna is a baker who bakes bread", which would state a second step too)."""
    forms = [i for i, f in enumerate(phrases.STATEMENTS[phrases.relation_key(fact)])
             if not any(s in f for s in ("{doing}", "{sound}", "{species}", "{a_species}"))]
    return phrases.statement(world, fact, rng.choice(forms))


def general_sentences() -> frozenset[str]:
    """Every sentence of general knowledge the corpus states (its encyclopedia pages)."""
    return frozenset(s for page in encyclopedia_pages()
                     for s in split_sentences(page.split("\n", 1)[1]))


def _rule_effect(rule: lexicon.Rule) -> str:
    """What a weather rule makes happen, from its general statement ("the ground gets wet")."""
    return rule.general[0].rstrip(".").split(", ", 1)[1]


def _facts(world: World, quiz_only: bool) -> frozenset[Fact]:
    cache = world.__dict__.setdefault("_cot_facts", {})
    if quiz_only not in cache:
        cache[quiz_only] = frozenset(world.quiz_facts if quiz_only else world.facts)
    return cache[quiz_only]


def _usable(world: World, quiz_only: bool, *facts: Fact) -> bool:
    allowed = _facts(world, quiz_only)
    return all(f in allowed for f in facts)


def _pet_of(world: World, person: str) -> str | None:
    return world.person[person].pet


def _fact_chain(world, rng, quiz_only, facts: Sequence[Fact], questions: Sequence[str]):
    """A chain that only restates facts: (one of the question phrasings, a sentence per fact,
    the last fact's value), or None when a fact may not be used."""
    if not _usable(world, quiz_only, *facts):
        return None
    # the phrasing is drawn before the sentences (the order the random draws always had)
    question = rng.choice(tuple(questions))
    return question, [fact_sentence(world, f, rng) for f in facts], facts[-1].value


# --- chains: (world, rng, quiz_only) -> (question, steps, answer) | None -----------------------

def pet_home(world, rng, quiz_only):
    a = rng.choice(world.animals) if world.animals else None
    if a is None:
        return None
    return _fact_chain(world, rng, quiz_only, (Fact(a.name, "owner", a.owner),
                                               Fact(a.owner, "home", world.person[a.owner].home)),
                       (f"Where does the owner of {a.name} live?",
                        f"In which place does the person who owns {a.name} live?"))


def friend_job(world, rng, quiz_only):
    p = rng.choice(world.people)
    if not p.friend:
        return None
    return _fact_chain(world, rng, quiz_only, (Fact(p.name, "friend", p.friend),
                                               Fact(p.friend, "job", world.person[p.friend].job)),
                       (f"What is the job of {p.name}'s best friend?",
                        f"What does the best friend of {p.name} do for a living?"))


def home_near(world, rng, quiz_only):
    p = rng.choice(world.people)
    place = world.place[p.home]
    if not place.near:
        return None
    return _fact_chain(world, rng, quiz_only, (Fact(p.name, "home", p.home),
                                               Fact(place.name, "near", place.near)),
                       (f"Which place is near the place where {p.name} lives?",
                        f"What place is close to {p.name}'s home?"))


def _owner_species(world, rng, quiz_only, person):
    """The steps from a person to their pet's species: (pet, species, [two sentences])."""
    pet = _pet_of(world, person)
    if pet is None:
        return None
    species = world.animal[pet].species
    owner, kind = Fact(pet, "owner", person), Fact(pet, "species", species)
    if not _usable(world, quiz_only, owner, kind):
        return None
    return pet, species, [fact_sentence(world, owner, rng), fact_sentence(world, kind, rng)]


def pet_food(world, rng, quiz_only):
    p = rng.choice(world.people)
    found = _owner_species(world, rng, quiz_only, p.name)
    if found is None:
        return None
    _, species, steps = found
    sp = lexicon.SPECIES[species]
    question = rng.choice((f"What does {p.name}'s pet eat?",
                           f"What food does the pet of {p.name} eat?"))
    return question, steps + [f"{phrases.capitalize(sp.plural)} eat {sp.eats}."], sp.eats


def pet_legs(world, rng, quiz_only):
    p = rng.choice(world.people)
    found = _owner_species(world, rng, quiz_only, p.name)
    if found is None:
        return None
    _, species, steps = found
    sp = lexicon.SPECIES[species]
    legs = NUMBER_WORDS[sp.legs]
    general = f"{phrases.capitalize(lexicon.with_article(sp.name))} has {legs} legs."
    question = rng.choice((f"How many legs does {p.name}'s pet have?",
                           f"How many legs has the pet of {p.name} got?"))
    return question, steps + [general], legs


def job_work(world, rng, quiz_only):
    p = rng.choice(world.people)
    job = Fact(p.name, "job", p.job)
    if not _usable(world, quiz_only, job):
        return None
    doing = lexicon.JOBS[p.job]
    general = f"{phrases.capitalize(lexicon.with_article(p.job))} {doing}."
    question = rng.choice((f"What does {p.name} do at work?",
                           f"What does {p.name} do all day at work?"))
    return question, [fact_sentence(world, job, rng), general], doing


def weather_rule(world, rng, quiz_only):
    """Held out: person -> home -> weather -> the causal rule that weather sets off."""
    p = rng.choice(world.people)
    place = world.place[p.home]
    if place.weather not in WEATHER_RULES:
        return None
    home, weather = Fact(p.name, "home", p.home), Fact(place.name, "weather", place.weather)
    if not _usable(world, quiz_only, home, weather):
        return None
    rule = lexicon.RULES_BY_NAME[WEATHER_RULES[place.weather]]
    question = rng.choice((f"What often happens in the place where {p.name} lives?",
                           f"What does the weather often do where {p.name} lives?"))
    steps = [fact_sentence(world, home, rng),
             phrases.statement(world, weather, 0),  # "In Oakton, it often rains."
             rule.general[0]]
    return question, steps, _rule_effect(rule)


def friend_pet_species(world, rng, quiz_only):
    """Held out: three hops, person -> best friend -> their pet -> its species."""
    p = rng.choice(world.people)
    if not p.friend:
        return None
    friend = Fact(p.name, "friend", p.friend)
    found = _owner_species(world, rng, quiz_only, p.friend)
    if found is None or not _usable(world, quiz_only, friend):
        return None
    _, species, steps = found
    question = rng.choice((f"What kind of animal is the pet of {p.name}'s best friend?",
                           f"What animal does the best friend of {p.name} keep as a pet?"))
    return question, [fact_sentence(world, friend, rng)] + steps, species


def pet_swims(world, rng, quiz_only):
    """Held out: a yes/no ability of a person's pet (two facts, one line of general knowledge)."""
    p = rng.choice(world.people)
    found = _owner_species(world, rng, quiz_only, p.name)
    if found is None:
        return None
    _, species, steps = found
    sp = lexicon.SPECIES[species]
    ability = rng.choice(("swim", "fly"))
    able = getattr(sp, f"can_{ability}")
    general = f"{phrases.capitalize(sp.plural)} {'can' if able else 'cannot'} {ability}."
    question = f"Can {p.name}'s pet {ability}?"
    return question, steps + [general], "yes" if able else "no"


TUNING_CHAINS = (
    Chain("pet_home", TUNING_CLUSTER, "where a pet's owner lives", pet_home, 2),
    Chain("friend_job", TUNING_CLUSTER, "the job of a person's best friend", friend_job, 2),
    Chain("home_near", TUNING_CLUSTER, "the place near a person's home", home_near, 2),
    Chain("pet_food", TUNING_CLUSTER, "what a person's pet eats", pet_food, 3),
    Chain("pet_legs", TUNING_CLUSTER, "how many legs a person's pet has", pet_legs, 3),
    Chain("job_work", TUNING_CLUSTER, "what a person does at work", job_work, 2),
)
HELD_OUT_CHAINS = (
    Chain("weather_rule", HELD_OUT_CLUSTER, "what the weather does where a person lives "
          "(a causal rule)", weather_rule, 3),
    Chain("friend_pet_species", HELD_OUT_CLUSTER, "the kind of a best friend's pet (three "
          "hops)", friend_pet_species, 3),
    Chain("pet_swims", HELD_OUT_CLUSTER, "can a person's pet swim / fly (yes or no)",
          pet_swims, 3),
)
CHAINS = TUNING_CHAINS + HELD_OUT_CHAINS
BY_NAME = {c.dataset: c for c in CHAINS}
TUNING_DATASETS = tuple(c.dataset for c in TUNING_CHAINS)
HELD_OUT_DATASETS = tuple(c.dataset for c in HELD_OUT_CHAINS)


def cot_split_sizes(size: SizeSpec, held_out: bool) -> dict[str, int]:
    """Examples per split of a chain. Tuning chains: a quarter of a full dataset's training
    split, and small validation and test splits (held-in losses only). Held-out chains: no
    training split at all (they are never tuned on), a fifth of a dataset's validation and a
    quarter of its test split (a world has only so many distinct questions of one kind)."""
    if held_out:
        return {"train": 0, "validation": max(2, size.validation // 5),
                "test": max(4, size.test // 4)}
    return {"train": max(8, size.train // 4), "validation": max(2, size.validation // 10),
            "test": max(2, size.test // 20)}


def generate_chain(world: World, chain: Chain, split_sizes: dict[str, int],
                   taken: set[str]) -> dict[str, list[dict]]:
    """The splits of one chain dataset, seeded by (world seed, size, chain). An evaluation
    question is asked once (it joins `taken`, the questions of every evaluation split made so
    far); a training question is never one of `taken`, but may come back with another wording
    of its rationale (the corpus's paraphrases), as a distinct (question, rationale) pair."""
    rng = rng_for(world.seed, world.size, f"cot/{chain.name}")
    quiz_only = chain.cluster == TUNING_CLUSTER
    out = {}
    for split in SPLIT_ORDER:
        wanted, examples, failures, seen = split_sizes.get(split, 0), [], 0, set()
        while len(examples) < wanted and failures < MAX_FAILED_DRAWS:
            made = chain.make(world, rng, quiz_only)
            if made is None or made[0] in taken:
                failures += 1
                continue
            question, steps, answer = made
            rationale = " ".join(steps)
            if (question, rationale) in seen:
                failures += 1
                continue
            failures = 0
            seen.add((question, rationale))
            if split != "train":
                taken.add(question)
            examples.append({"question": question, "rationale": rationale,
                             "answer": answer, "num_steps": len(steps)})
        out[split] = examples
    return {split: out[split] for split in ("train", "validation", "test")}


def generate_cot(world: World, size: SizeSpec) -> dict[str, dict[str, list[dict]]]:
    """Every CoT dataset of `world`: name -> split -> examples. Evaluation splits are made
    first (held-out chains, then the tuning chains' own), so no training question is any
    evaluation question."""
    taken: set[str] = set()
    made: dict[str, dict[str, list[dict]]] = {}
    for chain in CHAINS:  # evaluation splits of every chain first
        sizes = cot_split_sizes(size, chain.cluster == HELD_OUT_CLUSTER)
        made[chain.dataset] = generate_chain(world, chain, dict(sizes, train=0), taken)
    for chain in TUNING_CHAINS:
        sizes = cot_split_sizes(size, False)
        train = generate_chain(world, chain, {"train": sizes["train"]}, taken)["train"]
        made[chain.dataset]["train"] = train
    return made


# --- checking from the text alone -----------------------------------------------------------

_QUESTIONS = {  # chain -> patterns of its questions (one named group: the entity asked about)
    "pet_home": (r"Where does the owner of (\w+) live\?",
                 r"In which place does the person who owns (\w+) live\?"),
    "friend_job": (r"What is the job of (\w+)'s best friend\?",
                   r"What does the best friend of (\w+) do for a living\?"),
    "home_near": (r"Which place is near the place where (\w+) lives\?",
                  r"What place is close to (\w+)'s home\?"),
    "pet_food": (r"What does (\w+)'s pet eat\?", r"What food does the pet of (\w+) eat\?"),
    "pet_legs": (r"How many legs does (\w+)'s pet have\?",
                 r"How many legs has the pet of (\w+) got\?"),
    "job_work": (r"What does (\w+) do at work\?", r"What does (\w+) do all day at work\?"),
    "weather_rule": (r"What often happens in the place where (\w+) lives\?",
                     r"What does the weather often do where (\w+) lives\?"),
    "friend_pet_species": (r"What kind of animal is the pet of (\w+)'s best friend\?",
                           r"What animal does the best friend of (\w+) keep as a pet\?"),
    "pet_swims": (r"Can (\w+)'s pet (swim|fly)\?",),
}


def _read_question(chain: str, question: str) -> tuple[str, ...]:
    for pattern in _QUESTIONS[chain]:
        m = re.fullmatch(pattern, question)
        if m:
            return m.groups()
    raise ValueError(f"cannot read {chain} question {question!r}")


def answer_from_world(chain: str, question: str, world: World) -> str:
    """The answer to a chain question, looked up step by step in the world's facts and the
    fixed common sense (what the generator decided is never consulted)."""
    entity, *rest = _read_question(chain, question)
    v = world.value
    if chain == "pet_home":
        return v(v(entity, "owner"), "home")
    if chain == "friend_job":
        return v(v(entity, "friend"), "job")
    if chain == "home_near":
        return v(v(entity, "home"), "near")
    if chain == "job_work":
        return lexicon.JOBS[v(entity, "job")]
    if chain == "weather_rule":
        weather = v(v(entity, "home"), "weather")
        return _rule_effect(lexicon.RULES_BY_NAME[WEATHER_RULES[weather]])
    owner = v(entity, "friend") if chain == "friend_pet_species" else entity
    pets = [a for a in world.animals if a.owner == owner]
    if len(pets) != 1:
        raise ValueError(f"{owner} has {len(pets)} pets")
    species = lexicon.SPECIES[pets[0].species]
    if chain == "friend_pet_species":
        return species.name
    if chain == "pet_food":
        return species.eats
    if chain == "pet_legs":
        return NUMBER_WORDS[species.legs]
    return "yes" if getattr(species, f"can_{rest[0]}") else "no"


def check(name: str, example: dict, world: World, reader) -> bool:
    """Whether a CoT example is right, from its text alone: its answer is what the world gives
    (`answer_from_world`), every rationale sentence is a true fact of the world (read back by
    `reader`, a `flan_nb.tinyworld.solver.Reader`) or a sentence of the corpus's general
    knowledge, it has the chain's number of steps, and every named entity the answer depends
    on is named by a step (the chain is written out, not skipped)."""
    chain = BY_NAME[name]
    try:
        answer = answer_from_world(chain.name, example["question"], world)
    except (ValueError, KeyError):
        return False
    sentences = split_sentences(example["rationale"])
    if answer != example["answer"] or len(sentences) != chain.steps:
        return False
    general = general_sentences()
    facts = []
    for sentence in sentences:
        if sentence in general:
            continue
        try:
            fact = reader.statement(sentence)
        except SolverError:
            return False
        if world.value(fact.subject, fact.relation) != fact.value:
            return False
        facts.append(fact)
    named = {f.subject for f in facts} | {f.value for f in facts}
    entity, *ability = _read_question(chain.name, example["question"])
    if ability:  # yes/no: the last step says whether such animals can do it
        species = [f.value for f in facts if f.relation == "species"]
        plural = lexicon.SPECIES[species[0]].plural if len(species) == 1 else None
        said = f"{phrases.capitalize(plural or '?')} {'can' if answer == 'yes' else 'cannot'}"
        return entity in named and sentences[-1] == f"{said} {ability[0]}."
    return entity in named and (answer in named or any(answer in s for s in sentences))
