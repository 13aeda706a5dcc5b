"""Flan 2022's settings: notebook 08's COT_MIXTURE and FEW_SHOT_FRACTION, the plans' CoT and
few-shot evaluation groups, and chapter 15's readings of published results."""

from __future__ import annotations

import pytest

from flan_nb import formats, plans, results, tasks
from flan_nb.chapters import book_config
from flan_nb.errors import UserError
from flan_nb.runs import repo_root
from flan_nb.tinyworld import cot

PLANS = repo_root() / "notebooks" / "plans"


class WordTokenizer:
    """Counts whitespace words: enough for few-shot budgets."""

    def encode(self, text):
        return text.split()


def test_cot_mixture_adds_the_cot_tuning_chains_rendered_with_rationales():
    plain = book_config("08_instruction_tuning", size="smoke").tuning_split()
    config = book_config("08_instruction_tuning", size="smoke", cot_mixture=True)
    split = config.tuning_split()
    added = [n for n in split.train if n not in plain.train]
    assert added and set(added) <= set(cot.TUNING_DATASETS)
    assert not set(split.train) & set(cot.HELD_OUT_DATASETS)  # never tuned on
    assert split.eval == plain.eval
    fields = tasks.load_examples(added[0], "train", size="smoke")[0]
    rendered = config.render(added[0], fields, 1)
    assert rendered.targets.endswith(f"So the answer is {fields['answer']}.")
    assert fields["rationale"] in rendered.targets


@pytest.mark.parametrize("values, message", [
    ({"cot_mixture": True, "source": "tfds"}, "source 'tfds' has none"),
    ({"cot_mixture": True, "format": "no-template"}, "FORMAT = \"zero-shot\""),
    ({"cot_mixture": "yes"}, "COT_MIXTURE must be True or False"),
    ({"few_shot_fraction": 1.5}, "FEW_SHOT_FRACTION must be a number from 0"),
    ({"few_shot_fraction": 0.5, "format": "dataset-name"}, "has no templates"),
])
def test_bad_cot_and_few_shot_parameters_are_one_clear_error(values, message):
    with pytest.raises(UserError, match=message):
        book_config("08_instruction_tuning", **values)


def test_few_shot_fraction_renders_that_share_few_shot_within_the_input_length():
    examples = tasks.load_examples("tw_nli", "train", size="smoke")
    config = book_config("08_instruction_tuning", size="smoke", max_input_length=120)
    assert config.renderer(WordTokenizer()) == config.render  # 0: zero-shot only
    counts = {}
    for fraction in (0.5, 1.0):
        render = book_config("08_instruction_tuning", size="smoke", max_input_length=120,
                             few_shot_fraction=fraction).renderer(WordTokenizer())
        prompts = [render("tw_nli", ex, 0) for ex in examples]
        assert prompts == [render("tw_nli", ex, 0) for ex in examples]  # seeded
        plain = [tasks.get("tw_nli").render(ex, 0) for ex in examples]
        few = [p.inputs != z.inputs for p, z in zip(prompts, plain)]
        for p, z, is_few in zip(prompts, plain, few):
            assert p.targets == z.targets and p.inputs.endswith(z.inputs)
            assert not is_few or len(p.inputs.split()) <= 119  # pruned to the input length
        counts[fraction] = sum(few)
    assert 0 < counts[0.5] < counts[1.0] == len(examples)


def test_the_plans_score_cot_and_few_shot_groups():
    smoke = plans.load_plan(PLANS / "flan2022_smoke.yaml")
    groups = results.tuned_groups(smoke, results.evaluation_config(smoke))
    keys = {(g.cluster, g.eval_format) for g in groups}
    assert keys == {("nli", "zero-shot"), ("nli", "few-shot"), ("cot_held_out", "zero-shot"),
                    ("cot_held_out", "cot"), ("cot_held_out", "cot-trigger")}
    for stem, knob in (("flan2022_cot", "COT_MIXTURE"),
                       ("flan2022_formats", "FEW_SHOT_FRACTION")):
        plan = plans.load_plan(PLANS / f"{stem}.yaml")
        assert plan.profile == "book"
        groups = results.tuned_groups(plan, results.evaluation_config(plan))
        assert all(len(g.runs) == 3 for g in groups)  # three seeds
        assert len({g.setting[knob] for g in groups}) == 2
    assert results.cot_datasets("tinyworld") == list(cot.HELD_OUT_DATASETS)
    assert results.cot_datasets("tfds") == []


def test_cot_evaluation_of_a_source_without_cot_data_fails_before_anything_runs(tmp_path):
    text = (PLANS / "flan2022_smoke.yaml").read_text().replace("size: smoke",
                                                               "size: smoke\n  source: tfds")
    path = PLANS / "flan2022_tfds_cot_test.yaml"
    try:
        path.write_text(text)
        with pytest.raises(UserError, match="source 'tfds' has none"):
            results.check_publishable(plans.load_plan(path))
    finally:
        path.unlink()
    with pytest.raises(UserError, match="few_shot must be an integer"):
        results.EvaluationConfig(few_shot=-1)


def test_few_shot_cells_put_exemplars_before_the_example_within_the_budget():
    from flan_nb.evaluate import held_out_cells

    cells = held_out_cells(["tw_rte"], num_templates=1, max_examples=4, splits=("test",),
                           size="smoke", format="few-shot", shots=2)
    budget = formats.TokenBudget(formats.count_words, 200)
    spec = tasks.get("tw_rte")
    for ex in cells[0].examples:
        prompt = cells[0].render(spec, ex, budget)
        plain = spec.render(ex, 0).inputs
        assert prompt.inputs.endswith(plain) and prompt.inputs != plain
        assert prompt.inputs.count("OPTIONS:") == 3  # two exemplars, then the example
    with pytest.raises(UserError, match="at least one exemplar"):
        held_out_cells(["tw_rte"], num_templates=1, max_examples=4, size="smoke",
                       format="few-shot", shots=0)
