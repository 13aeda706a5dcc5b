"""Notebook 09 on the smoke profile: the held-out plan runs, then base and tuned are scored."""

import pytest


@pytest.mark.notebook
def test_notebook_09_evaluates_every_held_out_cluster(run_smoke):
    # Make the runs the smoke plan shares with notebooks 07 and 08 through the session fixture
    # first, so whichever test runs first, each run is made once.
    run_smoke("07_pretraining")
    run_smoke("08_instruction_tuning")
    metrics = run_smoke("09_zero_shot_evaluation").metrics()
    clusters = {"nli", "closed_book_qa"}  # notebooks/plans/smoke.yaml
    for cluster in clusters:
        for model in ("base", "tuned"):
            value = metrics[f"cluster/{cluster}/{model}"]
            assert 0.0 <= value <= 100.0
    scores = metrics["scores"]
    assert {s["cluster"] for s in scores} == clusters
    # the base LM is scored on exactly the cells the tuned models are
    cells = {m: {(s["dataset"], s["template"], s["split"]) for s in scores if s["model"] == m}
             for m in ("base", "tuned")}
    assert cells["base"] == cells["tuned"] and len(cells["base"]) == metrics["num_scores"] / 2
    assert all(s["num_examples"] > 0 for s in scores)
    assert metrics["clusters_helped"] + metrics["clusters_hurt"] <= len(clusters)
    # NLI is all classification: its floors are there, in percent
    assert metrics["floors"]["tw_nli"]["random"] == pytest.approx(100 / 3)
