"""Chapter 10's helpers on a fake published sweep (no run, no model): setting labels, tables,
verdicts and knob readings from intervals, the probe per base, the not-run-yet state, config
errors, and the sweep plans' sharing of runs with the book's plans."""

import copy
import json

import pytest

from flan_nb import plans, results
from flan_nb.chapters import ch10_when_tuning_helps as ch10
from flan_nb.errors import UserError
from flan_nb.runs import repo_root

PLANS = repo_root() / "notebooks" / "plans"
SHORT, LONG = "07_pretraining", "07_pretraining-steps1200"


def iv(mean, half=1.0):
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half}


def cluster(base_run, name, diff, verdict, half=1.0):
    return {"setting": {"BASE_RUN": base_run}, "cluster": name, "num_seeds": 3,
            "base": iv(40.0), "tuned": iv(40.0 + diff), "difference": iv(diff, half),
            "verdict": verdict, "majority_floor": 33.0 if name == "nli" else None,
            "datasets": ["tw_nli"] if name == "nli" else ["tw_arc"]}


def dataset(base_run, name, dominant=None):
    hist = {"answers": {"yes": 90, "no": 10}, "num_answers": 2, "total": 100,
            "dominant": dominant}
    none = {"answers": {"yes": 50, "no": 50}, "num_answers": 2, "total": 100, "dominant": None}
    return {"setting": {"BASE_RUN": base_run}, "cluster": "nli", "dataset": name,
            "metric": "accuracy", "num_examples": 200, "num_templates": 8,
            "floors": {"majority": 33.0, "random": 33.33},
            "base_figures": {"histogram": none}, "tuned_figures": {"histogram": hist}}


def probe(model, base_run, cloze, template):
    runs = [base_run] if model == "base" else [f"tuned-{base_run}-s{i}" for i in range(3)]
    return {"model": model, "base_run": base_run, "runs": runs, "num_facts": 200,
            "chance": 25.0, "num_templates": 8, "cloze": iv(cloze, 4), "template": iv(template, 4),
            "gap": iv(cloze - template, 5)}


@pytest.fixture
def document():
    """A pretraining-length sweep: the long base helps on NLI and closed-book QA."""
    return {
        "plan": "notebooks/plans/when_tuning_helps_pretraining.yaml",
        "provenance": {"runs": [
            {"name": SHORT, "notebook": "07_pretraining.ipynb",
             "parameters": {"NUM_STEPS": 300}, "metrics": {"params": 1_012_000}},
            {"name": LONG, "notebook": "07_pretraining.ipynb",
             "parameters": {"NUM_STEPS": 1200}, "metrics": {"params": 1_012_000}}]},
        "scores": [],
        "clusters": [cluster(SHORT, "nli", 0.5, "no detectable change"),
                     cluster(SHORT, "closed_book_qa", 5.0, "helps"),
                     cluster(LONG, "nli", 6.0, "helps"),
                     cluster(LONG, "closed_book_qa", 5.5, "helps", half=3.0)],
        "datasets": [dataset(SHORT, "tw_nli"),
                     dataset(LONG, "tw_nli", dominant={"answer": "yes", "share": 0.9})],
        "probe": [probe("base", SHORT, 60, 30), probe("tuned", SHORT, 60, 45),
                  probe("base", LONG, 90, 30), probe("tuned", LONG, 88, 32)],
    }


def test_setting_labels_name_the_knob_in_words(document):
    assert ch10.setting_label(document, {"BASE_RUN": LONG}) == "1,200 pretraining steps"
    assert ch10.setting_label(document, {"BASE_RUN": "elsewhere"}) == "base elsewhere"
    assert ch10.setting_label(document, {"NUM_TUNING_TASKS": 0}) == "the split's datasets"
    assert ch10.setting_label(document, {"NUM_TUNING_TASKS": 89}) == "89 tuning tasks"
    assert ch10.setting_label(document, {"X": 1}) == "X=1"
    assert ch10.settings(document) == [{"BASE_RUN": SHORT}, {"BASE_RUN": LONG}]


def test_tables(document):
    rows = ch10.sweep_rows(document)
    assert [r["setting"] for r in rows] == ["300 pretraining steps"] * 2 + [
        "1,200 pretraining steps"] * 2
    assert rows[2]["tuned - base"] == "6.0 [5.0, 7.0]" and rows[2]["verdict"] == "helps"
    one = copy.deepcopy(document)
    one["clusters"] = [dict(c, setting={}) for c in one["clusters"][:2]]
    assert "setting" not in ch10.sweep_rows(one)[0]  # one setting: no column
    assert [r["dataset"] for r in ch10.floor_rows(document)] == ["tw_nli"]  # once per dataset
    flagged = ch10.one_answer_rows(document)
    assert [(r["setting"], r["model"]) for r in flagged] == [("1,200 pretraining steps",
                                                               "tuned")]
    assert flagged[0]["answers (share)"] == "'yes' 90%, 'no' 10%"


