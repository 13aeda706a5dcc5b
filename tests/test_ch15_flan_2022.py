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
    assert keys == {("nli", "zero-shot"), ("nli", "few-shot-1"), ("cot_held_out", "zero-shot"),
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
    with pytest.raises(UserError, match="shots must be a list of integers"):
        results.EvaluationConfig(shots=[-1])


def test_few_shot_cells_put_exemplars_before_the_example_within_the_budget():
    from flan_nb.evaluate import held_out_cells

    cells = held_out_cells(["tw_rte"], num_templates=1, max_examples=4, splits=("test",),
                           size="smoke", format="few-shot-2")
    budget = formats.TokenBudget(formats.count_words, 200)
    spec = tasks.get("tw_rte")
    for ex in cells[0].examples:
        prompt = cells[0].render(spec, ex, budget)
        plain = spec.render(ex, 0).inputs
        assert prompt.inputs.endswith(plain) and prompt.inputs != plain
        assert prompt.inputs.count("OPTIONS:") == 3  # two exemplars, then the example
    with pytest.raises(UserError, match="needs its k"):
        held_out_cells(["tw_rte"], num_templates=1, max_examples=4, size="smoke",
                       format="few-shot")


# -- chapter 15's readings of a published document --------------------------------------------

def _document():
    """A published CoT plan in miniature: two settings x 2 seeds, scored on held-out NLI
    (direct) and the multi-step questions (three prompts); per-example scores chosen so the
    CoT-tuned model is better with the CoT prompt, worse on NLI, the same with the trigger."""
    from flan_nb import stats

    n = 20
    def per_example(run, dataset, fmt):
        if dataset == "tw_rte":
            return [100.0 if i < (8 if "cot" in run else 12) else 0.0 for i in range(n)]
        good = "cot" in run and fmt == "cot" and not run.startswith("07")
        return [100.0 if good and i % 4 else 0.0 for i in range(n)]

    runs, clusters, scores = [{"name": "07_base", "notebook": "07_pretraining.ipynb",
                               "parameters": {}}], [], []
    for setting, suffix in (({"COT_MIXTURE": False}, ""), ({"COT_MIXTURE": True}, "-cot")):
        names = [f"08-nli{suffix}-s{s}" for s in (0, 1)]
        runs += [{"name": name, "notebook": "08_instruction_tuning.ipynb",
                  "parameters": {"HELD_OUT": "nli", "SEED": s, "BASE_RUN": "07_base",
                                 "COT_MIXTURE": setting["COT_MIXTURE"]}}
                 for s, name in enumerate(names)]
        for cluster, fmts, dataset in (("nli", ["zero-shot"], "tw_rte"),
                                       ("cot_held_out", list(ch15.COT_FORMATS),
                                        "twc_weather_rule")):
            for fmt in fmts:
                tuned = [per_example(r, dataset, fmt) for r in names]
                base = [per_example("07_base", dataset, fmt)] * 2
                clusters.append({
                    "setting": setting, "cluster": cluster, "eval_format": fmt,
                    "num_seeds": 2, "datasets": [dataset],
                    "base": stats.mean_interval([base]).as_dict(),
                    "tuned": stats.mean_interval([tuned]).as_dict()})
                scores += [{"run": r, "dataset": dataset, "format": fmt,
                            "test_per_example": per_example(r, dataset, fmt)}
                           for r in names + ["07_base"]]
    return {"clusters": clusters, "scores": scores, "provenance": {"runs": runs},
            "evaluation": {}}


from flan_nb.chapters import ch15_flan_2022 as ch15  # noqa: E402


def test_cot_readings_are_paired_changes_read_from_their_intervals():
    doc = _document()
    readings = {r.what: r for r in ch15.cot_readings(doc)}
    keeps = readings["CoT prompt: tuned with CoT data - tuned without"]
    assert keeps.interval["mean"] == 75.0 and ch15.direction(keeps.interval) == "higher"
    direct = readings["nli (direct): tuned with CoT data - without"]
    assert direct.interval["mean"] == -20.0 and direct.row()["direction"] == "lower"
    trigger = readings["base: step by step - direct"]  # the base scores 0 with both prompts
    assert trigger.interval["mean"] == 0.0 and trigger.row()["direction"] == ch15.AT_FLOOR
    assert ch15.reading_metrics("cot", readings.values())[
        "cot/CoT_prompt__tuned_with_CoT_data___tuned_without"] == 75.0
    rows = ch15.cot_rows(doc)
    assert [r["model"] for r in rows] == ["base (untuned)", "tuned, no CoT data",
                                          "tuned with CoT data"]
    assert rows[2]["CoT prompt"].startswith("75.0 [")


def test_a_floor_is_said_once_and_named_in_every_reading_it_touches():
    doc = _document()
    assert ch15.floor_markdown(doc) is None  # the CoT-tuned model answers some
    for c in doc["clusters"]:
        for model in ("base", "tuned"):
            c[model] = {"mean": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    hist = {"histogram": {"answers": {"dancing": 5, "seeds": 2}, "total": 7}}
    doc["datasets"] = [{"cluster": "cot_held_out", "base_figures": hist, "tuned_figures": hist}]
    text = ch15.floor_markdown(doc)
    assert text.startswith("**At the floor.**") and "'dancing' (10), 'seeds' (4)" in text


def test_a_reading_missing_from_the_document_says_not_measured():
    doc = _document()
    assert ch15.treated(doc, "FEW_SHOT_FRACTION") is None
    readings = ch15.format_readings(doc)
    assert readings and all(r.interval is None for r in readings)
    assert {r.row()["direction"] for r in readings} == {"not measured"}


def test_the_chapter_config_rejects_bad_values():
    good = dict(cot_plan="plans/flan2022_cot.yaml", formats_plan="plans/flan2022_formats.yaml",
                tasks_plan="plans/when_tuning_helps_tasks.yaml", run_plan=False, size="book")
    assert ch15.Flan2022Config(**good).plans_to_run()[0].name == "flan2022_cot.yaml"
    for change, message in (({"cot_plan": "plans/nope.yaml"}, "COT_PLAN must name a plan"),
                            ({"run_plan": "yes"}, "RUN_PLAN must be True or False"),
                            ({"size": "huge"}, "unknown TinyWorld size")):
        with pytest.raises(UserError, match=message):
            ch15.Flan2022Config(**{**good, **change})


def test_task_scaling_reads_the_task_counts_of_chapter_10s_plan():
    sweep = ch15.ch10.load_sweep(PLANS / "when_tuning_helps_tasks.yaml")
    assert ch15.task_counts(sweep) == [0, 9, 31, 89, 244]
    line = ch15.task_scaling_line(sweep)
    assert "9 -> 89 -> 282 -> 1,836" in line and "244" in line


def test_task_readings_compare_task_counts_only_example_by_example():
    from flan_nb.chapters.published import load_published
    from flan_nb.runs import repo_root

    sweep = load_published(repo_root() / "notebooks" / "plans" / "when_tuning_helps_tasks.yaml")
    if sweep.document is None:
        pytest.skip("when_tuning_helps_tasks is not published")
    readings = ch15.task_readings(sweep.document)
    counts = [n for n in ch15.task_counts(sweep) if n > 0]
    assert len(readings) == 2 * 3  # (fewest -> most, before-most -> most) x 3 clusters
    assert f"with {counts[-1]} tuning tasks - with {counts[0]} tuning tasks" in readings[0].what
    assert all(r.interval is not None for r in readings)
