"""The instruction-tuning mixture: which example, of which dataset, through which template.

Data path, stage 4 of 6: tasks -> templates -> tokenize -> **mixture** -> packing -> pipeline ->
model/train -> evaluate.

FLAN mixes datasets *examples-proportionally* with two caps (paper, Section 2.3): at most
`max_examples` (30k) training examples are used per dataset, and a dataset's mixing rate is
`min(num_examples, rate_cap)` (3,000), so big datasets cannot crowd out small ones. An optional
`temperature` T flattens the rates further (rate ** (1/T), as in T5). Both caps are parameters
because at TinyWorld scale the book uses smaller ones (book: 100 and 1,000, the paper's divided by
the 30 real examples each TinyWorld example stands for; see `flan_nb.tinyworld.datasets`).

The stream is a pure function of the seed and a few counters, which makes it deterministic and
resumable:

- draw k picks its dataset from block k // block_size of seeded categorical draws;
- a dataset walks through an endless sequence of epochs, each a seeded permutation of its
  examples with a seeded template id per position (the "seeded rule" choosing one template for
  each example, new in each epoch);
- on multi-host setups, host h of H takes positions h, h+H, h+2H, ... of each dataset's sequence
  (disjoint from the other hosts'), with its own dataset draws.

`get_state()` is a small JSON dict (the draw count and one cursor per dataset); `set_state()`
continues the identical stream, nothing repeated or skipped.
"""

from __future__ import annotations

import dataclasses
import zlib
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from flan_nb import tasks
from flan_nb.errors import UserError

PAPER_MAX_EXAMPLES = 30_000  # training examples used per dataset (paper)
PAPER_RATE_CAP = 3_000  # mixing-rate maximum (paper)
STATE_VERSION = 1

# (dataset, fields, template_id) -> anything with `.inputs` and `.targets` (a templates.Rendered)
RenderFn = Callable[[str, Mapping[str, Any], int], Any]


def mixing_rates(num_examples: Mapping[str, int], rate_cap: int | None = PAPER_RATE_CAP,
                 max_examples: int | None = PAPER_MAX_EXAMPLES,
                 temperature: float = 1.0) -> dict[str, float]:
    """Sampling proportions (summing to 1) of datasets with `num_examples` training examples.

    rate = min(num_examples, max_examples, rate_cap) ** (1 / temperature); `None` disables a cap.
    """
    if not num_examples:
        raise UserError("a mixture needs at least one dataset")
    if temperature <= 0:
        raise UserError(f"temperature must be > 0, got {temperature}")
    for cap, what in ((rate_cap, "rate_cap"), (max_examples, "max_examples")):
        if cap is not None and cap < 1:
            raise UserError(f"{what} must be >= 1 (or None for no cap), got {cap}")
    rates = {}
    for name, n in num_examples.items():
        if n < 1:
            raise UserError(f"dataset {name!r} has no examples: leave it out of the mixture")
        n = min(n, max_examples or n, rate_cap or n)
        rates[name] = float(n) ** (1.0 / temperature)
    total = sum(rates.values())
    return {name: rate / total for name, rate in rates.items()}


@dataclasses.dataclass(frozen=True)
class Sample:
    """One mixed example: where it came from and its rendered text."""

    dataset: str
    index: int  # position in the dataset's (capped) training examples
    template_id: int
    inputs: str
    targets: str

    @property
    def key(self) -> tuple[str, int, int]:
        """(dataset, index, template_id): enough to render the sample again."""
        return (self.dataset, self.index, self.template_id)


def _name_id(name: str) -> int:
    """A stable number per dataset name, so adding a dataset leaves the others' orders alone."""
    return zlib.crc32(name.encode("utf-8"))


