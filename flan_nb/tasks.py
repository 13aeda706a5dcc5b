"""The dataset registry: every dataset the book knows, TinyWorld's and the paper's 62.

Data path, stage 1 of 6: **tasks** (the sources register here) -> templates -> tokenize ->
mixture/packing/pipeline -> model/train -> evaluate.

One registry serves every data source, so a notebook runs the same code on TinyWorld and on TFDS
data. A `DatasetSpec` says which of the paper's 12 clusters a dataset belongs to, whether it is a
classification task (answered by picking one option) or a generation task, its 10 templates, its
metric and its source. Examples are plain dicts of fields; classification examples whose answer
choices vary carry them in the field `options`, fixed choices live on the spec.

A `Source` (TinyWorld, TFDS) registers its loader here with `register_source` and its datasets
with `register`; what only one source needs (TFDS names and splits) lives on its own spec subclass
in its module. This module imports no source: on the first lookup it loads the modules that the
installed package lists as `flan_nb.sources` entry points (pyproject.toml), and each registers
itself, so the registry is full whoever reads it first and every dependency points one way
(source -> registry).
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.metadata
from typing import Any, Callable, Mapping, Sequence

from flan_nb.errors import UserError
from flan_nb.templates import OPTIONS_FIELD, Rendered, Template, render

# The paper's 12 task clusters (Figure 3), in its order: id -> display name.
CLUSTERS: dict[str, str] = {
    "nli": "Natural language inference",
    "commonsense": "Commonsense",
    "sentiment": "Sentiment",
    "paraphrase": "Paraphrase",
    "closed_book_qa": "Closed-book QA",
    "struct_to_text": "Struct to text",
    "translation": "Translation",
    "reading_comprehension": "Reading comprehension",
    "reading_comprehension_with_commonsense": "Read. comp. with commonsense",
    "coreference": "Coreference",
    "misc": "Misc.",
    "summarization": "Summarization",
}
# Flan 2022's mixtures that are not FLAN task clusters: chain-of-thought tuning data, and the
# multi-step questions held out for evaluation (TinyWorld's `twc_*`, registered as variants).
MIXTURES: dict[str, str] = {
    "cot": "Chain of thought (tuning mixture)",
    "cot_held_out": "Chain of thought (held-out multi-step questions)",
}
KINDS = ("classification", "generation")
# answer_match: exact match of the answers extracted from prediction and reference
# (`flan_nb.metrics.extract_answer`), for targets that may carry a rationale.
METRICS = ("accuracy", "exact_match", "f1", "bleu", "rouge", "answer_match")
MAX_TRAIN_EXAMPLES = 30_000  # the paper's cap on training examples per dataset


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """Everything the pipeline needs to know about one dataset."""

    name: str
    cluster: str
    source: str
    kind: str
    templates: tuple[Template, ...]
    metric: str
    options: tuple[str, ...] = ()  # fixed answer choices; else per-example field `options`
    description: str = ""
    max_train_examples: int = MAX_TRAIN_EXAMPLES  # the paper's cap, whatever the source

    def __post_init__(self):
        if self.cluster not in CLUSTERS and self.cluster not in MIXTURES:
            raise ValueError(f"{self.name}: unknown cluster {self.cluster!r}")
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind must be one of {KINDS}")
        if self.metric not in METRICS:
            raise ValueError(f"{self.name}: metric must be one of {METRICS}")

    def example_options(self, fields: Mapping[str, Any]) -> tuple[str, ...]:
        """The answer choices for one example (empty for generation tasks)."""
        if self.kind != "classification":
            return ()
        return tuple(fields.get(OPTIONS_FIELD) or self.options)

    def render(self, fields: Mapping[str, Any], template_id: int) -> Rendered:
        """The example rendered through template `template_id` (0-based)."""
        if not 0 <= template_id < len(self.templates):
            raise UserError(f"{self.name} has templates 0..{len(self.templates) - 1}, "
                            f"not {template_id}")
        return render(self.templates[template_id], fields, self.example_options(fields))


@dataclasses.dataclass(frozen=True)
class Source:
    """Where examples come from: `load(spec, split, *, seed, size, data_dir, limit)` returns the
    examples of one split (`seed` and `size` choose TinyWorld's world, `data_dir` is TFDS's data
    folder; a source ignores what it does not use). `check(specs, splits, data_dir)`, if the
    source has data that may be missing, raises one UserError naming every dataset without it."""

    name: str
    load: Callable[..., list[dict]]
    check: Callable[[Sequence[DatasetSpec], Sequence[str], str | None], None] | None = None


# Registered sources, name -> Source, in registration order ("tinyworld", "tfds").
SOURCES: dict[str, Source] = {}
_REGISTRY: dict[str, DatasetSpec] = {}
# Task variants (TinyWorld's `twv_*`): loadable by name like a dataset, but not listed with the
# datasets, so listings, splits and the default tuning mixture stay the datasets'; they enter a
# mixture only when asked for (`flan_nb.splits.select_tuning_tasks`).
_VARIANTS: dict[str, DatasetSpec] = {}


SOURCE_ENTRY_POINTS = "flan_nb.sources"  # the entry-point group naming the source modules
_sources_loaded = False


def _load_sources() -> None:
    """Import the data sources once (the `flan_nb.sources` entry points), before a lookup."""
    global _sources_loaded
    if _sources_loaded:
        return
    _sources_loaded = True  # first, since loading registers through this module
    entry_points = importlib.metadata.entry_points(group=SOURCE_ENTRY_POINTS)
    if not entry_points:
        raise UserError("no data source is registered: install the package (pip install -e .) "
                        "so that its `flan_nb.sources` entry points exist")
    for entry_point in sorted(entry_points, key=lambda e: e.name):
        entry_point.load()


def source_names() -> list[str]:
    """The registered sources, in registration order ("tinyworld", "tfds")."""
    _load_sources()
    return list(SOURCES)


def register_source(source: Source) -> Source:
    """Add a data source; its datasets may be registered from then on."""
    if source.name in SOURCES:
        raise ValueError(f"source {source.name!r} registered twice")
    SOURCES[source.name] = source
    return source


def register(spec: DatasetSpec, *, variant: bool = False) -> DatasetSpec:
    """Add `spec` to the registry (names are unique across sources); `variant=True` adds a
    task variant (found by `get`, listed only by `all_variants`)."""
    if spec.source not in SOURCES:
        raise ValueError(f"{spec.name}: source {spec.source!r} is not registered "
                         f"(sources: {', '.join(SOURCES)})")
    if spec.name in _REGISTRY or spec.name in _VARIANTS:
        raise ValueError(f"dataset {spec.name!r} registered twice")
    (_VARIANTS if variant else _REGISTRY)[spec.name] = spec
    return spec


def check_source(source: str | None) -> str | None:
    """`source` if it is a registered source (None means every source), else a UserError."""
    _load_sources()
    if source is not None and source not in SOURCES:
        raise UserError(f"unknown source {source!r}: choose one of {', '.join(SOURCES)}")
    return source


def all_datasets(source: str | None = None, cluster: str | None = None) -> list[DatasetSpec]:
    """Registered datasets, optionally of one source and/or cluster, in registration order."""
    _load_sources()
    if cluster is not None:
        check_cluster(cluster)
    return [s for s in _REGISTRY.values()
            if (source is None or s.source == source) and (cluster is None or s.cluster == cluster)]


def all_variants(source: str | None = None, cluster: str | None = None) -> list[DatasetSpec]:
    """Registered task variants, optionally of one source and/or cluster, in registration order."""
    _load_sources()
    if cluster is not None:
        check_cluster(cluster)
    return [s for s in _VARIANTS.values()
            if (source is None or s.source == source) and (cluster is None or s.cluster == cluster)]


def get(name: str) -> DatasetSpec:
    """The dataset (or task variant) called `name`; a UserError suggesting close names when
    unknown."""
    _load_sources()
    if name in _VARIANTS:
        return _VARIANTS[name]
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, _REGISTRY, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else " (`flan-nb tasks` lists them)"
        raise UserError(f"unknown dataset {name!r}{hint}")
    return _REGISTRY[name]


def check_cluster(cluster: str) -> str:
    if cluster not in CLUSTERS:
        raise UserError(f"unknown cluster {cluster!r}: choose one of {', '.join(CLUSTERS)}")
    return cluster


def check_data(specs: Sequence[DatasetSpec], splits: Sequence[str],
               data_dir: str | None = None) -> None:
    """One UserError naming every dataset of `specs` whose data for `splits` is missing (each
    source checks its own; TinyWorld's is always there), else nothing."""
    for name, source in SOURCES.items():
        mine = [spec for spec in specs if spec.source == name]
        if mine and source.check is not None:
            source.check(mine, splits, data_dir)


def load_examples(name: str, split: str, *, seed: int = 0, size: str = "book",
                  data_dir: str | None = None, limit: int | None = None) -> list[dict]:
    """The examples (field dicts) of one split of a dataset, from its source.

    `seed` and `size` choose the TinyWorld world; `data_dir` is TFDS's data folder. At most
    `limit` examples (and never more training examples than the spec's cap) are returned.
    """
    spec = get(name)
    examples = SOURCES[spec.source].load(spec, split, seed=seed, size=size, data_dir=data_dir,
                                         limit=limit)
    if split == "train":
        examples = examples[: spec.max_train_examples]
    return examples[:limit] if limit is not None else examples
