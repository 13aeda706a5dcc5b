"""Chapter 12's helpers on a fake published size sweep (no run, no model): sizes from the
provenance, the two panels' intervals and verdicts, the change of the gain between sizes,
curve crossings, the probe per size, the not-run-yet line, config errors, the plans' time
estimates and the paper-scale TPU-time table."""

import copy
import dataclasses

import pytest

from flan_nb import model as model_lib
from flan_nb import plans, stats
from flan_nb.chapters import book_config
from flan_nb.chapters import ch12_model_scale as ch12
from flan_nb.errors import UserError
from flan_nb.runs import repo_root

PLANS = repo_root() / "notebooks" / "plans"
SMALL, LARGE = "pre-small", "pre-large"


def per_example(correct, n=10, repeats=6):
    """`correct` of every `n` examples right, the first ones (so models are paired)."""
    return ([100.0] * correct + [0.0] * (n - correct)) * repeats


def cluster(base, name, held_in=False):
    entry = {"setting": {"BASE_RUN": base}, "cluster": name, "eval_format": "zero-shot",
             "num_seeds": 2, "datasets": [f"{name}_a"]}
    if held_in:
        entry["held_in"] = True
    return entry


def probe(model, base, cloze, template):
    iv = lambda m: {"mean": m, "ci_low": m - 3, "ci_high": m + 3}  # noqa: E731
    return {"model": model, "base_run": base, "runs": [base], "num_facts": 100,
            "chance": 25.0, "cloze": iv(cloze), "template": iv(template),
            "gap": iv(cloze - template)}


def curve(losses):
    return {"tokens_seen": [1000 * (i + 1) for i in range(len(losses))], "loss": losses}


@pytest.fixture
def document():
    """Two sizes: tuning hurts the small one held out and helps the large one; held in it
    helps both. The large model's loss starts above the small one's and ends below."""
    runs = [
        {"name": SMALL, "notebook": "07_pretraining.ipynb", "wall_seconds": 600.0,
         "parameters": {"MODEL": "tiny-250k", "NUM_STEPS": 1200},
         "metrics": {"params": 234_816, "tokens_seen": 4_915_200, "final_loss": 1.2},
         "loss_curve": curve([5.0, 3.0, 2.0, 1.5])},
        {"name": LARGE, "notebook": "07_pretraining.ipynb", "wall_seconds": 1500.0,
         "parameters": {"MODEL": "small-5m", "NUM_STEPS": 1200},
         "metrics": {"params": 5_194_368, "tokens_seen": 4_915_200, "final_loss": 0.9},
         "loss_curve": curve([6.0, 3.5, 1.5, 1.0])}]
    scores = []
    for base, held_out, held_in in ((SMALL, (6, 4), (5, 9)), (LARGE, (5, 8), (5, 9))):
        size = "small" if base == SMALL else "large"
        for seed in (0, 1):
            run = f"tune-{size}-s{seed}"
            runs.append({"name": run, "notebook": "08_instruction_tuning.ipynb",
                         "wall_seconds": 60.0, "parameters": {"BASE_RUN": base, "SEED": seed},
                         "metrics": {}})
            scores += [{"run": run, "dataset": "nli_a", "format": "zero-shot",
                        "test_per_example": per_example(held_out[1])},
                       {"run": run, "dataset": "sentiment_a", "format": "zero-shot",
                        "test_per_example": per_example(held_in[1])}]
        scores += [{"run": base, "dataset": "nli_a", "format": "zero-shot",
                    "test_per_example": per_example(held_out[0])},
                   {"run": base, "dataset": "sentiment_a", "format": "zero-shot",
                    "test_per_example": per_example(held_in[0])}]
    return {"plan": "notebooks/plans/figure7_tiny.yaml",
            "evaluation": {"tuning_notebook": "08_instruction_tuning",
                           "base_parameter": "BASE_RUN"},
            "provenance": {"runs": runs}, "scores": scores,
            "clusters": [cluster(b, "nli") for b in (SMALL, LARGE)]
            + [cluster(b, "sentiment", held_in=True) for b in (SMALL, LARGE)],
            "probe": [probe("base", SMALL, 27.0, 26.0), probe("tuned", SMALL, 27.0, 26.0),
                      probe("base", LARGE, 60.0, 30.0), probe("tuned", LARGE, 60.0, 45.0)]}