class Mixture:
    """An endless, seeded, resumable stream of `Sample`s from several datasets.

    `examples` maps dataset name -> its training examples (field dicts); `num_templates` maps
    name -> how many templates it has; `render(name, fields, template_id)` renders one.
    """

    def __init__(self, examples: Mapping[str, Sequence[Mapping[str, Any]]],
                 num_templates: Mapping[str, int], render: RenderFn, *, seed: int = 0,
                 rate_cap: int | None = PAPER_RATE_CAP,
                 max_examples: int | None = PAPER_MAX_EXAMPLES, temperature: float = 1.0,
                 shard_index: int = 0, num_shards: int = 1, block_size: int = 4096):
        if not 0 <= shard_index < num_shards:
            raise UserError(f"shard_index must be in [0, {num_shards}), got {shard_index}")
        missing = set(examples) - set(num_templates)
        if missing:
            raise UserError(f"num_templates lacks datasets {sorted(missing)}")
        self.names = list(examples)
        self.num_examples = {n: len(examples[n]) for n in self.names}  # before max_examples
        self.examples = {n: list(examples[n][: max_examples or None]) for n in self.names}
        self.num_templates = {n: int(num_templates[n]) for n in self.names}
        for name, count in self.num_templates.items():
            if count < 1:
                raise UserError(f"dataset {name!r} has no templates")
        self.rates = mixing_rates(self.num_examples, rate_cap,
                                  max_examples, temperature)
        self.render_fn = render
        self.seed, self.shard_index, self.num_shards = int(seed), shard_index, num_shards
        self.block_size = block_size
        self._probs = np.array([self.rates[n] for n in self.names])
        self._draws = 0
        self._cursors = {n: 0 for n in self.names}
        self._block: tuple[int, np.ndarray] | None = None
        self._epochs: dict[str, tuple[int, np.ndarray, np.ndarray]] = {}

    @classmethod
    def from_registry(cls, names: Sequence[str], *, split: str = "train", seed: int = 0,
                      data_seed: int = 0, size: str = "book", data_dir: str | None = None,
                      limits: Mapping[str, int] | None = None, render: RenderFn | None = None,
                      num_templates: Mapping[str, int] | None = None,
                      **kwargs) -> "Mixture":
        """A mixture of registered datasets (`flan_nb.tasks`), rendered with their templates.

        `data_seed`/`size` choose the TinyWorld world; `limits` keeps only the first
        `limits[name]` examples of a dataset. `render` and `num_templates` replace the
        datasets' own templates (e.g. Figure 8's formats, Appendix B's first N templates);
        other keyword arguments go to `Mixture`.
        """
        if not names:
            raise UserError("a mixture needs at least one dataset name")
        specs = {name: tasks.get(name) for name in names}
        limits = limits or {}
        examples = {name: tasks.load_examples(name, split, seed=data_seed, size=size,
                                              data_dir=data_dir, limit=limits.get(name))
                    for name in names}
        if num_templates is None:
            num_templates = {n: len(s.templates) for n, s in specs.items()}
        if render is None:
            def render(name, fields, template_id):
                return specs[name].render(fields, template_id)
        return cls(examples, num_templates, render, seed=seed, **kwargs)

    # -- the seeded rules ------------------------------------------------------------------
    def _dataset_of_draw(self, k: int) -> str:
        block = k // self.block_size
        if self._block is None or self._block[0] != block:
            rng = np.random.default_rng([self.seed, self.shard_index, self.num_shards, block])
            self._block = (block, rng.choice(len(self.names), self.block_size, p=self._probs))
        return self.names[int(self._block[1][k % self.block_size])]

    def _epoch(self, name: str, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """(example order, template id per position) of one epoch of one dataset."""
        cached = self._epochs.get(name)
        if cached is None or cached[0] != epoch:
            rng = np.random.default_rng([self.seed, _name_id(name), epoch])
            n = len(self.examples[name])
            cached = (epoch, rng.permutation(n), rng.integers(0, self.num_templates[name], n))
            self._epochs[name] = cached
        return cached[1], cached[2]

    def _position(self, name: str, cursor: int) -> tuple[int, int]:
        """(example index, template id) at this host's `cursor` in dataset `name`."""
        n = len(self.examples[name])
        global_position = cursor * self.num_shards + self.shard_index
        order, templates = self._epoch(name, global_position // n)
        j = global_position % n
        return int(order[j]), int(templates[j])

    # -- the stream ------------------------------------------------------------------------
    def render_key(self, key: Sequence) -> Sample:
        """The sample with `key` = (dataset, index, template_id), rendered again."""
        name, index, template_id = key[0], int(key[1]), int(key[2])
        if name not in self.examples:
            raise UserError(f"dataset {name!r} is not in this mixture")
        rendered = self.render_fn(name, self.examples[name][index], template_id)
        return Sample(name, index, template_id, rendered.inputs, rendered.targets)

    def __iter__(self) -> Iterator[Sample]:
        return self

    def __next__(self) -> Sample:
        name = self._dataset_of_draw(self._draws)
        index, template_id = self._position(name, self._cursors[name])
        self._draws += 1
        self._cursors[name] += 1
        return self.render_key((name, index, template_id))

    def take(self, n: int) -> list[Sample]:
        """The next `n` samples."""
        return [next(self) for _ in range(n)]

    @property
    def num_draws(self) -> int:
        return self._draws

    def epochs_seen(self) -> dict[str, float]:
        """Per dataset, how many passes over its examples this host has made (all hosts: x H)."""
        return {n: self._cursors[n] * self.num_shards / len(self.examples[n]) for n in self.names}

    # -- checkpointing ---------------------------------------------------------------------
    def _identity(self) -> dict[str, Any]:
        return {"seed": self.seed, "shard_index": self.shard_index, "num_shards": self.num_shards,
                "block_size": self.block_size,
                "datasets": {n: len(self.examples[n]) for n in self.names}}

    def get_state(self) -> dict[str, Any]:
        """A JSON-serializable state; `set_state` on an equal mixture continues from here."""
        return {"version": STATE_VERSION, **self._identity(), "draws": self._draws,
                "cursors": dict(self._cursors)}

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Continue from `state` (as returned by `get_state` on a mixture built the same way)."""
        if state.get("version") != STATE_VERSION:
            raise UserError(f"mixture state version {state.get('version')!r} is not "
                            f"{STATE_VERSION}: it was saved by another flan_nb version")
        mine = self._identity()
        for field, value in mine.items():
            if state.get(field) != value:
                raise UserError(f"mixture state has {field}={state.get(field)!r} but this mixture "
                                f"has {value!r}: rebuild the mixture with the checkpoint's settings")
        self._draws = int(state["draws"])
        self._cursors = {n: int(state["cursors"][n]) for n in self.names}