def with_nli_scores(document):
    """Per-example scores of the NLI runs: tuning the short base changes nothing, tuning the
    long base answers every example right (the base gets every other one)."""
    base = [0.0, 100.0] * 10
    for base_run in (SHORT, LONG):
        for seed in range(3):
            name = f"tune-{base_run}-nli-s{seed}"
            document["provenance"]["runs"].append({
                "name": name, "notebook": "08_instruction_tuning.ipynb", "metrics": {},
                "parameters": {"HELD_OUT": "nli", "BASE_RUN": base_run, "SEED": seed}})
            document["scores"].append({"run": name, "dataset": "tw_nli", "test_per_example":
                                       base if base_run == SHORT else [100.0] * 20})
        document["scores"].append({"run": base_run, "dataset": "tw_nli",
                                   "test_per_example": base})
    return document


def test_the_change_of_the_gain_is_paired_per_example(document):
    document = with_nli_scores(document)
    change = ch10.gain_change(document, "nli", {"BASE_RUN": SHORT}, {"BASE_RUN": LONG})
    assert change["mean"] == 50.0 and 0 < change["ci_low"] < 50 < change["ci_high"] <= 100
    assert ch10.gain_change(document, "closed_book_qa", {"BASE_RUN": SHORT},
                            {"BASE_RUN": LONG}) is None  # no per-example scores kept


def test_verdicts_and_knob_read_the_intervals(document):
    lines = ch10.verdict_lines(document)
    assert "helps on closed_book_qa (+5.0)" in lines[0]
    assert "no detectable change on nli (+0.5)" in lines[0]
    assert "helps on nli (+6.0) and closed_book_qa (+5.5)" in lines[1]
    knob = dict(zip(["nli", "closed_book_qa"], ch10.knob_lines(document)))
    assert ": larger (the two intervals do not overlap)" in knob["nli"]  # [-0.5, 1.5], [5, 7]
    assert "not distinguishable (the two" in knob["closed_book_qa"]  # [4, 6] vs [2.5, 8.5]
    knob = dict(zip(["nli", "closed_book_qa"], ch10.knob_lines(with_nli_scores(document))))
    assert ": larger (change 50.0 [" in knob["nli"] and "above 0" in knob["nli"]
    assert ch10.compare(iv(5), iv(1)) == "higher" and ch10.compare(iv(1), iv(5)) == "lower"
    assert ch10.compare(iv(1), iv(3)) == "indistinguishable"  # [0, 2] touches [2, 4]
    assert ch10.best_setting(document) == ({"BASE_RUN": LONG}, 2)


def test_conclusions_state_the_goal_from_the_verdicts(document):
    sweep = ch10.Sweep(plans.load_plan(PLANS / "when_tuning_helps_pretraining.yaml"),
                       document, [])
    text = ch10.conclusions_markdown(sweep)
    assert "Best setting: 1,200 pretraining steps**, helping on 2 of 2" in text
    assert "is not met." in text
    for c in document["clusters"]:
        c["verdict"] = "no detectable change"
    assert "No setting helps on any held-out cluster" in ch10.conclusions_markdown(sweep)


def test_probe_is_read_per_base(document):
    lines = ch10.probe_lines(document)
    assert lines[0].startswith("- 300 pretraining steps: cloze 60.0% (above the 25% chance)")
    assert "tuning closes part of the gap" in lines[0]  # templates [41, 49] vs [26, 34]
    assert "no detectable change" in lines[1]  # [28, 36] vs [26, 34]
    assert "1,200 pretraining steps is higher than that with 300" in lines[2]
    rows = ch10.probe_rows(document)
    assert [(r["base"], r["model"]) for r in rows][:2] == [("300 pretraining steps", "base"),
                                                           ("300 pretraining steps", "tuned")]


def test_metrics_are_the_published_means(document):
    metrics = ch10.sweep_metrics("sweep", document)
    assert metrics["sweep/1_200_pretraining_steps/nli/difference"] == 6.0
    assert metrics["sweep/300_pretraining_steps/closed_book_qa/tuned"] == 45.0
    assert metrics["sweep/1_200_pretraining_steps/clusters_helped"] == 2
    assert metrics["sweep/300_pretraining_steps/clusters_helped"] == 1


