"""Chapter 13 (few-shot exemplars and prompt tuning, the paper's Figures 9 and 10): its config,
the two figures and the sentences the chapter draws from the published results.

Figure 9 is a held-out plan whose evaluation adds `shots` (`notebooks/plans/figure9.yaml`,
published by `flan_nb.results`); Figure 10 is a prompt-tuning plan (`figure10.yaml`, published
by `flan_nb.prompt_results`). Every verdict reads a 95% interval of the published document;
nothing is compared with a fixed threshold, and no number is typed in here.
"""

from __future__ import annotations

import dataclasses
import statistics
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from flan_nb import plans, prompt_results, results, stats, tasks
from flan_nb.chapters import published as published_lib
from flan_nb.chapters.published import Published, check_plan_file, format_interval
from flan_nb.chapters.published import load_published, yerr
from flan_nb.formats import parse_eval_format
from flan_nb.params import book_path, require
from flan_nb.report import MODEL_COLORS

CHAPTER = "13_few_shot_and_prompt_tuning"

# The paper's readings (PAPER.md; the figures' values are not given in the text).
PAPER_FIGURE9 = ("few-shot exemplars help FLAN most on struct-to-text, translation and "
                 "closed-book QA, and lower the spread over templates (error bars: standard "
                 "deviation over templates)")
PAPER_FIGURE9_MOST = ("struct_to_text", "translation", "closed_book_qa")
PAPER_FIGURE10 = ("prompt tuning works better from FLAN than from the base LM in every "
                  "setting, by more than 10 points with 32 training examples")
PAPER_FIGURE10_MARGIN = 10.0  # points, FLAN over the base LM with 32 examples (the paper)
# Rough time each plan takes here (2 cores), from its plan file's estimate.
PLAN_MINUTES = {"figure9": "about 30 minutes here; 25 more if book.yaml's runs are missing",
                "figure10": "about 55 minutes here; 25 more if book.yaml's runs are missing"}


@dataclasses.dataclass(frozen=True)
class FewShotPromptTuningConfig:
    """Notebook 13's parameters (one field per parameter), validated on construction."""

    figure9_plan: str  # the few-shot plan
    figure10_plan: str  # the prompt-tuning plan
    run_plan: bool  # run the plans' missing runs and publish them first

    def __post_init__(self):
        for name in ("figure9_plan", "figure10_plan"):
            check_plan_file(getattr(self, name), name.upper(),
                            f"plans/{name.split('_')[0]}.yaml")
        require(isinstance(self.run_plan, bool),
                f"RUN_PLAN must be True or False, got {self.run_plan!r}")
        require(not prompt_results.is_prompt_tuning_plan(plans.load_plan(self.figure9_path())),
                f"FIGURE9_PLAN {self.figure9_plan!r} is a prompt-tuning plan; give the "
                f"few-shot one (plans/figure9.yaml)")
        require(prompt_results.is_prompt_tuning_plan(plans.load_plan(self.figure10_path())),
                f"FIGURE10_PLAN {self.figure10_plan!r} has no evaluation.prompt_tuning "
                f"section; give the prompt-tuning one (plans/figure10.yaml)")

    def figure9_path(self) -> Path:
        return Path(book_path(self.figure9_plan))

    def figure10_path(self) -> Path:
        return Path(book_path(self.figure10_plan))


def run_and_publish(path: str | Path, echo=print) -> None:
    """Run a plan's missing runs and publish it (what `flan-nb batch PLAN --publish` does)."""
    plan = plans.load_plan(path)
    publisher = prompt_results if prompt_results.is_prompt_tuning_plan(plan) else results
    publisher.check_publishable(plan)
    outcomes = plans.run_plan(plan, echo=echo)
    failed = [o.planned.name for o in outcomes if o.status == plans.FAILED]
    if failed:
        raise RuntimeError(f"runs failed: {failed}")
    publisher.publish(plan, progress=False)


