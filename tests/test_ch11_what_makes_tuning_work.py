"""Chapter 11's computations on small hand-built published documents (no run, no model): the
held-out average that counts each cluster once, runs matched to their most specific setting,
paired changes between settings, directions read against the paper's, Figure 8's formats
(and files without formats), Appendix B's two sweeps, the plots, the config, and the smoke
plans' sharing of runs."""

import copy

import numpy as np
import pytest

from flan_nb import plans, results, stats
from flan_nb.chapters import ch11_what_makes_tuning_work as ch11
from flan_nb.chapters import published
from flan_nb.errors import UserError
from flan_nb.runs import repo_root

PLANS = repo_root() / "notebooks" / "plans"
CLUSTERS = {"nli": ["tw_nli", "tw_rte"], "closed_book_qa": ["tw_arc"]}
HELD = "nli,closed_book_qa"
N = 20
BASE = "07_pretraining"
ONE = {"TUNING_CLUSTERS": "summarization"}
SIX = {"TUNING_CLUSTERS": "summarization,translation"}  # the "all" point of the document
DEFAULTS = {"FORMAT": "zero-shot", "NUM_TEMPLATES": 0, "DATASETS_PER_CLUSTER": 0}


def base_scores(dataset):
    return [0.0, 100.0] * (N // 2)  # 50 on every dataset


def level(value, noise=0.0, seed=0):
    """Per-example scores with mean `value` (two levels, so the bootstrap has spread)."""
    rng = np.random.default_rng(seed)
    return list(np.clip(value + np.array([-10.0, 10.0] * (N // 2))
                        + noise * rng.standard_normal(N), 0, 100))


def build(points, seeds=(0, 1, 2), keep_scores=True):
    """A published document: `points` = [(name, setting, metrics, {eval format: scores(seed,
    dataset)})], each tuned with 3 seeds holding out NLI and closed-book QA."""
    runs = [{"name": BASE, "notebook": "07_pretraining.ipynb", "parameters": {},
             "metrics": {"params": 1_012_000}}]
    doc = {"plan": "notebooks/plans/test.yaml", "evaluation": {}, "clusters": [],
           "datasets": [], "scores": [],
           "provenance": {"commit": "0123456789abcdef", "date": "2026-12-07T00:00:00Z",
                          "runs": runs}}
    formats = {fmt for _, _, _, fns in points for fmt in fns}
    for fmt in sorted(formats):
        for ds in CLUSTERS.values():
            for d in ds:
                doc["scores"].append({"run": BASE, "dataset": d,
                                      "test_per_example": base_scores(d),
                                      **({"format": fmt} if fmt != ch11.ZERO_SHOT else {})})
    for name, setting, metrics, fns in points:
        for seed in seeds:
            run = f"{name}-s{seed}"
            runs.append({"name": run, "notebook": "08_instruction_tuning.ipynb",
                         "parameters": {"HELD_OUT": HELD, "SEED": seed, "BASE_RUN": BASE,
                                        **DEFAULTS, **setting},
                         "metrics": metrics})
            for fmt, fn in fns.items():
                for ds in CLUSTERS.values():
                    for d in ds:
                        doc["scores"].append({
                            "run": run, "dataset": d, "test_per_example": fn(seed, d),
                            **({"format": fmt} if fmt != ch11.ZERO_SHOT else {})})
        for fmt, fn in fns.items():
            for cluster, ds in CLUSTERS.items():
                tuned = [[fn(s, d) for s in seeds] for d in ds]
                base = [[base_scores(d)] for d in ds]
                diff = [[[t - b for t, b in zip(fn(s, d), base_scores(d))] for s in seeds]
                        for d in ds]
                entry = {"setting": setting, "cluster": cluster, "num_seeds": len(seeds),
                         "seeds": list(seeds), "datasets": ds, "num_examples": N * len(ds),
                         "num_templates": {d: 8 for d in ds},
                         "tuned": stats.mean_interval(tuned).as_dict(),
                         "base": stats.mean_interval(base).as_dict(),
                         "difference": stats.mean_interval(diff).as_dict()}
                entry["verdict"] = stats.verdict(stats.Interval(**entry["difference"]))
                if fmt != ch11.ZERO_SHOT:
                    entry["eval_format"] = fmt
                doc["clusters"].append(entry)
    if not keep_scores:
        doc["scores"] = []
    return doc


def metrics(clusters, datasets):
    return {"tuning_clusters": [f"c{i}" for i in range(clusters)],
            "num_tuning_datasets": datasets}


def flat(by_dataset):
    """Scores per dataset, the same for every seed."""
    return lambda seed, d: level(by_dataset[d], noise=1.0, seed=seed)


@pytest.fixture
def figure6():
    """One cluster: NLI datasets 80 and 60, closed-book QA 20 (average (70 + 20) / 2 = 45).
    Two clusters: 10 points more everywhere."""
    one = {"tw_nli": 80, "tw_rte": 60, "tw_arc": 20}
    two = {d: v + 10 for d, v in one.items()}
    return build([("fig6-2", SIX, metrics(2, 5), {"zero-shot": flat(two)}),
                  ("fig6-1", ONE, metrics(1, 3), {"zero-shot": flat(one)})])


def test_the_average_counts_each_held_out_cluster_once(figure6):
    avg = ch11.average(figure6, ONE)
    assert avg["mean"] == pytest.approx(45.0, abs=0.5)  # not the datasets' mean, 53.3
    assert avg["ci_low"] < avg["mean"] < avg["ci_high"]
    assert ch11.average(figure6, ONE, model="base")["mean"] == 50.0
    assert ch11.average(figure6, ONE, model="difference")["mean"] == pytest.approx(-5, abs=0.5)
    assert ch11.average(build([("x", ONE, {}, {"zero-shot": flat(
        {"tw_nli": 80, "tw_rte": 60, "tw_arc": 20})})], keep_scores=False), ONE) is None


def test_points_are_ordered_by_clusters_and_read_the_runs_metrics(figure6):
    points = ch11.figure6_points(figure6)
    assert [(p["clusters"], p["datasets"]) for p in points] == [(1, 3), (2, 5)]
    assert points[1]["tuned"]["mean"] == pytest.approx(55.0, abs=0.5)
    assert set(points[0]["per_cluster"]) == {"nli", "closed_book_qa"}
    rows = ch11.figure6_rows(points)
    assert list(rows[0])[:2] == ["clusters", "datasets"] and "average" in rows[0]


def test_a_run_belongs_to_its_most_specific_setting():
    per = {"tw_nli": 50, "tw_rte": 50, "tw_arc": 50}
    doc = build([("all", SIX, metrics(2, 5), {"zero-shot": flat(per)}),
                 ("ds1", {**SIX, "DATASETS_PER_CLUSTER": 1}, metrics(2, 2),
                  {"zero-shot": flat(per)})])
    assert [r for _, r, _ in ch11.tuned_runs(doc, SIX, "nli")] == ["all-s0", "all-s1",
                                                                     "all-s2"]
    ds1 = {**SIX, "DATASETS_PER_CLUSTER": 1}
    assert [s for s, _, _ in ch11.tuned_runs(doc, ds1, "closed_book_qa")] == [0, 1, 2]
    assert ch11.tuned_runs(doc, SIX, "commonsense") == []  # not held out


def test_change_is_paired_by_seed_and_read_against_the_paper(figure6):
    up = ch11.change(figure6, ONE, SIX)
    assert up["mean"] == pytest.approx(10.0, abs=0.5) and up["ci_low"] > 0
    assert ch11.direction(up) == ch11.INCREASE
    # seeds listed in another order pair by value, not by position
    shuffled = copy.deepcopy(figure6)
    shuffled["provenance"]["runs"][1:4] = shuffled["provenance"]["runs"][1:4][::-1]
    assert ch11.change(shuffled, ONE, SIX) == up
    down = ch11.change(figure6, SIX, ONE)
    assert ch11.direction(down) == ch11.DECREASE
    assert ch11.agreement(ch11.INCREASE, ch11.INCREASE) == "agrees"
    assert ch11.agreement(ch11.DECREASE, ch11.INCREASE) == "opposite"
    assert ch11.agreement(ch11.NO_EFFECT, ch11.INCREASE) == "no detectable effect"
    assert ch11.agreement(ch11.NO_EFFECT, ch11.NEGLIGIBLE).startswith("agrees")
    assert ch11.agreement(ch11.INCREASE, ch11.NEGLIGIBLE).startswith("differs")
    one_cluster = ch11.change(figure6, ONE, SIX, clusters=["closed_book_qa"])
    assert one_cluster["mean"] == pytest.approx(10.0, abs=0.5)


def test_figure6_lines_compare_directions_from_intervals(figure6):
    lines = ch11.figure6_lines(figure6)
    assert "1 -> 2 tuning clusters (3 -> 5 datasets)" in lines[0]
    assert "increase" in lines[0] and "**Agrees.**" in lines[0]
    assert "49.9 -> 55.0 (+5.1) from 1 to 2 clusters" in lines[0]  # the paper at our steps
    assert any(line.strip().startswith("- nli alone: +") and line.endswith("increase.")
               for line in lines)
    assert "tuned model against the untuned base" in lines[-1]
    flat_doc = build([("a", ONE, metrics(1, 3), {"zero-shot": lambda s, d: level(50, 30, s)}),
                      ("b", SIX, metrics(2, 5), {"zero-shot": lambda s, d: level(50, 30,
                                                                                 s + 7)})])
    assert "**No detectable effect.**" in ch11.figure6_lines(flat_doc)[0]
    no_scores = ch11.figure6_lines(build([("a", ONE, metrics(1, 3), {
        "zero-shot": flat({"tw_nli": 1, "tw_rte": 1, "tw_arc": 1})}), ("b", SIX, metrics(2, 5), {
        "zero-shot": flat({"tw_nli": 1, "tw_rte": 1, "tw_arc": 1})})], keep_scores=False))
    assert "not measured" in no_scores[0]


@pytest.fixture
def figure8():
    """FLAN instructions 60; no template 40 with instructions, 45 in its own format; dataset
    name 50 either way."""
    def const(v):
        return flat({"tw_nli": v, "tw_rte": v, "tw_arc": v})
    return build([
        ("flan", SIX, metrics(2, 5), {"zero-shot": const(60)}),
        ("none", {**SIX, "FORMAT": "no-template"}, metrics(2, 5),
         {"zero-shot": const(40), "no-template": const(45)}),
        ("name", {**SIX, "FORMAT": "dataset-name"}, metrics(2, 5),
         {"zero-shot": const(50), "dataset-name": const(50)})])


def test_figure8_bars_in_the_papers_order_with_its_values(figure8):
    bars = ch11.figure8_bars(figure8)
    assert [(b["tuning"], b["eval"]) for b in bars] == ch11.BAR_ORDER
    assert [b["paper"] for b in bars] == [37.3, None, 46.6, 47.0, 55.2]
    assert [round(b["tuned"]["mean"]) for b in bars] == [40, 45, 50, 50, 60]
    assert bars[1]["base"]["mean"] == 50.0  # the base, scored in the no-template format
    rows = ch11.figure8_rows(bars)
    assert rows[1]["evaluated in"] == "no template" and rows[1]["paper"] == "-"
    lines = ch11.figure8_lines(figure8)
    assert len(lines) == 4 and all("**Agrees.**" in line for line in lines[:1] + lines[2:])
    assert "37.3 -> 55.2 (+17.9)" in lines[0]
    assert "The paper has no such bar." in lines[1] and "Agrees" not in lines[1]
    assert "47.0 -> 55.2 (+8.2)" in lines[3]


def test_a_file_without_formats_is_flan_instructions(figure6):
    bars = ch11.figure8_bars(figure6)
    assert {(b["tuning"], b["eval"]) for b in bars} == {("zero-shot", "zero-shot")}
    assert ch11.figure8_lines(build([("none", {"FORMAT": "no-template"}, {}, {
        "zero-shot": flat({"tw_nli": 1, "tw_rte": 1, "tw_arc": 1})})]))[0].startswith(
        "- The published plan has no run tuned on FLAN instructions")


@pytest.fixture
def appendix_b():
    """More datasets per cluster help (+10 from 1 to all); templates change nothing."""
    def const(v, noise=0.0):
        return lambda s, d: level(v, noise, s)
    return build([
        ("all", SIX, metrics(2, 5), {"zero-shot": const(50, 20)}),
        ("ds1", {**SIX, "DATASETS_PER_CLUSTER": 1}, metrics(2, 2),
         {"zero-shot": lambda s, d: [v - 10 for v in level(50, 20, s)]}),
        ("tp1", {**SIX, "NUM_TEMPLATES": 1}, metrics(2, 5),
         {"zero-shot": lambda s, d: level(50, 20, s + 11)})])


def test_appendix_b_has_two_sweeps_ending_at_all(appendix_b):
    points = ch11.appendix_b_points(appendix_b)
    assert [p["label"] for p in points["datasets"]] == ["1", "all"]
    assert [p["label"] for p in points["templates"]][0] == "1"
    assert points["templates"][-1]["label"].startswith("all")
    assert points["datasets"][-1]["setting"] == points["templates"][-1]["setting"] == SIX
    lines = ch11.appendix_b_lines(appendix_b)
    assert "1 -> all datasets per cluster" in lines[0] and "**Agrees.**" in lines[0]
    assert "+10.0 points" in lines[0]
    assert "**Agrees (no detectable effect either).**" in lines[1]
    rows = ch11.appendix_b_rows(points)
    assert [r["sweep"] for r in rows].count("datasets per cluster") == 2


def test_plots_metrics_caption_and_scale(figure6, figure8, appendix_b):
    import matplotlib.pyplot as plt

    for fig in (ch11.plot_figure6(figure6), ch11.plot_figure8(figure8),
                ch11.plot_appendix_b(appendix_b)):
        assert len(fig.axes) == 2
        plt.close(fig)
    m = ch11.figure_metrics("figure6", figure6)
    assert m["figure6/clusters1/base"] == 50.0
    assert m["figure6/clusters2/tuned"] == ch11.average(figure6, SIX)["mean"]
    assert "figure8/no_template/no_template/tuned" in ch11.figure_metrics("figure8", figure8)
    assert "appendix_b/datasets/all/tuned" in ch11.figure_metrics("appendix_b", appendix_b)
    text = ch11.caption(figure6)
    assert text.startswith("3 tuning seeds per point; 60 test examples of 3 datasets in 2")
    assert "clusters, 8 templates each; from notebooks/plans/test.yaml at commit" in text
    scale = ch11.scale_markdown({"figure6": figure6, "figure8": None})
    assert "1.0M-parameter" in scale and "135,375 times" in scale and "figure6 " in scale
    assert "stops at 6 clusters (16 datasets) where the paper's has 7 (39)" in scale
    tiny = copy.deepcopy(figure6)
    tiny["provenance"]["runs"][0]["metrics"]["params"] = 36_640  # the smoke model
    assert "36,640-parameter" in ch11.scale_markdown({"figure6": tiny})


def test_config_names_the_bad_value():
    good = dict(figure6_plan="plans/figure6.yaml", figure8_plan="plans/figure6.yaml",
                appendix_b_plan="plans/appendix_b.yaml", run_plan=False)
    assert ch11.WhatMakesTuningWorkConfig(**good).plan_paths()["figure6"].name == \
        "figure6.yaml"
    with pytest.raises(UserError, match="FIGURE8_PLAN must name a plan file"):
        ch11.WhatMakesTuningWorkConfig(**{**good, "figure8_plan": "plans/nope.yaml"})
    with pytest.raises(UserError, match="RUN_PLAN"):
        ch11.WhatMakesTuningWorkConfig(**{**good, "run_plan": 1})


def test_unpublished_plan_says_how_to_publish_it(tmp_path, monkeypatch):
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path))
    figure = published.load_published(PLANS / "figure6.yaml")
    assert figure.document is None
    text = published.not_run_markdown(figure)
    assert "not run yet" in text and "flan-nb batch notebooks/plans/figure6.yaml --publish" \
        in text
    (tmp_path / "figure6.json").write_text("{not json")
    with pytest.raises(UserError, match="corrupt"):
        published.load_published(PLANS / "figure6.yaml")


@pytest.mark.parametrize("plan,reference,max_new", [
    ("figure8", "figure6", 6), ("appendix_b", "figure6", 18),
    ("figure6_smoke", "smoke", 2), ("figure8_smoke", "figure6_smoke", 1),
    ("appendix_b_smoke", "figure6_smoke", 1)])
def test_plans_share_runs_and_list_them_first(plan, reference, max_new):
    """A run both plans name has the same parameters (trained once) and comes before every
    run the plan adds (a run finishing after a later-planned one makes the runner redo it);
    the smoke plans add few runs, each a fresh kernel in the chapter's smoke test."""
    runs = plans.load_plan(PLANS / f"{plan}.yaml").runs
    ref = {p.name: p.parameters() for p in plans.load_plan(PLANS / f"{reference}.yaml").runs}
    shared = [p.name in ref and p.parameters() == ref[p.name] for p in runs]
    assert any(shared) and not any(p.name in ref and not s for p, s in zip(runs, shared))
    assert shared == sorted(shared, reverse=True), [p.name for p in runs]
    assert shared.count(False) == max_new
    loaded = plans.load_plan(PLANS / f"{plan}.yaml")
    groups = results.tuned_groups(loaded, results.evaluation_config(loaded))
    assert len({published.json_key(g.setting) for g in groups}) >= 2  # two points at least


def test_a_file_listing_every_scored_dataset_under_each_cluster_is_read_right(figure6):
    """Files published before results.summarise kept each cluster's own datasets listed, for
    a run holding out several clusters, all of them under every cluster: the registry's
    cluster of each dataset sorts them out."""
    every = [d for ds in CLUSTERS.values() for d in ds]
    old = copy.deepcopy(figure6)
    for entry in old["clusters"]:
        entry["datasets"] = every
        entry["num_templates"] = {d: 8 for d in every}
    assert ch11.own_datasets(old["clusters"][0]) == CLUSTERS[old["clusters"][0]["cluster"]]
    assert ch11.average(old, ONE) == ch11.average(figure6, ONE)
    assert ch11.change(old, ONE, SIX) == ch11.change(figure6, ONE, SIX)
    per = ch11.figure6_points(old)[0]["per_cluster"]
    assert per["nli"]["mean"] == pytest.approx(70, abs=0.5)  # (80 + 60) / 2
    assert per["closed_book_qa"]["mean"] == pytest.approx(20, abs=0.5)
    assert ch11.caption(old) == ch11.caption(figure6)


def test_bad_parameters_fail_before_the_notebook_runs():
    from flan_nb import params

    notebook = repo_root() / "notebooks" / "11_what_makes_tuning_work.ipynb"
    for profile in ("book", "smoke", "tpu_full"):
        params.resolve_parameters(notebook, profile)  # every profile's values pass
    with pytest.raises(UserError, match="APPENDIX_B_PLAN must name a plan file"):
        params.resolve_parameters(notebook, "book", {"APPENDIX_B_PLAN": "plans/nope.yaml"})
