"""The decoder-only transformer language model (Flax NNX), from 1M parameters to the paper's 137B.

One architecture at every scale: token embeddings, rotary position encodings computed from
`decoder_positions` (so packed examples each start at position 0), pre-norm blocks of
multi-head self-attention and a gated-GELU MLP (as in LaMDA and T5.1.1), RMSNorm, no biases, and
an output layer tied to the embeddings or separate. Attention is allowed from query i to key j
when j <= i (or both lie in the bidirectional input prefix), i and j belong to the same packed
segment, and neither is padding (segment id 0): `flan_nb.packing.attention_mask`. The forward
pass over packed rows (training, scoring) computes it in 64-token tiles from the segment ids
(`flash_attention`: no (length x length) matrix, no tiles above the causal diagonal); the cached
decoding paths below take explicit masks (`dot_attention`).

Parameters are float32; `dtype="bfloat16"` runs the matmuls in bfloat16 (TPU) while softmax,
norms and the loss stay in float32. Every parameter carries `logical_axes` metadata (e.g.
`("embed", "mlp")`) that `flan_nb.sharding` maps onto a device mesh.

Decoding keeps a key/value cache, a plain pytree: `cache = model.init_cache(batch, max_length)`,
`logits, cache = model.prefill(tokens, cache)` for the prompt, then one
`logits, cache = model.decode_step(token, position, cache)` per generated token (the greedy or
sampling loop is the caller's). Cache slot p holds the key/value of position p, except after
`model.extend(tokens, positions, start, mask, cache)`, which runs a block of tokens at once into
slots from `start` on, each attending to the slots its mask allows (options of a question as a
tree over the question's cache, `flan_nb.evaluate.score_options_shared`).
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
from flan_nb.errors import require

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
    # Figure 7's size sweep here (chapter 12): with the book's 2,000-token vocabulary these
    # give 0.23M, 0.52M, 1.0M and 5.2M parameters, a 22x span (param_count prints them).
    "tiny-250k": dict(d_model=64, num_layers=2, num_heads=4, d_ff=192, vocab_size=2000),
    "tiny-500k": dict(d_model=96, num_layers=3, num_heads=4, d_ff=256, vocab_size=2000),
    "tiny-1m": dict(d_model=128, num_layers=4, num_heads=4, d_ff=320, vocab_size=1024),
    "small-5m": dict(d_model=384, num_layers=3, num_heads=6, d_ff=768, vocab_size=2048),
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


def rotary_tables(positions, head_dim: int, base: float, dtype=jnp.float32):
    """(cos, sin) of the rotary angles position * frequency, each (batch, 1, length, head_dim
    / 2), for `positions` (batch, length): computed once per forward pass and shared by every
    layer and head. The barrier keeps XLA from fusing sin and cos into each of their consumers,
    which recomputed them for every head of every layer (measured: a sixth of the attention
    time on CPU)."""
    half = head_dim // 2
    freqs = base ** (-jnp.arange(half, dtype=jnp.float32) / half)  # (half,)
    angles = positions.astype(jnp.float32)[:, None, :, None] * freqs  # (b, 1, length, half)
    return jax.lax.optimization_barrier((jnp.cos(angles).astype(dtype),
                                         jnp.sin(angles).astype(dtype)))


def rotate(x, tables):
    """Rotate channel pairs (i, i + head_dim/2) of x (batch, heads, length, head_dim) by the
    angles of `tables` = `rotary_tables(...)`."""
    cos, sin = tables
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return jnp.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


@jax.custom_vjp
def dense(x, w):
    """x (..., k) @ w (k, n), with a backward pass that keeps XLA's CPU code fast.

    Left to itself, XLA computes the weight gradient x^T g by transposing the wide gradient g
    (e.g. 4096 x 640 floats, fused with the GELU derivative), which took a fifth of a training
    step on CPU. Here the narrower of x and g is transposed explicitly and the barrier keeps
    XLA from undoing that choice. The result is the same; TPUs are unaffected.
    """
    return x @ w


def _dense_fwd(x, w):
    return x @ w, (x, w)


def _dense_bwd(residuals, g):
    x, w = residuals
    d_x = g @ w.T  # (..., k)
    x2, g2 = x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1])  # (tokens, k), (tokens, n)
    if x2.shape[1] <= g2.shape[1]:
        d_w = jax.lax.optimization_barrier(x2.T) @ g2  # (k, n)
    else:
        d_w = (jax.lax.optimization_barrier(g2.T) @ x2).T  # (n, k) -> (k, n)
    return d_x, d_w.astype(w.dtype)


dense.defvjp(_dense_fwd, _dense_bwd)


def _dropout(x, rate: float, rng):
    if rng is None or rate == 0.0:
        return x
    keep = jax.random.bernoulli(rng, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0).astype(x.dtype)


def _fold(rng, salt: int):
    return None if rng is None else jax.random.fold_in(rng, salt)


def _scores(q, k, mask):
    """Masked attention logits, float32 (b, h, lq, lk), from q (b, h, lq, hd), k (b, h, lk, hd)."""
    scale = q.shape[-1] ** -0.5
    s = jnp.einsum("bhqd,bhkd->bhqk", q, k, preferred_element_type=jnp.float32) * scale
    return jnp.where(mask, s, _MASKED)


@jax.custom_vjp
def dot_attention(q, k, v, mask):
    """softmax(q k^T / sqrt(head_dim) where mask) v, for (batch, heads, length, head_dim) inputs.

    Same result as the textbook formula, with a backward pass written by hand (as in
    FlashAttention): it recomputes the probabilities instead of storing them, and uses
    rowsum(dP * P) = rowsum(dO * O), so it makes fewer passes over the (lq x lk) matrices, which
    are what limits speed on a CPU.
    """
    return _attention_fwd(q, k, v, mask)[0]


def _attention_fwd(q, k, v, mask):
    s = _scores(q, k, mask)  # (b, h, lq, lk)
    m = jnp.max(s, axis=-1, keepdims=True)
    e = jnp.exp(s - m)
    total = jnp.sum(e, axis=-1, keepdims=True)
    out = jnp.einsum("bhqk,bhkd->bhqd", e.astype(v.dtype), v,
                     preferred_element_type=jnp.float32) / total
    out = out.astype(q.dtype)
    return out, (q, k, v, mask, m, total, out)


def _attention_bwd(residuals, d_out):
    q, k, v, mask, m, total, out = residuals
    p = jnp.exp(_scores(q, k, mask) - m) / total  # (b, h, lq, lk), recomputed
    d_v = jnp.einsum("bhqk,bhqd->bhkd", p.astype(v.dtype), d_out)
    d_p = jnp.einsum("bhqd,bhkd->bhqk", d_out, v, preferred_element_type=jnp.float32)
    row = jnp.sum(d_out.astype(jnp.float32) * out.astype(jnp.float32), axis=-1, keepdims=True)
    d_s = (p * (d_p - row) * q.shape[-1] ** -0.5).astype(q.dtype)
    d_q = jnp.einsum("bhqk,bhkd->bhqd", d_s, k)
    d_k = jnp.einsum("bhqk,bhqd->bhkd", d_s, q)
    return d_q, d_k, d_v, None


dot_attention.defvjp(_attention_fwd, _attention_bwd)


# -- blocked ("flash") attention for training ---------------------------------------------------
#
# The (length x length) score matrix is never built: queries and keys are cut into tiles of
# `block` tokens, laid out tile-major, (tiles, batch, heads, block, head_dim), so that each tile
# is one contiguous array (a strided slice would cost a copy on CPU). Each query tile visits the
# key tiles its mask can reach (none above the causal diagonal), keeping a running row maximum,
# row sum and weighted sum of values (online softmax), so every intermediate is a (block x block)
# tile that stays in cache. The backward pass recomputes each tile's probabilities from the saved
# log-sum-exp, as FlashAttention does.

ATTENTION_BLOCK = 64  # tokens per tile: 64 x 64 float32 scores per (row, head) fit in L1/L2


def attention_tiles(length: int, block: int = ATTENTION_BLOCK) -> int:
    """How many tiles `flash_attention` cuts a sequence of `length` into (1 if it does not
    divide into blocks of `block`: then the one tile is the whole sequence)."""
    return length // block if length % block == 0 and length > block else 1


def _tile_pairs(n: int, causal: bool) -> list[tuple[int, int]]:
    """(query tile, key tile) pairs to visit: below or on the diagonal when causal."""
    return [(i, j) for i in range(n) for j in range(n) if j <= i or not causal]


def _tile_mask(seg, prefix, i: int, j: int, block: int):
    """Boolean (b, 1, block, block): may query r of tile i attend to key c of tile j?

    Same segment, not padding, and causal (j*block + c <= i*block + r) or, with a prefix, both
    in the bidirectional input prefix. `seg` and `prefix` are tile-major (tiles, b, block)."""
    sq, sk = seg[i][:, :, None], seg[j][:, None, :]
    allowed = (sq == sk) & (sq > 0)
    if i == j:
        r = jnp.arange(block)
        causal = (r[:, None] >= r[None, :])[None]
    else:
        causal = i > j  # a whole tile below (True) or above (False) the diagonal
    if prefix is not None:
        both = prefix[i][:, :, None] & prefix[j][:, None, :]
        allowed = allowed & (both | causal)
    elif i < j:
        return jnp.zeros_like(allowed)[:, None]
    elif i == j:
        allowed = allowed & causal
    return allowed[:, None]


def _to_tiles(x, n: int):
    """(b, h, length, d) -> (n, b, h, length / n, d)."""
    b, h, length, d = x.shape
    return x.reshape(b, h, n, length // n, d).transpose(2, 0, 1, 3, 4)


def _from_tiles(x):
    """(n, b, h, block, d) -> (b, h, n * block, d)."""
    n, b, h, block, d = x.shape
    return x.transpose(1, 2, 0, 3, 4).reshape(b, h, n * block, d)


def flash_attention(q, k, v, segment_ids, prefix=None, *, block: int = ATTENTION_BLOCK):
    """Masked softmax attention of q, k, v (batch, heads, length, head_dim) in tiles.

    The mask is the one `flan_nb.packing.attention_mask` builds from `segment_ids` (batch,
    length) and, for a prefix LM, `prefix` (batch, length; true on the bidirectional input
    prefix); None is a plain causal LM. Equal to `dot_attention` with that mask to float32
    rounding, except on padding queries (segment 0), which attend to nothing: they get the mean
    of the values of the tiles visited (`dot_attention`: of all values). Nothing reads them.
    """
    n = attention_tiles(q.shape[2], block)
    out = flash_attention_tiles(_to_tiles(q, n), _to_tiles(k, n), _to_tiles(v, n), segment_ids,
                                prefix)
    return _from_tiles(out)


def flash_attention_tiles(q, k, v, segment_ids, prefix=None):
    """`flash_attention` on inputs already tile-major, (tiles, batch, heads, block, head_dim),
    as `Attention` projects them (so no tile is cut out of a (batch, heads, ...) array)."""
    n, block = q.shape[0], q.shape[3]

    def tiles(x):  # (batch, length) -> (tiles, batch, block)
        return x.reshape(-1, n, block).transpose(1, 0, 2)

    return _flash(q, k, v, tiles(segment_ids), None if prefix is None
                  else tiles(prefix.astype(bool)))


@jax.custom_vjp
def _flash(q, k, v, seg, prefix):
    return _flash_fwd(q, k, v, seg, prefix)[0]


def _tile_scores(q_i, k_j, mask):
    """Scaled scores of one tile pair, float32 (b, h, block, block), masked to _MASKED."""
    s = jnp.einsum("bhqd,bhkd->bhqk", q_i, k_j, preferred_element_type=jnp.float32)
    return jnp.where(mask, s * q_i.shape[-1] ** -0.5, _MASKED)


def _flash_fwd(q, k, v, seg, prefix):
    n, block = q.shape[0], q.shape[3]
    pairs = _tile_pairs(n, causal=prefix is None)
    outs, lses = [], []
    for i in range(n):
        m = total = acc = None
        for _, j in (p for p in pairs if p[0] == i):
            mask = _tile_mask(seg, prefix, i, j, block)
            s = _tile_scores(q[i], k[j], mask)
            m_new = jnp.max(s, axis=-1) if m is None else jnp.maximum(m, jnp.max(s, axis=-1))
            # Masked scores are -1e9: their exp underflows to 0 once the row has seen a real
            # score (a row seeing nothing yet has m = -1e9; the next real tile rescales it away).
            p = jnp.exp(s - m_new[..., None])
            pv = jnp.einsum("bhqk,bhkd->bhqd", p.astype(v.dtype), v[j],
                            preferred_element_type=jnp.float32)
            if m is None:
                total, acc = jnp.sum(p, axis=-1), pv
            else:
                rescale = jnp.exp(m - m_new)  # earlier tiles' sums were relative to m
                total = total * rescale + jnp.sum(p, axis=-1)
                acc = acc * rescale[..., None] + pv
            m = m_new
        # total >= 1: the row's maximum contributes exp(0) (for a padding row, every key does).
        outs.append((acc / total[..., None]).astype(q.dtype))
        lses.append(m + jnp.log(total))  # (b, h, block)
    out = jnp.stack(outs)
    return out, (q, k, v, seg, prefix, out, jnp.stack(lses))


def _flash_bwd(residuals, d_out):
    q, k, v, seg, prefix, out, lse = residuals
    n, block = q.shape[0], q.shape[3]
    scale = q.shape[-1] ** -0.5
    # rowsum(dP * P) = rowsum(dO * O): one (b, h, block) vector per query tile.
    row = jnp.sum(d_out.astype(jnp.float32) * out.astype(jnp.float32), axis=-1)
    d_q, d_k, d_v = [None] * n, [None] * n, [None] * n

    def add(acc, x):
        return x if acc is None else acc + x

    for i, j in _tile_pairs(n, causal=prefix is None):
        mask = _tile_mask(seg, prefix, i, j, block)
        s = _tile_scores(q[i], k[j], mask)
        p = jnp.exp(s - lse[i][..., None])
        d_v[j] = add(d_v[j], jnp.einsum("bhqk,bhqd->bhkd", p.astype(v.dtype), d_out[i],
                                        preferred_element_type=jnp.float32))
        d_p = jnp.einsum("bhqd,bhkd->bhqk", d_out[i], v[j], preferred_element_type=jnp.float32)
        d_s = (p * (d_p - row[i][..., None]) * scale).astype(q.dtype)
        d_q[i] = add(d_q[i], jnp.einsum("bhqk,bhkd->bhqd", d_s, k[j],
                                        preferred_element_type=jnp.float32))
        d_k[j] = add(d_k[j], jnp.einsum("bhqk,bhqd->bhkd", d_s, q[i],
                                        preferred_element_type=jnp.float32))

    def stack(grads, like):
        return jnp.stack([jnp.zeros(like.shape[1:], like.dtype) if g is None
                          else g.astype(like.dtype) for g in grads])

    return stack(d_q, q), stack(d_k, k), stack(d_v, v), None, None


_flash.defvjp(_flash_fwd, _flash_bwd)


def _write_block(layer_cache: dict, k, v, start):
    """The cache with keys/values (b, heads, block, hd) stored in slots start..start+block-1."""
    return {"k": jax.lax.dynamic_update_slice_in_dim(layer_cache["k"], k, start, axis=2),
            "v": jax.lax.dynamic_update_slice_in_dim(layer_cache["v"], v, start, axis=2)}


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

    def _qkv(self, x):
        """x (b, l, d) -> q, k, v, each (b, l, heads * head_dim), not yet rotated.

        One (d_model x 3 d_model) matmul in the plain (tokens, features) layout: XLA computed
        each "bld,dhk->bhlk" projection transposed, with its input transposed too. Split, not
        sliced: the gradient of a split is one concatenation, of three slices a sum of three
        zero-padded copies."""
        d = x.shape[-1]
        w = jnp.concatenate([p[...].reshape(d, -1) for p in (self.wq, self.wk, self.wv)], axis=1)
        return jnp.split(dense(x, w.astype(self.config.compute_dtype)), 3, axis=-1)

    def _project(self, x, rope):
        """x (b, l, d) -> rotated q, k and v, each (b, heads, l, head_dim); `rope` holds the
        `rotary_tables` of x's positions."""
        c = self.config
        b, length, _ = x.shape
        q, k, v = (t.reshape(b, length, c.num_heads, c.head_dim).transpose(0, 2, 1, 3)
                   for t in self._qkv(x))  # (b, heads, l, hd)
        return rotate(q, rope), rotate(k, rope), v

    def _output(self, out):
        """(b, heads, l, head_dim) -> (b, l, d_model)."""
        b, h, length, hd = out.shape
        w = self.wo[...].reshape(h * hd, -1).astype(self.config.compute_dtype)
        return dense(out.transpose(0, 2, 1, 3).reshape(b, length, h * hd), w)

    def __call__(self, x, rope, segment_ids, prefix=None):
        """Training/scoring pass over packed rows: `flash_attention` with the packing mask.

        q, k and v go from the projection straight into the tile-major layout (one transpose,
        fused with the rotation) and the output straight back."""
        c = self.config
        b, length, _ = x.shape
        n = attention_tiles(length)
        block = length // n
        cos, sin = (t.reshape(b, 1, n, block, -1).transpose(2, 0, 1, 3, 4) for t in rope)
        q, k, v = (t.reshape(b, n, block, c.num_heads, c.head_dim).transpose(1, 0, 3, 2, 4)
                   for t in self._qkv(x))  # (tiles, b, heads, block, hd)
        out = flash_attention_tiles(rotate(q, (cos, sin)), rotate(k, (cos, sin)), v,
                                    segment_ids, prefix)
        out = out.transpose(1, 0, 3, 2, 4).reshape(b, length, -1)  # (b, length, heads * hd)
        return dense(out, self.wo[...].reshape(-1, c.d_model).astype(c.compute_dtype))

    def prefill(self, x, rope, mask, layer_cache):
        """Full attention over the prompt, storing its keys/values in slots 0..length-1."""
        q, k, v = self._project(x, rope)
        layer_cache = _write_block(layer_cache, k, v, 0)
        return self._output(dot_attention(q, k, v, mask)), layer_cache

    def extend(self, x, rope, start: int, mask, layer_cache):
        """x (b, block, d) with the `rotary_tables` of its positions: write slots
        start..start+block-1, attend to the slots `mask` (b, block, max_len) allows."""
        q, k, v = self._project(x, rope)  # (b, heads, block, hd)
        layer_cache = _write_block(layer_cache, k, v, start)
        out = dot_attention(q, layer_cache["k"], layer_cache["v"], mask[:, None])
        return self._output(out), layer_cache

    def decode(self, x, positions, layer_cache):
        """x (b, 1, d) at `positions` (b,): write slot `position`, attend to slots <= it."""
        rope = rotary_tables(positions[:, None], self.config.head_dim, self.config.rope_base,
                             self.config.compute_dtype)
        q, k, v = self._project(x, rope)  # (b, heads, 1, hd)
        rows = jnp.arange(x.shape[0])
        layer_cache = {"k": layer_cache["k"].at[rows, :, positions].set(k[:, :, 0]),
                       "v": layer_cache["v"].at[rows, :, positions].set(v[:, :, 0])}
        slots = jnp.arange(layer_cache["k"].shape[2])
        mask = (slots[None, :] <= positions[:, None])[:, None, None, :]  # (b, 1, 1, max_len)
        out = dot_attention(q, layer_cache["k"], layer_cache["v"], mask)
        return self._output(out), layer_cache


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
        gate = jax.nn.gelu(dense(x, self.wi_0[...].astype(dt)))  # (batch, len, d_ff)
        hidden = gate * dense(x, self.wi_1[...].astype(dt))  # (batch, len, d_ff)
        return dense(hidden, self.wo[...].astype(dt))  # (batch, len, d_model)


