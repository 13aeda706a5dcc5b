"""Chapter 11 (what makes instruction tuning work?): its config, the paper's Figures 6 and 8
and Appendix B drawn from published plans, and the sentences comparing our effects with the
paper's.

Each figure is one plan (`notebooks/plans/figure6.yaml`, `figure8.yaml`, `appendix_b.yaml`)
published to `results/<plan-stem>.json` (`flan_nb.results`) and read on its own: one may be
published while another is not. Every tuned run holds out the same clusters (NLI, closed-book
QA, commonsense), so its scores on the three come from one model per seed.

The held-out average weights each held-out cluster equally (and each dataset equally inside its
cluster), as the paper averages its clusters; its 95% interval resamples the tuning seeds (once
for all clusters: a seed is one model scored on every cluster) and, per dataset, the examples
(`flan_nb.stats.mean_interval` with weights). A change between two settings is computed per
example on the same examples, seeds paired by their value, so what the examples share cancels.
Directions are read from intervals only: "increase" when the change's interval lies above 0,
"decrease" below, "no detectable effect" when it contains 0.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping, Sequence

from flan_nb import splits, stats, tasks
from flan_nb.chapters.published import check_plan_file, format_interval, settings, yerr
from flan_nb.errors import UserError, require
from flan_nb.params import book_path

CHAPTER = "11_what_makes_tuning_work"
FIGURES = ("figure6", "figure8", "appendix_b")  # the chapter's plans, by their config field
ZERO_SHOT = "zero-shot"  # FLAN instructions (a results file without formats evaluated these)
FORMAT_LABELS = {"zero-shot": "FLAN instructions", "no-template": "no template",
                 "dataset-name": "dataset name"}
INCREASE, DECREASE, NO_EFFECT = "increase", "decrease", "no detectable effect"
NEGLIGIBLE = "negligible"  # a paper reading: an effect too small to matter

# The paper's numbers (PAPER.md; LaMDA-PT 137B, values as published).
PAPER_FIGURE6 = {"clusters": [1, 2, 3, 4, 5, 6, 7],
                 "datasets": [11, 20, 26, 30, 34, 37, 39],
                 "average": [49.9, 55.0, 59.3, 59.2, 60.8, 61.9, 63.5]}
# Figure 8: (tuning format, evaluation format) -> held-out average.
PAPER_FIGURE8 = {("no-template", ZERO_SHOT): 37.3, ("dataset-name", ZERO_SHOT): 46.6,
                 ("dataset-name", "dataset-name"): 47.0, (ZERO_SHOT, ZERO_SHOT): 55.2}
# Appendix B gives readings, not numbers.
PAPER_APPENDIX_B = {"datasets": (INCREASE, "almost +10% from 1 to 4 datasets per cluster"),
                    "templates": (NEGLIGIBLE, "negligible from 1 to 10 templates per dataset")}
PAPER_MODEL_PARAMS = 137e9


@dataclasses.dataclass(frozen=True)
class WhatMakesTuningWorkConfig:
    """Notebook 11's parameters (one field per parameter), validated on construction."""

    figure6_plan: str  # the plan of Figure 6 (number of tuning clusters)
    figure8_plan: str  # the plan of Figure 8 (tuning and evaluation formats)
    appendix_b_plan: str  # the plan of Appendix B (datasets per cluster, templates)
    run_plan: bool  # run the plans' unfinished runs and republish first

    def __post_init__(self):
        for name in FIGURES:
            check_plan_file(getattr(self, f"{name}_plan"), f"{name.upper()}_PLAN",
                            f"plans/{name}.yaml")
        require(isinstance(self.run_plan, bool),
                f"RUN_PLAN must be True or False, got {self.run_plan!r}")

    def plan_paths(self) -> dict[str, Path]:
        """{"figure6": path, "figure8": path, "appendix_b": path}."""
        return {name: Path(book_path(getattr(self, f"{name}_plan"))) for name in FIGURES}


# -- reading a published document ------------------------------------------------------------

def eval_format(entry: Mapping[str, Any]) -> str:
    """The format a cluster entry (or a score) was evaluated in; FLAN instructions when the
    file predates evaluation formats."""
    return entry.get("eval_format", entry.get("format", ZERO_SHOT))


def _evaluation(document: Mapping[str, Any]) -> dict[str, str]:
    ev = document.get("evaluation", {})
    return {"notebook": ev.get("tuning_notebook", "08_instruction_tuning"),
            "held_out": ev.get("held_out_parameter", "HELD_OUT"),
            "seed": ev.get("seed_parameter", "SEED"),
            "base": ev.get("base_parameter", "BASE_RUN")}


