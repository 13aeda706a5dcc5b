"""Orbax checkpoints of a training run, with the data iterator's position, robust to kills.

Data path, stage 5 of 6: tasks -> templates -> tokenize -> mixture/packing/pipeline -> model,
sharding, train, **checkpoint** -> evaluate.

A checkpoint directory (usually `runs/<run>/checkpoints/`, or a `gs://` path on TPU VMs) holds
`model_config.json` and one folder per saved step with four items: `params`, `opt_state` (both
Orbax PyTrees, sharded arrays written by every process), `data` (the JSON state of the batch
iterator, so a resumed run sees exactly the batches it would have seen) and `meta` (step, tokens).

Orbax writes each step into a temporary folder and renames it only when complete, so a run killed
mid-save leaves no half checkpoint behind. A checkpoint that is committed but damaged afterwards
(a truncated or missing file) fails to restore: it is moved aside to `<step>.corrupt` and the
previous good one is used instead.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from etils import epath

from flan_nb import sharding
from flan_nb.errors import UserError
from flan_nb.runs import CHECKPOINTS_DIR, as_path, runs_dir
from flan_nb.tokenize import Tokenizer

MODEL_CONFIG_FILE = "model_config.json"
TOKENIZER_FILE = "tokenizer.model"  # the SentencePiece model whose ids the model was trained on
log = logging.getLogger(__name__)


# The training settings the checkpoints of a folder were written with (`flan_nb.train` writes
# it; resuming and evaluation read it).
TRAIN_FINGERPRINT_FILE = "train_fingerprint.json"


def orbax_path(directory):
    """A local or cloud path (`gs://...`) as an etils Path (what Orbax takes)."""
    return epath.Path(as_path(directory))


def abstract_like(tree):
    """ShapeDtypeStructs (with shardings) of a pytree of arrays: the target of a restore."""
    # on use (cost: flan_nb/__init__): formats imports this module for tokenizers
    import jax

    return jax.tree.map(
        lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=getattr(x, "sharding", None)),
        tree)


class Checkpoints:
    """Save and restore (params, opt_state, data state, meta) by step in one directory."""

    def __init__(self, directory, *, max_to_keep: int = 2, async_save: bool = True):
        # on use (cost: flan_nb/__init__): formats imports this module for tokenizers
        import orbax.checkpoint as ocp

        self.directory = orbax_path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._ocp = ocp
        self._options = ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep, create=True, enable_async_checkpointing=async_save,
            cleanup_tmp_directories=True)
        self._manager = ocp.CheckpointManager(self.directory, options=self._options)

    # -- model config -------------------------------------------------------------------
    def write_model_config(self, config) -> None:
        """Store the ModelConfig next to the steps (what `load_model` rebuilds)."""
        if sharding.is_primary():
            path = self.directory / MODEL_CONFIG_FILE
            path.write_text(json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n")

    # -- steps --------------------------------------------------------------------------
    def steps(self) -> list[int]:
        """Committed steps, oldest first."""
        self._manager.reload()
        return sorted(self._manager.all_steps())

    def save(self, step: int, params, opt_state, data_state: Any, meta: dict) -> None:
        """Start saving `step` (asynchronously; `wait()` blocks until it is committed)."""
        ocp = self._ocp
        self._manager.save(step, force=True, args=ocp.args.Composite(
            params=ocp.args.StandardSave(params),
            opt_state=ocp.args.StandardSave(opt_state),
            data=ocp.args.JsonSave(data_state),
            meta=ocp.args.JsonSave(meta)))

    def restore_latest(self, params_target, opt_state_target):
        """(step, params, opt_state, data_state, meta) of the newest good checkpoint, or None.

        Targets are pytrees of arrays or ShapeDtypeStructs giving structure, dtype and sharding.
        Checkpoints that fail to restore are moved aside and the next older one is tried.
        """
        ocp = self._ocp
        for step in reversed(self.steps()):
            try:
                restored = self._manager.restore(step, args=ocp.args.Composite(
                    params=ocp.args.StandardRestore(abstract_like(params_target)),
                    opt_state=ocp.args.StandardRestore(abstract_like(opt_state_target)),
                    data=ocp.args.JsonRestore(),
                    meta=ocp.args.JsonRestore()))
            except Exception as err:  # noqa: BLE001 - any failure means "not usable"
                self._quarantine(step, err)
                continue
            return step, restored.params, restored.opt_state, restored.data, restored.meta
        return None

    def restore_params(self, params_target, step: int | None = None):
        """Only the parameters of `step` (default: the newest that restores)."""
        ocp = self._ocp
        candidates = [step] if step is not None else list(reversed(self.steps()))
        if not candidates or (step is not None and step not in self.steps()):
            raise UserError(f"no checkpoint{'' if step is None else f' at step {step}'} in "
                            f"{self.directory}: train first (notebooks 07/08)")
        last_error = None
        for candidate in candidates:
            try:
                restored = self._manager.restore(candidate, args=ocp.args.Composite(
                    params=ocp.args.StandardRestore(abstract_like(params_target))))
                return candidate, restored.params
            except Exception as err:  # noqa: BLE001
                last_error = err
                log.warning("checkpoint %s/%s unreadable (%s); trying an older one",
                            self.directory, candidate, err)
        raise UserError(f"no readable checkpoint in {self.directory} ({last_error})")

    def _quarantine(self, step: int, err: Exception) -> None:
        log.warning("checkpoint step %d in %s is damaged (%s: %s); using an older one",
                    step, self.directory, type(err).__name__, str(err)[:200])
        print(f"checkpoint {step} is damaged ({type(err).__name__}); falling back to an older one")
        src = self.directory / str(step)
        if sharding.is_primary() and src.exists():
            dst = self.directory / f"{step}.corrupt"
            n = 1
            while dst.exists():
                n += 1
                dst = self.directory / f"{step}.corrupt{n}"
            src.rename(dst)
        # The manager caches its step list; rebuild it so the moved step is forgotten.
        self._manager.close()
        self._manager = self._ocp.CheckpointManager(self.directory, options=self._options)

    def wait(self) -> None:
        """Block until pending asynchronous saves are committed."""
        self._manager.wait_until_finished()

    def close(self) -> None:
        self._manager.wait_until_finished()
        self._manager.close()


def checkpoint_dir(run_or_path) -> Path | Any:
    """`runs/<run>/checkpoints` for a Run or run folder; a path ending in it is kept."""
    path = getattr(run_or_path, "path", run_or_path)
    path = orbax_path(path)
    if path.name != CHECKPOINTS_DIR and (path / CHECKPOINTS_DIR).exists():
        path = path / CHECKPOINTS_DIR
    return path


def trained_run_path(run: str):
    """The folder of a run that holds checkpoints: a run name under the runs folder, or a path
    (local or gs://) to a run folder, as the notebooks' BASE_RUN and tuned-run parameters take."""
    if "/" in run:
        return as_path(run)
    path = runs_dir() / run
    if not (path / CHECKPOINTS_DIR).is_dir():
        raise UserError(
            f"run {run!r} has no checkpoints under {runs_dir()}: execute the notebook that trains "
            f"it first (07 pretrains the base model: `flan-nb run notebooks/07_pretraining.ipynb "
            f"--profile book` makes 07_pretraining-book, the book build makes 07_pretraining; 08 "
            f"tunes it)")
    return path


def save_tokenizer(run_or_path, tokenizer) -> None:
    """Keep the tokenizer beside the checkpoints: a model is only usable with the ids it was
    trained on, and later chapters (and other hosts) load both from the run."""
    if sharding.is_primary():
        directory = checkpoint_dir(run_or_path)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / TOKENIZER_FILE).write_bytes(tokenizer.model_proto)


