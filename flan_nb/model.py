"""The decoder-only transformer language model (Flax NNX), from 1M parameters to the paper's 137B.

One architecture at every scale: token embeddings, rotary position encodings computed from
`decoder_positions` (so packed examples each start at position 0), pre-norm blocks of
multi-head self-attention and a gated-GELU MLP (as in LaMDA and T5.1.1), RMSNorm, no biases, and
an output layer tied to the embeddings or separate. Attention is allowed from query i to key j
when j <= i (or both lie in the bidirectional input prefix), i and j belong to the same packed
segment, and neither is padding (segment id 0): `flan_nb.packing.attention_mask`.

Parameters are float32; `dtype="bfloat16"` runs the matmuls in bfloat16 (TPU) while softmax,
norms and the loss stay in float32. Every parameter carries `logical_axes` metadata (e.g.
`("embed", "mlp")`) that `flan_nb.sharding` maps onto a device mesh.

Decoding keeps a key/value cache, a plain pytree: `cache = model.init_cache(batch, max_length)`,
`logits, cache = model.prefill(tokens, cache)` for the prompt, then one
`logits, cache = model.decode_step(token, position, cache)` per generated token (the greedy or
sampling loop is the caller's). Cache slot p holds the key/value of position p.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping

import jax
import jax.numpy as jnp
from flax import nnx

from flan_nb.errors import UserError
from flan_nb.packing import attention_mask
from flan_nb.params import require

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
# Large negative logit for masked attention: finite, so a fully masked (padding) query row gives
# a uniform distribution instead of NaN.
_MASKED = -1e9


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Shape and numerics of the LM. `head_dim` is `d_model // num_heads`."""

    vocab_size: int = 1024  # the tokenizer's vocabulary size
    d_model: int = 128  # width of the residual stream
    num_layers: int = 2  # transformer blocks
    num_heads: int = 4  # attention heads (must divide d_model)
    d_ff: int = 512  # hidden width of the gated MLP
    tied_embeddings: bool = True  # output layer = embedding matrix transposed
    dropout_rate: float = 0.0  # on embeddings and every sub-layer output (training only)
    dtype: str = "float32"  # compute dtype: float32 or bfloat16
    rope_base: float = 10_000.0  # rotary embedding wavelength base
    remat: bool = False  # recompute block activations in the backward pass (saves memory)

    def __post_init__(self):
        for name in ("vocab_size", "d_model", "num_layers", "num_heads", "d_ff"):
            value = getattr(self, name)
            require(isinstance(value, int) and value > 0,
                    f"model {name} must be a positive integer, got {value!r}")
        require(self.d_model % self.num_heads == 0,
                f"num_heads={self.num_heads} must divide d_model={self.d_model} (each head gets "
                f"d_model / num_heads dimensions); pick e.g. num_heads="
                f"{_nearest_divisor(self.d_model, self.num_heads)}")
        require((self.d_model // self.num_heads) % 2 == 0,
                f"head_dim = d_model / num_heads = {self.d_model // self.num_heads} must be even "
                f"for rotary position encodings")
        require(0.0 <= self.dropout_rate < 1.0,
                f"dropout_rate must lie in [0, 1), got {self.dropout_rate}")
        require(self.dtype in DTYPES,
                f"dtype {self.dtype!r} is not supported: choose one of {', '.join(DTYPES)}")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.num_heads

    @property
    def compute_dtype(self):
        return DTYPES[self.dtype]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ModelConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _nearest_divisor(n: int, near: int) -> int:
    return min((d for d in range(1, n + 1) if n % d == 0), key=lambda d: abs(d - near))


# Named shapes. The book's tiny sizes train on a 2-core CPU; the paper's sizes (Figure 7: 422M,
# 2B, 8B, 68B, 137B) are our own choices of width/depth that give those parameter counts with this
# architecture and LaMDA's 32k vocabulary (the FLAN paper does not list the shapes).
# `vocab_size` of the tiny configs is a placeholder: pass the tokenizer's.
NAMED_CONFIGS: dict[str, dict[str, Any]] = {
    "test": dict(d_model=32, num_layers=2, num_heads=4, d_ff=64, vocab_size=64),
    "tiny-1m": dict(d_model=128, num_layers=4, num_heads=4, d_ff=320, vocab_size=1024),
    "small-5m": dict(d_model=256, num_layers=6, num_heads=8, d_ff=640, vocab_size=2048),
    "paper-422m": dict(d_model=1024, num_layers=24, num_heads=16, d_ff=3968, vocab_size=32000),
    "paper-2b": dict(d_model=2048, num_layers=28, num_heads=16, d_ff=8576, vocab_size=32000),
    "paper-8b": dict(d_model=4096, num_layers=32, num_heads=32, d_ff=14592, vocab_size=32000),
    "paper-68b": dict(d_model=8192, num_layers=64, num_heads=64, d_ff=32128, vocab_size=32000),
    "paper-137b": dict(d_model=12288, num_layers=64, num_heads=96, d_ff=41472,
                       vocab_size=32000),
}


def named_config(name: str, **overrides: Any) -> ModelConfig:
    """The named shape, with any field overridden (e.g. `vocab_size=tok.vocab_size`)."""
    if name not in NAMED_CONFIGS:
        raise UserError(f"unknown model config {name!r}: choose one of {', '.join(NAMED_CONFIGS)}")
    fields = {f.name for f in dataclasses.fields(ModelConfig)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise UserError(f"unknown model setting(s) {unknown}: ModelConfig has {sorted(fields)}")
    return ModelConfig(**{**NAMED_CONFIGS[name], **overrides})


def _param(key, shape, scale: float, axes: tuple[str | None, ...]) -> nnx.Param:
    """A float32 parameter ~ N(0, scale^2) tagged with its logical sharding axes."""
    value = scale * jax.random.normal(key, shape, jnp.float32)
    return nnx.Param(value, logical_axes=axes)


class RMSNorm(nnx.Module):
    """Root-mean-square layer norm with a learned scale, computed in float32."""

    def __init__(self, dim: int):
        self.scale = nnx.Param(jnp.ones((dim,), jnp.float32), logical_axes=("embed",))

    def __call__(self, x):
        x32 = x.astype(jnp.float32)
        normed = x32 * jax.lax.rsqrt(jnp.mean(x32 * x32, axis=-1, keepdims=True) + 1e-6)
        return (normed * self.scale[...]).astype(x.dtype)


def rotary(x, positions, base: float):
    """Rotate channel pairs of x (batch, length, heads, head_dim) by angles position * freq."""
    half = x.shape[-1] // 2
    freqs = base ** (-jnp.arange(half, dtype=jnp.float32) / half)  # (half,)
    angles = positions.astype(jnp.float32)[..., None] * freqs  # (batch, length, half)
    sin = jnp.sin(angles)[:, :, None, :].astype(x.dtype)  # (batch, length, 1, half)
    cos = jnp.cos(angles)[:, :, None, :].astype(x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return jnp.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


def _dropout(x, rate: float, rng):
    if rng is None or rate == 0.0:
        return x
    keep = jax.random.bernoulli(rng, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0).astype(x.dtype)


def _fold(rng, salt: int):
    return None if rng is None else jax.random.fold_in(rng, salt)


class Attention(nnx.Module):
    """Multi-head self-attention with rotary positions and an optional key/value cache."""

    def __init__(self, config: ModelConfig, *, rngs: nnx.Rngs):
        d, h, dh = config.d_model, config.num_heads, config.head_dim
        self.config = config
        self.wq = _param(rngs.params(), (d, h, dh), d ** -0.5, ("embed", "heads", "head_dim"))
        self.wk = _param(rngs.params(), (d, h, dh), d ** -0.5, ("embed", "heads", "head_dim"))
        self.wv = _param(rngs.params(), (d, h, dh), d ** -0.5, ("embed", "heads", "head_dim"))
        out_scale = (h * dh) ** -0.5 / math.sqrt(2 * config.num_layers)
        self.wo = _param(rngs.params(), (h, dh, d), out_scale, ("heads", "head_dim", "embed"))

    def _project(self, x, positions):
        dt = self.config.compute_dtype
        q = jnp.einsum("bld,dhk->blhk", x, self.wq[...].astype(dt))  # (batch, len, heads, hd)
        k = jnp.einsum("bld,dhk->blhk", x, self.wk[...].astype(dt))
        v = jnp.einsum("bld,dhk->blhk", x, self.wv[...].astype(dt))
        base = self.config.rope_base
        return rotary(q, positions, base), rotary(k, positions, base), v

    def _attend(self, q, k, v, mask):
        """q (b, lq, h, hd), k/v (b, lk, h, hd), mask (b, 1, lq, lk) -> (b, lq, d_model)."""
        dt = self.config.compute_dtype
        scores = jnp.einsum("bqhk,bshk->bhqs", q, k).astype(jnp.float32)  # (b, h, lq, lk)
        scores = jnp.where(mask, scores * q.shape[-1] ** -0.5, _MASKED)
        probs = jax.nn.softmax(scores, axis=-1).astype(dt)
        out = jnp.einsum("bhqs,bshk->bqhk", probs, v)  # (b, lq, h, hd)
        return jnp.einsum("bqhk,hkd->bqd", out, self.wo[...].astype(dt))

    def __call__(self, x, positions, mask):
        q, k, v = self._project(x, positions)
        return self._attend(q, k, v, mask)

    def prefill(self, x, positions, mask, layer_cache):
        """Full attention over the prompt, storing its keys/values in slots 0..length-1."""
        q, k, v = self._project(x, positions)
        layer_cache = {
            "k": jax.lax.dynamic_update_slice_in_dim(layer_cache["k"], k, 0, axis=1),
            "v": jax.lax.dynamic_update_slice_in_dim(layer_cache["v"], v, 0, axis=1),
        }
        return self._attend(q, k, v, mask), layer_cache

    def decode(self, x, positions, layer_cache):
        """x (b, 1, d) at `positions` (b,): write slot `position`, attend to slots <= it."""
        q, k, v = self._project(x, positions[:, None])
        rows = jnp.arange(x.shape[0])
        layer_cache = {"k": layer_cache["k"].at[rows, positions].set(k[:, 0]),
                       "v": layer_cache["v"].at[rows, positions].set(v[:, 0])}
        slots = jnp.arange(layer_cache["k"].shape[1])
        mask = (slots[None, :] <= positions[:, None])[:, None, None, :]  # (b, 1, 1, max_len)
        return self._attend(q, layer_cache["k"], layer_cache["v"], mask), layer_cache


class MLP(nnx.Module):
    """Gated-GELU feed-forward: (gelu(x W0) * (x W1)) Wo."""

    def __init__(self, config: ModelConfig, *, rngs: nnx.Rngs):
        d, f = config.d_model, config.d_ff
        self.config = config
        self.wi_0 = _param(rngs.params(), (d, f), d ** -0.5, ("embed", "mlp"))
        self.wi_1 = _param(rngs.params(), (d, f), d ** -0.5, ("embed", "mlp"))
        self.wo = _param(rngs.params(), (f, d), f ** -0.5 / math.sqrt(2 * config.num_layers),
                         ("mlp", "embed"))

    def __call__(self, x):
        dt = self.config.compute_dtype
        gate = jax.nn.gelu(x @ self.wi_0[...].astype(dt))  # (batch, len, d_ff)
        hidden = gate * (x @ self.wi_1[...].astype(dt))  # (batch, len, d_ff)
        return hidden @ self.wo[...].astype(dt)  # (batch, len, d_model)


class Block(nnx.Module):
    """Pre-norm residual block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, config: ModelConfig, *, rngs: nnx.Rngs):
        self.config = config
        self.attn_norm = RMSNorm(config.d_model)
        self.attn = Attention(config, rngs=rngs)
        self.mlp_norm = RMSNorm(config.d_model)
        self.mlp = MLP(config, rngs=rngs)

    def __call__(self, x, positions, mask, dropout_rng=None):
        rate = self.config.dropout_rate
        x = x + _dropout(self.attn(self.attn_norm(x), positions, mask), rate,
                         _fold(dropout_rng, 0))
        return x + _dropout(self.mlp(self.mlp_norm(x)), rate, _fold(dropout_rng, 1))


class Transformer(nnx.Module):
    """The decoder-only LM. `model(tokens, positions, segment_ids)` -> logits (b, len, vocab)."""

    def __init__(self, config: ModelConfig, *, rngs: nnx.Rngs):
        self.config = config
        v, d = config.vocab_size, config.d_model
        self.embed = _param(rngs.params(), (v, d), 1.0, ("vocab", "embed"))
        self.blocks = nnx.List([Block(config, rngs=rngs) for _ in range(config.num_layers)])
        self.final_norm = RMSNorm(d)
        self.unembed = (None if config.tied_embeddings
                        else _param(rngs.params(), (d, v), d ** -0.5, ("embed", "vocab")))

    def _embed(self, tokens):
        table = self.embed[...].astype(self.config.compute_dtype)
        return jnp.take(table, tokens, axis=0)  # (batch, len, d_model)

    def _logits(self, x):
        x = self.final_norm(x)
        dt = self.config.compute_dtype
        if self.unembed is None:
            # Tied: scale so that initial logits have unit variance (embeddings are N(0, 1)).
            logits = (x @ self.embed[...].astype(dt).T) * self.config.d_model ** -0.5
        else:
            logits = x @ self.unembed[...].astype(dt)
        return logits.astype(jnp.float32)  # (batch, len, vocab)

    def __call__(self, tokens, positions, segment_ids, causal_attention=None, *,
                 bidirectional_prefix: bool = False, dropout_rng=None):
        """Logits (batch, length, vocab) for packed int32 (batch, length) inputs.

        `dropout_rng` switches dropout on (training); None means deterministic.
        """
        mask = attention_mask(segment_ids, causal_attention, bidirectional_prefix)
        x = _dropout(self._embed(tokens), self.config.dropout_rate, _fold(dropout_rng, self.config.num_layers))
        for i, block in enumerate(self.blocks):
            call = nnx.remat(Block.__call__) if self.config.remat else Block.__call__
            x = call(block, x, positions, mask, _fold(dropout_rng, i))
        return self._logits(x)

    # -- decoding with a key/value cache ----------------------------------------------------
    def init_cache(self, batch_size: int, max_length: int) -> list[dict]:
        """An empty cache: per layer {"k", "v"} of shape (batch, max_length, heads, head_dim)."""
        c = self.config
        shape = (batch_size, max_length, c.num_heads, c.head_dim)
        return [{"k": jnp.zeros(shape, c.compute_dtype), "v": jnp.zeros(shape, c.compute_dtype)}
                for _ in range(c.num_layers)]

    def prefill(self, tokens, cache, causal_attention=None, *, bidirectional_prefix=False):
        """Run the prompt tokens (batch, length) at positions 0..length-1, filling the cache.

        Returns (logits (batch, length, vocab), cache). Right-padding is harmless: a padded
        slot p is overwritten by `decode_step` at position p before anything attends to it.
        """
        batch, length = tokens.shape
        positions = jnp.broadcast_to(jnp.arange(length), (batch, length))
        segments = jnp.ones_like(tokens)
        mask = attention_mask(segments, causal_attention, bidirectional_prefix)
        x = self._embed(tokens)
        new_cache = []
        for block, layer_cache in zip(self.blocks, cache):
            out, layer_cache = block.attn.prefill(block.attn_norm(x), positions, mask,
                                                  layer_cache)
            x = x + out
            x = x + block.mlp(block.mlp_norm(x))
            new_cache.append(layer_cache)
        return self._logits(x), new_cache

    def decode_step(self, tokens, positions, cache):
        """One token per row: tokens (batch,) at positions (batch,) -> (logits (batch, vocab),
        cache). Each row attends to its cache slots 0..position."""
        x = self._embed(tokens[:, None])  # (batch, 1, d_model)
        new_cache = []
        for block, layer_cache in zip(self.blocks, cache):
            out, layer_cache = block.attn.decode(block.attn_norm(x), positions, layer_cache)
            x = x + out
            x = x + block.mlp(block.mlp_norm(x))
            new_cache.append(layer_cache)
        return self._logits(x)[:, 0], new_cache


def create_model(config: ModelConfig, seed: int = 0) -> Transformer:
    """A freshly initialised model (parameters on the default device)."""
    return Transformer(config, rngs=nnx.Rngs(params=seed))


def abstract_model(config: ModelConfig) -> Transformer:
    """The model with shape-only parameters: no memory, usable for any size."""
    return nnx.eval_shape(lambda: Transformer(config, rngs=nnx.Rngs(params=0)))


def param_count(config: ModelConfig) -> int:
    """Number of parameters, from the shapes (instant even for 137B; tests check it against
    the initialised model)."""
    d, f, v = config.d_model, config.d_ff, config.vocab_size
    per_block = 4 * d * d + 3 * d * f + 2 * d  # q, k, v, o; wi_0, wi_1, wo; two norms
    output = 0 if config.tied_embeddings else d * v
    return v * d + config.num_layers * per_block + d + output


def initialized_param_count(model) -> int:
    """Number of parameters of a (possibly abstract) model, counted leaf by leaf."""
    return int(sum(math.prod(x.shape) for x in jax.tree.leaves(nnx.state(model, nnx.Param))))


def matmul_param_count(config: ModelConfig) -> int:
    """Parameters that take part in matmuls (all but an untied input embedding): the N of the
    usual 6 N FLOPs-per-token estimate."""
    untied_input = 0 if config.tied_embeddings else config.vocab_size * config.d_model
    return param_count(config) - untied_input - (2 * config.num_layers + 1) * config.d_model


def logits_for_batch(model: Transformer, batch: Mapping[str, Any], *,
                     bidirectional_prefix: bool = False, dropout_rng=None):
    """Logits (batch, length, vocab) for a dict of packed features (the seqio names)."""
    return model(
        jnp.asarray(batch["decoder_input_tokens"]),
        jnp.asarray(batch["decoder_positions"]),
        jnp.asarray(batch["decoder_segment_ids"]),
        None if batch.get("decoder_causal_attention") is None
        else jnp.asarray(batch["decoder_causal_attention"]),
        bidirectional_prefix=bidirectional_prefix, dropout_rng=dropout_rng)


def token_losses(logits, targets):
    """Cross-entropy per token, float32 (batch, length)."""
    logits = logits.astype(jnp.float32)
    log_z = jax.nn.logsumexp(logits, axis=-1)  # (batch, length)
    target_logit = jnp.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
    return log_z - target_logit


def describe(config: ModelConfig) -> str:
    """One line: the shape and the parameter count."""
    return (f"d_model={config.d_model} layers={config.num_layers} heads={config.num_heads} "
            f"d_ff={config.d_ff} vocab={config.vocab_size} "
            f"tied={config.tied_embeddings} params={param_count(config):,}")