def not_run_markdown(published: Published, figure: str) -> str:
    """One line for a plan never published: what is missing and the command that makes it."""
    minutes = PLAN_MINUTES.get(published.plan.stem, "")
    return (f"**{figure}: not run yet.** Run `{published.command}`"
            f"{f' ({minutes})' if minutes else ''} to publish "
            f"`results/{published.plan.stem}.json`; this page then renders it.")


def change_warnings(published: Published) -> list[str]:
    """The shared warnings (`flan_nb.chapters.published`), then the command that republishes."""
    lines = published_lib.change_warnings(published.changes)
    return lines + [f"WARNING: republish with {published.command}"] if lines else []


# -- Figure 9: few-shot ----------------------------------------------------------------------

def formats_of(document: Mapping[str, Any]) -> list[str]:
    """The evaluation formats of a published few-shot plan: zero-shot, then few-shot-K."""
    return list(dict.fromkeys(c.get("eval_format", "zero-shot") for c in document["clusters"]))


def shots_of(label: str) -> int:
    return parse_eval_format(label)[1]


def format_label(label: str) -> str:
    k = shots_of(label)
    return "zero-shot" if k == 0 else f"{k}-shot"


def _group(document, cluster: str, fmt: str) -> Mapping[str, Any]:
    return next(c for c in document["clusters"]
                if c["cluster"] == cluster and c.get("eval_format", "zero-shot") == fmt)


def _runs(document, cluster: str, fmt: str) -> dict[str, list[str]]:
    """The runs of each model of one (cluster, format) group: tuned per seed, base per seed."""
    by_name = {r["name"]: r for r in document["provenance"]["runs"]}
    group = _group(document, cluster, fmt)
    tuned = [r["name"] for r in document["provenance"]["runs"]
             if r["notebook"].startswith("08_") and cluster in str(
                 r["parameters"].get("HELD_OUT", "")).split(",")
             and r["parameters"].get("SEED") in group["seeds"]]
    base = [str(by_name[t]["parameters"].get("BASE_RUN")) for t in tuned]
    return {"tuned": tuned, "base": base}


def _score(document, run: str, dataset: str, fmt: str) -> Mapping[str, Any]:
    return next(s for s in document["scores"]
                if s["run"] == run and s["dataset"] == dataset
                and s.get("format", "zero-shot") == fmt)


def template_spread(per_template: Mapping[Any, float]) -> float:
    """Standard deviation over templates (the paper's Figure 9 error bars): the sample
    standard deviation of the per-template scores, 0 for a single template."""
    values = list(per_template.values())
    return statistics.stdev(values) if len(values) > 1 else 0.0


def cluster_template_spread(document, cluster: str, fmt: str, model: str) -> float:
    """The spread over templates of a cluster's score: per template, the test score averaged
    over the cluster's datasets and the model's seeds, then its standard deviation."""
    group = _group(document, cluster, fmt)
    runs = list(dict.fromkeys(_runs(document, cluster, fmt)[model]))
    by_template: dict[str, list[float]] = {}
    for dataset in group["datasets"]:
        for run in runs:
            for t, v in _score(document, run, dataset, fmt)["per_template"]["test"].items():
                by_template.setdefault(t, []).append(v)
    return template_spread({t: statistics.fmean(v) for t, v in by_template.items()})


def shot_gain(document, cluster: str, fmt: str, model: str = "tuned") -> stats.Interval:
    """Few-shot minus zero-shot for one model on one cluster, example by example and seed by
    seed (the same examples are scored in both formats), with its 95% interval."""
    group = _group(document, cluster, fmt)
    runs = _runs(document, cluster, fmt)[model]
    runs = list(dict.fromkeys(runs)) if model == "base" else runs
    per_dataset = []
    for dataset in group["datasets"]:
        per_dataset.append([[f - z for f, z in zip(
            _score(document, run, dataset, fmt)["test_per_example"],
            _score(document, run, dataset, "zero-shot")["test_per_example"])]
            for run in runs])
    return stats.mean_interval(per_dataset)