def load_tokenizer(run_or_path):
    """The tokenizer a run's model was trained with (see `save_tokenizer`), from a run, its
    checkpoints folder, or a SentencePiece model file."""
    path = orbax_path(getattr(run_or_path, "path", run_or_path))
    if not path.exists():
        raise UserError(f"{path} not found: give a run folder (its checkpoints hold "
                        f"{TOKENIZER_FILE}) or a SentencePiece model file")
    if path.is_dir():
        path = checkpoint_dir(run_or_path) / TOKENIZER_FILE
        if not path.exists():
            raise UserError(f"{path} not found: the run was trained without saving its "
                            f"tokenizer; execute its notebook again (07 or 08) to write it")
    try:
        return Tokenizer(path.read_bytes())
    except Exception as err:  # noqa: BLE001 - sentencepiece raises plain RuntimeErrors
        raise UserError(f"{path} is not a readable SentencePiece model ({err}); for a run, "
                        f"execute its notebook again (07 or 08) to write it") from None


def read_model_config(directory):
    """The ModelConfig stored with a checkpoint directory."""
    # flan_nb.model imports jax and flax (cost: flan_nb/__init__); formats imports this module
    from flan_nb.model import ModelConfig

    path = orbax_path(directory) / MODEL_CONFIG_FILE
    if not path.exists():
        raise UserError(f"{path} not found: {directory} is not a training run's checkpoint folder "
                        f"(execute notebook 07 or 08 to make one)")
    return ModelConfig.from_dict(json.loads(path.read_text()))


def load_model(run_or_path, step: int | None = None, mesh=None):
    """The trained `Transformer` of a run (a `Run`, a run folder or its `checkpoints/` folder).

    Restores the newest readable checkpoint (or `step`) onto `mesh` (default: replicated on the
    default devices). Returns (model, step).
    """
    # on use (cost: flan_nb/__init__): formats imports this module for tokenizers
    import jax
    from flax import nnx

    from flan_nb import model as model_lib

    directory = checkpoint_dir(run_or_path)
    if not directory.exists():
        raise UserError(f"no checkpoints at {directory}: run the training notebook first")
    config = read_model_config(directory)
    mesh = mesh or sharding.make_mesh()
    graphdef, abstract = nnx.split(model_lib.abstract_model(config))
    shardings = sharding.param_shardings(abstract, mesh)
    target = jax.tree.map(lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s),
                          abstract, shardings)
    manager = Checkpoints(directory, async_save=False)
    try:
        step, params = manager.restore_params(target, step)
    finally:
        manager.close()
    return nnx.merge(graphdef, params), step