def test_sizes_come_from_the_base_runs_smallest_first(document):
    found = ch12.sizes([document])
    assert [(s.model, s.params, s.base_run) for s in found] == [
        ("tiny-250k", 234_816, SMALL), ("small-5m", 5_194_368, LARGE)]
    assert found[0].tuned_runs == ["tune-small-s0", "tune-small-s1"]
    rows = ch12.size_rows(found)
    assert rows[1]["params"] == "5,194,368" and rows[1]["pretraining min"] == "25.0"


def test_a_plan_with_one_base_has_no_setting_and_still_gives_its_size(document):
    doc = copy.deepcopy(document)
    doc["provenance"]["runs"] = [r for r in doc["provenance"]["runs"]
                                 if r["name"] == LARGE or "large" in r["name"]]
    doc["clusters"] = [dict(c, setting={}) for c in doc["clusters"]
                       if c["setting"]["BASE_RUN"] == LARGE]
    (size,) = ch12.sizes([doc])
    assert ch12.panel_point(size, "held-out")["difference"]["mean"] == pytest.approx(30.0)


def test_panels_give_means_intervals_and_verdicts_from_the_per_example_scores(document):
    small, large = ch12.sizes([document])
    out = ch12.panel_point(small, "held-out")
    assert out["base"]["mean"] == pytest.approx(60.0)
    assert out["tuned"]["mean"] == pytest.approx(40.0)
    assert out["difference"]["mean"] == pytest.approx(-20.0)
    for key in ("base", "tuned", "difference"):
        assert out[key]["ci_low"] <= out[key]["mean"] <= out[key]["ci_high"]
    assert out["verdict"] == stats.HURTS and out["num_seeds"] == 2
    assert ch12.panel_point(large, "held-out")["verdict"] == stats.HELPS
    held_in = ch12.panel_point(small, "held-in")
    assert held_in["clusters"] == ["sentiment"] and held_in["verdict"] == stats.HELPS
    metrics = ch12.panel_metrics([small, large])
    assert metrics["held-out/small-5m/difference"] == pytest.approx(30.0)


def test_cluster_gains_show_which_cluster_moves_at_which_size(document):
    doc = copy.deepcopy(document)
    for c, (mean, verdict) in zip(doc["clusters"], [(-20.0, stats.HURTS), (30.0, stats.HELPS),
                                                    (40.0, stats.HELPS), (40.0, stats.HELPS)]):
        c.update(difference={"mean": mean, "ci_low": mean - 5, "ci_high": mean + 5},
                 verdict=verdict)
    found = ch12.sizes([doc])
    assert ch12.cluster_gain_rows(found, "held-out") == [
        {"cluster": "nli", "tiny-250k": "-20.0 [-25.0, -15.0] hurts",
         "small-5m": "30.0 [25.0, 35.0] helps"}]
    (row,) = ch12.cluster_gain_rows(found[1:], "held-in")
    assert row == {"cluster": "sentiment", "small-5m": "40.0 [35.0, 45.0] helps"}


def test_direction_lines_read_the_change_of_the_gain_between_sizes(document):
    found = ch12.sizes([document])
    change = ch12.gain_change(found, "held-out", found[0], found[1])
    assert change["mean"] == pytest.approx(50.0) and change["ci_low"] > 0
    lines = ch12.direction_lines(found)
    assert "tiny-250k hurts" in lines[0] and "small-5m helps" in lines[0]
    assert "the gain grows" in lines[0]
    assert "does not change detectably" in lines[1]  # held-in: +40 at both sizes


def test_the_paper_beside_ours(document):
    found = ch12.sizes([document])
    rows = ch12.paper_rows(found)
    paper = [r for r in rows if r["who"] == "paper"]
    assert [r["held-out"] for r in paper] == ["hurts"] * 3 + ["helps"] * 2
    assert {r["held-in"] for r in paper} == {"helps"}
    ours = [r for r in rows if r["who"] == "ours"]
    assert [(r["held-out"], r["held-in"]) for r in ours] == [("hurts", "helps"),
                                                              ("helps", "helps")]
    text = "\n".join(ch12.paper_reading_lines(found))
    assert "8B and below" in text and "22x" in text
    assert "ours shows it at 1 of 2 sizes (tiny-250k)" in text


