"""Training: overfitting, loss normalization of packed batches, gradient accumulation, resume."""

from __future__ import annotations

import numpy as np
import pytest

from flan_nb import model as model_lib
from flan_nb import packing, train
from flan_nb.errors import UserError
from flan_nb.pipeline import LMPipeline

MODEL = model_lib.named_config("test")  # vocab 64
SEQ = 32


def documents(n=40, seed=0):
    """Random token documents of 5-40 tokens (ids 3..63)."""
    rng = np.random.RandomState(seed)
    return [list(rng.randint(3, 64, rng.randint(5, 40))) for _ in range(n)]


def lm_data(batch_size=4, seed=0):
    return LMPipeline(documents(), seq_length=SEQ, batch_size=batch_size, seed=seed)


def config(**kw):
    base = dict(num_steps=8, batch_tokens=4 * SEQ, seq_length=SEQ, learning_rate=1e-2,
                checkpoint_every=3, log_every=2)
    return train.TrainConfig(**{**base, **kw})


def test_tiny_model_overfits_one_batch():
    batch = next(lm_data(batch_size=2))
    trainer = train.Trainer(model_lib.named_config("test", d_model=64, d_ff=128),
                            config(batch_tokens=2 * SEQ, learning_rate=3e-2), progress=False)
    losses = [float(trainer.train_step(batch)["loss"]) for _ in range(80)]
    assert losses[0] > 3.5  # about ln(64) = 4.16 at the start
    assert losses[-1] < 0.3, losses[-10:]


def test_packed_batch_loss_equals_its_examples_one_by_one():
    """The normalized loss of a packed row = the token-weighted mean of its examples' losses."""
    from flax import nnx

    model = model_lib.create_model(MODEL)
    loss_of = nnx.jit(train.batch_loss, static_argnames="bidirectional_prefix")
    rng = np.random.RandomState(1)
    segments = [packing.instruction_segment(rng.randint(3, 64, n_in), rng.randint(3, 64, n_out),
                                            16, 8) for n_in, n_out in [(5, 3), (9, 6), (2, 1)]]
    packed = packing.features([segments], SEQ)
    loss_sum, weight_sum = loss_of(model, packed)
    alone = [loss_of(model, packing.features([[s]], SEQ)) for s in segments]
    np.testing.assert_allclose(loss_sum, sum(a for a, _ in alone), rtol=1e-5)
    assert float(weight_sum) == sum(float(w) for _, w in alone) == 4 + 7 + 2  # targets + EOS
    # The prefix-LM mask isolates segments too.
    packed_b = loss_of(model, packed, bidirectional_prefix=True)[0]
    alone_b = sum(loss_of(model, packing.features([[s]], SEQ), bidirectional_prefix=True)[0]
                  for s in segments)
    np.testing.assert_allclose(packed_b, alone_b, rtol=1e-5)


def test_gradient_accumulation_equals_one_big_batch():
    batch = next(LMPipeline(documents(), seq_length=16, batch_size=4, seed=0))
    results = []
    for accum in (1, 2):
        trainer = train.Trainer(MODEL, config(grad_accum_steps=accum, seq_length=16,
                                              batch_tokens=64), progress=False)
        loss = float(trainer.train_step(batch)["loss"])
        results.append((loss, trainer.params))
    (loss1, p1), (loss2, p2) = results
    assert loss1 == pytest.approx(loss2, rel=1e-5)
    import jax

    for a, b in zip(jax.tree.leaves(p1), jax.tree.leaves(p2)):
        np.testing.assert_allclose(a, b, atol=2e-6)


class Killed(Exception):
    """Stands for the process dying while fetching a batch."""


class KillAfter:
    """Wraps a pipeline and dies when batch number `n` + 1 is requested."""

    def __init__(self, inner, n):
        self.inner, self.n, self.count = inner, n, 0

    def __iter__(self):
        return self

    def __next__(self):
        if self.count == self.n:
            raise Killed
        self.count += 1
        return next(self.inner)

    def get_state(self):
        return self.inner.get_state()

    def set_state(self, state):
        self.inner.set_state(state)


def test_kill_and_resume_gives_identical_losses(tmp_path):
    cfg = config(num_steps=8, checkpoint_every=3)
    model_cfg = model_lib.named_config("test", dropout_rate=0.1)  # dropout keyed by step
    reference = train.train(model_cfg, cfg, lm_data(), run=tmp_path / "ref", progress=False)
    assert [r["step"] for r in reference.history] == list(range(1, 9))

    with pytest.raises(Killed):
        train.train(model_cfg, cfg, KillAfter(lm_data(), 5), run=tmp_path / "run",
                    progress=False)
    resumed = train.train(model_cfg, cfg, lm_data(), run=tmp_path / "run", progress=False)
    assert resumed.start_step == 3  # the checkpoint before the kill
    assert resumed.losses() == reference.losses()  # bit-identical on CPU
    logged = train.read_log(tmp_path / "run")
    assert [r["loss"] for r in logged] == reference.losses()
    again = train.train(model_cfg, cfg, lm_data(), run=tmp_path / "run", progress=False)
    assert again.start_step == 8 and again.losses() == reference.losses()  # nothing to redo


def test_bad_train_configs_fail_before_compiling():
    with pytest.raises(UserError, match="multiple of seq_length"):
        train.TrainConfig(batch_tokens=100, seq_length=32)
    with pytest.raises(UserError, match="grad_accum_steps=3 must divide"):
        train.TrainConfig(batch_tokens=4 * 32, seq_length=32, grad_accum_steps=3)
    with pytest.raises(UserError, match="shorter than the longest example after truncation"):
        train.TrainConfig(batch_tokens=4 * 256, seq_length=256, max_input_length=200,
                          max_target_length=100)
    trainer = train.Trainer(MODEL, config(), progress=False)
    with pytest.raises(UserError, match=r"expected \(rows, seq_length\) = \(4, 32\)"):
        trainer.device_batch(next(lm_data(batch_size=2)))


def test_train_benchmark_reports_its_figures():
    """`flan-nb bench train --quick`: throughput, MFU against the measured matmul peak, and the
    PyTorch comparison when torch is installed (it is an optional extra)."""
    from flan_nb.bench.train import benchmark

    result = benchmark(quick=True)
    assert result["params"] > result["matmul_params"] > 0
    assert result["tokens_per_s"] > 0 and result["peak_gflops"] > 0
    expected_mfu = 6 * result["matmul_params"] * result["tokens_per_s"] / 1e9 / result[
        "peak_gflops"]
    assert result["mfu"] == pytest.approx(expected_mfu, rel=1e-2)
    try:
        import torch  # noqa: F401
    except ImportError:
        assert "vs_torch" not in result
    else:
        assert result["vs_torch"] == pytest.approx(
            result["tokens_per_s"] / result["torch_tokens_per_s"], rel=1e-2)


def test_progress_bar_in_a_notebook_redraws_at_each_tenth(monkeypatch, capsys):
    import re
    import sys
    import types

    from flan_nb.train import ProgressBar

    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    bar = ProgressBar(0, 100)
    for _ in range(20):
        bar.update(5, loss=1.0, tokens_per_s=1000.0)
    bar.close()
    drawn = [int(n) for n in re.findall(r"(\d+)/100", capsys.readouterr().out)]
    assert drawn == list(range(0, 101, 10))