def test_figure_has_scores_and_differences_per_cluster(document):
    import matplotlib.pyplot as plt

    fig = ch10.plot_sweep(document, "title")
    assert len(fig.axes) == 4  # 2 rows x 2 clusters
    plt.close(fig)


def test_the_reference_is_read_as_the_paper_groups_clusters(document):
    one = {**document, "clusters": [
        {**c, "setting": {}, "cluster": name} for c, name in zip(
            document["clusters"], ("nli", "commonsense", "translation", "sentiment"))]}
    sweep = ch10.Sweep(plans.load_plan(PLANS / "book.yaml"), one, [])
    text = ch10.cluster_reading(sweep)  # verdicts: no change, helps, helps, helps
    assert "helps on 1 of the 2 clusters the paper calls instruction-like (translation)" in text
    assert "on 1 of the 1 clusters it calls sentence completion (commonsense)" in text
    assert "on 1 of the 1 clusters it does not group (sentiment)" in text


def test_unpublished_sweep_is_not_run_yet_and_a_corrupt_one_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path))
    sweep = ch10.load_sweep(PLANS / "when_tuning_helps_tasks.yaml")
    assert sweep.document is None
    text = ch10.not_run_markdown(sweep)
    assert "not run yet" in text
    assert "flan-nb batch notebooks/plans/when_tuning_helps_tasks.yaml --publish" in text
    assert "when_tuning_helps_tasks" in ch10.not_tried_markdown({sweep.stem: sweep})
    (tmp_path / "when_tuning_helps_tasks.json").write_text("{not json")
    with pytest.raises(UserError, match="corrupt"):
        ch10.load_sweep(PLANS / "when_tuning_helps_tasks.yaml")


def test_config_names_the_bad_value():
    good = dict(sweeps=["pretraining"], reference_plan="plans/book.yaml", run_plan=False)
    assert ch10.WhenTuningHelpsConfig(**good).plan_paths()[0].name == \
        "when_tuning_helps_pretraining.yaml"
    with pytest.raises(UserError, match="no plan .* for sweep 'size'; the sweeps are"):
        ch10.WhenTuningHelpsConfig(**{**good, "sweeps": ["size"]})
    with pytest.raises(UserError, match="SWEEPS must be a non-empty list"):
        ch10.WhenTuningHelpsConfig(**{**good, "sweeps": []})
    with pytest.raises(UserError, match="REFERENCE_PLAN"):
        ch10.WhenTuningHelpsConfig(**{**good, "reference_plan": "plans/nope.yaml"})
    with pytest.raises(UserError, match="RUN_PLAN"):
        ch10.WhenTuningHelpsConfig(**{**good, "run_plan": "yes"})


@pytest.mark.parametrize("sweep,reference,max_new", [
    ("when_tuning_helps_pretraining", "book", None),
    ("when_tuning_helps_tasks", "book", None),
    ("when_tuning_helps_corpus", "book", None),
    ("when_tuning_helps_tuning_steps", "book", None),
    ("when_tuning_helps_tuning_steps_other", "book", None),
    ("when_tuning_helps_options", "book", None),
    ("when_tuning_helps_smoke", "smoke", 3)])
def test_sweeps_share_runs_and_order_them_first(sweep, reference, max_new):
    """A run both plans name has the same parameters (trained once), and comes before every
    run the sweep adds: a run finishing after a later-planned one makes the runner redo it."""
    plan = plans.load_plan(PLANS / f"{sweep}.yaml")
    ref = {p.name: p.parameters() for p in plans.load_plan(PLANS / f"{reference}.yaml").runs}
    shared = [p.name in ref and p.parameters() == ref[p.name] for p in plan.runs]
    assert any(shared) and not any(p.name in ref and not s for p, s in zip(plan.runs, shared))
    assert shared == sorted(shared, reverse=True), [p.name for p in plan.runs]
    if max_new is not None:
        assert shared.count(False) <= max_new
    config = results.evaluation_config(plan)
    assert len(results.tuned_groups(plan, config)) >= 2  # a sweep has several settings
    assert all(len(g.runs) >= (2 if max_new else 3) for g in results.tuned_groups(plan, config))