def test_curves_cross_or_not(document):
    found = ch12.sizes([document])
    (line,) = ch12.crossing_lines(found)
    assert line.startswith("- small-5m vs tiny-250k: the curves cross 1 time(s), at 2.")
    assert "lower by 0.500" in line
    doc = copy.deepcopy(document)
    doc["provenance"]["runs"][1]["loss_curve"] = curve([4.0, 2.0, 1.0, 0.5])
    (line,) = ch12.crossing_lines(ch12.sizes([doc]))
    assert "never cross" in line and "below it over the whole run" in line


def test_probe_per_size_separates_knowing_from_saying(document):
    lines = ch12.probe_lines(ch12.sizes([document]))
    assert "tiny-250k" in lines[0] and "too small or too short to know" in lines[0]
    assert "small-5m" in lines[1] and "knows its facts" in lines[1]
    assert "tuning makes it say more" in lines[1]
    assert len(ch12.probe_rows(ch12.sizes([document]))) == 4


def test_the_sweep_spans_at_least_20x_in_parameters_counted_by_the_code():
    models = []
    for path in ("figure7_tiny.yaml", "figure7_small.yaml"):
        for run in plans.load_plan(PLANS / path).runs:
            if run.notebook.stem == "07_pretraining":
                values = run.parameters()
                models.append(model_lib.param_count(model_lib.named_config(
                    values["MODEL"], vocab_size=values["VOCAB_SIZE"])))
    assert len(models) >= 4 and max(models) / min(models) >= 20


def test_each_plan_fits_90_minutes_but_not_all_four_sizes_together():
    tiny, small = (ch12.plan_minutes(plans.load_plan(PLANS / f"figure7_{p}.yaml"))
                   for p in ("tiny", "small"))
    assert tiny["total"] <= 90 and small["total"] <= 90
    assert tiny["total"] + small["total"] > 90  # why the sweep is split
    smoke = ch12.plan_minutes(plans.load_plan(PLANS / "figure7_smoke.yaml"))
    assert smoke["total"] < 5


def test_tpu_hours_are_6nd_over_the_achieved_rate():
    plan = plans.load_plan(PLANS / "figure7_tpu_full.yaml")
    rows = ch12.tpu_time_rows(plan, chips=64, peak_tflops=123.0, mfu=0.5)
    assert [r["model"] for r in rows] == list(ch12.PAPER_SIZES)
    n = model_lib.matmul_param_count(model_lib.named_config("paper-137b"))
    expected = 6 * n * ch12.PAPER_TUNING_TOKENS / (64 * 123e12 * 0.5) / 3600
    assert rows[-1]["tuning h/run"] == f"{expected:,.2f}"
    assert rows[-1]["tuning tokens"] == f"{ch12.PAPER_TUNING_TOKENS:,}"
    assert float(rows[-1]["pretrain tokens"]) == pytest.approx(2.49e12, rel=1e-3)
    assert ch12.tpu_hours("paper-8b", 1e9, chips=8, peak_tflops=100.0, mfu=0.5) == \
        pytest.approx(2 * ch12.tpu_hours("paper-8b", 1e9, chips=16, peak_tflops=100.0, mfu=0.5))
    implied = ch12.paper_tuning_mfu()
    assert implied == pytest.approx(6 * n * ch12.PAPER_TUNING_TOKENS / (60 * 3600)
                                    / (64 * 123e12))
    assert 0 < implied < 1


def test_a_plan_never_published_is_one_line_with_its_command(tmp_path, monkeypatch):
    monkeypatch.setenv("FLAN_NB_RESULTS", str(tmp_path))
    item = ch12.load_published(PLANS / "figure7_small.yaml")
    assert item.document is None
    line = ch12.not_run_line(item)
    assert "\n" not in line and "figure7_small: not run yet" in line
    assert line.endswith("run `flan-nb batch notebooks/plans/figure7_small.yaml --publish`")
    assert ch12.direction_lines([])[0] == "- **held-out**: not published for any size."


@pytest.mark.parametrize("changes,message", [
    ({"plans": []}, "PLANS must be a non-empty list"),
    ({"plans": ["plans/figure7_nope.yaml"]}, "no plan file 'plans/figure7_nope.yaml'"),
    ({"tpu_mfu": 1.5}, "TPU_MFU must lie in"),
    ({"tpu_chips": 0}, "TPU_CHIPS must be a positive integer"),
])
def test_config_rejects_bad_values(changes, message):
    config = book_config("12_model_scale")
    with pytest.raises(UserError, match=message):
        dataclasses.replace(config, **changes)
