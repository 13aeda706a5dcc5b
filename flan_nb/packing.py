"""Packing tokenized examples into fixed-length rows for a decoder-only prefix LM.

Data path, stage 4 of 6: tasks -> templates -> tokenize -> mixture -> **packing** -> pipeline ->
model/train -> evaluate.

An instruction example becomes one *segment*: `inputs EOS targets EOS`. Several segments share a
row of `seq_length` tokens; the rest of the row is padding (id 0). A pretraining document becomes
a segment with no inputs: every token is a target.

Features of a packed batch (the T5/seqio decoder-only convention; all int32, shape (rows, length)):

- `decoder_target_tokens`: the segment tokens, what the model predicts;
- `decoder_input_tokens`: the same shifted right by one *within each segment*, with 0 (used as
  BOS) at each segment's first position, so no segment sees the previous one's last token;
- `decoder_loss_weights`: 1 on the target tokens (targets and their EOS), 0 on inputs and padding;
  for an LM segment 1 on every token;
- `decoder_segment_ids`: 1, 2, ... per segment of the row, 0 on padding;
- `decoder_positions`: 0, 1, ... restarting at each segment;
- `decoder_causal_attention`: 1 on the input prefix. Following seqio's `PrefixLMFeatureConverter`
  it covers len(inputs EOS) + 1 positions: the positions whose *decoder input token* belongs to
  the prefix (the BOS 0 and every input token including the input's EOS). The last of them is the
  position that predicts the first target token; it may look at the whole prefix, never at a
  target. It is 0 for LM segments (no prefix) and on padding.

`attention_mask` turns segment ids (and optionally the prefix) into the model's mask: causal AND
same segment AND not padding, which is what stops packed examples attending to each other.

Isolation is a choice (`features(..., isolate=...)`), because the two papers differ. FLAN 2021
(Wei et al.) packs several examples into a sequence with an EOS between them and no masking:
a token may attend to the earlier examples of its row. Flan 2022 (Chung et al.) adds the masking,
so a packed example sees only itself. `isolate=True` (the default) is Flan 2022's: each example
is then trained exactly as chapter 09 scores it, alone and from position 0, and no loss depends
on which examples happened to share its row. `isolate=False` is FLAN 2021's: a row is one
sequence to the model (segment id 1 on every token, positions running on, and the decoder input
at an example's first position is the previous example's EOS instead of BOS); the loss weights
still cover targets only. A bidirectional prefix needs isolation (it would let an example's
inputs see the next example's inputs).

Two packers share one interface: `NextFitPacker` (one open row, closed as soon as an example does
not fit: what the T5 stack does, the baseline) and `BestFitPacker` (up to `max_open_rows` open rows;
each segment goes to the open row it fills most tightly). Over-long examples are truncated (keeping
their EOS) and counted; no segment is ever dropped, duplicated or split across rows.
"""

from __future__ import annotations

import abc
import dataclasses
import sys
from typing import Any, Hashable, Iterable, Sequence

import numpy as np

from flan_nb.errors import UserError

PAD_ID = 0  # padding, and the BOS that starts every segment's decoder inputs
EOS_ID = 1  # the T5/seqio end-of-sequence id (DESIGN.md: pad 0, eos 1, unk 2)

FEATURES = (
    "decoder_target_tokens",
    "decoder_input_tokens",
    "decoder_loss_weights",
    "decoder_segment_ids",
    "decoder_positions",
    "decoder_causal_attention",
)
PACKERS = ("next_fit", "best_fit")


@dataclasses.dataclass(frozen=True)
class Segment:
    """One example as it sits in a row: `tokens` (EOS included) and the prefix length.

    `prefix_length` counts the input tokens including their EOS (0 for an LM segment). `key`
    identifies where the segment came from (e.g. (dataset, index, template)) so that a pipeline
    can save which examples wait inside open rows and rebuild them on restore.
    """

    tokens: tuple[int, ...]
    prefix_length: int = 0
    key: Hashable = None
    truncated: bool = False

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def inputs(self) -> tuple[int, ...]:
        """Input ids without their EOS (empty for an LM segment)."""
        return self.tokens[: max(self.prefix_length - 1, 0)]

    @property
    def targets(self) -> tuple[int, ...]:
        """Target ids without their EOS."""
        return self.tokens[self.prefix_length: -1]


def _trim_with_eos(ids: Sequence[int], max_length: int) -> tuple[list[int], bool]:
    """`ids` + EOS, cut to at most `max_length` tokens, always ending with EOS."""
    ids = list(ids)
    if len(ids) + 1 <= max_length:
        return ids + [EOS_ID], False
    return ids[: max_length - 1] + [EOS_ID], True


def instruction_segment(inputs: Sequence[int], targets: Sequence[int], max_input_length: int,
                        max_target_length: int, key: Hashable = None) -> Segment:
    """The segment `inputs EOS targets EOS`, each part truncated to its length (EOS included).

    `inputs`/`targets` are token ids *without* EOS, as a tokenizer returns them.
    """
    if max_input_length < 1 or max_target_length < 1:
        raise UserError(f"max_input_length and max_target_length must be >= 1 (they count the "
                        f"EOS), got {max_input_length} and {max_target_length}")
    prefix, cut_inputs = _trim_with_eos(inputs, max_input_length)
    suffix, cut_targets = _trim_with_eos(targets, max_target_length)
    return Segment(tuple(prefix + suffix), len(prefix), key, cut_inputs or cut_targets)