def test_bad_parameters_fail_before_the_notebook_runs():
    from flan_nb import params

    notebook = repo_root() / "notebooks" / "10_when_tuning_helps.ipynb"
    for profile in ("book", "smoke", "tpu_full"):
        params.resolve_parameters(notebook, profile)  # every profile's values pass
    with pytest.raises(UserError, match="sweep 'size'"):
        params.resolve_parameters(notebook, "book", {"SWEEPS": ["size"]})


def test_change_warnings_are_few_lines():
    assert ch10.change_warnings([]) == []
    lines = ch10.change_warnings([f"run{i} (new in the plan)" for i in range(5)])
    assert len(lines) == 4 and lines[-1] == "WARNING: and 2 more runs differ; republish"


def test_reference_reading_states_the_goal_and_the_chance_yardstick(document):
    assert ch10.chance_of_helps(1, 1) == pytest.approx(0.025)
    assert ch10.chance_of_helps(10, 0) == pytest.approx(1.0)
    assert 0.0015 < ch10.chance_of_helps(10, 3) < 0.0017  # binomial tail, 3 of 10 at 2.5%
    one = {**document, "clusters": [{**c, "setting": {}, "cluster": name} for c, name in zip(
        document["clusters"], ("nli", "commonsense", "translation", "sentiment"))]}
    text = ch10.reference_markdown(ch10.Sweep(plans.load_plan(PLANS / "book.yaml"), one, []))
    assert "Tuning helps on 3 of 4 held-out clusters: the chapter's goal" in text
    assert "is met." in text and "on 0.10 clusters on average" in text


def test_bases_are_labelled_by_what_differs_between_them(document):
    runs = document["provenance"]["runs"]  # runs record every parameter, defaults included
    runs[0]["parameters"]["CORPUS"] = "tinyworld/book"
    runs[1]["parameters"] = {**runs[0]["parameters"], "CORPUS": "tinyworld/book/no-questions"}
    assert ch10.setting_label(document, {"BASE_RUN": LONG}) == "corpus mix no-questions"
    assert ch10.setting_label(document, {"BASE_RUN": SHORT}) == "corpus mix default"
    runs[1]["parameters"]["CORPUS"] = "tinyworld/large"  # another size: said too
    assert ch10.setting_label(document, {"BASE_RUN": LONG}) == "corpus mix default (large)"
    runs[1]["parameters"]["CORPUS"] = "tinyworld/book/renamed"  # shown as recorded
    assert ch10.setting_label(document, {"BASE_RUN": LONG}) == "CORPUS=tinyworld/book/renamed"
    assert ch10.setting_label(document, {"NUM_STEPS": 480}) == "480 tuning steps"
    assert ch10.setting_label(document, {"OPTIONS_SUFFIX": False}) == (
        "tuned without any options list")


def test_runs_shared_by_name_but_trained_apart_are_pointed_out(document):
    other = copy.deepcopy(document)
    for doc, commit, loss in ((document, "aaaaaaa1", 0.78), (other, "bbbbbbb2", 0.79)):
        doc["provenance"]["commit"] = commit
        doc["provenance"]["runs"][0]["metrics"]["final_loss"] = loss
    note = ch10.retrained_markdown("`sweep`", document, "the reference", other)
    assert note.startswith("Note: the runs `sweep` shares") and "1 differ" in note and "aaaaaaa and bbbbbbb" in note
    assert ch10.retrained_markdown("`sweep`", document, "the reference", document) is None


def test_model_size_is_read_from_chapter_12_or_listed_as_not_tried(document, tmp_path,
                                                                   monkeypatch):
    sweep = ch10.Sweep(plans.load_plan(PLANS / "when_tuning_helps_pretraining.yaml"),
                       document, [])
    reference = ch10.Sweep(plans.load_plan(PLANS / "book.yaml"), document, [])
    # the committed Figure 7 results: the gain per size and its change across sizes
    reading = ch10.model_size_reading()
    assert reading.startswith("chapter 12 tunes 4 sizes pretrained on the same tokens")
    assert "from the smallest to the largest the gain changes by" in reading
    text = ch10.paper_markdown({sweep.stem: sweep}, reference, reading)
    assert f"Model size: {reading}." in text and "not measured yet" not in text
    assert "Model size" not in ch10.not_tried_markdown({sweep.stem: sweep}, reading)
    # nothing published: the knob is listed as not tried, with chapter 12's plans
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path))
    assert ch10.model_size_reading() is None
    assert "Model size is not measured yet" in ch10.paper_markdown({sweep.stem: sweep},
                                                                    reference)
    assert "figure7_tiny.yaml" in ch10.not_tried_markdown({sweep.stem: sweep})
