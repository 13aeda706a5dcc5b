"""Notebook 12 on the smoke profile: the size sweep in miniature end to end (two sizes, two
seeds, held-out closed-book QA, the held-in panel on the two tuning clusters), sharing chapter
09's smoke base for the `test` size, published under the runs folder and rendered by the
chapter."""

import json
import os
from pathlib import Path

import pytest

from flan_nb.notebook import wide_output_lines
from flan_nb.runner import EXECUTED_NOTEBOOK

SIZES = ("test", "tiny-250k")


@pytest.mark.notebook
def test_notebook_12_runs_publishes_and_renders_the_smoke_sweep(run_smoke):
    run_smoke("07_pretraining")  # the `test`-size base, shared with notebooks 07-10
    run = run_smoke("12_model_scale")
    metrics = run.metrics()
    assert metrics["figure7_smoke/published"] == 1 and metrics["num_sizes"] == 2
    runs = Path(os.environ["FLAN_NB_RUNS"])
    published = json.loads((runs / "results" / "figure7_smoke.json").read_text())
    held_in = [c for c in published["clusters"] if c.get("held_in")]
    held_out = [c for c in published["clusters"] if not c.get("held_in")]
    assert {c["cluster"] for c in held_out} == {"closed_book_qa"} and len(held_out) == 2
    assert [c["cluster"] for c in held_in] == ["sentiment", "coreference"] * 2
    assert all(len(c["datasets"]) == 1 and c["num_seeds"] == 2 for c in held_in)
    for panel in ("held-out", "held-in"):
        for model in SIZES:
            for key in ("base", "tuned", "difference"):
                assert f"{panel}/{model}/{key}" in metrics
    bases = {r["name"]: r for r in published["provenance"]["runs"]
             if r["notebook"] == "07_pretraining.ipynb"}
    for record in bases.values():  # the training curves the chapter draws
        curve = record["loss_curve"]
        assert len(curve["loss"]) == len(curve["tokens_seen"]) >= 2
    assert {p["base_run"] for p in published["probe"]} == set(bases)
    assert 0 < metrics["paper_tuning_mfu"] < 1
    figures = run.path / "figures" / "12_model_scale"
    assert (figures / "figure7.svg").is_file() and (figures / "loss_curves.svg").is_file()
    assert not wide_output_lines(run.path / EXECUTED_NOTEBOOK)
