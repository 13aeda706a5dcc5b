"""Reporting as in the paper: per template, per dataset, per cluster.

The evaluation produces one `TemplateScore` per (model, dataset, template, split). From those the
paper reports, per dataset, the mean over templates (with the standard deviation as error bar) and
the test score of the template that is best on the dev set ("best dev template"); per cluster, the
average over its datasets. Floors (majority class, random choice) put the numbers in context; the
figures draw published results (`flan_nb.results`) with their 95% intervals.
Scores are plain records so they round-trip through `metrics.json`.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from typing import Any, Iterable, Mapping, Sequence

from flan_nb.errors import UserError

DEV_SPLIT = "validation"
TEST_SPLIT = "test"


@dataclasses.dataclass(frozen=True)
class TemplateScore:
    """One model's score on one dataset through one template on one split (percent)."""

    model: str
    dataset: str
    cluster: str
    template: int
    split: str
    metric: str
    value: float
    num_examples: int
    # Per example, in the order of the split: the metric in percent, and the answer given
    # (the option chosen, or the decoded text). Bootstrap intervals and histograms read them.
    values: tuple[float, ...] = ()
    predictions: tuple[str, ...] = ()
    run: str = ""  # the run whose model was scored (one per seed)
    format: str = "zero-shot"  # the prompt format (flan_nb.formats): FLAN's templates or Figure 8's


@dataclasses.dataclass(frozen=True)
class DatasetReport:
    """Mean and spread over templates, and the best-dev-template test score."""

    model: str
    dataset: str
    cluster: str
    metric: str
    mean: float  # test score averaged over templates
    std: float  # sample standard deviation over templates (0 with one template)
    num_templates: int
    best_dev_template: int | None  # None when no dev scores were computed
    best_dev_test: float | None


@dataclasses.dataclass(frozen=True)
class ClusterReport:
    """Averages over a cluster's datasets (each dataset counts once)."""

    model: str
    cluster: str
    mean: float
    best_dev: float | None
    num_datasets: int


def to_records(rows: Iterable[Any]) -> list[dict]:
    """Dataclass rows as plain dicts (for `run.record`)."""
    return [dataclasses.asdict(row) for row in rows]


def scores_from_records(records: Iterable[Mapping[str, Any]]) -> list[TemplateScore]:
    """TemplateScores back from `to_records` output (e.g. read from metrics.json)."""
    return [TemplateScore(**{**r, "values": tuple(r.get("values", ())),
                             "predictions": tuple(r.get("predictions", ()))})
            for r in map(dict, records)]


