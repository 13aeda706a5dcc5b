"""`flan-nb bench train`: training throughput, model FLOPs utilisation, and PyTorch for scale.

Measured in one invocation, interleaved round by round so that both sides see the same load on a
shared machine, best round kept:

- `peak_gflops`: float32 matmul throughput of this CPU (square jitted matmuls, back to back for
  as long as the timed training steps, so that both see the same load);
- `tokens_per_s`: our training step (`flan_nb.train`, Flax NNX + Adafactor) on packed batches;
- `mfu`: 6 x matmul parameters x tokens/s over `peak_gflops` (the usual model-FLOPs estimate:
  attention's own FLOPs are not counted, so this understates the work done);
- `torch_tokens_per_s`, `vs_torch`: the same architecture, batch and optimizer written in PyTorch
  (below, used only here), and our tokens/s over its (best round over best round);
  `vs_torch_median`: the median over rounds of the same ratio within each round, which a shared
  machine's bursts of load disturb less (`step_s_per_round`, `torch_step_s_per_round`: each
  round's step time of both sides);
- `attention_ms`, `torch_attention_ms`, `attention_vs_torch`: attention alone, forward and
  backward, at the benchmark's shapes (batch, heads, length, head_dim) with its packed mask:
  ours (`flan_nb.model.flash_attention`, batch split over the devices as in training) against
  PyTorch's `scaled_dot_product_attention` with the same boolean mask; the ratio is PyTorch's
  time over ours (above 1: ours is faster);
- `unblocked_attention_ms`, `attention_vs_unblocked`: the same against our unblocked
  `flan_nb.model.dot_attention` (the full score matrix, as training used before the tiles, and
  as cached decoding still does), so whether the tiles pay off at a model's shape is measured in
  the same run;
- `load_1m`: the machine's one-minute load average before and after the run (2 cores: above 2
  means other jobs were competing for them, and every figure is then slower and noisier).

JAX on CPU runs one device's non-matmul work on one thread; splitting the batch over one
simulated device per core (`--xla_force_host_platform_device_count`, i.e. `flan_nb.sharding`'s
data axis) is how our training uses both cores. The benchmark sets that flag when JAX has not
started yet and reports the device count it got.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np

from flan_nb.errors import require
from flan_nb.packing import attention_mask
from flan_nb.sharding import BATCH_AXES, make_mesh, use_all_cpu_cores

# The ~5M-parameter configuration the README reports (`--model` picks another named shape,
# e.g. the book's tiny-1m), with a vocabulary of about the book tokenizer's size (2,000).
BENCH_MODEL = "small-5m"
BENCH_VOCAB = 2048
BENCH_SEQ = 256
BENCH_BATCH = 16  # 4,096 tokens per step


def model_flops_utilisation(matmul_params: int, tokens_per_s: float,
                            peak_flops: float) -> float:
    """MFU: the model FLOPs a training step does per second (6 x matmul parameters x
    tokens/s; attention's own FLOPs not counted) over the hardware's peak FLOP/s."""
    return 6.0 * matmul_params * tokens_per_s / peak_flops


def random_batch(batch_size: int, seq_length: int, vocab_size: int, seed: int = 0) -> dict:
    """A packed LM batch of random tokens: each row holds 2 documents (so masks are real)."""
    rng = np.random.RandomState(seed)
    targets = rng.randint(3, vocab_size, (batch_size, seq_length)).astype(np.int32)
    cut = seq_length * 3 // 5
    segments = np.where(np.arange(seq_length) < cut, 1, 2)[None].repeat(batch_size, 0)
    positions = np.concatenate([np.arange(cut), np.arange(seq_length - cut)])
    positions = positions[None].repeat(batch_size, 0)
    inputs = np.where(positions == 0, 0, np.roll(targets, 1, axis=1))
    return {"decoder_target_tokens": targets, "decoder_input_tokens": inputs.astype(np.int32),
            "decoder_loss_weights": np.ones_like(targets), "decoder_positions":
            positions.astype(np.int32), "decoder_segment_ids": segments.astype(np.int32)}


def peak_matmul_gflops(size: int = 1024):
    """A function `measure(seconds)` returning float32 matmul GFLOP/s sustained for about
    `seconds` (back-to-back jitted (size x size) @ (size x size) products)."""
    # JAX after use_all_cpu_cores (see the module docstring), so on use
    import jax
    import jax.numpy as jnp

    a = jnp.ones((size, size), jnp.float32)
    matmul = jax.jit(lambda x: x @ x)
    matmul(a).block_until_ready()
    start = time.perf_counter()
    matmul(a).block_until_ready()
    one = time.perf_counter() - start

    def measure(seconds: float) -> float:
        # As long as a training step: a short burst would catch a quiet moment of a shared
        # machine that the step, measured over a second or more, never sees.
        reps = max(1, round(seconds / one))
        start = time.perf_counter()
        for _ in range(reps):
            out = matmul(a)
        out.block_until_ready()
        return reps * 2 * size ** 3 / (time.perf_counter() - start) / 1e9

    return measure


# -- the PyTorch reference (same architecture; used by this benchmark only) -------------------

def torch_model(config, batch_size: int, seq_length: int):
    """A PyTorch module and Adafactor optimizer mirroring `flan_nb.model.Transformer`."""
    # PyTorch is optional: only this comparison uses it (the caller handles its absence)
    import torch
    import torch.nn.functional as F

    d, h = config.d_model, config.num_heads
    dh = d // h

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.attn_norm = torch.nn.RMSNorm(d, eps=1e-6)
            self.mlp_norm = torch.nn.RMSNorm(d, eps=1e-6)
            self.qkv = torch.nn.Linear(d, 3 * d, bias=False)
            self.out = torch.nn.Linear(d, d, bias=False)
            self.wi = torch.nn.Linear(d, 2 * config.d_ff, bias=False)
            self.wo = torch.nn.Linear(config.d_ff, d, bias=False)

        def forward(self, x, cos, sin, mask):
            b, length, _ = x.shape
            q, k, v = self.qkv(self.attn_norm(x)).view(b, length, 3, h, dh).unbind(2)
            q, k = rotate(q, cos, sin), rotate(k, cos, sin)
            attended = F.scaled_dot_product_attention(
                q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=mask)
            x = x + self.out(attended.transpose(1, 2).reshape(b, length, d))
            gate, up = self.wi(self.mlp_norm(x)).chunk(2, dim=-1)
            return x + self.wo(F.gelu(gate, approximate="tanh") * up)

    def rotate(x, cos, sin):
        x1, x2 = x.chunk(2, dim=-1)
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)

    class LM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(config.vocab_size, d)
            self.blocks = torch.nn.ModuleList(Block() for _ in range(config.num_layers))
            self.norm = torch.nn.RMSNorm(d, eps=1e-6)

        def forward(self, tokens, positions, segments):
            freqs = config.rope_base ** (-torch.arange(dh // 2, dtype=torch.float32) / (dh // 2))
            angles = positions.float()[..., None] * freqs  # (batch, length, dh/2)
            cos, sin = angles.cos()[:, :, None], angles.sin()[:, :, None]
            idx = torch.arange(tokens.shape[1])
            mask = ((idx[:, None] >= idx[None]) & (segments[:, :, None] == segments[:, None])
                    & (segments[:, :, None] > 0))[:, None]
            x = self.embed(tokens)
            for block in self.blocks:
                x = block(x, cos, sin, mask)
            return self.norm(x) @ self.embed.weight.T / math.sqrt(d)

    model = LM()
    optimizer = torch.optim.Adafactor(model.parameters(), lr=1e-3)
    return model, optimizer


def torch_step_fn(config, batch: dict):
    """A function running one PyTorch training step on `batch`."""
    # PyTorch is optional: only this comparison uses it (the caller handles its absence)
    import torch
    import torch.nn.functional as F

    model, optimizer = torch_model(config, *batch["decoder_target_tokens"].shape)
    t = {k: torch.from_numpy(v).long() for k, v in batch.items()}
    weights = t["decoder_loss_weights"].float()

    def step() -> float:
        optimizer.zero_grad(set_to_none=True)
        logits = model(t["decoder_input_tokens"], t["decoder_positions"],
                       t["decoder_segment_ids"])
        losses = F.cross_entropy(logits.flatten(0, 1), t["decoder_target_tokens"].flatten(),
                                 reduction="none")
        loss = (losses * weights.flatten()).sum() / weights.sum()
        loss.backward()
        optimizer.step()
        return loss.detach().item()

    return step


def attention_fns(config, batch: dict, torch=None):
    """(ours, unblocked, theirs): functions running attention forward + backward once at the
    batch's shapes with its packed mask. Ours (tiled) and unblocked (`dot_attention` with the
    full mask) are jitted with the batch split over the devices (as in a training step); theirs
    is None without PyTorch."""
    # JAX after use_all_cpu_cores (see the module docstring), so JAX and the model on use
    import jax

    from flan_nb import model as model_lib

    segments = batch["decoder_segment_ids"]
    b, length = segments.shape
    shape = (b, config.num_heads, length, config.head_dim)
    rng = np.random.RandomState(0)
    q, k, v, g = (rng.randn(*shape).astype(np.float32) for _ in range(4))
    mesh = make_mesh(-1, 1, 1)
    rows = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(BATCH_AXES))
    q_, k_, v_, g_, s_ = (jax.device_put(x, rows) for x in (q, k, v, g, segments))

    def forward_backward(attend):
        @jax.jit
        def fn(q, k, v, g, seg):
            out, vjp = jax.vjp(lambda q, k, v: attend(q, k, v, seg), q, k, v)
            return out, vjp(g)
        return lambda: jax.block_until_ready(fn(q_, k_, v_, g_, s_))

    ours = forward_backward(model_lib.flash_attention)
    unblocked = forward_backward(  # the full (b, 1, length, length) packing mask
        lambda q, k, v, seg: model_lib.dot_attention(q, k, v, attention_mask(seg)))
    if torch is None:
        return ours, unblocked, None
    tq, tk, tv = (torch.from_numpy(x.copy()).requires_grad_() for x in (q, k, v))
    tg = torch.from_numpy(g)
    mask = torch.from_numpy(attention_mask(np.asarray(segments)))  # the same mask, as numpy

    def theirs():
        for t in (tq, tk, tv):
            t.grad = None
        out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=mask)
        out.backward(tg)

    return ours, unblocked, theirs


def _timed(fn, reps: int) -> float:
    """Seconds per call of fn over `reps` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps


