"""Reporting as in the paper: per template, per dataset, per cluster.

The evaluation produces one `TemplateScore` per (model, dataset, template, split). From those the
paper reports, per dataset, the mean over templates (with the standard deviation as error bar) and
the test score of the template that is best on the dev set ("best dev template"); per cluster, the
average over its datasets. Floors (majority class, random choice) put the numbers in context.
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
    return [TemplateScore(**dict(r)) for r in records]


def _std(values: Sequence[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def _best_dev(dev: Mapping[int, float], test: Mapping[int, float]) -> tuple[int | None, float | None]:
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


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None,
                 digits: int = 1) -> str:
    """A plain-text table (numbers rounded to `digits`), for notebooks and the command line."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())

    def cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.{digits}f}"
        return str(value)

    body = [[cell(row.get(c)) for c in columns] for row in rows]
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
