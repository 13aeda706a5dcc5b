"""The dataset registry: every dataset the book knows, TinyWorld's and the paper's 62.

One registry serves both sources, so a notebook runs the same code on TinyWorld and on TFDS data.
A `DatasetSpec` says which of the paper's 12 clusters a dataset belongs to, whether it is a
classification task (answered by picking one option) or a generation task, its 10 templates, its
metric, and how to load it. Examples are plain dicts of fields; classification examples whose
answer choices vary carry them in the field `options`, fixed choices live on the spec.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
from typing import Any, Callable, Mapping

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
KINDS = ("classification", "generation")
METRICS = ("accuracy", "exact_match", "f1", "bleu", "rouge")
SOURCES = ("tinyworld", "tfds")
MAX_TRAIN_EXAMPLES = 30_000  # the paper's cap on training examples per dataset

# Modules that register datasets when imported (one registry, several sources).
_REGISTERING_MODULES = ["flan_nb.tinyworld.datasets", "flan_nb.collection"]


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
    # TFDS datasets only:
    # e.g. "glue/mnli:2.0.0"; a tuple when one dataset spans several configs (ANLI r1-r3)
    tfds_name: str | tuple[str, ...] | None = None
    splits: Mapping[str, str] = dataclasses.field(default_factory=dict)  # ours -> TFDS split
    to_fields: Callable[[Mapping[str, Any]], dict] | None = None  # TFDS features -> fields
    manual_download: str | None = None  # instructions when TFDS cannot download it itself
    max_train_examples: int = MAX_TRAIN_EXAMPLES

    def __post_init__(self):
        if self.cluster not in CLUSTERS:
            raise ValueError(f"{self.name}: unknown cluster {self.cluster!r}")
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind must be one of {KINDS}")
        if self.metric not in METRICS:
            raise ValueError(f"{self.name}: metric must be one of {METRICS}")
        if self.source not in SOURCES:
            raise ValueError(f"{self.name}: source must be one of {SOURCES}")

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


_REGISTRY: dict[str, DatasetSpec] = {}
_loaded = False


def register(spec: DatasetSpec) -> DatasetSpec:
    """Add `spec` to the registry (names are unique across sources)."""
    if spec.name in _REGISTRY:
        raise ValueError(f"dataset {spec.name!r} registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def _ensure_loaded() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in _REGISTERING_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:  # a real import error inside the module
                raise


def all_datasets(source: str | None = None, cluster: str | None = None) -> list[DatasetSpec]:
    """Registered datasets, optionally of one source and/or cluster, in registration order."""
    _ensure_loaded()
    if cluster is not None:
        check_cluster(cluster)
    return [s for s in _REGISTRY.values()
            if (source is None or s.source == source) and (cluster is None or s.cluster == cluster)]


def get(name: str) -> DatasetSpec:
    """The dataset called `name`; a UserError suggesting close names when unknown."""
    _ensure_loaded()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, _REGISTRY, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else " (`flan-nb tasks` lists them)"
        raise UserError(f"unknown dataset {name!r}{hint}")
    return _REGISTRY[name]


def check_cluster(cluster: str) -> str:
    if cluster not in CLUSTERS:
        raise UserError(f"unknown cluster {cluster!r}: choose one of {', '.join(CLUSTERS)}")
    return cluster


def load_examples(name: str, split: str, *, seed: int = 0, size: str = "book",
                  data_dir: str | None = None, limit: int | None = None) -> list[dict]:
    """The examples (field dicts) of one split of a dataset, from TinyWorld or TFDS.

    `seed` and `size` choose the TinyWorld world; `data_dir` is TFDS's data folder. At most
    `limit` examples (and never more training examples than the spec's cap) are returned.
    """
    spec = get(name)
    if spec.source == "tinyworld":
        from flan_nb import tinyworld

        examples = tinyworld.load_split(name, split, seed=seed, size=size)
    else:
        from flan_nb import tfds_data

        examples = tfds_data.load_split(spec, split, data_dir=data_dir, limit=limit)
    if split == "train":
        examples = examples[: spec.max_train_examples]
    return examples[:limit] if limit is not None else examples