def lm_segments(ids: Sequence[int], seq_length: int, key: Hashable = None) -> list[Segment]:
    """A pretraining document `ids EOS` as LM segments of at most `seq_length` tokens.

    A document longer than a row is split into consecutive pieces rather than truncated, so no
    pretraining token is lost; piece i gets key (key, i).
    """
    tokens = list(ids) + [EOS_ID]
    return [Segment(tuple(tokens[start:start + seq_length]), 0, (key, i))
            for i, start in enumerate(range(0, len(tokens), seq_length))]


class _Packer(abc.ABC):
    """Shared bookkeeping: rows are lists of segments; `add` returns the rows it closed."""

    def __init__(self, seq_length: int):
        if seq_length < 2:
            raise UserError(f"seq_length must be at least 2 (one token and EOS), got {seq_length}")
        self.seq_length = seq_length
        self._open: list[list[Segment]] = []
        self._used: list[int] = []

    def _check(self, segment: Segment) -> None:
        if len(segment) > self.seq_length or len(segment) == 0:
            raise UserError(f"a segment of {len(segment)} tokens cannot fit a row of "
                            f"{self.seq_length}: truncate it first (instruction_segment does)")

    @abc.abstractmethod
    def add(self, segment: Segment) -> list[list[Segment]]:
        """Place `segment`; return the rows this closed (each packer places its own way)."""

    def add_all(self, segments: Iterable[Segment]) -> list[list[Segment]]:
        closed: list[list[Segment]] = []
        for segment in segments:
            closed.extend(self.add(segment))
        return closed

    def flush(self) -> list[list[Segment]]:
        """Close and return every open row (at the end of a finite stream)."""
        rows = [row for row in self._open if row]
        self._open, self._used = [], []
        return rows

    def open_rows(self) -> list[list[Segment]]:
        """The rows still open, in order (for checkpointing a pipeline)."""
        return [list(row) for row in self._open]

    def restore(self, rows: Sequence[Sequence[Segment]]) -> None:
        """Reopen `rows` exactly as `open_rows()` returned them."""
        self._open = [list(row) for row in rows]
        self._used = [sum(len(s) for s in row) for row in self._open]


class NextFitPacker(_Packer):
    """One open row; a segment that does not fit closes it (the T5 stack's greedy packing)."""

    def add(self, segment: Segment) -> list[list[Segment]]:
        self._check(segment)
        closed = []
        if self._open and self._used[0] + len(segment) > self.seq_length:
            closed.append(self._open.pop())
            self._used.pop()
        if not self._open:
            self._open, self._used = [[]], [0]
        self._open[0].append(segment)
        self._used[0] += len(segment)
        if self._used[0] == self.seq_length:
            closed.extend(self.flush())
        return closed


class BestFitPacker(_Packer):
    """Best fit over `max_open_rows` open rows.

    A segment goes to the open row with the least room left that still holds it. When none can,
    a new row opens; if `max_open_rows` are already open, the fullest one is closed first (it is
    the one least likely to be filled). A row that is exactly full closes at once.
    """

    def __init__(self, seq_length: int, max_open_rows: int = 64):
        super().__init__(seq_length)
        if max_open_rows < 1:
            raise UserError(f"max_open_rows must be >= 1, got {max_open_rows}")
        self.max_open_rows = max_open_rows

    def add(self, segment: Segment) -> list[list[Segment]]:
        self._check(segment)
        closed = []
        size, best, best_room = len(segment), -1, self.seq_length + 1
        for i, used in enumerate(self._used):
            room = self.seq_length - used
            if size <= room < best_room:
                best, best_room = i, room
        if best < 0:
            if len(self._open) >= self.max_open_rows:
                fullest = max(range(len(self._used)), key=self._used.__getitem__)
                closed.append(self._open.pop(fullest))
                self._used.pop(fullest)
            self._open.append([])
            self._used.append(0)
            best = len(self._open) - 1
        self._open[best].append(segment)
        self._used[best] += size
        if self._used[best] == self.seq_length:
            closed.append(self._open.pop(best))
            self._used.pop(best)
        return closed


def make_packer(name: str, seq_length: int, max_open_rows: int = 64) -> _Packer:
    """`next_fit` or `best_fit` packer for rows of `seq_length` tokens."""
    if name == "next_fit":
        return NextFitPacker(seq_length)
    if name == "best_fit":
        return BestFitPacker(seq_length, max_open_rows)
    raise UserError(f"unknown packer {name!r}: choose one of {', '.join(PACKERS)}")


