"""Chapter 07 on the smoke profile: a tiny base LM learns, generalises, checkpoints, resumes."""

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
    # Generalises: held-out documents score far better than a uniform guess.
    assert metrics["heldout_loss"] < math.log(500) - 0.5
    assert 0 < metrics["unigram_loss"] < math.log(500)
    assert metrics["params"] > 0 and metrics["tokens_per_s"] > 0
    assert metrics["tokens_seen"] == log[-1]["tokens_seen"] <= 20 * 512
    assert (run.path / "checkpoints" / "20").is_dir()
    # The tokenizer travels with the checkpoints: chapters 08 and 09 read it from there.
    from flan_nb.checkpoint import load_tokenizer
    from flan_nb.tokenize import corpus_tokenizer

    saved = load_tokenizer(run.path)
    assert saved.model_proto == corpus_tokenizer("tinyworld/smoke", 500).model_proto
    assert metrics["resumed_at_step"] == 20  # executing train again only reloads the result
    for name in ("loss", "tokens_seen"):
        assert (run.path / "figures" / "07_pretraining" / f"{name}.svg").is_file()


def test_bad_pretraining_parameters_fail_before_anything_runs():
    from flan_nb.chapters import book_config
    from flan_nb.errors import UserError

    for values, message in [({"MODEL": "huge"}, "unknown model config 'huge'"),
                            ({"BATCH_TOKENS": 1000}, "multiple of seq_length"),
                            ({"DTYPE": "float16"}, "DTYPE must be float32 or bfloat16"),
                            ({"EVAL_FRACTION": 0.9}, "EVAL_FRACTION must be in")]:
        with pytest.raises(UserError, match=message):
            book_config("07_pretraining", **{k.lower(): v for k, v in values.items()})
