"""TinyWorld's world, corpus and public API: determinism, coverage, honesty of the corpus."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flan_nb import tinyworld
from flan_nb.errors import UserError
from flan_nb.tinyworld import documents
from flan_nb.tinyworld import lexicon, phrases, velan
from flan_nb.tinyworld.solver import Reader, SolverError, split_sentences
from flan_nb.tinyworld.world import generate_world


@pytest.fixture(scope="module")
def smoke():
    return tinyworld.build(0, "smoke")


def test_public_api_shapes(smoke):
    assert "smoke" in tinyworld.SIZES and "book" in tinyworld.SIZES
    assert tinyworld.build(0, "smoke") is smoke  # cached per (seed, size)
    assert tinyworld.corpus(0, "smoke") is smoke.corpus
    assert all(isinstance(doc, str) and doc for doc in smoke.corpus)
    assert set(smoke.datasets["tw_nli"]) == {"train", "validation", "test"}
    assert tinyworld.load_split("tw_nli", "test", seed=0, size="smoke") == \
        smoke.datasets["tw_nli"]["test"]


@pytest.mark.parametrize("call, message", [
    (lambda: tinyworld.build(0, "huge"), "unknown TinyWorld size 'huge'"),
    (lambda: tinyworld.build("0", "smoke"), "seed must be an integer"),
    (lambda: tinyworld.load_split("tw_nl", "train", size="smoke"), "did you mean tw_nli"),
    (lambda: tinyworld.load_split("tw_nli", "dev", size="smoke"), "unknown split 'dev'"),
    (lambda: tinyworld.TinyWorld(0, "smoke", {"test": -1}), "bad split size test=-1"),
])
def test_bad_input_is_a_user_error(call, message):
    with pytest.raises(UserError, match=re.escape(message)):
        call()


def test_same_seed_same_world_and_corpus():
    a, b = tinyworld.TinyWorld(3, "smoke"), tinyworld.TinyWorld(3, "smoke")
    assert a.world.facts == b.world.facts
    assert a.corpus == b.corpus
    assert a.datasets == b.datasets


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_different_seeds_differ(seed, delta):
    a, b = generate_world(seed, "smoke"), generate_world(seed + delta, "smoke")
    assert a.facts != b.facts


def test_world_is_consistent(smoke):
    world = smoke.world
    assert world.stats()["people"] == 12 and world.stats()["rules"] == len(lexicon.RULES)
    for person in world.people:
        assert person.home in world.place and person.name in world.place[person.home].residents
        assert world.person[person.friend].friend == person.name  # friendship is mutual
        if person.pet:
            assert world.animal[person.pet].owner == person.name
    for place in world.places:
        assert place.near is None or world.place[place.near].near == place.name
    names = [p.name for p in world.people] + [a.name for a in world.animals] + \
        [p.name for p in world.places]
    assert len(names) == len(set(names))  # one name, one entity
    # The statement-only share is about 30% and keeps symmetric pairs together.
    assert 0.15 < len(world.statement_only) / len(world.facts) < 0.45
    for fact in world.statement_only:
        if fact.relation in ("friend", "near"):
            assert any(f.subject == fact.value and f.value == fact.subject
                       for f in world.statement_only)


def _stated_facts(world, docs) -> dict:
    """fact -> set of distinct sentences of the corpus that state it."""
    reader, stated = Reader(world), {}
    for doc in docs:
        for line in doc.splitlines():
            for sentence in split_sentences(line):
                try:
                    fact = reader.statement(sentence)
                except SolverError:
                    continue
                stated.setdefault(fact, set()).add(sentence)
    return stated


def test_every_fact_is_stated_in_every_phrasing(smoke):
    stated = _stated_facts(smoke.world, smoke.corpus)
    for fact in smoke.world.facts:
        assert len(stated.get(fact, ())) >= min(3, phrases.num_phrasings(fact)), fact
    # ...and the corpus never states a fact the world does not hold.
    false = [f for f in stated if smoke.world.value(f.subject, f.relation) != f.value
             and f.relation not in ("friend", "near")]
    assert false == []


def test_every_closed_book_answer_is_in_the_corpus(smoke):
    stated = _stated_facts(smoke.world, smoke.corpus)
    reader, text = Reader(smoke.world), "\n".join(smoke.corpus)
    for split in tinyworld.SPLITS:
        for ex in smoke.datasets["tw_trivia_qa"][split]:
            subject, relation = reader.question(ex["question"])
            fact = tinyworld.world.Fact(subject, relation, ex["answer"])
            assert len(stated.get(fact, ())) >= 3, ex
        for ex in smoke.datasets["tw_arc"][split]:
            assert re.search(rf"\b{re.escape(ex['answer'])}\b", text, re.IGNORECASE), ex


def test_corpus_quizzes_never_ask_statement_only_facts(smoke):
    reader, asked = Reader(smoke.world), 0
    for doc in smoke.corpus:
        for line in doc.splitlines():
            m = re.match(r"^(?:Q:|Question:) (.+)$", line)
            if m:
                subject, relation = reader.question(m.group(1))
                value = smoke.world.value(subject, relation)
                assert tinyworld.world.Fact(subject, relation, value) not in \
                    smoke.world.statement_only
                asked += 1
    assert asked > 20  # the corpus does contain question/answer text


def test_held_out_general_questions_are_never_quizzed(smoke):
    from flan_nb.tinyworld.generators import held_out_question

    text = "\n".join(smoke.corpus)
    evaluated = {ex["question"] for split in ("validation", "test")
                 for ex in smoke.datasets["tw_arc"][split]}
    general = [q for q in evaluated if held_out_question(q)]
    assert general  # the evaluation does use general-knowledge questions...
    assert not [q for q in general if q in text]  # ...that the corpus never asks


def test_load_split_returns_copies(smoke):
    rows = tinyworld.load_split("tw_arc", "test", size="smoke")
    rows[0]["options"].append("extra")
    rows[0]["question"] = "changed"
    fresh = tinyworld.load_split("tw_arc", "test", size="smoke")[0]
    assert "extra" not in fresh["options"] and fresh["question"] != "changed"


def test_corpus_mixes_kinds_of_text(smoke):
    text = "\n".join(smoke.corpus)
    for marker in ("Q:", "Quiz", "In class,", "Velan", "When it rains, the ground gets wet."):
        assert marker in text, marker
    velan_words = set(velan.LEXICON.values())
    velan_docs = [d for d in smoke.corpus if sum(w.strip(".") in velan_words
                                                 for w in d.split()) > len(d.split()) / 3]
    assert len(velan_docs) > 10  # monolingual Velan pages
    assert any("English:" in d and "Velan:" in d for d in smoke.corpus)  # bilingual lines


def test_opinion_words_carry_the_sentiment_lexicon():
    for good, bad in lexicon.OPINION_WORDS.values():
        assert set(good) <= set(lexicon.POSITIVE_WORDS)
        assert set(bad) <= set(lexicon.NEGATIVE_WORDS)


def test_velan_word_order_differs_from_english():
    c = velan.clause("seeing", name="Anna", verb="sees", noun="dog", adj="big")
    assert velan.english(c) == "Anna sees the big dog"
    w = velan.LEXICON
    assert velan.velan(c) == f"Anna {w['dog']} {w['big']} {w['sees']}"  # SOV, noun-adjective
    motion = velan.clause("motion", noun="cat", verb="runs", landmark="river")
    assert velan.velan(motion).split()[-2:] == [w["to"], w["runs"]]  # postposition, verb last
    assert len(set(w.values())) == len(w)  # one Velan word per English word


def test_corpus_size_and_vocabulary(smoke):
    words = [w for doc in smoke.corpus for w in doc.split()]
    assert tinyworld.size_spec("smoke").corpus_words <= len(words) < 1.1 * \
        tinyworld.size_spec("smoke").corpus_words
    assert len(set(words)) < 3000


def test_coverage_comes_first_then_the_word_budget(smoke):
    coverage = documents.coverage_documents(smoke.world)
    small = documents.generate_corpus(smoke.world, num_words=1000)
    assert sorted(small) == sorted(coverage)  # a tiny budget still states every fact
    bigger = documents.generate_corpus(smoke.world, num_words=50_000)
    assert sum(len(d.split()) for d in bigger) >= 50_000


def test_the_corpus_function_survives_submodule_imports():
    import flan_nb.tinyworld.documents  # noqa: F401 - must not shadow tinyworld.corpus()

    assert callable(tinyworld.corpus) and callable(tinyworld.build)


def test_corpus_mixes_change_only_the_documents_drawn_after_coverage():
    tw = tinyworld.build(0, "smoke")
    assert tinyworld.parse_corpus("tinyworld/smoke") == ("smoke", documents.DEFAULT_MIX)
    assert tw.corpus_with() is tw.corpus
    kinds = {}
    for mix in documents.CORPUS_MIXES:
        labelled = documents.generate_labelled_corpus(tw.world, mix=mix)
        kinds[mix] = [k for k, _ in labelled]
        assert [t for _, t in labelled] == tw.corpus_with(mix)
    share = {m: sum(k in documents.QUESTION_KINDS for k in ks) / len(ks)
             for m, ks in kinds.items()}
    assert share["no-questions"] < share["default"] < share["more-questions"]
    # Coverage documents come first and do not depend on the mix: every corpus states every
    # fact in every phrasing, so the probe's facts are in all of them.
    coverage = documents._coverage(tw.world)
    for mix in documents.CORPUS_MIXES:
        texts = set(tw.corpus_with(mix))
        assert all(text in texts for _, text in coverage)
    with pytest.raises(UserError, match="unknown TinyWorld corpus mix 'quiz'.*no-questions"):
        tinyworld.parse_corpus("tinyworld/smoke/quiz")