def figure9_rows(document) -> list[dict[str, Any]]:
    """Per held-out cluster and format: base and FLAN (tuned) means with their 95% intervals
    and spreads over templates, and the few-shot gain of FLAN over its zero-shot score."""
    rows = []
    for cluster in dict.fromkeys(c["cluster"] for c in document["clusters"]):
        for fmt in formats_of(document):
            group = _group(document, cluster, fmt)
            row = {"cluster": cluster, "prompt": format_label(fmt)}
            for model, name in (("base", "base"), ("tuned", "FLAN")):
                row[name] = format_interval(group[model])
                row[f"{name} std"] = round(cluster_template_spread(document, cluster, fmt,
                                                                   model), 1)
            row["FLAN gain vs 0-shot"] = ("-" if fmt == "zero-shot"
                                          else format_interval(shot_gain(document, cluster, fmt)))
            rows.append(row)
    return rows


def figure9_metrics(document) -> dict[str, float]:
    """What the notebook records: per cluster and format, each model's mean and spread."""
    out = {}
    for c in document["clusters"]:
        fmt = c.get("eval_format", "zero-shot")
        for model in ("base", "tuned"):
            key = f"figure9/{c['cluster']}/{format_label(fmt)}/{model}"
            out[key] = c[model]["mean"]
            out[f"{key}/template_std"] = round(cluster_template_spread(
                document, c["cluster"], fmt, model), 2)
    return out


def plot_figure9(document, title: str):
    """Per held-out cluster (columns): base and FLAN per prompt format, bars with 95%
    intervals over examples and seeds; grey whiskers: the spread over templates (std)."""
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(c["cluster"] for c in document["clusters"]))
    fmts = formats_of(document)
    fig, axes = plt.subplots(1, len(names), figsize=(2.9 * len(names) + 0.6, 3.4),
                             squeeze=False, sharey=True)
    width = 0.38
    for j, cluster in enumerate(names):
        ax = axes[0][j]
        for k, (model, label) in enumerate((("base", "base LM"), ("tuned", "FLAN"))):
            xs = np.arange(len(fmts)) + (k - 0.5) * width
            groups = [_group(document, cluster, f)[model] for f in fmts]
            means = [g["mean"] for g in groups]
            ax.bar(xs, means, width, color=MODEL_COLORS[model], yerr=yerr(groups), capsize=3,
                   label=f"{label} (95% CI)" if j == 0 else None)
            spread = [cluster_template_spread(document, cluster, f, model) for f in fmts]
            ax.errorbar(xs + width / 4, means, yerr=spread, fmt="none", ecolor="0.45",
                        elinewidth=0.8, capsize=0,
                        label="std over templates" if j == 0 and k == 0 else None)
        ax.set_xticks(range(len(fmts)), [format_label(f) for f in fmts], fontsize=8)
        ax.set_title(cluster, fontsize=9)
    axes[0][0].set_ylabel("held-out score (%)")
    fig.suptitle(title, fontsize=10)
    fig.legend(fontsize=7, ncol=3, loc="lower center", bbox_to_anchor=(0.5, -0.08))
    fig.tight_layout()
    return fig


def _source(document) -> str:
    prov = document["provenance"]
    return (f"published from `{document['plan']}` at commit {prov['commit'][:12]} on "
            f"{prov['date'][:10]} (`{prov['regenerate']}`)")


def figure9_caption(document) -> str:
    """What Figure 9 shows and how many seeds, examples and templates it rests on."""
    c = document["clusters"][0]
    templates = sorted({n for g in document["clusters"] for n in g["num_templates"].values()})
    spread = (f"{templates[0]}" if len(templates) == 1
              else f"{templates[0]} to {templates[-1]}")
    examples = ", ".join(f"{g['cluster']} {g['num_examples']}" for g in document["clusters"]
                         if g.get("eval_format", "zero-shot") == "zero-shot")
    return (f"Figure 9 (ours): held-out score per cluster and prompt; bars: mean with a 95% "
            f"bootstrap interval over test examples and {c['num_seeds']} tuning seeds; grey: "
            f"standard deviation over templates ({spread} per dataset); test examples: "
            f"{examples}; {_source(document)}.")


