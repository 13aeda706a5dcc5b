"""Notebook 13 on the smoke profile: Figures 9 and 10 end to end, sharing chapter 09's smoke
runs (notebooks/plans/figure9_smoke.yaml and figure10_smoke.yaml use smoke.yaml's run names),
published under the runs folder and rendered by the chapter."""

import json
import os
from pathlib import Path

import pytest

from flan_nb.notebook import wide_output_lines
from flan_nb.runner import EXECUTED_NOTEBOOK

SHARED = "08_instruction_tuning-smoke-nli-s0"  # in smoke.yaml and both figure plans


@pytest.mark.notebook
def test_notebook_13_publishes_and_renders_figures_9_and_10(run_smoke):
    run_smoke("07_pretraining")
    run_smoke("09_zero_shot_evaluation")  # runs smoke.yaml, whose runs both plans share
    runs = Path(os.environ["FLAN_NB_RUNS"])
    shared_written = (runs / SHARED / "metrics.json").stat().st_mtime
    run = run_smoke("13_few_shot_and_prompt_tuning")
    assert (runs / SHARED / "metrics.json").stat().st_mtime == shared_written  # not retrained
    metrics = run.metrics()
    assert metrics["figure9/published"] == 1 and metrics["figure10/published"] == 1
    fig9 = json.loads((runs / "results" / "figure9_smoke.json").read_text())
    formats = {c["eval_format"] for c in fig9["clusters"]}
    assert formats == {"zero-shot", "few-shot-2"}
    for c in fig9["clusters"]:
        label = "zero-shot" if c["eval_format"] == "zero-shot" else "2-shot"
        assert metrics[f"figure9/{c['cluster']}/{label}/tuned"] == c["tuned"]["mean"]
        assert metrics[f"figure9/{c['cluster']}/{label}/tuned/template_std"] >= 0
    log = fig9["few_shot_prompts"]["few-shot-2"]
    assert 0 < log["exemplars_kept"] <= log["exemplars_asked"] == 2 * log["prompts"]
    fig10 = json.loads((runs / "results" / "figure10_smoke.json").read_text())
    assert [r["num_examples"] for r in fig10["overall"]] == ["2", "all"]
    for r in fig10["overall"]:
        for model in ("base", "tuned", "difference"):
            value = metrics[f"figure10/n{r['num_examples']}/{model}"]
            assert r[model]["ci_low"] <= value == r[model]["mean"] <= r[model]["ci_high"]
    starts = {(r["start"], r["run"]) for r in fig10["records"]}
    assert starts == {("base", "07_pretraining-smoke"), ("tuned", SHARED),
                      ("tuned", "08_instruction_tuning-smoke-nli-s1")}
    figures = run.path / "figures" / "13_few_shot_and_prompt_tuning"
    assert (figures / "figure9_smoke.svg").is_file()
    assert (figures / "figure10_smoke.svg").is_file()
    assert not wide_output_lines(run.path / EXECUTED_NOTEBOOK)
