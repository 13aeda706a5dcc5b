"""Chapter 13's readings come from the published intervals: few-shot gains paired example by
example, spreads over templates, FLAN - base against the paper's 10-point margin."""

import statistics

import pytest

from flan_nb import stats
from flan_nb.chapters import ch13_few_shot_and_prompt_tuning as ch13


def _interval(mean, low, high):
    return {"mean": mean, "ci_low": low, "ci_high": high}


def figure9_document():
    zero = [10.0, 20.0, 30.0, 40.0, 10.0, 20.0, 30.0, 40.0]
    few = [z + g for z, g in zip(zero, [5, 10, 15, 20, 5, 10, 15, 20])]  # every one better
    group = {"setting": {}, "cluster": "closed_book_qa", "seeds": [0], "datasets": ["tw_arc"],
             "num_seeds": 1, "num_examples": 8, "num_templates": {"tw_arc": 2},
             "base": _interval(25, 15, 35), "tuned": _interval(25, 15, 35)}
    runs = [{"name": "tuned-s0", "notebook": "08_instruction_tuning.ipynb",
             "parameters": {"HELD_OUT": "closed_book_qa", "SEED": 0, "BASE_RUN": "base"}},
            {"name": "base", "notebook": "07_pretraining.ipynb", "parameters": {}}]

    def score(run, fmt, values, templates):
        return {"run": run, "dataset": "tw_arc", "format": fmt, "test_per_example": values,
                "per_template": {"validation": templates, "test": templates}}

    return {"clusters": [{**group, "eval_format": "zero-shot"},
                         {**group, "eval_format": "few-shot-4"}],
            "provenance": {"runs": runs},
            "scores": [score("tuned-s0", "zero-shot", zero, {"0": 15.0, "1": 35.0}),
                       score("tuned-s0", "few-shot-4", few, {"0": 36.0, "1": 38.0}),
                       score("base", "zero-shot", zero, {"0": 25.0, "1": 25.0}),
                       score("base", "few-shot-4", zero, {"0": 25.0, "1": 25.0})]}


def test_few_shot_gain_is_paired_and_read_from_its_interval():
    doc = figure9_document()
    gain = ch13.shot_gain(doc, "closed_book_qa", "few-shot-4")
    assert gain.mean == pytest.approx(12.5) and stats.verdict(gain) == stats.HELPS
    assert ch13.shot_gain(doc, "closed_book_qa", "few-shot-4", "base").mean == 0
    spread = ch13.cluster_template_spread(doc, "closed_book_qa", "zero-shot", "tuned")
    assert spread == pytest.approx(statistics.stdev([15.0, 35.0]))
    lines = ch13.figure9_lines(doc)
    assert lines == [f"- closed_book_qa, 4-shot: exemplars help FLAN "
                     f"({ch13.format_interval(gain)} points) and lower its spread over "
                     f"templates (14.1 -> 1.4)."]
    rows = ch13.figure9_rows(doc)
    assert [r["prompt"] for r in rows] == ["zero-shot", "4-shot"]
    assert rows[1]["FLAN std"] == 1.4 and rows[0]["FLAN gain vs 0-shot"] == "-"
    assert "struct_to_text, translation" in ch13.figure9_paper_markdown(doc)


@pytest.mark.parametrize("difference, reading", [
    (_interval(14, 11, 17), "more than 10 points, as the paper"),
    (_interval(4, 1, 7), "less than the paper's 10 points"),
    (_interval(9, 6, 12), "not distinguishable from 10 points"),
])
def test_the_32_example_margin_is_read_against_the_papers(difference, reading):
    assert ch13.margin_reading(difference, ch13.PAPER_FIGURE10_MARGIN) == reading


def test_figure10_lines_count_settings_by_verdict():
    row = {"num_examples": "32", "datasets": ["a", "b"], "num_seeds": 3,
           "base": _interval(50, 45, 55), "tuned": _interval(60, 55, 65),
           "difference": _interval(10, 8, 12), "verdict": stats.HELPS}
    from flan_nb import results, tasks

    floor = results.floors_on("tw_rte", tasks.load_examples("tw_rte", "test", size="smoke"),
                              size="smoke", seed=0)["majority"]
    around, above = _interval(floor, floor - 5, floor + 5), _interval(90, 85, 95)
    settings = [{"dataset": "tw_rte", "num_examples": "32", "verdict": stats.HELPS,
                 "base": around, "tuned": above},
                {"dataset": "tw_rte", "num_examples": "all", "verdict": stats.NO_CHANGE,
                 "base": around, "tuned": around},
                {"dataset": "tw_rte", "num_examples": "all", "verdict": stats.HURTS,
                 "base": above, "tuned": above}]
    lines = ch13.figure10_lines({"overall": [row], "settings": settings, "evaluation": {
        "prompt_tuning": {"size": "smoke", "max_test_examples": None}}})
    assert lines[0].startswith("- n = 32, averaged over 2 datasets: FLAN - base 10.0 [8.0, 12.0]")
    assert lines[1] == ("- Per dataset and size: FLAN better in 1 of 3 settings, worse in 1, no "
                        "detectable change in 1.")
    assert lines[2] == "- With 32 examples the gain is not distinguishable from 10 points."
    assert lines[3].startswith("- At the floor: in 1 of 3 settings (tw_rte n=all) both")


def test_the_chapter_config_rejects_swapped_or_missing_plans():
    from flan_nb.chapters import book_config
    from flan_nb.errors import UserError

    assert book_config("13_few_shot_and_prompt_tuning").run_plan is False
    with pytest.raises(UserError, match="FIGURE9_PLAN .* is a prompt-tuning plan"):
        book_config("13_few_shot_and_prompt_tuning", figure9_plan="plans/figure10.yaml")
    with pytest.raises(UserError, match="FIGURE10_PLAN .* has no evaluation.prompt_tuning"):
        book_config("13_few_shot_and_prompt_tuning", figure10_plan="plans/figure9.yaml")
    with pytest.raises(UserError, match="FIGURE9_PLAN must name a plan file"):
        book_config("13_few_shot_and_prompt_tuning", figure9_plan="plans/nope.yaml")


def test_floor_settings_skip_tfds_datasets_and_default_the_size():
    row = {"dataset": "bool_q", "num_examples": "32", "verdict": stats.NO_CHANGE,
           "base": _interval(50, 40, 60), "tuned": _interval(50, 40, 60)}
    assert ch13.floor_settings({"settings": [row], "evaluation": {"prompt_tuning": {}}}) == []