def features(rows: Sequence[Sequence[Segment]], seq_length: int,
             isolate: bool = True) -> dict[str, np.ndarray]:
    """The six int32 feature arrays (len(rows), seq_length) of packed `rows`.

    `isolate=False` writes each row as one sequence (FLAN 2021; see the module docstring).
    """
    out = {name: np.zeros((len(rows), seq_length), np.int32) for name in FEATURES}
    targets, inputs = out["decoder_target_tokens"], out["decoder_input_tokens"]
    weights, segment_ids = out["decoder_loss_weights"], out["decoder_segment_ids"]
    positions, causal = out["decoder_positions"], out["decoder_causal_attention"]
    for r, row in enumerate(rows):
        start = 0
        for s, segment in enumerate(row, start=1):
            end = start + len(segment)
            if end > seq_length:
                raise UserError(f"row {r} holds {end} tokens, more than seq_length {seq_length}")
            targets[r, start:end] = segment.tokens
            inputs[r, start + 1:end] = segment.tokens[:-1]  # position `start` keeps BOS 0
            weights[r, start + segment.prefix_length:end] = 1
            segment_ids[r, start:end] = s if isolate else 1
            positions[r, start:end] = np.arange(len(segment)) + (0 if isolate else start)
            if segment.prefix_length:
                causal[r, start:start + segment.prefix_length + 1] = 1
            if start and not isolate:
                inputs[r, start] = targets[r, start - 1]  # the previous example's EOS
            start = end
    return out


def unpack(batch: dict[str, np.ndarray]) -> list[list[Segment]]:
    """The segments of each row of a packed batch (the inverse of `features`, keys lost).

    Rows packed without isolation (FLAN 2021) are one segment each: unpack isolated batches.
    """
    rows = []
    for r in range(batch["decoder_target_tokens"].shape[0]):
        ids, row = batch["decoder_segment_ids"][r], []
        for s in range(1, int(ids.max(initial=0)) + 1):
            where = np.flatnonzero(ids == s)
            tokens = batch["decoder_target_tokens"][r, where]
            prefix = len(where) - int(batch["decoder_loss_weights"][r, where].sum())
            row.append(Segment(tuple(int(t) for t in tokens), prefix))
        rows.append(row)
    return rows


@dataclasses.dataclass
class PackStats:
    """What packing did: counts, truncations and padding."""

    num_segments: int = 0
    num_truncated: int = 0
    num_rows: int = 0
    num_tokens: int = 0  # non-padding tokens in closed rows
    seq_length: int = 0

    def update(self, rows: Sequence[Sequence[Segment]]) -> None:
        for row in rows:
            self.num_rows += 1
            self.num_segments += len(row)
            self.num_truncated += sum(s.truncated for s in row)
            self.num_tokens += sum(len(s) for s in row)

    @property
    def pad_fraction(self) -> float:
        """Share of row positions that are padding."""
        total = self.num_rows * self.seq_length
        return 1.0 - self.num_tokens / total if total else 0.0

    @property
    def segments_per_row(self) -> float:
        return self.num_segments / self.num_rows if self.num_rows else 0.0


def pack(segments: Iterable[Segment], seq_length: int, packer: str = "best_fit",
         max_open_rows: int = 64) -> tuple[list[list[Segment]], PackStats]:
    """Pack a finite stream of segments into rows (flushed at the end) and report stats."""
    p = make_packer(packer, seq_length, max_open_rows)
    rows = p.add_all(segments) + p.flush()
    stats = PackStats(seq_length=seq_length)
    stats.update(rows)
    return rows, stats


def _array_module(x: Any):
    """jax.numpy for JAX arrays and tracers (so the mask works inside jit), else numpy."""
    jax = sys.modules.get("jax")
    if jax is not None and isinstance(x, jax.Array):
        # jax is loaded already (checked above); packing itself needs only numpy
        import jax.numpy as jnp

        return jnp
    return np


def attention_mask(segment_ids, causal_attention=None, bidirectional_prefix: bool = False,
                   xp=None):
    """Boolean attention mask (batch, 1, seq, seq): query i may attend to key j.

    Allowed iff j <= i (causal), both in the same segment, and not padding (segment id 0).
    With `bidirectional_prefix=True` the input prefix (`causal_attention` == 1, see the module
    docstring) also attends forward within itself, as in T5's prefix LM; `causal_attention` is
    ignored otherwise. Works with numpy and jax.numpy arrays (inside jit too); `xp` forces one.
    A padding query's row is all False: use a finite large negative logit, not -inf, so its
    softmax stays defined (its loss weight is 0 anyway).
    """
    xp = xp or _array_module(segment_ids)
    segment_ids = xp.asarray(segment_ids)
    seq = segment_ids.shape[-1]
    same_segment = (segment_ids[:, :, None] == segment_ids[:, None, :]) & (
        segment_ids[:, :, None] > 0)  # (batch, seq, seq)
    positions = xp.arange(seq)
    allowed = positions[:, None] >= positions[None, :]  # (seq, seq)
    if bidirectional_prefix:
        if causal_attention is None:
            raise UserError("bidirectional_prefix=True needs causal_attention "
                            "(the decoder_causal_attention feature)")
        prefix = xp.asarray(causal_attention) > 0  # (batch, seq)
        allowed = allowed[None] | (prefix[:, :, None] & prefix[:, None, :])
    return (same_segment & allowed)[:, None, :, :]
