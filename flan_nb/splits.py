"""Held-out splits: which datasets to tune on when a cluster is evaluated zero-shot.

Data path, stage 2 of 6: tasks -> **templates, splits** (which datasets are tuned on) -> tokenize
-> mixture/packing/pipeline -> model/train -> evaluate.

The paper evaluates a cluster on a model tuned on the other clusters, and removes more than the
held-out cluster where tasks overlap: NLI and Paraphrase exclude each other, and Reading
comprehension with commonsense goes whenever Reading comprehension or Commonsense is held out
(holding it out removes both of those). `held_out_split` applies these rules to the registry of
one source (TinyWorld or TFDS); `figure6_plan` builds the paper's Figure 6 experiment, where
tuning clusters are added one at a time (the last step, conversational QA, is CoQA and QuAC only)
while NLI, closed-book QA and commonsense stay held out.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Iterable, NamedTuple, Sequence

from flan_nb import tasks, tinyworld
from flan_nb.errors import UserError
from flan_nb.tasks import check_source  # noqa: F401 - also called as splits.check_source

RCWC = "reading_comprehension_with_commonsense"

# Held-out cluster -> clusters also removed from tuning (the paper's rules).
EXCLUSION_RULES: dict[str, tuple[str, ...]] = {
    "nli": ("paraphrase",),
    "paraphrase": ("nli",),
    "reading_comprehension": (RCWC,),
    "commonsense": (RCWC,),
    RCWC: ("reading_comprehension", "commonsense"),
}

# Figure 6: evaluated clusters, and the groups of tuning datasets in the order the paper adds
# them. Each step adds a whole cluster except the last, conversational QA, which adds only CoQA
# and QuAC from the Misc. cluster (the paper: 37 -> 39 datasets). TinyWorld has no conversational
# QA dataset (its Misc. holds punctuation, TREC, CoLA and math), so its plan stops at coreference.
FIGURE6_HELD_OUT: tuple[str, ...] = ("nli", "closed_book_qa", "commonsense")
CONVERSATIONAL_QA = "conversational_qa"
FIGURE6_ORDER: tuple[str, ...] = ("summarization", "translation", "reading_comprehension",
                                  "sentiment", "struct_to_text", "coreference", CONVERSATIONAL_QA)


class PartialStep(NamedTuple):
    """A Figure 6 step that adds only some datasets of a cluster."""

    title: str
    cluster: str
    datasets: tuple[str, ...]


FIGURE6_PARTIAL_STEPS: dict[str, PartialStep] = {
    CONVERSATIONAL_QA: PartialStep("Conversational QA", "misc", ("coqa", "quac")),
}
# The paper's dataset counts for the seven Figure 6 steps (it counts some configs separately).
FIGURE6_PAPER_DATASETS: tuple[int, ...] = (11, 20, 26, 30, 34, 37, 39)


@dataclasses.dataclass(frozen=True)
class HeldOutSplit:
    """Dataset names to tune on (`train`), to evaluate (`eval`), and removed by the rules
    (`excluded`); `held_out` and `train_clusters` name the clusters behind them."""

    train: list[str]
    eval: list[str]
    excluded: list[str]
    held_out: tuple[str, ...] = ()
    train_clusters: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, list[str]]:
        """The JSON form `flan-nb split --json` prints."""
        return {"train": list(self.train), "eval": list(self.eval),
                "excluded": list(self.excluded)}


def excluded_clusters(held_out: Iterable[str]) -> list[str]:
    """Clusters the rules remove from tuning because of `held_out` (not held out themselves)."""
    held_out = [tasks.check_cluster(c) for c in held_out]
    removed = {rule for cluster in held_out for rule in EXCLUSION_RULES.get(cluster, ())}
    return [c for c in tasks.CLUSTERS if c in removed and c not in held_out]


def _names(source: str | None, clusters: Iterable[str]) -> list[str]:
    wanted = set(clusters)
    return [s.name for s in tasks.all_datasets(source=source) if s.cluster in wanted]


def split_for(held_out: Sequence[str], source: str | None = None,
              train_clusters: Sequence[str] | None = None) -> HeldOutSplit:
    """Evaluate the clusters `held_out`; tune on `train_clusters` (default: every cluster the
    rules allow). A tuning cluster the rules forbid is a UserError."""
    check_source(source)
    held_out = tuple(tasks.check_cluster(c) for c in held_out)
    excluded = excluded_clusters(held_out)
    allowed = [c for c in tasks.CLUSTERS if c not in held_out and c not in excluded]
    if train_clusters is None:
        train_clusters = allowed
    for cluster in train_clusters:
        tasks.check_cluster(cluster)
        if cluster not in allowed:
            raise UserError(f"cluster {cluster!r} cannot be tuned on while {', '.join(held_out)} "
                            f"is held out (the paper's held-out rules remove it)")
    split = HeldOutSplit(train=_names(source, train_clusters), eval=_names(source, held_out),
                         excluded=_names(source, excluded), held_out=held_out,
                         train_clusters=tuple(train_clusters))
    if not split.eval:
        where = f"source {source!r}" if source else "the registry"
        raise UserError(f"{where} has no dataset in cluster(s) {', '.join(held_out)}")
    return split


def parse_clusters(text: str, what: str = "HELD_OUT") -> tuple[str, ...]:
    """Cluster ids from a comma-separated parameter value ("nli,closed_book_qa"), each checked;
    an empty value is an empty tuple."""
    names = tuple(part.strip() for part in str(text).split(",") if part.strip())
    for name in names:
        if name not in tasks.CLUSTERS:
            raise UserError(f"{what}: unknown cluster {name!r}; choose from "
                            f"{', '.join(tasks.CLUSTERS)} (comma-separated)")
    if len(set(names)) != len(names):
        raise UserError(f"{what} names a cluster twice: {text!r}")
    return names


def limit_datasets_per_cluster(split: HeldOutSplit, per_cluster: int) -> HeldOutSplit:
    """`split` tuning on at most the first `per_cluster` datasets (registry order) of each
    tuning cluster (the paper's Appendix B axis); 0 keeps every dataset. A count above the
    largest tuning cluster's size is a UserError: it would silently equal 0."""
    if per_cluster == 0:
        return split
    sizes: dict[str, list[str]] = {}
    for name in split.train:
        sizes.setdefault(tasks.get(name).cluster, []).append(name)
    largest = max((len(v) for v in sizes.values()), default=0)
    if not 1 <= per_cluster <= largest:
        raise UserError(f"DATASETS_PER_CLUSTER={per_cluster} but the largest tuning cluster has "
                        f"{largest} datasets: choose 0 (all) to {largest}")
    kept = {n for names in sizes.values() for n in names[:per_cluster]}
    return dataclasses.replace(split, train=[n for n in split.train if n in kept])


def held_out_split(cluster: str, source: str | None = None) -> HeldOutSplit:
    """Leave-one-cluster-out: evaluate `cluster`, tune on every cluster the rules allow.
    `source` ("tinyworld" or "tfds") restricts the datasets; None takes all registered."""
    return split_for([cluster], source)


def figure6_step_title(step: str) -> str:
    """The display name of a Figure 6 step (its cluster's, or e.g. "Conversational QA")."""
    partial = FIGURE6_PARTIAL_STEPS.get(step)
    return partial.title if partial else tasks.CLUSTERS[step]


def _figure6_step(step: str, source: str | None) -> tuple[str, list[str]]:
    """The cluster of a Figure 6 step and the datasets of `source` it adds to tuning."""
    partial = FIGURE6_PARTIAL_STEPS.get(step)
    if partial is None:
        return step, _names(source, [step])
    return partial.cluster, [n for n in _names(source, [partial.cluster])
                             if n in partial.datasets]


def figure6_steps(source: str | None = None) -> list[tuple[str, HeldOutSplit]]:
    """The paper's Figure 6 as (step, split) pairs: each split tunes on the datasets of the
    steps of FIGURE6_ORDER so far and evaluates NLI, closed-book QA and commonsense. A step
    with no dataset in `source` is left out (TinyWorld has no conversational QA)."""
    held_out = split_for(FIGURE6_HELD_OUT, source, train_clusters=[])
    steps, chosen, clusters = [], set(), []
    for step in FIGURE6_ORDER:
        cluster, added = _figure6_step(step, source)
        if not added:
            continue
        chosen.update(added)
        clusters.append(cluster)
        train = [s.name for s in tasks.all_datasets(source=source) if s.name in chosen]
        steps.append((step, dataclasses.replace(held_out, train=train,
                                                train_clusters=tuple(clusters))))
    return steps


def figure6_plan(source: str | None = None) -> list[HeldOutSplit]:
    """The splits of `figure6_steps`: seven on TFDS data, six on TinyWorld."""
    return [split for _, split in figure6_steps(source)]


def tuning_pool(split: HeldOutSplit, size: str = "book") -> dict[str, list[str]]:
    """Per tuning cluster of `split`, the tasks a NUM_TUNING_TASKS selection draws from: the
    split's datasets (registry order), then TinyWorld's task variants of that cluster that
    exist in the world of `size` (catalog order). A held-out cluster, and every cluster the
    paper's rules remove with it, has no entry: its variants never reach tuning."""
    pool: dict[str, list[str]] = {c: [] for c in split.train_clusters}
    for name in split.train:
        pool[tasks.get(name).cluster].append(name)
    made = tinyworld.build(0, size).variants  # chapter 08 tunes on world seed 0
    for spec in tasks.all_variants(source="tinyworld"):
        if spec.cluster in pool and spec.name in made:
            pool[spec.cluster].append(spec.name)
    return {c: names for c, names in pool.items() if names}


def _seats(sizes: dict[str, int], count: int) -> dict[str, int]:
    """`count` seats over clusters in proportion to `sizes`, one at a time by Sainte-Lague's
    highest quotient (size / (2 * seats + 1)): proportional, and each count's seats contain
    the previous count's, so selections are nested."""
    seats = {c: 0 for c in sizes}
    order = list(sizes)
    for _ in range(count):
        open_ = [c for c in order if seats[c] < sizes[c]]
        best = max(open_, key=lambda c: (sizes[c] / (2 * seats[c] + 1), -order.index(c)))
        seats[best] += 1
    return seats


def select_tuning_tasks(split: HeldOutSplit, num_tasks: int, *, seed: int = 0,
                        size: str = "book") -> list[str]:
    """The tuning tasks of a run with NUM_TUNING_TASKS = `num_tasks`: 0 keeps `split.train`
    (the datasets); N > 0 draws exactly N from `tuning_pool`, stratified by cluster (each
    cluster's share of the N in proportion to its share of the pool) and seeded: within a
    cluster the datasets come first, then its variants in an order shuffled by `seed`. A
    larger N keeps every task of a smaller one (Flan 2022's mixtures grow the same way)."""
    if not isinstance(num_tasks, int) or isinstance(num_tasks, bool) or num_tasks < 0:
        raise UserError(f"NUM_TUNING_TASKS must be an integer >= 0, got {num_tasks!r}")
    if num_tasks == 0:
        return list(split.train)
    pool = tuning_pool(split, size)
    check_num_tuning_tasks(num_tasks, split, size, pool)
    ordered = {}
    for cluster, names in pool.items():
        datasets = [n for n in names if n in split.train]
        variants = [n for n in names if n not in split.train]
        random.Random(f"tuning-tasks/{seed}/{cluster}").shuffle(variants)
        ordered[cluster] = datasets + variants
    seats = _seats({c: len(names) for c, names in ordered.items()}, num_tasks)
    chosen = {n for c, names in ordered.items() for n in names[: seats[c]]}
    return [n for names in pool.values() for n in names if n in chosen]


def check_num_tuning_tasks(num_tasks: int, split: HeldOutSplit, size: str,
                           pool: dict[str, list[str]] | None = None) -> None:
    """A UserError unless 0 <= `num_tasks` <= the tasks left to tune on with `split`."""
    pool = tuning_pool(split, size) if pool is None else pool
    available = sum(len(names) for names in pool.values())
    if not 0 <= num_tasks <= available:
        held = ", ".join(split.held_out)
        raise UserError(
            f"NUM_TUNING_TASKS={num_tasks} but TinyWorld {size!r} has {available} tuning tasks "
            f"with {held} held out ({len(split.train)} datasets + {available - len(split.train)}"
            f" variants, after the paper's held-out rules): choose 0 (the datasets) to "
            f"{available}")