def _clusters_of(value: Any) -> list[str]:
    return [c.strip() for c in str(value).split(",") if c.strip()]


def tuned_runs(document: Mapping[str, Any], setting: Mapping[str, Any],
               cluster: str) -> list[tuple[Any, str, str]]:
    """(seed, tuned run, base run) of one (setting, held-out cluster), by seed.

    A run belongs to the most specific setting its parameters match: the Appendix B run
    with DATASETS_PER_CLUSTER = 1 also matches Figure 6's setting (same TUNING_CLUSTERS) but
    belongs to the one naming DATASETS_PER_CLUSTER too."""
    ev = _evaluation(document)
    candidates = settings(document)
    out = []
    for r in document["provenance"]["runs"]:
        values = r.get("parameters", {})
        if (Path(r["notebook"]).stem != ev["notebook"]
                or cluster not in _clusters_of(values.get(ev["held_out"], ""))):
            continue
        matching = [s for s in candidates if all(values.get(k) == v for k, v in s.items())]
        if matching and max(matching, key=len) == dict(setting):
            out.append((values.get(ev["seed"]), r["name"], str(values.get(ev["base"]))))
    return sorted(out, key=lambda run: (run[0] is None, run[0] or 0))


def _scores(document: Mapping[str, Any]) -> dict[tuple[str, str, str], list[float]]:
    return {(s["run"], s["dataset"], eval_format(s)): s["test_per_example"]
            for s in document.get("scores", [])}


def own_datasets(entry: Mapping[str, Any]) -> list[str]:
    """The datasets of a cluster entry that belong to its cluster. Files published before
    results.summarise kept each cluster's own datasets list, for a run holding out several
    clusters, every dataset that run was scored on; the registry tells them apart."""
    out = []
    for name in entry["datasets"]:
        try:
            cluster = tasks.get(name).cluster
        except UserError:
            cluster = None  # not registered here: trust the file
        if cluster in (None, entry["cluster"]):
            out.append(name)
    return out


def _entries(document: Mapping[str, Any], setting: Mapping[str, Any],
             fmt: str = ZERO_SHOT) -> list[dict[str, Any]]:
    return [c for c in document["clusters"]
            if c["setting"] == dict(setting) and eval_format(c) == fmt]


