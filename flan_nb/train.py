"""Training the LM: pretraining from scratch and instruction tuning use the same loop.

Data path, stage 5 of 6: tasks -> templates -> tokenize -> mixture/packing/pipeline -> model,
sharding, **train**, checkpoint -> evaluate.

- Optimizer: optax Adafactor (the paper's), constant learning rate, all parameters trained.
- Batches are measured in tokens: `batch_tokens = batch_size x seq_length`, optionally split
  into `grad_accum_steps` microbatches whose gradients are summed before one update.
- Loss normalization for packed batches: the summed cross-entropy of all target tokens
  (`decoder_loss_weights`) in the whole step's batch, divided by their number. Every target token
  weighs the same however examples are packed or split into microbatches, so a packed batch has
  exactly the loss of its examples scored one by one, and 8 devices give the 1-device result.
- Dropout is keyed by (seed, step), so a resumed run draws the same masks.
- Scale-out: parameters and batches are placed on a `flan_nb.sharding` mesh; XLA's SPMD
  partitioner inserts the collectives.
- Checkpoints (`flan_nb.checkpoint`) every `checkpoint_every` steps and at the end hold the data
  iterator's state, so a killed run resumes with the same batches and, on CPU, the same losses.
- Progress: a tqdm bar with loss, tokens/s and ETA; every step's loss goes to
  `<run>/train_log.jsonl` (one JSON object per line; written by process 0 only).

The data is any iterator of dicts of int32 numpy arrays (batch_size, seq_length) in the packed
feature format (`decoder_input_tokens`, `decoder_target_tokens`, `decoder_loss_weights`,
`decoder_segment_ids`, `decoder_positions`, optionally `decoder_causal_attention`) with
`get_state()` / `set_state(state)` (JSON-serialisable), as `flan_nb.pipeline` provides.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from typing import Any, Iterator, Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from tqdm import tqdm

from flan_nb import model as model_lib
from flan_nb import sharding
from flan_nb.checkpoint import (TRAIN_FINGERPRINT_FILE, Checkpoints, orbax_path,
                                save_tokenizer)
from flan_nb.errors import UserError, require
from flan_nb.model import logits_for_batch, token_losses
from flan_nb.runs import append_text, as_path, atomic_write_text, is_local

LOG_FILE = "train_log.jsonl"
REQUIRED_FEATURES = ("decoder_input_tokens", "decoder_target_tokens", "decoder_loss_weights",
                     "decoder_segment_ids", "decoder_positions")
OPTIONAL_FEATURES = ("decoder_causal_attention",)
# Jitted functions shared by Trainers with equal settings (notebooks build several, e.g. to
# resume, and compiling costs seconds on a CPU): key -> function.
_JIT_CACHE: dict = {}


def _cached_jit(key, build):
    if key not in _JIT_CACHE:
        _JIT_CACHE[key] = build()
    return _JIT_CACHE[key]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How to train: steps, batch in tokens, optimizer, checkpoints, mesh."""

    num_steps: int = 100  # optimizer updates
    batch_tokens: int = 4096  # tokens per update (= batch_size x seq_length)
    seq_length: int = 128  # packed sequence length
    grad_accum_steps: int = 1  # microbatches per update (gradients summed)
    learning_rate: float = 1e-3  # Adafactor, constant
    parameter_scale: bool = False  # Adafactor: lr relative to each parameter's RMS
    seed: int = 0  # parameter init and dropout
    bidirectional_prefix: bool = False  # inputs attend both ways (prefix LM)
    checkpoint_every: int = 100  # steps between checkpoints (and one at the end)
    max_checkpoints: int = 2  # newest checkpoints kept
    log_every: int = 10  # steps between progress-bar updates
    mesh_data: int = -1  # mesh axis sizes (-1: the remaining devices)
    mesh_fsdp: int = 1
    mesh_tensor: int = 1
    max_input_length: int | None = None  # instruction tuning: inputs truncated to this
    max_target_length: int | None = None  # instruction tuning: targets truncated to this

    def __post_init__(self):
        for name in ("num_steps", "batch_tokens", "seq_length", "grad_accum_steps",
                     "checkpoint_every", "max_checkpoints", "log_every"):
            value = getattr(self, name)
            require(isinstance(value, int) and value > 0,
                    f"{name} must be a positive integer, got {value!r}")
        require(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}")
        require(self.batch_tokens % self.seq_length == 0,
                f"batch_tokens={self.batch_tokens} must be a multiple of seq_length="
                f"{self.seq_length} (a batch holds whole sequences)")
        require(self.batch_size % self.grad_accum_steps == 0,
                f"grad_accum_steps={self.grad_accum_steps} must divide the batch of "
                f"{self.batch_size} sequences (batch_tokens / seq_length)")
        if self.max_input_length is not None or self.max_target_length is not None:
            longest = (self.max_input_length or 0) + (self.max_target_length or 0)
            require(self.seq_length >= longest,
                    f"seq_length={self.seq_length} is shorter than the longest example after "
                    f"truncation (inputs {self.max_input_length} + targets "
                    f"{self.max_target_length} = {longest} tokens); raise seq_length to at "
                    f"least {longest} or lower the truncation lengths")

    @property
    def batch_size(self) -> int:
        """Sequences per update."""
        return self.batch_tokens // self.seq_length

    @property
    def micro_batch_size(self) -> int:
        return self.batch_size // self.grad_accum_steps

    def fingerprint(self) -> dict[str, Any]:
        """The settings a resumed run must share with its checkpoints (not the step count)."""
        volatile = {"num_steps", "checkpoint_every", "max_checkpoints", "log_every"}
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in volatile}


