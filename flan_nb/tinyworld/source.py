"""TinyWorld as a data source of `flan_nb.tasks`: its loader and its `tw_*` datasets.

`flan_nb.sources` registers both (`SOURCE`, `specs()`), and TinyWorld's task variants (`twv_*`, `flan_nb.tinyworld.variants`, `variant_specs()`) as variants, and its chain-of-thought datasets (`twc_*`,
`flan_nb.tinyworld.cot`, `cot_specs()`) as variants too: loadable by
name, never listed with the datasets, used only when a tuning run asks for more tasks.
Each dataset's spec is made from its row of `flan_nb.tinyworld.datasets.TW_DATASETS` and its 10
templates from `flan_nb.tinyworld.prompts`; its examples come from `flan_nb.tinyworld.load_split`,
generated offline from (seed, size), so TinyWorld's data is never missing.
"""

from __future__ import annotations

from flan_nb import tasks
import flan_nb.tinyworld.cot as cot
import flan_nb.tinyworld.prompts as prompts
import flan_nb.tinyworld.variants as tw_variants
from flan_nb.tinyworld.datasets import TW_DATASETS
from flan_nb.tinyworld.loader import load_split

NAME = "tinyworld"


def load(spec: tasks.DatasetSpec, split: str, *, seed: int = 0, size: str = "book",
         data_dir: str | None = None, limit: int | None = None) -> list[dict]:
    """The examples of one split of a TinyWorld dataset (`data_dir` and `limit` do not apply:
    the world is generated whole, and `flan_nb.tasks.load_examples` cuts it)."""
    return load_split(spec.name, split, seed=seed, size=size)


def specs() -> list[tasks.DatasetSpec]:
    """The registry's spec of every TinyWorld dataset, in `TW_DATASETS` order."""
    return [tasks.DatasetSpec(
        name=row.name, cluster=row.cluster, source=NAME, kind=row.kind,
        templates=tuple(prompts.TEMPLATES[row.name]), metric=row.metric, options=row.options,
        description=f"TinyWorld's {row.mirrors}-like set") for row in TW_DATASETS]


def variant_specs() -> list[tasks.DatasetSpec]:
    """The registry's spec of every task variant in the catalog, in catalog order."""
    return [tasks.DatasetSpec(
        name=v.name, cluster=v.cluster, source=NAME, kind=v.kind, templates=v.templates(),
        metric=v.spec_metric, options=v.options if v.kind == "classification" else (),
        description=f"TinyWorld task variant: {v.family}, {v.key}, {v.fmt}")
        for v in tw_variants.VARIANTS]


def cot_specs() -> list[tasks.DatasetSpec]:
    """The registry's spec of every chain-of-thought dataset (`twc_*`, registered as variants
    in the mixtures `cot` and `cot_held_out`; `flan_nb.tinyworld.cot`)."""
    return [tasks.DatasetSpec(
        name=c.dataset, cluster=c.cluster, source=NAME, kind="generation",
        templates=cot.TEMPLATES, metric="answer_match",
        description=f"TinyWorld chain of thought: {c.what} ({c.steps} steps)")
        for c in cot.CHAINS]


# TinyWorld's source of `flan_nb.tasks` (`flan_nb.sources` registers it with `specs()` and
# `variant_specs()`); no check: the data is generated, never missing.
SOURCE = tasks.Source(NAME, load)
