"""Input pipelines: mixture -> tokens -> packed rows -> batches laid out for a device mesh.

Data path, stage 4 of 6: tasks -> templates -> tokenize -> mixture -> packing -> **pipeline** ->
model/train -> evaluate.

Two pipelines, one interface (`iter`/`next` yields a batch; `get_state()`/`set_state()`):

- `InstructionPipeline` (built by `make_batches`): a `flan_nb.mixture.Mixture` of rendered
  examples, tokenized, packed as prefix-LM segments (`inputs EOS targets EOS`, loss on targets);
- `LMPipeline` (built by `make_lm_batches`): pretraining documents, shuffled per epoch, packed as
  LM segments (loss on every non-padding token).

A batch is a dict of int32 numpy arrays (rows, seq_length) with the features of
`flan_nb.packing.FEATURES`. `batch_size` is always the *global* number of rows per step; on a
multi-host TPU each of `num_shards` hosts builds only its own `batch_size // num_shards` rows from
its own disjoint slice of the data, and `to_global` assembles the global `jax.Array` with
`jax.make_array_from_process_local_data`, sharded over the mesh's data axis.

Why plain numpy and not grain or tf.data: the work per example is a template fill, a SentencePiece
call and a few list appends, far faster than a small model trains (see `flan-nb bench pack`); a
pipeline written as a pure function of a seed and a few counters is easy to make exactly
resumable and to shard per host, and it adds no dependency (grain is not installed, TensorFlow is
not part of the default install). The state saved with a checkpoint is small JSON: the mixture's
counters plus the *keys* of the examples waiting in open rows, which are re-rendered and
re-tokenized on restore, so the restored pipeline yields the identical stream.
"""

from __future__ import annotations

import abc
import time
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from flan_nb import mixture as mixture_lib
from flan_nb import packing, tasks
from flan_nb.errors import UserError, require
from flan_nb.mixture import Mixture

STATE_VERSION = 1


