"""The knowledge probe: facts, candidates and the two forms it asks them in."""

import numpy as np
import pytest

from flan_nb import probe, tinyworld
from flan_nb.tinyworld import phrases


@pytest.fixture(scope="module")
def world():
    return tinyworld.build(0, "smoke").world


@pytest.mark.parametrize("size, count", [("smoke", 10), ("book", 200)])
def test_items_ask_statement_only_facts_with_same_relation_alternatives(size, count):
    world = tinyworld.build(0, size).world
    items = probe.probe_items(world, count, seed=0)
    assert items == probe.probe_items(world, count, seed=0)  # deterministic
    assert len(items) == count
    facts = {(f.subject, f.relation): f.value for f in world.statement_only_facts}
    values = {}
    for f in world.facts:
        values.setdefault(f.relation, set()).add(f.value)
    true = {(f.subject, f.relation, f.value) for f in world.facts}
    for item in items:
        assert facts[item.subject, item.relation] == item.candidates[item.answer]
        assert len(set(item.candidates)) == 4
        assert set(item.candidates) <= values[item.relation]
        for k, value in enumerate(item.candidates):  # exactly one candidate is true
            holds = ((item.subject, item.relation, value) in true
                     or (item.relation in ("friend", "near")
                         and (value, item.relation, item.subject) in true))
            assert holds == (k == item.answer)
    # the true value is not always first (ties go to the first candidate)
    assert len({item.answer for item in items}) > 1


def test_cloze_uses_the_corpus_phrasing_and_differs_only_in_the_value(world):
    item = probe.probe_items(world, 1, seed=3)[0]
    for form in range(probe.num_forms(item)):
        sentences = probe.cloze_sentences(world, item, form)
        assert len(set(sentences)) == len(item.candidates)
        true = sentences[item.answer]
        fact = next(f for f in world.facts
                    if (f.subject, f.relation) == (item.subject, item.relation))
        assert true == phrases.statement(world, fact, form)
    shown = probe.example_item(world, item)
    assert shown["answer"] in shown["cloze"][item.answer]
    assert item.subject in shown["template"]


def test_run_probe_scores_both_forms_on_the_same_facts(world):
    from flan_nb import model as model_lib
    from flan_nb.tokenize import tinyworld_tokenizer

    tokenizer = tinyworld_tokenizer(vocab_size=500, size="smoke")
    model = model_lib.create_model(model_lib.named_config(
        "test", vocab_size=tokenizer.vocab_size), seed=0)
    items = probe.probe_items(world, 6, seed=1)
    result = probe.run_probe(model, tokenizer, world, items)
    assert len(result["cloze"]) == len(result["template"]) == 6
    assert all(0 <= v <= 100 for v in result["cloze"] + result["template"])
    assert result["chance"] == pytest.approx(25.0)
    # the cloze form is what plain LM scoring of each sentence says
    sentences = probe.cloze_sentences(world, items[0], 0)
    ll = probe.text_log_likelihoods(model, tokenizer, sentences)
    assert ll.shape == (4,) and np.all(ll < 0)
