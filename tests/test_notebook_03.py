"""Notebook 03 (TinyWorld) on the smoke profile: what it recorded is what the chapter claims."""

from __future__ import annotations

import pytest


@pytest.mark.notebook
def test_notebook_03_tinyworld(run_smoke):
    metrics = run_smoke("03_tinyworld").metrics()
    assert metrics["num_datasets"] >= 30 and metrics["num_clusters"] == 12
    assert all(n > 0 for n in metrics["examples_per_cluster"].values())
    assert metrics["solver_agreement_min"] == 1.0  # every validation label checks out
    assert metrics["corpus_words"] >= 30_000 and metrics["corpus_vocabulary"] < 3000
    assert metrics["num_facts"] == metrics["world"]["facts"] > 100
    assert metrics["generation_seconds"] < 30
    floors = metrics["floors"]
    assert "tw_nli" in floors and "hypothesis_only" in floors["tw_nli"]
    for name, f in floors.items():
        assert 0 < f["random"] <= 0.5 and 0 <= f["majority"] <= 1 and 0 <= f["bow_probe"] <= 1
    # The probe list is computed from the floors, not typed in.
    assert set(metrics["probe_above_majority_by_15_points"]) == {
        n for n, f in floors.items() if f["bow_probe"] - f["majority"] > 0.15}
