"""Generated TinyWorlds: a world with its corpus, datasets and task variants, each made on first
use and kept, cached per (seed, size) by `build`; `load_split` is one split of one dataset (what
the registry's loader, `flan_nb.tinyworld.source`, returns). The package re-exports these names
(`from flan_nb import tinyworld; tinyworld.build(...)`); modules of the package import them from
here, never from the package, so the package imports its modules and no module imports it back.
"""

from __future__ import annotations

import difflib
import functools

from flan_nb.errors import UserError
import flan_nb.tinyworld.cot as tw_cot
import flan_nb.tinyworld.variants as tw_variants
from flan_nb.tinyworld.datasets import generate_datasets, split_sizes_of
from flan_nb.tinyworld.documents import DEFAULT_MIX, check_mix, generate_labelled_corpus
from flan_nb.tinyworld.world import World, generate_world, size_spec

SPLITS = ("train", "validation", "test")

class TinyWorld:
    """One generated world with its corpus and datasets (each made on first use, then kept)."""

    def __init__(self, seed: int = 0, size: str = "book",
                 split_sizes: dict[str, int] | None = None):
        self.spec = size_spec(size)
        self.seed, self.size = seed, size
        for split, count in (split_sizes or {}).items():
            if split not in SPLITS or not isinstance(count, int) or count < 0:
                raise UserError(f"bad split size {split}={count!r}: splits are {SPLITS}, "
                                f"sizes non-negative integers")
        # name -> split -> examples asked for: training sizes spread like the real datasets'
        # (see flan_nb.tinyworld.datasets); an override sets a split alike for every dataset.
        self.split_sizes: dict[str, dict[str, int]] = split_sizes_of(self.spec, split_sizes)
        self.world: World = generate_world(seed, size)
        self._mixed_corpora: dict[str, list[str]] = {}  # mix -> documents (`corpus_with`)

    @functools.cached_property
    def labelled_corpus(self) -> list[tuple[str, str]]:
        """(kind, text) per pretraining document: kind is "story", "faq", "velan", ..."""
        return generate_labelled_corpus(self.world)

    @functools.cached_property
    def corpus(self) -> list[str]:
        """The pretraining documents (plain text)."""
        return [text for _, text in self.labelled_corpus]

    def corpus_with(self, mix: str = DEFAULT_MIX) -> list[str]:
        """The pretraining documents with the document mix `mix` (`CORPUS_MIXES`); the
        default mix is `corpus`."""
        if check_mix(mix) == DEFAULT_MIX:
            return self.corpus
        if mix not in self._mixed_corpora:
            self._mixed_corpora[mix] = [
                text for _, text in generate_labelled_corpus(self.world, mix=mix)]
        return self._mixed_corpora[mix]

    @functools.cached_property
    def datasets(self) -> dict[str, dict[str, list[dict]]]:
        """name -> split -> examples (dicts of template fields)."""
        return generate_datasets(self.world, per_dataset=self.split_sizes)

    @functools.cached_property
    def variants(self) -> dict[str, dict[str, list[dict]]]:
        """Task variant name (`twv_*`) -> split -> examples (`flan_nb.tinyworld.variants`)."""
        return tw_variants.generate_variants(self.world, self.spec, self.datasets)

    @functools.cached_property
    def cot(self) -> dict[str, dict[str, list[dict]]]:
        """Chain-of-thought dataset name (`twc_*`) -> split -> examples
        (`flan_nb.tinyworld.cot`)."""
        return tw_cot.generate_cot(self.world, self.spec)

    def __repr__(self) -> str:
        return f"TinyWorld(seed={self.seed}, size={self.size!r})"


@functools.lru_cache(maxsize=8)
def _cached(seed: int, size: str) -> TinyWorld:
    return TinyWorld(seed, size)


def build(seed: int = 0, size: str = "book") -> TinyWorld:
    """The TinyWorld for (seed, size), generated once per process and then reused."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise UserError(f"seed must be an integer, got {seed!r}")
    size_spec(size)
    return _cached(seed, size)


def parse_corpus(corpus: str) -> tuple[str, str]:
    """(size, mix) of a generated corpus named "tinyworld/<size>" or "tinyworld/<size>/<mix>"
    (checked: a UserError names a bad size or mix)."""
    prefix, _, rest = corpus.partition("/")
    if prefix != "tinyworld" or not rest:
        raise UserError(f"corpus {corpus!r} is not a generated TinyWorld corpus: write "
                        f"'tinyworld/<size>' or 'tinyworld/<size>/<mix>'")
    size, _, mix = rest.partition("/")
    size_spec(size)
    return size, check_mix(mix or DEFAULT_MIX)


def corpus(seed: int = 0, size: str = "book", mix: str = DEFAULT_MIX) -> list[str]:
    """The pretraining corpus of the TinyWorld for (seed, size): a list of documents."""
    return build(seed, size).corpus_with(mix)


def load_split(name: str, split: str, seed: int = 0, size: str = "book") -> list[dict]:
    """The examples of one split of TinyWorld dataset `name` (e.g. "tw_nli", "train")."""
    if split not in SPLITS:
        raise UserError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
    tw = build(seed, size)
    datasets = (tw.variants if name.startswith("twv_")
                else tw.cot if name.startswith("twc_") else tw.datasets)
    if name not in datasets and name.startswith("twv_"):
        if name in tw_variants.BY_NAME:
            raise UserError(f"task variant {name!r} makes fewer than {tw_variants.MIN_TRAIN} "
                            f"distinct training examples in TinyWorld seed={seed} size={size!r}, "
                            f"so it "
                            f"does not exist there; `flan-nb tinyworld variants --size {size}` "
                            f"counts the ones that do")
    if name not in datasets:
        close = difflib.get_close_matches(name, datasets, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UserError(f"unknown TinyWorld dataset {name!r}{hint}; `flan-nb tasks --source "
                        f"tinyworld` lists them")
    # Copies, so that a caller who edits an example does not change the cached dataset.
    return [{k: list(v) if isinstance(v, list) else v for k, v in ex.items()}
            for ex in datasets[name][split]]