def _std(values: Sequence[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def _best_dev(dev: Mapping[int, float],
              test: Mapping[int, float]) -> tuple[int | None, float | None]:
    """The template with the highest dev score (lowest id on ties) and its test score."""
    candidates = [t for t in dev if t in test]
    if not candidates:
        return None, None
    best = max(candidates, key=lambda t: (dev[t], -t))
    return best, test[best]


def dataset_reports(scores: Iterable[TemplateScore]) -> list[DatasetReport]:
    """One DatasetReport per (model, dataset), in first-seen order."""
    groups: dict[tuple[str, str], list[TemplateScore]] = {}
    for s in scores:
        groups.setdefault((s.model, s.dataset), []).append(s)
    reports = []
    for (model, dataset), rows in groups.items():
        test = {r.template: r.value for r in rows if r.split == TEST_SPLIT}
        dev = {r.template: r.value for r in rows if r.split == DEV_SPLIT}
        if not test:
            raise UserError(f"no {TEST_SPLIT!r} scores for {dataset} ({model}): evaluate the "
                            f"test split to report it")
        metrics = {r.metric for r in rows}
        if len(metrics) != 1:
            raise UserError(f"{dataset} ({model}) mixes metrics {sorted(metrics)}")
        values = [test[t] for t in sorted(test)]
        best, best_test = _best_dev(dev, test)
        reports.append(DatasetReport(
            model=model, dataset=dataset, cluster=rows[0].cluster, metric=metrics.pop(),
            mean=statistics.fmean(values), std=_std(values), num_templates=len(values),
            best_dev_template=best, best_dev_test=best_test))
    return reports


def cluster_reports(reports: Iterable[DatasetReport]) -> list[ClusterReport]:
    """One ClusterReport per (model, cluster): unweighted averages over datasets."""
    groups: dict[tuple[str, str], list[DatasetReport]] = {}
    for r in reports:
        groups.setdefault((r.model, r.cluster), []).append(r)
    out = []
    for (model, cluster), rows in groups.items():
        best = [r.best_dev_test for r in rows]
        out.append(ClusterReport(
            model=model, cluster=cluster, mean=statistics.fmean(r.mean for r in rows),
            best_dev=None if None in best else statistics.fmean(best), num_datasets=len(rows)))
    return out


def floor_table(datasets: Sequence[str], seed: int = 0, size: str = "book",
                split: str = "test") -> dict[str, dict[str, float]]:
    """TinyWorld's floors per dataset in percent: {name: {"majority": .., "random": .., ...}}.

    Datasets without floors (generation tasks, or not TinyWorld's) are left out.
    """
    from flan_nb import tasks
    from flan_nb.tinyworld import floors as floors_lib

    table = {}
    for name in datasets:
        spec = tasks.get(name)
        if spec.source != "tinyworld" or spec.kind != "classification":
            continue
        values = floors_lib.floors(name, seed=seed, size=size, split=split)  # fractions
        table[name] = {k: 100.0 * v for k, v in values.items() if _is_number(v)}
    return table


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def lookup(reports: Iterable[Any], **where: Any) -> Any:
    """The one report row whose fields equal `where` (e.g. model="tuned", cluster="nli")."""
    found = [r for r in reports if all(getattr(r, k) == v for k, v in where.items())]
    if len(found) != 1:
        raise UserError(f"expected one report row with {where}, found {len(found)}")
    return found[0]


def _cell(value: Any, digits: int) -> str:
    """A table cell: '-' for a missing value, floats rounded to `digits`."""
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None,
                 digits: int = 1) -> str:
    """A plain-text table (numbers rounded to `digits`), for notebooks and the command line."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())
    body = [[_cell(row.get(c), digits) for c in columns] for row in rows]
    widths = [max(len(c), *(len(line[i]) for line in body)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)),
             "  ".join("-" * w for w in widths)]
    for line in body:
        lines.append("  ".join(v.rjust(w) if _numeric_text(v) else v.ljust(w)
                               for v, w in zip(line, widths)))
    return "\n".join(lines)


def _numeric_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# -- the paper's numbers (PAPER.md), shown beside ours and labelled as the paper's ------------

# Figure 1 (arXiv v1): unseen task clusters, zero-shot FLAN 137B vs GPT-3 175B.
PAPER_FIGURE1: dict[str, dict[str, float]] = {
    "nli": {"GPT-3 175B zero-shot": 42.9, "GPT-3 175B few-shot": 53.2,
            "FLAN 137B zero-shot": 56.2},
    "reading_comprehension": {"GPT-3 175B zero-shot": 63.7, "GPT-3 175B few-shot": 72.6,
                              "FLAN 137B zero-shot": 77.4},
    "closed_book_qa": {"GPT-3 175B zero-shot": 49.8, "GPT-3 175B few-shot": 55.7,
                       "FLAN 137B zero-shot": 53.7},
}
# Figure 5: FLAN 137B zero-shot per dataset (the values PAPER.md found).
PAPER_FIGURE5: dict[str, float] = {"ANLI R1": 47.7, "ANLI R2": 43.9, "ANLI R3": 47.0,
                                   "CB": 64.1, "BoolQ": 82.9}
# Datasets with a Figure 5 number: the paper's own (at paper scale, SOURCE=tfds) and TinyWorld's
# mirror of one; ANLI, one dataset in the registry, is the mean of its three rounds.
PAPER_MIRRORS: dict[str, tuple[str, ...]] = {
    "bool_q": ("BoolQ",), "cb": ("CB",), "anli": ("ANLI R1", "ANLI R2", "ANLI R3"),
    "tw_boolq": ("BoolQ",)}
# Which version of the paper the numbers are from, in every label that shows them.
PAPER_VERSION = "arXiv v1"


def paper_score(dataset: str, paper: Mapping[str, float] = PAPER_FIGURE5,
                mirrors: Mapping[str, Sequence[str]] = PAPER_MIRRORS) -> float | None:
    """The paper's Figure 5 number for `dataset` (or the dataset it mirrors), else None."""
    values = [paper[label] for label in mirrors.get(dataset, ()) if label in paper]
    return round(statistics.fmean(values), 1) if values else None
MODEL_COLORS = {"base": "#8da0cb", "tuned": "#fc8d62"}
MODEL_LABELS = {"base": "ours: base LM, zero-shot", "tuned": "ours: instruction-tuned, zero-shot"}


def cluster_floors(floors: Mapping[str, Mapping[str, float]],
                   datasets_of: Mapping[str, Sequence[str]],
                   kind: str = "majority") -> dict[str, float]:
    """Mean floor per cluster, only for clusters whose every dataset has one (generation
    datasets have none, and averaging a partial set would mislead)."""
    out = {}
    for cluster, names in datasets_of.items():
        if names and all(n in floors and kind in floors[n] for n in names):
            out[cluster] = statistics.fmean(floors[n][kind] for n in names)
    return out


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None,
                   digits: int = 1) -> str:
    """A Markdown table (for `IPython.display.Markdown`): wide tables wrap on the page
    instead of overflowing a printed line."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(_cell(row.get(c), digits).replace("|", "\\|") for c in columns)
              + " |" for row in rows]
    return "\n".join(lines)
