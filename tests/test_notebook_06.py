"""Notebook 06 (mixing and packing) on the smoke profile: what it records must hold up."""

from __future__ import annotations

import pytest


@pytest.mark.notebook
def test_mixing_and_packing_notebook(run_smoke):
    metrics = run_smoke("06_mixing_and_packing").metrics()
    assert metrics["num_datasets"] >= 12  # every cluster has TinyWorld datasets
    # The cap narrows the spread of shares between the largest and smallest dataset.
    assert metrics["rate_spread_capped"] < metrics["rate_spread_uncapped"]
    # Paper scale (real sizes, caps 3,000 and 30,000): 3,000 over COPA's 400, at any profile.
    assert metrics["rate_spread_paper"] == pytest.approx(7.5)
    # True at book (tests/test_tinyworld_datasets.py); smoke is too small to mirror it.
    assert isinstance(metrics["cap_binds_like_paper"], bool)
    assert 0 <= metrics["max_rate_gap_to_paper"] < 1
    assert metrics["max_share_z"] < 5  # observed shares follow the rates
    assert metrics["templates_used_fraction"] > 0.5
    assert metrics["mean_segment_length"] > 4  # at least inputs, EOS, a target, EOS
    assert 0 <= metrics["truncated_fraction"] <= 1
    assert metrics["segments_per_row"] >= 1
    assert metrics["mask_checks_pass"] is True
    # Isolated (Flan 2022) the next example sees nothing of the previous; FLAN 2021 sees it all.
    assert metrics["isolated_sees_previous"] == 0 < metrics["unisolated_sees_previous"]
    assert metrics["isolation_keeps_tokens_and_loss"] is True
    assert metrics["all_samples_placed"] is True
    assert metrics["resume_identical"] is True
    for lengths in ("book", "paper"):
        next_fit = metrics[f"next_fit_pad_fraction_{lengths}"]
        best_fit = metrics[f"best_fit_pad_fraction_{lengths}"]
        assert 0 <= best_fit <= next_fit < 1
    assert metrics["best_to_next_fit_padding"] <= 1
    assert metrics["pipeline_tokens_per_s"] > 0