class Block(nnx.Module):
    """Pre-norm residual block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, config: ModelConfig, *, rngs: nnx.Rngs):
        self.config = config
        self.attn_norm = RMSNorm(config.d_model)
        self.attn = Attention(config, rngs=rngs)
        self.mlp_norm = RMSNorm(config.d_model)
        self.mlp = MLP(config, rngs=rngs)

    def __call__(self, x, rope, segment_ids, prefix=None, dropout_rng=None):
        rate = self.config.dropout_rate
        x = x + _dropout(self.attn(self.attn_norm(x), rope, segment_ids, prefix), rate,
                         _fold(dropout_rng, 0))
        return x + _dropout(self.mlp(self.mlp_norm(x)), rate, _fold(dropout_rng, 1))


class Transformer(nnx.Module):
    """The decoder-only LM. `model(tokens, positions, segment_ids)` -> logits (b, len, vocab)."""

    def __init__(self, config: ModelConfig, *, rngs: nnx.Rngs):
        self.config = config
        v, d = config.vocab_size, config.d_model
        # N(0, 1) embeddings learn fastest here (measured: loss 0.79 vs 1.60 after 300 book
        # steps with N(0, 1/d_model)), at the price of a first loss above ln(vocab): at
        # initialisation the residual stream is mostly the input token's own embedding, which
        # the tied output scores highest (logit sqrt(d_model)).
        self.embed = _param(rngs.params(), (v, d), 1.0, ("vocab", "embed"))
        self.blocks = nnx.List([Block(config, rngs=rngs) for _ in range(config.num_layers)])
        self.final_norm = RMSNorm(d)
        self.unembed = (None if config.tied_embeddings
                        else _param(rngs.params(), (d, v), d ** -0.5, ("embed", "vocab")))

    def _embed(self, tokens):
        table = self.embed[...].astype(self.config.compute_dtype)
        return jnp.take(table, tokens, axis=0)  # (batch, len, d_model)

    def _rope(self, positions):
        c = self.config
        return rotary_tables(jnp.asarray(positions), c.head_dim, c.rope_base, c.compute_dtype)

    def _logits(self, x):
        x = self.final_norm(x)
        dt = self.config.compute_dtype
        if self.unembed is None:
            # Tied: 1/sqrt(d_model) gives other tokens' logits unit variance at initialisation.
            # Applied to x, not to the (tokens x vocab) logits: a pass over d_model, not vocab.
            logits = dense(x * self.config.d_model ** -0.5, self.embed[...].astype(dt).T)
        else:
            logits = dense(x, self.unembed[...].astype(dt))
        return logits.astype(jnp.float32)  # (batch, len, vocab)

    def __call__(self, tokens, positions, segment_ids, causal_attention=None, *,
                 bidirectional_prefix: bool = False, dropout_rng=None, soft_prompt=None):
        """Logits (batch, length, vocab) for packed int32 (batch, length) inputs.

        `dropout_rng` switches dropout on (training); None means deterministic. `soft_prompt`
        (P, d_model) is prompt tuning's: P vectors put before every row's embedded tokens at
        positions 0..P-1 (the tokens move up by P), in the row's first segment and, with
        `bidirectional_prefix`, in its prefix; logits are returned for the tokens only.
        """
        prefix = None
        if bidirectional_prefix:
            if causal_attention is None:
                raise UserError("bidirectional_prefix=True needs causal_attention "
                                "(the decoder_causal_attention feature)")
            prefix = jnp.asarray(causal_attention) > 0  # (batch, length)
        x = _dropout(self._embed(tokens), self.config.dropout_rate,
                     _fold(dropout_rng, self.config.num_layers))
        num_soft = 0
        if soft_prompt is not None:
            num_soft = soft_prompt.shape[0]
            batch = x.shape[0]
            soft = jnp.broadcast_to(soft_prompt.astype(x.dtype)[None],
                                    (batch, *soft_prompt.shape))  # (batch, P, d_model)
            x = jnp.concatenate([soft, x], axis=1)  # (batch, P + length, d_model)
            segment_ids = jnp.asarray(segment_ids)
            positions = jnp.concatenate([
                jnp.broadcast_to(jnp.arange(num_soft), (batch, num_soft)),
                jnp.asarray(positions) + num_soft], axis=1)
            segment_ids = jnp.concatenate([
                jnp.broadcast_to(segment_ids[:, :1], (batch, num_soft)), segment_ids], axis=1)
            if prefix is not None:
                prefix = jnp.concatenate([jnp.ones((batch, num_soft), bool), prefix], axis=1)
        call = nnx.remat(Block.__call__) if self.config.remat else Block.__call__
        rope = self._rope(positions)
        for i, block in enumerate(self.blocks):
            x = call(block, x, rope, segment_ids, prefix, _fold(dropout_rng, i))
        return self._logits(x[:, num_soft:])

    # -- decoding with a key/value cache ----------------------------------------------------
    def init_cache(self, batch_size: int, max_length: int) -> list[dict]:
        """An empty cache: per layer {"k", "v"} of shape (batch, heads, max_length, head_dim)."""
        c = self.config
        shape = (batch_size, c.num_heads, max_length, c.head_dim)
        return [{"k": jnp.zeros(shape, c.compute_dtype), "v": jnp.zeros(shape, c.compute_dtype)}
                for _ in range(c.num_layers)]

    def _through_blocks(self, x, cache, attend):
        """The blocks over x (batch, length, d_model) with a cache; `attend(attn, h,
        layer_cache)` runs one layer's attention. Returns (logits, cache)."""
        new_cache = []
        for block, layer_cache in zip(self.blocks, cache):
            out, layer_cache = attend(block.attn, block.attn_norm(x), layer_cache)
            x = x + out
            x = x + block.mlp(block.mlp_norm(x))
            new_cache.append(layer_cache)
        return self._logits(x), new_cache

    def prefill(self, tokens, cache, causal_attention=None, *, bidirectional_prefix=False):
        """Run the prompt tokens (batch, length) at positions 0..length-1, filling the cache.

        Returns (logits (batch, length, vocab), cache). Right-padding is harmless: a padded
        slot p is overwritten by `decode_step` at position p before anything attends to it.
        """
        batch, length = tokens.shape
        positions = jnp.broadcast_to(jnp.arange(length), (batch, length))
        segments = jnp.ones_like(tokens)
        mask = attention_mask(segments, causal_attention, bidirectional_prefix)
        rope = self._rope(positions)
        return self._through_blocks(self._embed(tokens), cache,
                                    lambda attn, h, c: attn.prefill(h, rope, mask, c))

    def extend(self, tokens, positions, start: int, mask, cache):
        """Run a block of tokens (batch, block) at `positions` (batch, block) against the cache
        in one pass, storing their keys/values in slots start..start+block-1.

        `mask` (batch, block, max_length) says which slots each block token attends to (its own
        included), so a block can hold several continuations of one cached prefix, each seeing
        the prefix and its own earlier tokens only (a tree). Returns (logits (batch, block,
        vocab), cache).
        """
        rope = self._rope(positions)
        return self._through_blocks(self._embed(tokens), cache,
                                    lambda attn, h, c: attn.extend(h, rope, start, mask, c))

    def decode_step(self, tokens, positions, cache):
        """One token per row: tokens (batch,) at positions (batch,) -> (logits (batch, vocab),
        cache). Each row attends to its cache slots 0..position."""
        logits, cache = self._through_blocks(self._embed(tokens[:, None]), cache,
                                             lambda attn, h, c: attn.decode(h, positions, c))
        return logits[:, 0], cache


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


def training_flops(config: ModelConfig, tokens: int) -> float:
    """FLOPs to train on `tokens` tokens: 6 x matmul parameters x tokens (2 for the forward
    pass, 4 for the backward; attention's own FLOPs left out, as is usual)."""
    return 6.0 * matmul_param_count(config) * tokens


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