def figure10_caption(document) -> str:
    r = document["settings"][0]
    split = {x.get("split", "test") for x in document["records"]}
    return (f"Figure 10 (ours): accuracy after prompt tuning from the base LM and from "
            f"FLAN (tuned without the dataset's cluster); mean with a 95% bootstrap interval "
            f"over {r['num_test']} {'/'.join(sorted(split))} examples per dataset and "
            f"{r['num_seeds']} seeds; {_source(document)}.")


def figure9_lines(document) -> list[str]:
    """The reading of Figure 9 from the intervals: per cluster and k, whether exemplars help
    FLAN (the interval of the paired gain), and whether they lower the spread over templates
    (the two spreads side by side; the results keep no interval for a spread)."""
    lines = []
    for cluster in dict.fromkeys(c["cluster"] for c in document["clusters"]):
        zero = cluster_template_spread(document, cluster, "zero-shot", "tuned")
        for fmt in formats_of(document)[1:]:
            gain = shot_gain(document, cluster, fmt)
            spread = cluster_template_spread(document, cluster, fmt, "tuned")
            way = {stats.HELPS: "help", stats.HURTS: "hurt",
                   stats.NO_CHANGE: "make no detectable change to"}[stats.verdict(gain)]
            change = ("lower" if spread < zero else "raise" if spread > zero else "keep")
            lines.append(f"- {cluster}, {format_label(fmt)}: exemplars {way} FLAN "
                         f"({format_interval(gain)} points) and {change} its spread over "
                         f"templates ({zero:.1f} -> {spread:.1f}).")
    return lines


def pruning_lines(document) -> list[str]:
    """What pruning to the input length did, per format (the published few_shot_prompts)."""
    out = []
    for fmt, log in (document.get("few_shot_prompts") or {}).items():
        kept = log["exemplars_kept"] / max(log["prompts"], 1)
        out.append(f"- {format_label(fmt)}: {log['prompts']} prompts pruned to "
                   f"{log['max_input_tokens']} input tokens kept {kept:.2f} of "
                   f"{shots_of(fmt)} exemplars on average ({log['exemplars_kept']} of "
                   f"{log['exemplars_asked']}); {log['over_budget']} examples were too long "
                   f"even alone (zero-shot, cut at their end).")
    return out


def figure9_paper_markdown(document) -> str:
    """The paper's reading beside ours: for the clusters both have, the direction."""
    ours = {c["cluster"] for c in document["clusters"]}
    shared = [c for c in PAPER_FIGURE9_MOST if c in ours]
    missing = [c for c in PAPER_FIGURE9_MOST if c not in ours]
    text = [f"**The paper:** {PAPER_FIGURE9}.", "", "**Ours:**", *figure9_lines(document)]
    if missing:
        text += ["", f"Not in this plan (no held-out run): {', '.join(missing)}; of the "
                     f"clusters the paper names, this plan has "
                     f"{', '.join(shared) or 'none'}."]
    return "\n".join(text)


# -- Figure 10: prompt tuning ----------------------------------------------------------------

def figure10_metrics(document) -> dict[str, float]:
    out = {}
    for r in document["overall"]:
        for model in ("base", "tuned", "difference"):
            out[f"figure10/n{r['num_examples']}/{model}"] = r[model]["mean"]
    return out