def make_optimizer(config: TrainConfig):
    """Adafactor with a constant learning rate (factored second moments, update clipping 1)."""
    return optax.adafactor(learning_rate=config.learning_rate,
                           multiply_by_parameter_scale=config.parameter_scale)


class TrainLog:
    """Per-step metrics as JSON lines (process 0 writes; a torn last line is ignored).

    A local log grows as rows arrive. An object in a bucket cannot be appended to, so there the
    rows wait in memory and the object is rewritten at each checkpoint (`flush`): a kill loses
    only rows of steps that the resumed run trains again.
    """

    def __init__(self, path):
        self.path = as_path(path)
        self._waiting: list[str] = []

    def read(self) -> list[dict]:
        if not self.path.exists():
            return []
        rows = []
        for line in self.path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a line cut short by a kill: everything after it is redone anyway
        return rows

    def truncate(self, last_step: int) -> list[dict]:
        """Keep rows with step <= last_step (the checkpoint being resumed) and return them."""
        rows = [r for r in self.read() if r["step"] <= last_step]
        if sharding.is_primary():
            atomic_write_text(self.path, "".join(json.dumps(r) + "\n" for r in rows))
        return rows

    def append(self, rows: list[dict]) -> None:
        if rows and sharding.is_primary():
            text = "".join(json.dumps(r) + "\n" for r in rows)
            if is_local(self.path):
                append_text(self.path, text)
            else:
                self._waiting.append(text)

    def flush(self) -> None:
        """Write the rows waiting for a bucket (see the class docstring)."""
        if self._waiting:
            append_text(self.path, "".join(self._waiting))
            self._waiting = []


