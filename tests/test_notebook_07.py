"""Chapter 07 on the smoke profile: a tiny base LM trains, checkpoints, and can be reloaded."""

import json
import math

import pytest


@pytest.mark.notebook
def test_pretraining_chapter_learns_and_checkpoints(run_smoke):
    run = run_smoke("07_pretraining")
    metrics = run.metrics()
    log = [json.loads(line) for line in (run.path / "train_log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in log] == list(range(1, 21))
    # Starts near the uniform loss over the 500-piece vocabulary, and goes down.
    assert abs(log[0]["loss"] - math.log(500)) < 1.0
    assert metrics["final_loss"] < log[0]["loss"] - 0.5
    assert metrics["params"] > 0 and metrics["tokens_per_s"] > 0
    assert (run.path / "checkpoints").is_dir()
    assert (run.path / "figures" / "07_pretraining" / "loss_curve.svg").is_file()


@pytest.mark.notebook
def test_reexecuting_a_finished_pretraining_only_reloads_it(run_smoke):
    from flan_nb.recipes import PretrainConfig, pretrain

    run = run_smoke("07_pretraining")
    params = run.params()["parameters"]
    cfg = PretrainConfig(**{k.lower(): v for k, v in params.items()})
    result = pretrain(cfg, run, progress=False)
    assert result.start_step == result.final_step == 20
    assert len(result.history) == 20  # the whole logged history comes back, nothing retrained