def _run_record(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    return next((r for r in document["provenance"]["runs"] if r["name"] == name), {})


def setting_runs(document: Mapping[str, Any], setting: Mapping[str, Any]) -> list[dict]:
    """The provenance records of a setting's tuned runs (any held-out cluster), by seed."""
    names = list(dict.fromkeys(run for c in _entries(document, setting)
                               for _, run, _ in tuned_runs(document, setting, c["cluster"])))
    return [_run_record(document, n) for n in names]


def average(document: Mapping[str, Any], setting: Mapping[str, Any], *,
            model: str = "tuned", fmt: str = ZERO_SHOT,
            clusters: Sequence[str] | None = None) -> dict[str, float] | None:
    """The held-out average of one setting evaluated in `fmt`: `model` "tuned", "base" or
    "difference" (tuned - base, per example); each held-out cluster counts once, each dataset
    once inside its cluster; a 95% interval over seeds and examples. `clusters` restricts it
    (one cluster: that cluster's score). None when the document keeps no per-example scores
    for it."""
    entries = [c for c in _entries(document, setting, fmt)
               if clusters is None or c["cluster"] in clusters]
    scores = _scores(document)
    groups, weights = [], []
    for entry in entries:
        runs = tuned_runs(document, setting, entry["cluster"])
        bases = list(dict.fromkeys(base for _, _, base in runs))
        if not runs:
            return None
        names = own_datasets(entry)
        for dataset in names:
            got = {run: scores.get((run, dataset, fmt)) for _, run, _ in runs}
            got.update({base: scores.get((base, dataset, fmt)) for base in bases})
            if model == "tuned":
                rows = [got[run] for _, run, _ in runs]
            elif model == "base":
                rows = [got[base] for base in bases]
            else:
                rows = [None if got[run] is None or got[base] is None else
                        [t - b for t, b in zip(got[run], got[base])] for _, run, base in runs]
            if any(row is None for row in rows):
                return None
            groups.append(rows)
            weights.append(1.0 / (len(entries) * len(names)))
    if not groups:
        return None
    return stats.mean_interval(groups, weights=weights).as_dict()


def change(document: Mapping[str, Any], first: Mapping[str, Any], then: Mapping[str, Any], *,
           first_fmt: str = ZERO_SHOT, then_fmt: str = ZERO_SHOT,
           clusters: Sequence[str] | None = None) -> dict[str, float] | None:
    """How the tuned held-out average moves from setting `first` (evaluated in `first_fmt`)
    to `then` (in `then_fmt`): per example on the same examples, seeds paired by their value,
    each cluster counting once; a 95% interval. `clusters` restricts it (e.g. to one).
    None when the two share no seed, cluster or per-example scores."""
    scores = _scores(document)
    a = {c["cluster"]: c for c in _entries(document, first, first_fmt)}
    b = {c["cluster"]: c for c in _entries(document, then, then_fmt)}
    names = [c for c in a if c in b and (clusters is None or c in clusters)]
    blocks = []
    for cluster in names:
        runs_a = {seed: run for seed, run, _ in tuned_runs(document, first, cluster)}
        runs_b = {seed: run for seed, run, _ in tuned_runs(document, then, cluster)}
        seeds = [s for s in runs_a if s in runs_b]
        datasets = [d for d in own_datasets(a[cluster]) if d in own_datasets(b[cluster])]
        if not seeds or not datasets:
            return None
        block = []
        for dataset in datasets:
            rows = []
            for seed in seeds:
                x = scores.get((runs_a[seed], dataset, first_fmt))
                y = scores.get((runs_b[seed], dataset, then_fmt))
                if x is None or y is None or len(x) != len(y):
                    return None
                rows.append([yi - xi for xi, yi in zip(x, y)])
            block.append(rows)
        blocks.append(block)
    if not blocks:
        return None
    groups = [rows for block in blocks for rows in block]
    weights = [1.0 / (len(blocks) * len(block)) for block in blocks for _ in block]
    return stats.mean_interval(groups, weights=weights).as_dict()


def direction(interval: Mapping[str, float] | None) -> str | None:
    """increase / decrease / no detectable effect, from where the 95% interval lies."""
    if interval is None:
        return None
    return {stats.HELPS: INCREASE, stats.HURTS: DECREASE}.get(
        stats.verdict(stats.Interval(**interval)), NO_EFFECT)


def agreement(ours: str | None, paper: str) -> str:
    """Our direction read against the paper's: "agrees", "opposite" or "no detectable
    effect"; against a negligible paper effect, "agrees" when we see none either."""
    if ours is None:
        return "not measured"
    if paper == NEGLIGIBLE:
        return ("agrees (no detectable effect either)" if ours == NO_EFFECT
                else f"differs: an {ours} where the paper's effect is negligible"
                if ours == INCREASE else f"differs: a {ours} where the paper's is negligible")
    if ours == NO_EFFECT:
        return NO_EFFECT
    return "agrees" if ours == paper else "opposite"


def direction_line(what: str, ours: Mapping[str, float] | None, paper_text: str | None,
                   paper_direction: str | None) -> str:
    """One sentence: our change with its interval, its direction, the paper's (None: the
    paper has no such number), and whether they agree; with the half-width of our interval,
    the size of effect it cannot tell from none."""
    paper = (f"The paper: {paper_text}." if paper_text is not None
             else "The paper has no such bar.")
    if ours is None:
        return (f"- **{what}**: not measured (the published file keeps no per-example scores "
                f"for it). {paper}")
    ours_direction = direction(ours)
    half = (ours["ci_high"] - ours["ci_low"]) / 2
    verdict = ("" if paper_direction is None else
               f" **{agreement(ours_direction, paper_direction).capitalize()}.**")
    return (f"- **{what}**: ours {ours['mean']:+.1f} points, 95% interval "
            f"[{ours['ci_low']:+.1f}, {ours['ci_high']:+.1f}]: {ours_direction}. "
            f"{paper}{verdict} An effect smaller than about {half:.1f} points either way "
            f"fits inside our interval.")


# -- Figure 6: number of tuning clusters -----------------------------------------------------

def _num_clusters(record: Mapping[str, Any]) -> int | None:
    tuned_on = record.get("metrics", {}).get("tuning_clusters")
    if isinstance(tuned_on, list):
        return len(tuned_on)
    named = _clusters_of(record.get("parameters", {}).get("TUNING_CLUSTERS", ""))
    return len(named) or None


def figure6_points(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per setting (FLAN instructions at evaluation), by number of tuning clusters: the
    clusters and datasets tuned on (from the runs' metrics), the held-out average of the tuned
    model, of the base and of the difference, and each held-out cluster's tuned score."""
    points = []
    for setting in settings(document):
        entries = _entries(document, setting)
        if not entries:
            continue
        records = setting_runs(document, setting)
        first = records[0] if records else {}
        points.append({
            "setting": setting, "clusters": _num_clusters(first),
            "datasets": first.get("metrics", {}).get("num_tuning_datasets"),
            "seeds": entries[0]["num_seeds"],
            "tuned": average(document, setting), "base": average(document, setting,
                                                                   model="base"),
            "difference": average(document, setting, model="difference"),
            # from the per-example scores (each cluster's own datasets), else the file's entry
            "per_cluster": {c["cluster"]: average(document, setting, clusters=[c["cluster"]])
                            or c["tuned"] for c in entries}})
    return sorted(points, key=lambda p: (p["clusters"] or 0, p["datasets"] or 0))


def figure6_rows(points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per step: clusters, datasets, each held-out cluster's tuned score, the
    average, and the average tuned - base."""
    rows = []
    for p in points:
        row = {"clusters": p["clusters"], "datasets": p["datasets"]}
        row.update({c: format_interval(v) for c, v in p["per_cluster"].items()})
        row["average"] = format_interval(p["tuned"])
        row["tuned - base"] = format_interval(p["difference"])
        rows.append(row)
    return rows


def paper_figure6_at(num_clusters: int | None) -> tuple[int, float] | None:
    """The paper's (datasets, average) at a number of clusters (None beyond its 7)."""
    if num_clusters in PAPER_FIGURE6["clusters"]:
        i = PAPER_FIGURE6["clusters"].index(num_clusters)
        return PAPER_FIGURE6["datasets"][i], PAPER_FIGURE6["average"][i]
    return None


def figure6_lines(document: Mapping[str, Any]) -> list[str]:
    """Does the held-out average rise with the number of tuning clusters, as in the paper?
    From the fewest to the most clusters: the average, then each held-out cluster; and the
    most clusters against the untuned base."""
    points = figure6_points(document)
    if len(points) < 2:
        return ["- Figure 6 needs at least two steps; the published plan has "
                f"{len(points)}."]
    lo, hi = points[0], points[-1]
    a, b = paper_figure6_at(lo["clusters"]), paper_figure6_at(hi["clusters"])
    paper = (f"{a[1]} -> {b[1]} ({b[1] - a[1]:+.1f}) from {lo['clusters']} to "
             f"{hi['clusters']} clusters" if a and b else
             f"{PAPER_FIGURE6['average'][0]} -> {PAPER_FIGURE6['average'][-1]} from 1 to 7")
    paper_dir = INCREASE if not (a and b) or b[1] > a[1] else DECREASE
    what = (f"{lo['clusters']} -> {hi['clusters']} tuning clusters "
            f"({lo['datasets']} -> {hi['datasets']} datasets), held-out average")
    lines = [direction_line(what, change(document, lo["setting"], hi["setting"]), paper,
                            paper_dir)]
    for cluster in hi["per_cluster"]:
        ours = change(document, lo["setting"], hi["setting"], clusters=[cluster])
        if ours is not None:
            lines.append(f"  - {cluster} alone: {ours['mean']:+.1f} "
                         f"[{ours['ci_low']:+.1f}, {ours['ci_high']:+.1f}], "
                         f"{direction(ours)}.")
    if hi["difference"] is not None:
        lines.append(f"- With {hi['clusters']} clusters the tuned model against the untuned "
                     f"base: {format_interval(hi['difference'])} points on the held-out "
                     f"average ({_verdict_words(hi['difference'])}).")
    return lines


def _verdict_words(difference: Mapping[str, float]) -> str:
    return {stats.HELPS: "tuning helps", stats.HURTS: "tuning hurts"}.get(
        stats.verdict(stats.Interval(**difference)), "no detectable change")


def _step_label(point: Mapping[str, Any]) -> str:
    return f"{point['clusters']}\n({point['datasets']} ds)"


def plot_figure6(document: Mapping[str, Any]):
    """Left, ours: each held-out cluster's tuned score and the held-out average (95%
    intervals) vs the number of tuning clusters, the untuned base's average as a line with its
    interval as a band. Right, the paper's curve on its own axis (another model and scale)."""
    import matplotlib.pyplot as plt

    points = figure6_points(document)
    fig, (ours, paper) = plt.subplots(1, 2, figsize=(10, 4.2),
                                      gridspec_kw={"width_ratios": [3, 2]})
    xs = [p["clusters"] for p in points]
    for k, cluster in enumerate(points[-1]["per_cluster"] if points else []):
        got = [(p["clusters"], p["per_cluster"][cluster]) for p in points
               if cluster in p["per_cluster"]]
        ours.errorbar([x + (k - 1) * 0.06 for x, _ in got], [v["mean"] for _, v in got],
                      yerr=yerr([v for _, v in got]), fmt="o-", lw=1, ms=3, capsize=2,
                      alpha=0.7, label=f"{cluster} (tuned)")
    avg = [(p["clusters"], p["tuned"]) for p in points if p["tuned"]]
    if avg:
        ours.errorbar([x for x, _ in avg], [v["mean"] for _, v in avg],
                      yerr=yerr([v for _, v in avg]), fmt="s-", color="k", lw=2, capsize=4,
                      label="held-out average (tuned)")
    base = points[0]["base"] if points else None
    if base:
        ours.axhline(base["mean"], color="0.4", ls="--", label="untuned base, average")
        ours.axhspan(base["ci_low"], base["ci_high"], color="0.8", alpha=0.5)
    ours.set_xticks(xs, [_step_label(p) for p in points], fontsize=8)
    ours.set_xlabel("tuning clusters (datasets)")
    ours.set_ylabel("held-out score (%)")
    seeds = points[0]["seeds"] if points else 0
    ours.set_title(f"Ours (TinyWorld, {seeds_text(seeds)}, 95% intervals)", fontsize=9)
    # below the axes: inside, it hides a curve wherever it is put
    ours.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    paper.plot(PAPER_FIGURE6["clusters"], PAPER_FIGURE6["average"], "s-", color="tab:red")
    paper.set_xticks(PAPER_FIGURE6["clusters"],
                     [f"{c}\n({d})" for c, d in zip(PAPER_FIGURE6["clusters"],
                                                    PAPER_FIGURE6["datasets"])], fontsize=8)
    paper.set_xlabel("tuning clusters (datasets)")
    paper.set_ylabel("held-out average (%)")
    paper.set_title("The paper's Figure 6 (LaMDA-PT 137B)", fontsize=9)
    fig.tight_layout()
    return fig


# -- Figure 8: the role of instructions ------------------------------------------------------

BAR_ORDER = [("no-template", ZERO_SHOT), ("no-template", "no-template"),
             ("dataset-name", ZERO_SHOT), ("dataset-name", "dataset-name"),
             (ZERO_SHOT, ZERO_SHOT)]


def tuning_format(document: Mapping[str, Any], setting: Mapping[str, Any]) -> str:
    """The FORMAT a setting's runs were tuned in (FLAN instructions when not set)."""
    if "FORMAT" in setting:
        return str(setting["FORMAT"])
    records = setting_runs(document, setting)
    return str(records[0].get("parameters", {}).get("FORMAT", ZERO_SHOT)) if records \
        else ZERO_SHOT


SHORT_LABELS = {"zero-shot": "FLAN instr.", "no-template": "no template",
                "dataset-name": "dataset name"}


def bar_label(tuning: str, evaluation: str) -> str:
    """A bar's tick label: the tuning format, then the evaluation format."""
    return (f"{SHORT_LABELS.get(tuning, tuning)}\n-> {SHORT_LABELS.get(evaluation, evaluation)}")


def figure8_bars(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per (tuning format, evaluation format) published: the tuned and base held-out averages
    and the paper's bar where it has one, in the paper's order (ablations first)."""
    bars = {}
    for setting in settings(document):
        fmt = tuning_format(document, setting)
        for evaluation in dict.fromkeys(eval_format(c) for c in document["clusters"]
                                        if c["setting"] == setting):
            entries = _entries(document, setting, evaluation)
            bars[(fmt, evaluation)] = {
                "tuning": fmt, "eval": evaluation, "setting": setting,
                "seeds": entries[0]["num_seeds"],
                "tuned": average(document, setting, fmt=evaluation),
                "base": average(document, setting, model="base", fmt=evaluation),
                "paper": PAPER_FIGURE8.get((fmt, evaluation))}
    order = {key: i for i, key in enumerate(BAR_ORDER)}
    return [bars[k] for k in sorted(bars, key=lambda k: (order.get(k, len(order)), k))]


def figure8_rows(bars: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"tuned in": FORMAT_LABELS.get(b["tuning"], b["tuning"]),
             "evaluated in": FORMAT_LABELS.get(b["eval"], b["eval"]),
             "tuned": format_interval(b["tuned"]),
             "base": format_interval(b["base"]),
             "paper": "-" if b["paper"] is None else b["paper"]} for b in bars]


def figure8_lines(document: Mapping[str, Any]) -> list[str]:
    """FLAN instructions against each ablation, as the paper's bars compare them: the change
    of the held-out average from the ablation to FLAN instructions, paired per example."""
    bars = {(b["tuning"], b["eval"]): b for b in figure8_bars(document)}
    flan = bars.get((ZERO_SHOT, ZERO_SHOT))
    if flan is None:
        return ["- The published plan has no run tuned on FLAN instructions to compare with."]
    lines = []
    for key in BAR_ORDER[:-1]:
        if key not in bars:
            continue
        tuning, evaluation = key
        what = (f"FLAN instructions vs tuned on {FORMAT_LABELS[tuning]} "
                f"(evaluated with {FORMAT_LABELS[evaluation]})")
        ours = change(document, bars[key]["setting"], flan["setting"], first_fmt=evaluation)
        paper = PAPER_FIGURE8.get(key)
        paper_text = paper_dir = None
        if paper is not None:
            flan_paper = PAPER_FIGURE8[(ZERO_SHOT, ZERO_SHOT)]
            paper_text = f"{paper} -> {flan_paper} ({flan_paper - paper:+.1f})"
            paper_dir = INCREASE if flan_paper > paper else DECREASE
        lines.append(direction_line(what, ours, paper_text, paper_dir))
    return lines


def plot_figure8(document: Mapping[str, Any]):
    """Left, ours: the held-out average of each (tuning, evaluation) format with its 95%
    interval and the untuned base in the same evaluation format (a dash). Right, the paper's
    four bars on their own axis."""
    import matplotlib.pyplot as plt

    bars = figure8_bars(document)
    fig, (ours, paper) = plt.subplots(1, 2, figsize=(11, 4.4),
                                      gridspec_kw={"width_ratios": [3, 2]})
    xs = list(range(len(bars)))
    got = [b["tuned"] or {"mean": 0.0, "ci_low": 0.0, "ci_high": 0.0} for b in bars]
    colors = ["tab:red" if b["tuning"] == ZERO_SHOT else "tab:gray" for b in bars]
    ours.bar(xs, [g["mean"] for g in got], yerr=yerr(got), capsize=4, color=colors,
             alpha=0.8, label="tuned (95% interval)")
    for i, b in enumerate(bars):
        if b["base"]:
            ours.hlines(b["base"]["mean"], i - 0.4, i + 0.4, colors="k", linestyles="--",
                        label="untuned base, same evaluation" if i == 0 else None)
    ours.set_xticks(xs, [bar_label(b["tuning"], b["eval"]) for b in bars], fontsize=7)
    ours.set_xlabel("tuning format -> evaluation format")
    ours.set_ylabel("held-out average (%)")
    seeds = bars[0]["seeds"] if bars else 0
    ours.set_title(f"Ours (TinyWorld, {seeds_text(seeds)})", fontsize=9)
    ours.legend(fontsize=7, loc="upper left")
    keys = list(PAPER_FIGURE8)
    paper.bar(range(len(keys)), list(PAPER_FIGURE8.values()),
              color=["tab:red" if k[0] == ZERO_SHOT else "tab:gray" for k in keys], alpha=0.8)
    for i, value in enumerate(PAPER_FIGURE8.values()):
        paper.text(i, value + 0.5, f"{value}", ha="center", fontsize=8)
    paper.set_xticks(range(len(keys)), [bar_label(*k) for k in keys], fontsize=7)
    paper.set_xlabel("tuning format -> evaluation format")
    paper.set_ylabel("held-out average (%)")
    paper.set_title("The paper's Figure 8 (LaMDA-PT 137B)", fontsize=9)
    fig.tight_layout()
    return fig


# -- Appendix B: datasets per cluster and templates per dataset ------------------------------

def _templates_of_all(record: Mapping[str, Any]) -> str:
    """How many templates "all" is for a run's tuning datasets (TinyWorld registry)."""
    try:
        counts = {len(spec.templates)
                  for cluster in record.get("metrics", {}).get("tuning_clusters", [])
                  for spec in tasks.all_datasets(
                      record.get("parameters", {}).get("SOURCE"), cluster)}
    except UserError:
        return "all"
    if not counts:
        return "all"
    return f"all ({min(counts)})" if len(counts) == 1 else \
        f"all ({min(counts)}-{max(counts)})"


def appendix_b_points(document: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The two one-dimensional sweeps: {"datasets": points by DATASETS_PER_CLUSTER,
    "templates": points by NUM_TEMPLATES}; the all-datasets, all-templates setting ends
    both. A point: its value (0 = all), label, datasets tuned on and held-out averages."""
    out: dict[str, list[dict[str, Any]]] = {"datasets": [], "templates": []}
    for setting in settings(document):
        entries = _entries(document, setting)
        records = setting_runs(document, setting)
        if not entries or not records:
            continue
        values = records[0].get("parameters", {})
        per_cluster = values.get("DATASETS_PER_CLUSTER", 0)
        templates = values.get("NUM_TEMPLATES", 0)
        datasets = records[0].get("metrics", {}).get("num_tuning_datasets")
        point = {"setting": setting, "datasets": datasets, "seeds": entries[0]["num_seeds"],
                 "tuned": average(document, setting),
                 "base": average(document, setting, model="base"),
                 "difference": average(document, setting, model="difference")}
        if templates == 0:
            out["datasets"].append({**point, "value": per_cluster,
                                    "label": str(per_cluster) if per_cluster else "all"})
        if per_cluster == 0:
            out["templates"].append({**point, "value": templates, "label": str(templates)
                                     if templates else _templates_of_all(records[0])})
    for axis in out.values():
        axis.sort(key=lambda p: (p["value"] == 0, p["value"]))
    return out


def appendix_b_rows(points: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict]:
    names = {"datasets": "datasets per cluster", "templates": "templates per dataset"}
    return [{"sweep": names[axis], "value": p["label"], "datasets tuned": p["datasets"],
             "held-out average": format_interval(p["tuned"]),
             "tuned - base": format_interval(p["difference"])}
            for axis, ps in points.items() for p in ps]


def appendix_b_lines(document: Mapping[str, Any]) -> list[str]:
    """Per sweep, the change of the held-out average from its smallest setting to all,
    against the paper's reading."""
    points = appendix_b_points(document)
    lines = []
    for axis, noun in (("datasets", "datasets per cluster"),
                       ("templates", "templates per dataset")):
        ps = points[axis]
        paper_dir, paper_text = PAPER_APPENDIX_B[axis]
        if len(ps) < 2:
            lines.append(f"- **{noun}**: fewer than two settings published; the paper: "
                         f"{paper_text}.")
            continue
        what = f"{ps[0]['label']} -> {ps[-1]['label']} {noun}, held-out average"
        lines.append(direction_line(what, change(document, ps[0]["setting"],
                                                 ps[-1]["setting"]), paper_text, paper_dir))
    return lines


def plot_appendix_b(document: Mapping[str, Any]):
    """One panel per sweep: the tuned held-out average (95% intervals) per setting, the
    untuned base's average as a line with its band, and the paper's reading as text."""
    import matplotlib.pyplot as plt

    points = appendix_b_points(document)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, (axis, noun) in zip(axes, (("datasets", "datasets per cluster"),
                                       ("templates", "templates per dataset"))):
        ps = [p for p in points[axis] if p["tuned"]]
        xs = list(range(len(ps)))
        ax.errorbar(xs, [p["tuned"]["mean"] for p in ps], yerr=yerr([p["tuned"] for p in ps]),
                    fmt="s-", color="k", capsize=4, label="tuned, held-out average")
        base = ps[0]["base"] if ps else None
        if base:
            ax.axhline(base["mean"], color="0.4", ls="--", label="untuned base")
            ax.axhspan(base["ci_low"], base["ci_high"], color="0.8", alpha=0.5)
        ax.set_xticks(xs, [p["label"] for p in ps], fontsize=8)
        ax.set_xlabel(noun)
        ax.set_title(f"{noun}\nthe paper: {PAPER_APPENDIX_B[axis][1]}", fontsize=8)
    axes[0].set_ylabel("held-out average (%)")
    axes[0].legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    fig.tight_layout()
    return fig


# -- metrics and the chapter's text ----------------------------------------------------------

def slug(text: Any) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in str(text)).strip("_")


def figure_metrics(name: str, document: Mapping[str, Any]) -> dict[str, float]:
    """Flat means for run.record: `<figure>/<point>/average` (tuned) and `.../base`."""
    out = {}
    if name == "figure6":
        for p in figure6_points(document):
            for model in ("tuned", "base"):
                if p[model]:
                    out[f"figure6/clusters{p['clusters']}/{model}"] = p[model]["mean"]
    elif name == "figure8":
        for b in figure8_bars(document):
            for model in ("tuned", "base"):
                if b[model]:
                    out[f"figure8/{slug(b['tuning'])}/{slug(b['eval'])}/{model}"] = \
                        b[model]["mean"]
    else:
        for axis, ps in appendix_b_points(document).items():
            for p in ps:
                if p["tuned"]:
                    out[f"appendix_b/{axis}/{slug(p['label'])}/tuned"] = p["tuned"]["mean"]
    return out


def seeds_text(count: int) -> str:
    return f"{count} seed" + ("" if count == 1 else "s")


def caption(document: Mapping[str, Any]) -> str:
    """Seeds, examples, datasets and templates of a published figure, and where it is from."""
    entries = [c for c in document["clusters"] if eval_format(c) == ZERO_SHOT]
    seeds = sorted({c["num_seeds"] for c in entries})
    per_cluster = {c["cluster"]: c for c in entries}
    scores = _scores(document)
    lengths = {}
    for (run, dataset, fmt), values in scores.items():
        if fmt == ZERO_SHOT:
            lengths.setdefault(dataset, len(values))
    names = [d for c in per_cluster.values() for d in own_datasets(c)]
    examples = (sum(lengths[d] for d in names) if all(d in lengths for d in names)
                else sum(c["num_examples"] for c in per_cluster.values()))
    datasets = len(names)
    counts = sorted({c["num_templates"][d] for c in per_cluster.values()
                     for d in own_datasets(c) if d in c["num_templates"]})
    templates = (f"{counts[0]}" if counts[0] == counts[-1] else f"{counts[0]}-{counts[-1]}")
    prov = document["provenance"]
    seeds_words = (seeds_text(seeds[0]) if len(seeds) == 1
                   else f"{'/'.join(map(str, seeds))} seeds")
    return (f"{seeds_words.replace(' seed', ' tuning seed')} per point; {examples} test examples "
            f"of {datasets} datasets in {len(per_cluster)} held-out clusters, "
            f"{templates} templates each; from {document['plan']} at "
            f"commit {prov['commit'][:10]}, published {prov['date'][:10]}.")


def model_params(*documents: Mapping[str, Any] | None) -> int | None:
    """Parameters of the pretrained model the published plans tuned (07's metrics)."""
    for doc in documents:
        for r in (doc or {}).get("provenance", {}).get("runs", []):
            if r["notebook"].startswith("07_") and isinstance(r["metrics"].get("params"), int):
                return r["metrics"]["params"]
    return None


def scale_markdown(documents: Mapping[str, Mapping[str, Any] | None]) -> str:
    """What our scale can and cannot show, with the interval widths the published figures
    reached (the smallest effect each could see)."""
    params = model_params(*documents.values())
    model = ((f"a {params / 1e6:.1f}M" if params >= 1e5 else f"a {params:,}")
             + "-parameter model" if params else "a model of about 1M parameters")
    steps = splits.figure6_plan("tinyworld")  # TinyWorld's Figure 6 steps
    ratio = f"{PAPER_MODEL_PARAMS / params:,.0f}" if params else "about 100,000"
    widths = []
    for name, doc in documents.items():
        if doc is None:
            continue
        halves = [p["tuned"]["ci_high"] - p["tuned"]["ci_low"] for p in
                  (figure6_points(doc) if name == "figure6" else
                   figure8_bars(doc) if name == "figure8" else
                   [q for ps in appendix_b_points(doc).values() for q in ps]) if p["tuned"]]
        if halves:
            widths.append(f"{name} {min(halves) / 2:.1f}-{max(halves) / 2:.1f}")
    width_text = ("; ".join(widths) + " points (half-widths of the held-out averages' "
                  "intervals)") if widths else "not known until a figure is published"
    return "\n".join([
        f"- **Can show:** the direction of each effect on {model} tuned on "
        "TinyWorld, whenever the effect is larger than the intervals: " + width_text + ". "
        "Effects are read from paired per-example changes, narrower than these.",
        f"- **Cannot show:** effects of the paper's size at the paper's scale. Its model has "
        f"{ratio} times more parameters, and its Figure 7 finds that instruction tuning *hurts* "
        "held-out clusters at 8B parameters and below: at our size the paper itself would not "
        "predict its Figure 6 curve. TinyWorld's clusters share one small world and "
        "vocabulary, so a cluster added to tuning is closer to the held-out ones than the "
        f"paper's are; and TinyWorld has no conversational QA, so our curve stops at "
        f"{len(steps)} clusters ({len(steps[-1].train)} datasets) where the paper's has "
        f"{PAPER_FIGURE6['clusters'][-1]} ({PAPER_FIGURE6['datasets'][-1]}).",
        "- **No detectable effect is not no effect:** an interval containing 0 says the "
        "effect is smaller than its width, nothing more.",
    ])
