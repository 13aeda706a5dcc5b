"""Checkpoints: a damaged checkpoint falls back to the previous one; a SIGKILLed run resumes
with identical losses; a run folder gives back its trained model."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from flan_nb import checkpoint, train
from flan_nb import model as model_lib
from flan_nb.errors import UserError
from flan_nb.pipeline import LMPipeline

REPO = Path(__file__).resolve().parent.parent
MODEL = model_lib.named_config("test")
SEQ = 32
# The same data and settings in this process and in the subprocess that gets killed.
SETUP = textwrap.dedent("""
    import numpy as np
    from flan_nb import model as model_lib, train
    from flan_nb.pipeline import LMPipeline

    def data():
        rng = np.random.RandomState(0)
        docs = [list(rng.randint(3, 64, rng.randint(5, 40))) for _ in range(40)]
        return LMPipeline(docs, seq_length=32, batch_size=4, seed=0)

    CONFIG = train.TrainConfig(num_steps={num_steps}, batch_tokens=128, seq_length=32,
                               learning_rate=1e-2, checkpoint_every=2, log_every=1)
    MODEL = model_lib.named_config("test")
""")


def setup(num_steps):
    namespace: dict = {}
    exec(SETUP.format(num_steps=num_steps), namespace)  # noqa: S102 - our own test code
    return namespace


# Orbax's asyncio machinery complains after the deliberately failed read; harmless here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_damaged_checkpoint_falls_back_to_the_previous_one(tmp_path, capsys):
    s = setup(8)
    reference = train.train(s["MODEL"], s["CONFIG"], s["data"](), run=tmp_path / "ref",
                            progress=False)
    run = tmp_path / "run"
    train.train(s["MODEL"], s["CONFIG"], s["data"](), run=run, progress=False)
    ckpt = run / "checkpoints"
    assert sorted(int(p.name) for p in ckpt.iterdir() if p.name.isdigit()) == [6, 8]
    for f in (ckpt / "8" / "params").rglob("*"):
        if f.is_file() and f.stat().st_size > 0 and "ocdbt" in str(f.relative_to(ckpt)):
            f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])  # torn files
    resumed = train.train(s["MODEL"], s["CONFIG"], s["data"](), run=run, progress=False)
    assert "checkpoint 8 is damaged" in capsys.readouterr().out
    assert resumed.start_step == 6
    assert (ckpt / "8.corrupt").is_dir() and (ckpt / "8").is_dir()  # moved aside, redone
    assert resumed.losses() == reference.losses()


def test_sigkilled_run_resumes_with_identical_losses(tmp_path):
    s = setup(12)
    reference = train.train(s["MODEL"], s["CONFIG"], s["data"](), run=tmp_path / "ref",
                            progress=False)
    run = tmp_path / "run"
    script = SETUP.format(num_steps=10_000) + (
        f"train.train(MODEL, CONFIG, data(), run={str(run)!r}, progress=False)\n")
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env=env)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:  # kill it once it has committed step 4 or later
            steps = [int(p.name) for p in (run / "checkpoints").glob("*") if p.name.isdigit()]
            if steps and max(steps) >= 4:
                break
            assert proc.poll() is None, "the training subprocess died on its own"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    resumed = train.train(s["MODEL"], s["CONFIG"], s["data"](), run=run, progress=False)
    assert 4 <= resumed.start_step < 12
    assert resumed.losses() == reference.losses()


def test_load_model_gives_the_trained_model(tmp_path):
    s = setup(4)
    result = train.train(s["MODEL"], s["CONFIG"], s["data"](), run=tmp_path, progress=False)
    loaded, step = checkpoint.load_model(tmp_path)
    assert step == 4
    batch = next(s["data"]())
    from flan_nb.model import logits_for_batch

    np.testing.assert_array_equal(logits_for_batch(loaded, batch),
                                  logits_for_batch(result.model, batch))
    with pytest.raises(UserError, match="no checkpoints"):
        checkpoint.load_model(tmp_path / "nothing")


def test_changed_settings_start_over(tmp_path, capsys):
    s = setup(2)
    train.train(s["MODEL"], s["CONFIG"], s["data"](), run=tmp_path, progress=False)
    other = model_lib.named_config("test", d_ff=32)
    result = train.train(other, s["CONFIG"], s["data"](), run=tmp_path, progress=False)
    assert "settings changed" in capsys.readouterr().out
    assert result.start_step == 0 and checkpoint.read_model_config(
        checkpoint.checkpoint_dir(tmp_path)) == other


def test_data_pipeline_state_round_trips_through_a_checkpoint(tmp_path):
    data = LMPipeline([[5, 6, 7] * 9] * 10, seq_length=SEQ, batch_size=4, seed=1)
    trainer = train.Trainer(MODEL, train.TrainConfig(batch_tokens=4 * SEQ, seq_length=SEQ),
                            checkpoint_dir=tmp_path, progress=False)
    trainer.train_step(next(data))
    trainer.save(data)
    trainer.checkpoints.wait()
    expected = next(data)
    fresh = LMPipeline([[5, 6, 7] * 9] * 10, seq_length=SEQ, batch_size=4, seed=1)
    again = train.Trainer(MODEL, train.TrainConfig(batch_tokens=4 * SEQ, seq_length=SEQ),
                          checkpoint_dir=tmp_path, progress=False)
    assert again.restore(fresh) and again.step == 1
    for name, value in next(fresh).items():
        np.testing.assert_array_equal(value, expected[name])
    again.close()
    trainer.close()


def test_the_tokenizer_is_kept_beside_the_checkpoints(tmp_path):
    from flan_nb.checkpoint import load_tokenizer, save_tokenizer
    from flan_nb.errors import UserError
    from flan_nb.tokenize import tinyworld_tokenizer

    tokenizer = tinyworld_tokenizer(vocab_size=500, size="smoke")
    run = tmp_path / "run"
    with pytest.raises(UserError, match="run not found: give a run folder"):
        load_tokenizer(run)
    (run / "checkpoints").mkdir(parents=True)  # a run trained before tokenizers were kept
    with pytest.raises(UserError, match="tokenizer.model not found.*execute its notebook"):
        load_tokenizer(run)
    save_tokenizer(run / "checkpoints", tokenizer)
    text = "Ada fed the dog in Yarrow."
    assert load_tokenizer(run).encode(text) == tokenizer.encode(text)
    model_file = run / "checkpoints" / "tokenizer.model"
    assert load_tokenizer(model_file).encode(text) == tokenizer.encode(text)
    (run / "checkpoints" / "tokenizer.model").write_bytes(b"not a model")
    with pytest.raises(UserError, match="not a readable SentencePiece model"):
        load_tokenizer(run)


def test_resuming_on_another_number_of_hosts_is_a_clear_error(tmp_path, monkeypatch):
    from flan_nb import sharding

    s = setup(2)
    # Checkpoints written as by a job of 2 hosts (each saves its own data position) ...
    monkeypatch.setattr(sharding, "allgather_json", lambda state: [state, state])
    train.train(s["MODEL"], s["CONFIG"], s["data"](), run=tmp_path, progress=False)
    monkeypatch.undo()
    # ... cannot be resumed by this one-host job: its data would be split differently.
    more = train.TrainConfig(num_steps=4, batch_tokens=128, seq_length=32, learning_rate=1e-2,
                             checkpoint_every=2, log_every=1)
    with pytest.raises(UserError, match=r"written by 2 host\(s\) but this job has 1"):
        train.train(s["MODEL"], more, s["data"](), run=tmp_path, progress=False)
