"""Chapter 08 on the smoke profile: tuning starts from chapter 07's base and leaves NLI out."""

import json

import pytest


@pytest.mark.notebook
def test_tuning_chapter_starts_from_the_base_and_holds_out_nli(run_smoke):
    base = run_smoke("07_pretraining")  # the base run this profile names
    run = run_smoke("08_instruction_tuning")
    metrics = run.metrics()
    assert "nli" not in metrics["tuning_clusters"]
    assert "paraphrase" not in metrics["tuning_clusters"]  # removed with NLI
    assert len(metrics["tuning_clusters"]) == 10
    assert metrics["base_step"] == base.metrics()["resumed_at_step"] == 20
    log = [json.loads(line) for line in (run.path / "train_log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in log] == list(range(1, 11))
    assert 0 < metrics["target_tokens_seen"] < metrics["tokens_seen"]  # inputs carry no loss
    assert metrics["final_loss"] < metrics["first_loss"]
    # Tuning on the mixture lowers the loss on its own validation examples.
    assert metrics["held_in_loss_tuned"] < metrics["held_in_loss_base"]
    assert metrics["held_out_loss_base"] > 0 and metrics["held_out_loss_tuned"] > 0
    assert (run.path / "checkpoints" / "10").is_dir()
    for name in ("loss_nli", "target_loss_nli", "tokens_seen_nli"):
        assert (run.path / "figures" / "08_instruction_tuning" / f"{name}.svg").is_file()


@pytest.mark.parametrize("values, message", [
    ({"HELD_OUT": "poetry"}, "unknown cluster 'poetry'"),
    ({"SEQ_LENGTH": 128}, "shorter than the longest example after truncation"),
    ({"SOURCE": "web"}, "unknown source 'web'"),
    ({"MESH_FSDP": -1, "MESH_DATA": -1}, "one of them may be -1"),
])
def test_bad_tuning_parameters_fail_before_anything_runs(values, message):
    from flan_nb.chapters import book_config
    from flan_nb.errors import UserError

    with pytest.raises(UserError, match=message):
        book_config("08_instruction_tuning", **{k.lower(): v for k, v in values.items()})
