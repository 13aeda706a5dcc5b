"""Notebook 10 on the smoke profile: a sweep end to end, sharing chapter 09's smoke runs.

Notebook 09's smoke test runs notebooks/plans/smoke.yaml in this session's runs folder; the
smoke sweep (notebooks/plans/when_tuning_helps_smoke.yaml) reuses its base and its closed-book
QA runs, trains a longer base and two tuning seeds from it, publishes under the runs folder,
and the chapter renders the sweep beside the smoke reference plan.
"""

import json
import os
from pathlib import Path

import pytest

from flan_nb.notebook import wide_output_lines
from flan_nb.runs import EXECUTED_NOTEBOOK

SHARED = "08_instruction_tuning-smoke-closed_book_qa-s0"  # in both smoke plans


@pytest.mark.notebook
def test_notebook_10_runs_publishes_and_renders_the_smoke_sweep(run_smoke):
    run_smoke("07_pretraining")  # shared with notebooks 07-09: made once per session
    run_smoke("09_zero_shot_evaluation")  # the reference plan, and the runs the sweep shares
    runs = Path(os.environ["FLAN_NB_RUNS"])
    shared_written = (runs / SHARED / "metrics.json").stat().st_mtime
    run = run_smoke("10_when_tuning_helps")
    assert (runs / SHARED / "metrics.json").stat().st_mtime == shared_written  # not retrained
    metrics = run.metrics()
    assert metrics["reference/published"] == 1
    assert metrics["when_tuning_helps_smoke/published"] == 1
    published = json.loads((runs / "results" / "when_tuning_helps_smoke.json").read_text())
    bases = ["07_pretraining-smoke", "07_pretraining-smoke-steps40"]
    assert [c["setting"] for c in published["clusters"]] == [{"BASE_RUN": b} for b in bases]
    labels = ["20_pretraining_steps", "40_pretraining_steps"]
    for c, label in zip(published["clusters"], labels):
        assert c["cluster"] == "closed_book_qa" and c["num_seeds"] == 2
        for model in ("base", "tuned", "difference"):
            value = metrics[f"when_tuning_helps_smoke/{label}/closed_book_qa/{model}"]
            assert value == c[model]["mean"]
            assert c[model]["ci_low"] <= value <= c[model]["ci_high"]
        helped = metrics[f"when_tuning_helps_smoke/{label}/clusters_helped"]
        assert helped == int(c["verdict"] == "helps")
    # the probe is kept per base: each base and the models tuned from it
    assert {(p["model"], p["base_run"]) for p in published["probe"]} == {
        (m, b) for m in ("base", "tuned") for b in bases}
    for b in bases:
        assert 0 <= metrics[f"when_tuning_helps_smoke/probe/{b.replace('-', '_')}/base/cloze"]
    assert (run.path / "figures" / "10_when_tuning_helps" /
            "when_tuning_helps_smoke.svg").is_file()
    assert not wide_output_lines(run.path / EXECUTED_NOTEBOOK)
