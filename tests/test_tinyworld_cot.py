"""TinyWorld's chain-of-thought datasets: rationales checked from the text, determinism, held-out
questions never tuned on, and the answer extraction of generated rationales."""

import pytest

from flan_nb import formats, metrics, tasks, tinyworld
from flan_nb.tinyworld import cot
from flan_nb.tinyworld.solver import Reader


@pytest.fixture(scope="module")
def book():
    return tinyworld.build(0, "book")


def test_every_rationale_and_answer_checks_out_from_the_text(book):
    reader = Reader(book.world)
    for name, splits in book.cot.items():
        for split, examples in splits.items():
            for ex in examples:
                assert cot.check(name, ex, book.world, reader), (name, split, ex)


def test_the_check_rejects_a_wrong_answer_a_false_step_and_a_skipped_step(book):
    reader = Reader(book.world)
    ex = dict(book.cot["twc_pet_home"]["train"][0])
    other = next(p.name for p in book.world.places if p.name != ex["answer"])
    assert not cot.check("twc_pet_home", dict(ex, answer=other), book.world, reader)
    first, second = ex["rationale"].split(". ", 1)
    false_step = second.replace(ex["answer"], other)
    assert not cot.check("twc_pet_home", dict(ex, rationale=f"{first}. {false_step}"),
                         book.world, reader)
    assert not cot.check("twc_pet_home", dict(ex, rationale=second), book.world, reader)
    swims = dict(book.cot["twc_pet_swims"]["test"][0])
    flipped = "no" if swims["answer"] == "yes" else "yes"
    assert not cot.check("twc_pet_swims", dict(swims, answer=flipped), book.world, reader)


def test_chains_take_two_or_more_steps_and_end_in_the_answer(book):
    for name, splits in book.cot.items():
        chain = cot.BY_NAME[name]
        assert chain.steps >= 2
        for ex in splits["test"]:
            assert ex["num_steps"] == chain.steps
            target = formats.cot_target(ex["rationale"], ex["answer"])
            assert metrics.extract_answer(target) == ex["answer"]


def test_generated_deterministically_per_seed():
    again = tinyworld.TinyWorld(0, "smoke")
    assert again.cot == tinyworld.build(0, "smoke").cot
    other = tinyworld.TinyWorld(1, "smoke").cot
    assert other != again.cot


def test_held_out_questions_are_never_tuned_on(book):
    tuned = {ex["question"] for name in cot.TUNING_DATASETS
             for ex in book.cot[name]["train"]}
    evaluated = {ex["question"] for splits in book.cot.values()
                 for split in ("validation", "test") for ex in splits[split]}
    assert tuned and evaluated and not tuned & evaluated
    for name in cot.HELD_OUT_DATASETS:
        assert book.cot[name]["train"] == []
        assert len(book.cot[name]["test"]) == 50


def test_tuning_chains_use_quiz_facts_only(book):
    reader = Reader(book.world)
    statement_only = book.world.statement_only
    general = cot.general_sentences()
    for name in cot.TUNING_DATASETS:
        for ex in book.cot[name]["train"]:
            for sentence in ex["rationale"].split(". "):
                sentence = sentence if sentence.endswith(".") else sentence + "."
                if sentence not in general:
                    assert reader.statement(sentence) not in statement_only


def test_registered_as_mixtures_not_listed_with_the_datasets():
    names = {s.name for s in tasks.all_datasets()}
    assert not any(n.startswith(cot.PREFIX) for n in names)
    spec = tasks.get("twc_weather_rule")
    assert (spec.cluster, spec.metric) == ("cot_held_out", "answer_match")
    assert tasks.get("twc_pet_home").cluster == "cot"
    assert tasks.load_examples("twc_pet_home", "train", size="smoke")


@pytest.mark.parametrize("text, answer", [
    ("Rex belongs to Anna. Anna lives in Oakton. So the answer is Oakton.", "Oakton"),
    ("Oakton", "Oakton"),  # a direct answer
    ("so THE ANSWER IS: the ground gets wet. And more.", "the ground gets wet"),
    ("The answer is Millbrook. No wait, the answer is Oakton.", "Oakton"),  # the last one
    ("So the answer is", ""),  # malformed: the marker and nothing after it
    ("So the answer is .", ""),
    ("", ""),
    ("Anna lives in Oakton", "Anna lives in Oakton"),  # no marker: the whole text
])
def test_extract_answer(text, answer):
    assert metrics.extract_answer(text) == answer


def test_answer_match_scores_rationales_and_direct_answers_alike():
    reference = "Rex belongs to Anna. Anna lives in Oakton. So the answer is Oakton."
    predictions = ["Rex is a dog. So the answer is oakton.", "Oakton", "So the answer is",
                   "So the answer is Millbrook."]
    assert metrics.score("answer_match", predictions, [reference] * 4) == 50.0
    assert metrics.answer_match(["the answer is the ground gets wet"],
                                ["ground gets wet"]) == 100.0  # articles normalised away


def test_cot_formats_ask_for_the_rationale_and_the_trigger_keeps_the_prompt():
    spec = tasks.get("twc_pet_home")
    ex = tasks.load_examples("twc_pet_home", "test", size="smoke")[0]
    direct = formats.render_format("zero-shot", spec, ex, 2)
    assert direct.targets == ex["answer"]
    asked = formats.render_format("cot", spec, ex, 2)
    assert ex["question"] in asked.inputs and asked.inputs != direct.inputs
    assert asked.targets == f"{ex['rationale']} So the answer is {ex['answer']}."
    trigger = formats.render_format("cot-trigger", spec, ex, 2)
    assert trigger.inputs == f"{direct.inputs}\nLet's think step by step."
    assert trigger.targets == asked.targets
    assert len({formats.render_format("cot", spec, ex, t).inputs for t in range(5)}) == 5
    for t in range(5):  # a prompt ending in its cue ("A:") keeps the cue last
        direct = formats.render_format("zero-shot", spec, ex, t).inputs
        asked = formats.render_format("cot", spec, ex, t).inputs
        assert asked.endswith(direct) or not direct.endswith(":")


def test_a_cot_format_asked_of_a_dataset_without_rationales_is_one_clear_error():
    from flan_nb.errors import UserError

    ex = tasks.load_examples("tw_trivia_qa", "test", size="smoke")[0]
    with pytest.raises(UserError, match="no chain-of-thought rationales"):
        formats.render_format("cot", tasks.get("tw_trivia_qa"), ex, 0)


def test_held_out_cells_use_every_template_in_the_cot_formats():
    from flan_nb.evaluate import held_out_cells

    for fmt in ("zero-shot", "cot", "cot-trigger"):
        cells = held_out_cells(["twc_weather_rule"], num_templates=None, max_examples=3,
                               splits=("test",), size="smoke", format=fmt)
        assert [c.template for c in cells] == [0, 1, 2, 3, 4]
        assert {c.format for c in cells} == {fmt}
