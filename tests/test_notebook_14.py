"""Notebook 14 on the smoke profile: the detector on TinyWorld `smoke`, and the clean-vs-all
analysis of the smoke plan that notebook 09's smoke run publishes under the runs folder."""

import json
import os
from pathlib import Path

import pytest

from flan_nb import contamination
from flan_nb.notebook import wide_output_lines
from flan_nb.runner import EXECUTED_NOTEBOOK


@pytest.mark.notebook
def test_notebook_14_analyses_the_published_smoke_plan(run_smoke):
    run_smoke("07_pretraining")  # shared with notebooks 07-10: made once per session
    run_smoke("09_zero_shot_evaluation")  # publishes runs/results/smoke.json
    runs = Path(os.environ["FLAN_NB_RUNS"])
    document = json.loads((runs / "results" / "smoke.json").read_text())
    run = run_smoke("14_data_contamination")
    metrics = run.metrics()
    assert metrics["published"] == 1
    assert metrics["shortest_clean_n"] >= 2
    expected = contamination.section(document, ngram=contamination.DEFAULT_NGRAM)
    assert {r["dataset"] for r in expected["datasets"]} == {
        r["dataset"] for r in document["datasets"]}
    for r in expected["datasets"]:
        assert metrics[f"{r['dataset']}/num_dirty"] == r["num_dirty"]
        for model in contamination.MODELS:
            assert metrics[f"{r['dataset']}/{model}/all"] == r[model]["all"]["mean"]
    assert (run.path / "figures" / "14_data_contamination" / "smoke.svg").is_file()
    assert not wide_output_lines(run.path / EXECUTED_NOTEBOOK)