class ProgressBar:
    """A tqdm bar showing loss, tokens/s and the ETA.

    In a terminal it redraws every 2 seconds. In a notebook kernel every redraw stays in the saved
    notebook (the rendered book, papermill's output), so there it redraws after each tenth of
    the steps, or after 10 minutes on long runs.
    """

    def __init__(self, start: int, total: int):
        self.sparse = "ipykernel" in sys.modules
        self.bar = tqdm(total=total, initial=start, unit="step", file=sys.stdout,
                        mininterval=math.inf if self.sparse else 2.0, smoothing=0.1,
                        dynamic_ncols=True)
        self.every = max(1, (total - start) // 10)
        self.shown_step, self.shown_time = start, time.perf_counter()

    def update(self, steps: int, loss: float, tokens_per_s: float) -> None:
        self.bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{tokens_per_s:.0f}", refresh=False)
        self.bar.update(steps)
        now = time.perf_counter()
        due = (self.bar.n - self.shown_step >= self.every or now - self.shown_time >= 600)
        if self.sparse and due and self.bar.n < self.bar.total:  # close() draws the last one
            self.bar.refresh()
            self.shown_step, self.shown_time = self.bar.n, now

    def close(self) -> None:
        self.bar.close()


@dataclasses.dataclass
class TrainResult:
    """What `Trainer.fit` returns: the trained model and every step's metrics."""

    model: Any
    history: list[dict]
    start_step: int  # the step training (re)started from: 0, or a checkpoint's step
    final_step: int

    @property
    def resumed(self) -> bool:
        return self.start_step > 0

    def losses(self) -> list[float]:
        return [row["loss"] for row in self.history]


def batch_loss(model, batch: Mapping[str, Any], *, bidirectional_prefix: bool = False,
               dropout_rng=None):
    """(summed cross-entropy over target tokens, number of target tokens) of a packed batch.

    Their ratio is the training loss; summing both over microbatches or devices before dividing
    keeps every target token's weight equal.
    """
    logits = logits_for_batch(model, batch, dropout_rng=dropout_rng,
                              bidirectional_prefix=bidirectional_prefix)
    weights = jnp.asarray(batch["decoder_loss_weights"]).astype(jnp.float32)  # (batch, len)
    losses = token_losses(logits, jnp.asarray(batch["decoder_target_tokens"]))
    return jnp.sum(losses * weights), jnp.sum(weights)


def normalized_loss(loss_sum, weight_sum):
    """The loss of a step: summed target-token losses over the number of target tokens, both
    summed over every microbatch and device first (a batch with no targets has loss 0)."""
    return loss_sum / jnp.maximum(weight_sum, 1.0)


def _make_step(graphdef, tx, config: TrainConfig, dropout: bool):
    """The pure update function: (params, opt_state, batch, step) -> (params, opt_state, m)."""

    def micro_loss(params, micro, rng):
        return batch_loss(nnx.merge(graphdef, params), micro, dropout_rng=rng,
                          bidirectional_prefix=config.bidirectional_prefix)

    grad_fn = jax.value_and_grad(micro_loss, has_aux=True)

    def step(params, opt_state, batch, step_index):
        rng = (jax.random.fold_in(jax.random.key(config.seed), step_index) if dropout
               else None)
        if config.grad_accum_steps == 1:
            (loss_sum, weight_sum), grads = grad_fn(params, batch, rng)
        else:
            def body(carry, xs):
                micro, i = xs
                micro_rng = None if rng is None else jax.random.fold_in(rng, i)
                (l, w), g = grad_fn(params, micro, micro_rng)
                return (carry[0] + l, carry[1] + w, jax.tree.map(jnp.add, carry[2], g)), None

            zeros = jax.tree.map(jnp.zeros_like, params)
            init = (jnp.float32(0), jnp.float32(0), zeros)
            index = jnp.arange(config.grad_accum_steps)
            (loss_sum, weight_sum, grads), _ = jax.lax.scan(body, init, (batch, index))
        grads = jax.tree.map(lambda g: normalized_loss(g, weight_sum), grads)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        tokens = jnp.sum(batch["decoder_segment_ids"] != 0)
        return params, opt_state, {"loss": normalized_loss(loss_sum, weight_sum),
                                   "target_tokens": weight_sum,
                                   "tokens": tokens}

    return step


class Trainer:
    """Owns the sharded parameters and optimizer state of one training run.

    `Trainer(model_config, train_config, checkpoint_dir=..., log_path=...)` initialises (or,
    with `init_params`, starts from given parameters, e.g. the base LM for instruction tuning);
    `fit(data)` resumes from the newest good checkpoint when there is one and trains to
    `num_steps`. All configuration errors surface here, before anything compiles.
    """

    def __init__(self, model_config, train_config: TrainConfig, *, checkpoint_dir=None,
                 log_path=None, mesh=None, init_params=None, progress: bool = True,
                 data_settings: Mapping[str, Any] | None = None):
        self.model_config = model_config
        self.config = train_config
        # The settings that decide the data and the mixture (a notebook's parameters): resuming
        # checkpoints written with other data would mix two runs.
        self.data_settings = dict(data_settings or {})
        self.mesh = mesh or sharding.make_mesh(train_config.mesh_data, train_config.mesh_fsdp,
                                               train_config.mesh_tensor)
        sharding.check_batch_size(train_config.micro_batch_size, self.mesh,
                                  what="batch size per microbatch (batch_tokens / seq_length / "
                                       "grad_accum_steps)")
        self.progress = progress and sharding.is_primary()
        graphdef, abstract = nnx.split(model_lib.abstract_model(model_config))
        self.graphdef = graphdef
        self.param_shardings = sharding.param_shardings(abstract, self.mesh)
        seed = train_config.seed
        if init_params is None:
            def init():
                return nnx.split(model_lib.create_model(model_config, seed))[1]

            self.params = _cached_jit(
                ("init", model_config, seed, self.mesh),
                lambda: jax.jit(init, out_shardings=self.param_shardings))()
        else:
            placed = jax.device_put(init_params, self.param_shardings)
            # Copied: the step donates (frees) its inputs, and the caller may still use theirs.
            self.params = jax.tree.map(jnp.copy, placed)
        self.tx = make_optimizer(train_config)
        self._key = (model_config, tuple(sorted(train_config.fingerprint().items())), self.mesh,
                     graphdef)
        opt_init = _cached_jit(("opt_init",) + self._key, lambda: jax.jit(self.tx.init))
        self.opt_state = self._place_on_mesh(opt_init(self.params))
        self.step = 0
        leading = (None,) if train_config.grad_accum_steps > 1 else ()
        self.batch_sharding = jax.sharding.NamedSharding(
            self.mesh, jax.sharding.PartitionSpec(*leading, sharding.BATCH_AXES, None))
        self.checkpoints = None
        if checkpoint_dir is not None:
            self._prepare_checkpoint_dir(checkpoint_dir)
            self.checkpoints = Checkpoints(checkpoint_dir,
                                           max_to_keep=train_config.max_checkpoints)
            self.checkpoints.write_model_config(model_config)
        self.log = TrainLog(log_path) if log_path is not None else None
        self._step_fn = None

    def _place_on_mesh(self, tree):
        """Leaves that jit left on one device (constants such as a step count) -> replicated."""

        def place(x):
            placed = getattr(x, "sharding", None)
            if isinstance(placed, jax.sharding.NamedSharding) and placed.mesh == self.mesh:
                return x
            return jax.device_put(x, sharding.replicated(self.mesh))

        return jax.tree.map(place, tree)

    def _fingerprint(self) -> dict:
        found = {"model": self.model_config.to_dict(), "train": self.config.fingerprint()}
        if self.data_settings:
            found["data"] = self.data_settings
        return found

    def _prepare_checkpoint_dir(self, directory) -> None:
        """Checkpoints made with other settings cannot be resumed: clear them (runs are caches
        of a notebook's results; changing its parameters means starting over)."""
        directory = orbax_path(directory)  # Orbax's path type: it has rmtree
        path = directory / TRAIN_FINGERPRINT_FILE
        want = json.dumps(self._fingerprint(), sort_keys=True)
        if path.exists() and path.read_text() != want and sharding.is_primary():
            print(f"settings changed since the checkpoints in {directory} were written: "
                  f"starting over")
            directory.rmtree()
        if sharding.is_primary():
            directory.mkdir(parents=True, exist_ok=True)
            path.write_text(want)

    # -- the compiled step ----------------------------------------------------------------
    def _compiled_step(self):
        if self._step_fn is None:
            opt_shardings = jax.tree.map(lambda x: x.sharding, self.opt_state)
            fn = _make_step(self.graphdef, self.tx, self.config,
                            dropout=self.model_config.dropout_rate > 0)
            self._step_fn = _cached_jit(("step",) + self._key, lambda: jax.jit(
                fn, donate_argnums=(0, 1),
                out_shardings=(self.param_shardings, opt_shardings,
                               sharding.replicated(self.mesh))))
        return self._step_fn

    def device_batch(self, batch: Mapping[str, Any]) -> dict:
        """Check this process's rows of a batch and place the global batch on the mesh.

        Each of P processes passes its own batch_size / P rows (one process: the whole batch),
        as `flan_nb.pipeline` yields them; microbatches are stacked in front.
        """
        c = self.config
        missing = [name for name in REQUIRED_FEATURES if name not in batch]
        if missing:
            raise UserError(f"batch lacks features {missing} (it has {sorted(batch)}); the data "
                            f"must be packed decoder features (flan_nb.packing)")
        processes = jax.process_count()
        local_rows = c.batch_size // processes
        names = list(REQUIRED_FEATURES) + [n for n in OPTIONAL_FEATURES if n in batch]
        out = {}
        for name in names:
            value = np.asarray(batch[name], dtype=np.int32)
            if value.shape != (local_rows, c.seq_length):
                raise UserError(
                    f"batch feature {name} has shape {value.shape}, expected (rows, seq_length)"
                    f" = ({local_rows}, {c.seq_length}): batch_tokens / seq_length = "
                    f"{c.batch_size} rows over {processes} process(es)")
            shape = (c.batch_size, c.seq_length)
            if c.grad_accum_steps > 1:
                value = value.reshape(c.grad_accum_steps, -1, c.seq_length)
                shape = (c.grad_accum_steps, c.micro_batch_size, c.seq_length)
            out[name] = jax.make_array_from_process_local_data(self.batch_sharding, value, shape)
        return out

    def train_step(self, batch: Mapping[str, Any]) -> dict:
        """One update on one host batch; returns its metrics (device scalars)."""
        step_fn = self._compiled_step()
        self.params, self.opt_state, metrics = step_fn(
            self.params, self.opt_state, self.device_batch(batch), jnp.int32(self.step))
        self.step += 1
        return metrics

    # -- checkpoints ------------------------------------------------------------------------
    def restore(self, data=None) -> bool:
        """Load the newest good checkpoint (and the data iterator's state); False if none."""
        if self.checkpoints is None:
            return False
        restored = self.checkpoints.restore_latest(self.params, self.opt_state)
        if restored is None:
            return False
        self.step, self.params, self.opt_state, data_states, _meta = restored
        if data is not None:
            saved = data_states["per_process"]
            if len(saved) != jax.process_count():
                # Each host's pipeline reads its own shard of the data; another host count
                # would split it differently, so the saved positions do not apply.
                raise UserError(
                    f"the checkpoint at step {self.step} was written by {len(saved)} host(s) but "
                    f"this job has {jax.process_count()}: resume on a slice with "
                    f"{len(saved)} host(s), or start a new run")
            data.set_state(saved[jax.process_index()])
        return True

    def save(self, data) -> None:
        """Checkpoint the current step with every process's data-iterator state."""
        if self.checkpoints is not None:
            state = data.get_state() if data is not None else None
            self.checkpoints.save(self.step, self.params, self.opt_state,
                                  {"per_process": sharding.allgather_json(state)},
                                  {"step": self.step})
        if self.log is not None:
            self.log.flush()

    def model(self):
        """The current parameters as a `Transformer` (shares the arrays)."""
        return nnx.merge(self.graphdef, self.params)

    # -- the loop -----------------------------------------------------------------------------
    def fit(self, data: Iterator[Mapping[str, Any]], num_steps: int | None = None) -> TrainResult:
        """Train until `num_steps` (default: the config's), resuming from a checkpoint."""
        num_steps = self.config.num_steps if num_steps is None else num_steps
        self.restore(data)
        start = self.step
        # Steps after the checkpoint are redone, so their old log lines go.
        history = self.log.truncate(start) if self.log is not None else []

        if start and sharding.is_primary():
            print(f"resumed from the checkpoint at step {start}")
        if start < num_steps and self.progress:
            print(f"training on a {sharding.describe_mesh(self.mesh)}")
        bar = self._progress_bar(start, num_steps)
        pending: list[tuple[int, dict]] = []
        tokens_seen = history[-1]["tokens_seen"] if history else 0
        elapsed = history[-1]["elapsed_s"] if history else 0.0
        t_last = time.perf_counter()
        try:
            while self.step < num_steps:
                batch = next(data)
                pending.append((self.step + 1, self.train_step(batch)))
                done = self.step == num_steps
                if self.step % self.config.log_every == 0 or done or \
                        self.step % self.config.checkpoint_every == 0:
                    fetched = jax.device_get([m for _, m in pending])
                    now = time.perf_counter()
                    interval = now - t_last
                    t_last = now
                    rows = []
                    interval_tokens = sum(int(m["tokens"]) for m in fetched)
                    for (step, _), m in zip(pending, fetched):
                        tokens_seen += int(m["tokens"])
                        elapsed += interval / len(fetched)
                        rows.append({"step": step, "loss": float(m["loss"]),
                                     "tokens": int(m["tokens"]),
                                     "target_tokens": int(m["target_tokens"]),
                                     "tokens_seen": tokens_seen,
                                     "elapsed_s": round(elapsed, 4),
                                     "tokens_per_s": round(interval_tokens / interval, 1)})
                    pending = []
                    history.extend(rows)
                    if self.log is not None:
                        self.log.append(rows)
                    if bar is not None:
                        bar.update(len(rows), rows[-1]["loss"], rows[-1]["tokens_per_s"])
                if self.step % self.config.checkpoint_every == 0 or done:
                    self.save(data)
        finally:
            if bar is not None:
                bar.close()
            if self.log is not None:
                self.log.flush()
            if self.checkpoints is not None:
                self.checkpoints.wait()
        return TrainResult(self.model(), history, start, self.step)

    def _progress_bar(self, start: int, total: int):
        if not self.progress or start >= total:
            return None
        return ProgressBar(start, total)

    def close(self) -> None:
        if self.checkpoints is not None:
            self.checkpoints.close()


def train(model_config, train_config: TrainConfig, data, *, run=None, init_params=None,
          tokenizer=None, progress: bool = True, mesh=None) -> TrainResult:
    """Train (or resume) and return the result; with `run`, checkpoints go to
    `<run>/checkpoints/` (with `tokenizer`, when given, beside them) and the loss log to
    `<run>/train_log.jsonl`."""
    run_path = None if run is None else getattr(run, "path", run)
    trainer = Trainer(
        model_config, train_config, mesh=mesh, init_params=init_params, progress=progress,
        checkpoint_dir=None if run_path is None else as_path(run_path) / "checkpoints",
        log_path=None if run_path is None else as_path(run_path) / LOG_FILE,
        data_settings=run_settings(run))
    if tokenizer is not None and run_path is not None:
        save_tokenizer(as_path(run_path) / "checkpoints", tokenizer)
    try:
        return trainer.fit(data)
    finally:
        trainer.close()


def run_settings(run) -> dict[str, Any]:
    """The parameters a run's params.yaml records, less those a resumed run may change (steps
    and checkpoint spacing): with the model and training settings they make the checkpoints'
    fingerprint, so checkpoints of other data, mixture or base model are never resumed."""
    if run is None or not hasattr(run, "params"):
        return {}
    volatile = {"num_steps", "checkpoint_every", "max_checkpoints", "log_every"}
    recorded = run.params().get("parameters") or {}
    return {k: v for k, v in sorted(recorded.items()) if k.lower() not in volatile}


def read_log(run) -> list[dict]:
    """Every logged step of a run (its `train_log.jsonl`)."""
    return TrainLog(as_path(getattr(run, "path", run)) / LOG_FILE).read()


def mean_loss(model, batches, *, bidirectional_prefix: bool = False) -> float:
    """Token-weighted mean cross-entropy of `model` over packed batches (no dropout)."""
    loss_fn = nnx.jit(batch_loss, static_argnames="bidirectional_prefix")
    total = weight = 0.0
    for batch in batches:
        loss_sum, weight_sum = loss_fn(model, batch, bidirectional_prefix=bidirectional_prefix)
        total += float(loss_sum)
        weight += float(weight_sum)
    return total / max(weight, 1.0)
