"""Chapter 08 on the smoke profile: tuning starts from chapter 07's base and leaves NLI out."""

import json

import pytest


@pytest.mark.notebook
def test_tuning_chapter_starts_from_the_base_and_holds_out_nli(run_smoke):
    run_smoke("07_pretraining")  # the base run this profile names
    run = run_smoke("08_instruction_tuning")
    metrics = run.metrics()
    assert "nli" not in metrics["tuning_clusters"]
    assert "paraphrase" not in metrics["tuning_clusters"]  # removed with NLI
    assert len(metrics["tuning_clusters"]) == 10
    log = [json.loads(line) for line in (run.path / "train_log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in log] == list(range(1, 11))
    assert metrics["target_tokens_seen"] > 0
    assert metrics["final_loss"] < metrics["first_loss"]
    assert (run.path / "checkpoints").is_dir()


@pytest.mark.parametrize("values, message", [
    ({"HELD_OUT": "poetry"}, "unknown cluster 'poetry'"),
    ({"SEQ_LENGTH": 128}, "shorter than the longest example after truncation"),
    ({"SOURCE": "web"}, "SOURCE must be one of"),
])
def test_bad_tuning_parameters_fail_before_anything_runs(values, message):
    from flan_nb.errors import UserError
    from flan_nb.params import make_config
    from flan_nb.recipes import TuningConfig

    with pytest.raises(UserError, match=message):
        make_config(TuningConfig, values)