def plot_figure10(document, title: str):
    """Prompt-tuning accuracy from the base LM and from FLAN per training-set size: the
    average over datasets (left) and per dataset (right), 95% intervals."""
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(r["dataset"] for r in document["settings"]))
    fig, axes = plt.subplots(1, 1 + len(datasets), figsize=(2.3 * (1 + len(datasets)) + 0.6,
                                                            3.3), squeeze=False, sharey=True)
    panels = [("average", document["overall"])] + [
        (d, [r for r in document["settings"] if r["dataset"] == d]) for d in datasets]
    width = 0.38
    for j, (name, rows) in enumerate(panels):
        ax = axes[0][j]
        for k, (model, label) in enumerate((("base", "from the base LM"),
                                            ("tuned", "from FLAN"))):
            xs = np.arange(len(rows)) + (k - 0.5) * width
            ax.bar(xs, [r[model]["mean"] for r in rows], width, color=MODEL_COLORS[model],
                   yerr=yerr([r[model] for r in rows]),
                   capsize=3, label=f"{label} (95% CI)" if j == 0 else None)
        ax.set_xticks(range(len(rows)), [f"n={r['num_examples']}" for r in rows], fontsize=8)
        ax.set_title(name, fontsize=9)
    axes[0][0].set_ylabel("test accuracy (%)")
    fig.suptitle(title, fontsize=10)
    fig.legend(fontsize=7, ncol=2, loc="lower center", bbox_to_anchor=(0.5, -0.08))
    fig.tight_layout()
    return fig


def margin_reading(difference: Mapping[str, float], margin: float) -> str:
    """Where an interval of FLAN - base lies against the paper's margin."""
    if difference["ci_low"] > margin:
        return f"more than {margin:g} points, as the paper"
    if difference["ci_high"] < margin:
        return f"less than the paper's {margin:g} points"
    return f"not distinguishable from {margin:g} points"


def figure10_lines(document) -> list[str]:
    """Our reading of Figure 10 from the intervals: per setting the direction of FLAN -
    base, how many settings FLAN wins, and the 32-example margin against the paper's."""
    lines = []
    for r in document["overall"]:
        lines.append(f"- n = {r['num_examples']}, averaged over {len(r['datasets'])} "
                     f"datasets: FLAN - base {format_interval(r['difference'])}: {r['verdict']}.")
    rows = document["settings"]
    wins = sum(r["verdict"] == stats.HELPS for r in rows)
    losses = sum(r["verdict"] == stats.HURTS for r in rows)
    lines.append(f"- Per dataset and size: FLAN better in {wins} of {len(rows)} settings, "
                 f"worse in {losses}, no detectable change in {len(rows) - wins - losses}.")
    for r in document["overall"]:
        if str(r["num_examples"]) == "32":
            lines.append(f"- With 32 examples the gain is "
                         f"{margin_reading(r['difference'], PAPER_FIGURE10_MARGIN)}.")
    floored = floor_settings(document)
    if floored:
        lines.append(f"- At the floor: in {len(floored)} of {len(rows)} settings "
                     f"({', '.join(floored)}) both start models' intervals contain the "
                     f"majority-class floor of the scored examples: the prompt learned nothing "
                     f"that beats always giving the commonest label, from either model, so "
                     f"those settings cannot test the paper's reading.")
    return lines


def floor_settings(document) -> list[str]:
    """The (dataset, n) settings whose base and FLAN intervals both contain the majority-class
    floor of the test examples scored (`flan_nb.results.floors_on`; TinyWorld only)."""
    ev = document["evaluation"]["prompt_tuning"]
    seed, size = ev.get("seed", 0), ev.get("size", "book")  # as prompt_results.Settings
    majority: dict[str, float] = {}  # per dataset, once: each is scored at several sizes
    for name in dict.fromkeys(r["dataset"] for r in document["settings"]):
        if tasks.get(name).source != "tinyworld":
            continue  # no floors without TinyWorld's labels (results.floors_on)
        examples = tasks.load_examples(name, "test", seed=seed, size=size,
                                       limit=ev.get("max_test_examples"))
        floors = results.floors_on(name, examples, size=size, seed=seed)
        if floors:
            majority[name] = floors["majority"]
    return [f"{r['dataset']} n={r['num_examples']}" for r in document["settings"]
            if r["dataset"] in majority and all(
                r[m]["ci_low"] <= majority[r["dataset"]] <= r[m]["ci_high"]
                for m in ("base", "tuned"))]


def figure10_paper_markdown(document) -> str:
    return "\n".join([f"**The paper:** {PAPER_FIGURE10}.", "", "**Ours:**",
                      *figure10_lines(document)])