def _encode_batch(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    if hasattr(tokenizer, "encode_batch"):
        return [list(ids) for ids in tokenizer.encode_batch(list(texts))]
    return [list(tokenizer.encode(text)) for text in texts]


def _as_key(key: Any) -> tuple:
    """Keys come back from JSON as lists; compare and look them up as tuples."""
    return tuple(_as_key(k) if isinstance(k, list) else k for k in key)


class _PackedBatches(abc.ABC):
    """Shared machinery: segments from a source, packed, cut into host-local batches."""

    def __init__(self, *, seq_length: int, batch_size: int, num_shards: int, packer: str,
                 max_open_rows: int, chunk_size: int, isolate: bool = True):
        require(isinstance(batch_size, int) and batch_size >= 1,
                f"batch_size must be a positive int, got {batch_size!r}")
        require(batch_size % num_shards == 0,
                f"batch_size {batch_size} must be a multiple of the number of hosts {num_shards}")
        require(chunk_size >= 1, f"chunk_size must be >= 1, got {chunk_size}")
        self.seq_length = seq_length
        self.batch_size = batch_size
        self.local_batch_size = batch_size // num_shards
        self.packer_name = packer
        self.packer = packing.make_packer(packer, seq_length, max_open_rows)
        self.chunk_size = chunk_size
        self.isolate = bool(isolate)  # packed examples masked from each other (flan_nb.packing)
        self.stats = packing.PackStats(seq_length=seq_length)
        self.num_batches = 0
        self._ready: list[list[packing.Segment]] = []

    # Subclasses provide the source of segments and how to rebuild one from its key.
    @abc.abstractmethod
    def _next_segments(self) -> list[packing.Segment]:
        """The next chunk of segments from the source."""

    @abc.abstractmethod
    def _segments_for(self, keys: Sequence[tuple]) -> list[packing.Segment]:
        """The segments with these keys, rebuilt (for restoring open rows)."""

    @abc.abstractmethod
    def _source_state(self) -> dict:
        """The source's JSON state."""

    @abc.abstractmethod
    def _set_source_state(self, state: Mapping[str, Any]) -> None:
        """Continue the source from its JSON state."""

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        return self

    def __next__(self) -> dict[str, np.ndarray]:
        while len(self._ready) < self.local_batch_size:
            self._ready.extend(self.packer.add_all(self._next_segments()))
        rows = self._ready[: self.local_batch_size]
        del self._ready[: self.local_batch_size]
        self.stats.update(rows)
        self.num_batches += 1
        return packing.features(rows, self.seq_length, self.isolate)

    def take(self, n: int) -> list[dict[str, np.ndarray]]:
        """The next `n` batches."""
        return [next(self) for _ in range(n)]

    def num_waiting(self) -> int:
        """Segments drawn but not yet in a yielded batch (in open or ready rows)."""
        return sum(len(row) for row in self.packer.open_rows() + self._ready)

    def get_state(self) -> dict[str, Any]:
        """JSON-serializable state (between batches) to save with a checkpoint."""
        keys = lambda rows: [[list(s.key) for s in row] for row in rows]  # noqa: E731
        return {"version": STATE_VERSION, "kind": type(self).__name__,
                "packer": self.packer_name, "seq_length": self.seq_length,
                "batch_size": self.batch_size, "isolate": self.isolate,
                "source": self._source_state(),
                "open_rows": keys(self.packer.open_rows()), "ready_rows": keys(self._ready),
                "num_batches": self.num_batches,
                "stats": {k: getattr(self.stats, k) for k in
                          ("num_segments", "num_truncated", "num_rows", "num_tokens")}}

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Continue exactly where `state` (from `get_state` of an equal pipeline) left off."""
        expected = {"version": STATE_VERSION, "kind": type(self).__name__,
                    "packer": self.packer_name, "seq_length": self.seq_length,
                    "batch_size": self.batch_size}
        # States saved before isolation was a choice were isolated.
        state = {"isolate": True, **state}
        expected["isolate"] = self.isolate
        for field, mine in expected.items():
            if state.get(field) != mine:
                raise UserError(f"pipeline state has {field}={state.get(field)!r} but this "
                                f"pipeline has {mine!r}: build it with the checkpoint's settings")
        self._set_source_state(state["source"])
        rebuild = lambda rows: [self._segments_for([_as_key(k) for k in row])  # noqa: E731
                                for row in rows]
        self.packer.restore(rebuild(state["open_rows"]))
        self._ready = rebuild(state["ready_rows"])
        self.num_batches = int(state["num_batches"])
        for name, value in state["stats"].items():
            setattr(self.stats, name, int(value))


class InstructionPipeline(_PackedBatches):
    """Mixed, templated, tokenized and packed instruction-tuning batches.

    Each sample becomes `inputs EOS targets EOS`, inputs cut to `max_input_length` and targets to
    `max_target_length` tokens (EOS included; cuts are counted in `stats.num_truncated`). Rows are
    `seq_length` tokens, by default `max_input_length + max_target_length` as in seqio.
    `isolate` masks packed examples from each other (Flan 2022, the default); `False` packs them
    with only an EOS between, as FLAN 2021 did (`flan_nb.packing`).
    """

    def __init__(self, mixture: Mixture, tokenizer, *, batch_size: int, max_input_length: int,
                 max_target_length: int, seq_length: int | None = None, packer: str = "best_fit",
                 max_open_rows: int = 64, chunk_size: int = 256, isolate: bool = True):
        seq_length = seq_length or max_input_length + max_target_length
        require(seq_length >= max_input_length + max_target_length,
                f"seq_length {seq_length} must be >= max_input_length + max_target_length "
                f"({max_input_length} + {max_target_length}) so every example fits a row")
        super().__init__(seq_length=seq_length, batch_size=batch_size,
                         num_shards=mixture.num_shards, packer=packer,
                         max_open_rows=max_open_rows, chunk_size=chunk_size, isolate=isolate)
        self.mixture = mixture
        self.tokenizer = tokenizer
        self.max_input_length = max_input_length
        self.max_target_length = max_target_length

    def _segments_of(self, samples) -> list[packing.Segment]:
        return tokenize_samples(samples, self.tokenizer, self.max_input_length,
                                self.max_target_length)

    def _next_segments(self) -> list[packing.Segment]:
        return self._segments_of(self.mixture.take(self.chunk_size))

    def _segments_for(self, keys):
        return self._segments_of([self.mixture.render_key(k) for k in keys])

    def _source_state(self) -> dict:
        return self.mixture.get_state()

    def _set_source_state(self, state) -> None:
        self.mixture.set_state(state)


class LMPipeline(_PackedBatches):
    """Packed language-modelling batches from tokenized documents (every token is a target).

    Documents are visited in a new seeded order each epoch (`shuffle=False` keeps the given
    order); host h of H takes positions h, h+H, ... of that endless sequence. A document longer
    than a row is split into row-sized pieces, never truncated.
    """

    def __init__(self, documents: Sequence[Sequence[int]], *, seq_length: int, batch_size: int,
                 seed: int = 0, shuffle: bool = True, packer: str = "best_fit",
                 max_open_rows: int = 64, shard_index: int = 0, num_shards: int = 1,
                 chunk_size: int = 256):
        require(len(documents) > 0, "an LM pipeline needs at least one document")
        require(0 <= shard_index < num_shards,
                f"shard_index must be in [0, {num_shards}), got {shard_index}")
        super().__init__(seq_length=seq_length, batch_size=batch_size, num_shards=num_shards,
                         packer=packer, max_open_rows=max_open_rows, chunk_size=chunk_size)
        self.documents = documents
        self.seed, self.shuffle = seed, shuffle
        self.shard_index, self.num_shards = shard_index, num_shards
        self._cursor = 0
        self._order: tuple[int, np.ndarray] | None = None

    def _document_at(self, cursor: int) -> int:
        position = cursor * self.num_shards + self.shard_index
        epoch, j = divmod(position, len(self.documents))
        if self._order is None or self._order[0] != epoch:
            order = (np.random.default_rng([self.seed, epoch]).permutation(len(self.documents))
                     if self.shuffle else np.arange(len(self.documents)))
            self._order = (epoch, order)
        return int(self._order[1][j])

    def _next_segments(self) -> list[packing.Segment]:
        segments = []
        for _ in range(self.chunk_size):
            doc = self._document_at(self._cursor)
            self._cursor += 1
            segments.extend(packing.lm_segments(self.documents[doc], self.seq_length, key=doc))
        return segments

    def _segments_for(self, keys):
        return [packing.lm_segments(self.documents[doc], self.seq_length, key=doc)[piece]
                for doc, piece in keys]

    @property
    def epochs_seen(self) -> float:
        """Passes over the documents made by all hosts together."""
        return self._cursor * self.num_shards / len(self.documents)

    def _source_state(self) -> dict:
        return {"cursor": self._cursor, "seed": self.seed, "shuffle": self.shuffle,
                "shard_index": self.shard_index, "num_shards": self.num_shards,
                "num_documents": len(self.documents)}

    def _set_source_state(self, state) -> None:
        mine = self._source_state()
        for field in ("seed", "shuffle", "shard_index", "num_shards", "num_documents"):
            if state.get(field) != mine[field]:
                raise UserError(f"LM pipeline state has {field}={state.get(field)!r} but this "
                                f"pipeline has {mine[field]!r}: build it with the checkpoint's "
                                f"settings")
        self._cursor = int(state["cursor"])


def host_shard(shard_index: int | None = None, num_shards: int | None = None) -> tuple[int, int]:
    """(this host's index, number of hosts): JAX's process index/count unless given."""
    if shard_index is None or num_shards is None:
        # jax on use (cost: flan_nb/__init__): the data pipeline itself needs only numpy
        import jax

        shard_index = jax.process_index() if shard_index is None else shard_index
        num_shards = jax.process_count() if num_shards is None else num_shards
    return shard_index, num_shards


def make_batches(dataset_names: Sequence[str], tokenizer, *, batch_size: int,
                 max_input_length: int, max_target_length: int, seq_length: int | None = None,
                 seed: int = 0, data_seed: int = 0, size: str = "book", split: str = "train",
                 rate_cap: int | None = None, max_examples: int | None = None,
                 temperature: float = 1.0, packer: str = "best_fit", max_open_rows: int = 64,
                 shard_index: int | None = None, num_shards: int | None = None,
                 data_dir: str | None = None, isolate: bool = True,
                 render: mixture_lib.RenderFn | None = None,
                 num_templates: Mapping[str, int] | None = None) -> InstructionPipeline:
    """The instruction-tuning pipeline over registered datasets (`flan_nb.tasks`).

    `rate_cap`/`max_examples` default to the paper's 3,000 and 30,000. `batch_size` is global;
    this host yields `batch_size // num_shards` rows per batch (hosts default to JAX's).
    `isolate=False` packs as FLAN 2021 (EOS between examples, no masking across them).
    `render`/`num_templates` replace the datasets' templates (see `Mixture.from_registry`).
    """
    shard_index, num_shards = host_shard(shard_index, num_shards)
    mixture = Mixture.from_registry(
        dataset_names, split=split, seed=seed, data_seed=data_seed, size=size, data_dir=data_dir,
        rate_cap=mixture_lib.PAPER_RATE_CAP if rate_cap is None else rate_cap,
        max_examples=mixture_lib.PAPER_MAX_EXAMPLES if max_examples is None else max_examples,
        temperature=temperature, shard_index=shard_index, num_shards=num_shards,
        render=render, num_templates=num_templates)
    return InstructionPipeline(mixture, tokenizer, batch_size=batch_size,
                               max_input_length=max_input_length,
                               max_target_length=max_target_length, seq_length=seq_length,
                               packer=packer, max_open_rows=max_open_rows, isolate=isolate)


def tokenize_documents(texts: Sequence[str], tokenizer) -> list[list[int]]:
    """Token ids of each document (no EOS: packing adds it)."""
    return _encode_batch(tokenizer, texts)


def make_lm_batches(texts: Sequence[str], tokenizer, *, seq_length: int, batch_size: int,
                    seed: int = 0, shuffle: bool = True, packer: str = "best_fit",
                    max_open_rows: int = 64, shard_index: int | None = None,
                    num_shards: int | None = None) -> LMPipeline:
    """The pretraining pipeline: documents tokenized once, then packed LM batches forever."""
    shard_index, num_shards = host_shard(shard_index, num_shards)
    return LMPipeline(tokenize_documents(texts, tokenizer), seq_length=seq_length,
                      batch_size=batch_size, seed=seed, shuffle=shuffle, packer=packer,
                      max_open_rows=max_open_rows, shard_index=shard_index,
                      num_shards=num_shards)


def batch_sharding(mesh, data_axis: str | Sequence[str] = "data"):
    """NamedSharding that splits the batch dimension over `data_axis` of `mesh`."""
    # jax on use (cost: flan_nb/__init__): the data pipeline itself needs only numpy
    from jax.sharding import NamedSharding, PartitionSpec

    axis = data_axis if isinstance(data_axis, str) else tuple(data_axis)
    return NamedSharding(mesh, PartitionSpec(axis, None))


def to_global(batch: Mapping[str, np.ndarray], sharding) -> dict[str, Any]:
    """This host's rows -> global `jax.Array`s (batch_size, seq_length) laid out by `sharding`."""
    # jax on use (cost: flan_nb/__init__): the data pipeline itself needs only numpy
    import jax

    return {name: jax.make_array_from_process_local_data(sharding, value)
            for name, value in batch.items()}


# -- measuring the pipeline (chapter 06 and `flan-nb bench pack`, with notebook 06's settings) ----


def tinyworld_names() -> list[str]:
    """Every registered TinyWorld dataset (the book's mixture)."""
    names = [spec.name for spec in tasks.all_datasets(source="tinyworld")]
    if not names:
        raise UserError("no TinyWorld datasets are registered (flan_nb.tinyworld is missing)")
    return names


def tokenize_samples(samples, tokenizer, max_input_length: int, max_target_length: int):
    """Segments of mixed samples (each `inputs EOS targets EOS`, truncated and flagged)."""
    ids = _encode_batch(tokenizer, [s.inputs for s in samples] + [s.targets for s in samples])
    n = len(samples)
    return [packing.instruction_segment(ids[i], ids[n + i], max_input_length,
                                        max_target_length, key=s.key)
            for i, s in enumerate(samples)]


def compare_packers(mixture: Mixture, tokenizer, lengths: Mapping[str, tuple[int, int]], *,
                    batch_size: int, num_batches: int, max_open_rows: int = 64,
                    ) -> dict[str, dict[str, packing.PackStats]]:
    """label -> packer -> PackStats of `num_batches` batches from the endless pipeline.

    Every packer at every (input, target) length in `lengths` sees the same stream of samples
    (the mixture is rewound before each run and left where it started). Padding is measured on
    the rows training would receive, so the partly filled rows a finite stream would have to
    flush at its end do not count.
    """
    start = mixture.get_state()
    table: dict[str, dict[str, packing.PackStats]] = {}
    for label, (max_in, max_tg) in lengths.items():
        table[label] = {}
        for name in packing.PACKERS:
            mixture.set_state(start)
            pipe = InstructionPipeline(mixture, tokenizer, batch_size=batch_size,
                                       max_input_length=max_in, max_target_length=max_tg,
                                       packer=name, max_open_rows=max_open_rows)
            pipe.take(num_batches)
            table[label][name] = pipe.stats
    mixture.set_state(start)
    return table


def measure_throughput(pipe: _PackedBatches, num_batches: int) -> dict[str, float]:
    """Row positions and real tokens per second that `pipe` produces over `num_batches`."""
    start_tokens = pipe.stats.num_tokens
    start = time.perf_counter()
    for _ in range(num_batches):
        next(pipe)
    seconds = time.perf_counter() - start
    positions = num_batches * pipe.local_batch_size * pipe.seq_length
    return {"seconds": seconds, "tokens_per_s": positions / seconds,
            "nonpad_tokens_per_s": (pipe.stats.num_tokens - start_tokens) / seconds}