def benchmark(quick: bool = False, model: str | None = None) -> dict:
    """The `train` benchmark (see the module docstring) at the named `model` shape (default
    `BENCH_MODEL`). `quick` times the `test` shape (or `model`) briefly on small batches."""
    name = model or ("test" if quick else BENCH_MODEL)
    use_all_cpu_cores()
    # JAX after use_all_cpu_cores (see the module docstring), so JAX and the model on use:
    # flan_nb.model starts JAX's backend when imported, fixing the device count.
    import jax

    from flan_nb import model as model_lib
    from flan_nb import train

    # Checked before anything runs: an unknown name is one line, not a traceback.
    require(name in model_lib.NAMED_CONFIGS, f"unknown model {name!r} for bench train: "
            f"choose one of {', '.join(model_lib.NAMED_CONFIGS)}")

    config = model_lib.named_config(name, vocab_size=BENCH_VOCAB)
    batch_size, seq = (4, 64) if quick else (BENCH_BATCH, BENCH_SEQ)
    batch = random_batch(batch_size, seq, config.vocab_size)
    tokens = batch_size * seq
    # Many short rounds: on a shared machine each round's ratio sees one moment's load.
    rounds, steps, attention_reps = (1, 1, 1) if quick else (6, 2, 5)
    load_before = os.getloadavg()[0]

    trainer = train.Trainer(config, train.TrainConfig(batch_tokens=tokens, seq_length=seq),
                            progress=False)
    start = time.perf_counter()
    jax.block_until_ready(trainer.train_step(batch))
    compile_s = time.perf_counter() - start
    jax.block_until_ready(trainer.train_step(batch))
    peak = peak_matmul_gflops()

    try:
        import torch  # optional (see torch_model)
    except ImportError:
        torch = None
    torch_step = None
    if torch is not None:
        torch.set_num_threads(os.cpu_count() or 1)
        torch_step = torch_step_fn(config, batch)
        torch_step()  # warm-up
    attend, attend_unblocked, torch_attend = attention_fns(config, batch, torch)
    attend()  # compiles
    attend_unblocked()
    if torch_attend is not None:
        torch_attend()

    def our_steps():
        for _ in range(steps):
            metrics = trainer.train_step(batch)
        jax.block_until_ready(metrics)

    def torch_steps():
        for _ in range(steps):
            torch_step()

    times = {"peak": [], "ours": [], "torch": [], "attention": [], "unblocked_attention": [],
             "torch_attention": []}
    step_s = _timed(our_steps, 1) / steps
    for _ in range(rounds):
        times["peak"].append(peak(steps * step_s))
        times["ours"].append(_timed(our_steps, 1) / steps)
        times["attention"].append(_timed(attend, attention_reps))
        times["unblocked_attention"].append(_timed(attend_unblocked, attention_reps))
        if torch is not None:
            times["torch"].append(_timed(torch_steps, 1) / steps)
            times["torch_attention"].append(_timed(torch_attend, attention_reps))
    n = model_lib.matmul_param_count(config)
    best_step, best_peak = min(times["ours"]), max(times["peak"])
    ours = tokens / best_step
    result = {
        "model": name, "params": model_lib.param_count(config), "matmul_params": n,
        "batch_tokens": tokens, "seq_length": seq, "devices": len(jax.devices()),
        "rounds": rounds, "tokens_per_s": round(ours, 1), "step_s": round(best_step, 4),
        "compile_s": round(compile_s, 2), "peak_gflops": round(best_peak, 1),
        "model_gflops": round(6 * n * ours / 1e9, 2),
        "mfu": round(model_flops_utilisation(n, ours, best_peak * 1e9), 3),
        "attention_ms": round(1000 * min(times["attention"]), 2),
        "unblocked_attention_ms": round(1000 * min(times["unblocked_attention"]), 2),
        "attention_vs_unblocked": round(min(times["unblocked_attention"])
                                        / min(times["attention"]), 3),
    }
    if torch is not None:
        theirs = tokens / min(times["torch"])
        per_round = sorted(t / o for o, t in zip(times["ours"], times["torch"]))
        attention_ratio = sorted(t / o for o, t in zip(times["attention"],
                                                       times["torch_attention"]))
        result.update({
            "torch_tokens_per_s": round(theirs, 1), "vs_torch": round(ours / theirs, 3),
            # every round's step time of both sides, so the spread behind the median is seen
            "step_s_per_round": [round(t, 4) for t in times["ours"]],
            "torch_step_s_per_round": [round(t, 4) for t in times["torch"]],
            "vs_torch_median": round(per_round[len(per_round) // 2], 3),
            "torch_threads": torch.get_num_threads(),
            "torch_attention_ms": round(1000 * min(times["torch_attention"]), 2),
            "attention_vs_torch": round(min(times["torch_attention"])
                                        / min(times["attention"]), 3),
            "attention_vs_torch_median": round(attention_ratio[len(attention_ratio) // 2], 3),
        })
    result["load_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return result
