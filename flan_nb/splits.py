"""Held-out splits: which datasets to tune on when a cluster is evaluated zero-shot.

The paper evaluates a cluster on a model tuned on the other clusters, and removes more than the
held-out cluster where tasks overlap: NLI and Paraphrase exclude each other, and Reading
comprehension with commonsense goes whenever Reading comprehension or Commonsense is held out
(holding it out removes both of those). `held_out_split` applies these rules to the registry of
one source (TinyWorld or TFDS); `figure6_plan` builds the paper's Figure 6 experiment, where
tuning clusters are added one at a time while NLI, closed-book QA and commonsense stay held out.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Sequence

from flan_nb import tasks
from flan_nb.errors import UserError
from flan_nb.params import require

RCWC = "reading_comprehension_with_commonsense"

# Held-out cluster -> clusters also removed from tuning (the paper's rules).
EXCLUSION_RULES: dict[str, tuple[str, ...]] = {
    "nli": ("paraphrase",),
    "paraphrase": ("nli",),
    "reading_comprehension": (RCWC,),
    "commonsense": (RCWC,),
    RCWC: ("reading_comprehension", "commonsense"),
}

# Figure 6: evaluated clusters, and tuning clusters in the order the paper adds them (its last
# step, "conversational QA", is our Misc. cluster, which holds CoQA and QuAC).
FIGURE6_HELD_OUT: tuple[str, ...] = ("nli", "closed_book_qa", "commonsense")
FIGURE6_ORDER: tuple[str, ...] = ("summarization", "translation", "reading_comprehension",
                                  "sentiment", "struct_to_text", "coreference", "misc")
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


def check_source(source: str | None) -> str | None:
    """`source` if it is None or a known source, else a UserError."""
    if source is not None and source not in tasks.SOURCES:
        raise UserError(f"unknown source {source!r}: choose one of {', '.join(tasks.SOURCES)}")
    return source


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


def held_out_split(cluster: str, source: str | None = None) -> HeldOutSplit:
    """Leave-one-cluster-out: evaluate `cluster`, tune on every cluster the rules allow.
    `source` ("tinyworld" or "tfds") restricts the datasets; None takes all registered."""
    return split_for([cluster], source)


def figure6_plan(source: str | None = None) -> list[HeldOutSplit]:
    """The paper's Figure 6: seven splits, tuning on the first 1..7 clusters of FIGURE6_ORDER
    and evaluating NLI, closed-book QA and commonsense."""
    return [split_for(FIGURE6_HELD_OUT, source, FIGURE6_ORDER[:n])
            for n in range(1, len(FIGURE6_ORDER) + 1)]


def held_out_rows(source: str | None = None) -> list[dict]:
    """One row per cluster: datasets evaluated, clusters the rules remove, datasets tuned on."""
    rows = []
    for cluster in tasks.CLUSTERS:
        split = held_out_split(cluster, source)
        removed = excluded_clusters([cluster])
        rows.append({"held out": tasks.CLUSTERS[cluster], "eval": len(split.eval),
                     "also removed": ", ".join(tasks.CLUSTERS[c] for c in removed) or "-",
                     "excluded": len(split.excluded), "train": len(split.train)})
    return rows


def figure6_rows(source: str | None = None) -> list[dict]:
    """The Figure 6 plan as rows: the cluster added at each step, our dataset count and the
    paper's (which counts some configs, e.g. SQuAD v1/v2, as separate datasets)."""
    return [{"step": step, "added": tasks.CLUSTERS[split.train_clusters[-1]],
             "train datasets": len(split.train), "paper's datasets": paper}
            for step, (split, paper) in enumerate(zip(figure6_plan(source),
                                                      FIGURE6_PAPER_DATASETS), start=1)]


@dataclasses.dataclass(frozen=True)
class TasksChapterConfig:
    """Parameters of chapter 04 (tasks and clusters)."""

    split_source: str = "tinyworld"
    held_out: str = "nli"
    size: str = "book"
    seed: int = 0

    def __post_init__(self):
        from flan_nb.tinyworld import SIZES

        require(self.split_source in tasks.SOURCES,
                f"SPLIT_SOURCE must be one of {', '.join(tasks.SOURCES)}, "
                f"got {self.split_source!r}")
        require(self.held_out in tasks.CLUSTERS,
                f"HELD_OUT must be a cluster id ({', '.join(tasks.CLUSTERS)}), "
                f"got {self.held_out!r}")
        require(self.size in SIZES, f"SIZE must be one of {', '.join(SIZES)}, got {self.size!r}")
