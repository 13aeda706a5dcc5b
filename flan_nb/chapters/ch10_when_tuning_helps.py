"""Chapter 10 (when does instruction tuning help?): its config, the sweep figures and the
sentences the chapter draws from published sweeps.

A sweep is a plan (`notebooks/plans/when_tuning_helps*.yaml`) published to
`results/<plan-stem>.json` by `flan-nb batch PLAN --publish` (`flan_nb.results`). Each of its
held-out comparisons has a `setting`: the values the sweep varies (the base run for the
pretraining-length sweep, NUM_TUNING_TASKS for the task-count sweep). Every conclusion here reads
the 95% intervals of the published document; nothing compares a number with a fixed threshold.
"""

from __future__ import annotations

import dataclasses
import math
import os
import textwrap
from pathlib import Path
from typing import Any, Mapping, Sequence

from flan_nb import results, stats, tinyworld
from flan_nb.chapters import ch12_model_scale as ch12  # owns the model-size sweep (Figure 7)
# Loading a published plan, its "not run yet" text and interval helpers are shared with
# chapter 11 (flan_nb.chapters.published); the names chapter 10 always used stay importable.
from flan_nb.chapters.published import Published as Sweep
from flan_nb.chapters.published import change_warnings, check_plan_file, clusters, compare
from flan_nb.chapters.published import json_key, probe_cells
from flan_nb.chapters.published import load_published as load_sweep
from flan_nb.chapters.published import not_run_markdown, retrained_markdown, settings
from flan_nb.chapters.published import format_interval
from flan_nb.chapters.published import yerr as _yerr
from flan_nb.errors import UserError, require
from flan_nb.params import book_path
from flan_nb.report import MODEL_COLORS, MODEL_LABELS

CHAPTER = "10_when_tuning_helps"
ISSUE_TARGET = 3  # the chapter's goal: 3 held-out clusters with the difference's CI above 0
# A 95% interval lies wholly above zero with this probability when nothing changes (the upper
# tail of a two-sided interval): the multiple-comparisons yardstick of `chance_of_helps`.
CHANCE_HELPS = 0.025

# The paper's findings this chapter is compared with (PAPER.md; values as published).
# Section 4.1: tuning helps tasks naturally verbalised as instructions and little on tasks
# posed as language modelling (sentence completion), where instructions are largely redundant.
PAPER_INSTRUCTION_CLUSTERS = ("nli", "reading_comprehension", "closed_book_qa", "translation",
                              "struct_to_text")
PAPER_LM_CLUSTERS = ("commonsense", "coreference")
PAPER_FIGURE6 = {"clusters": [1, 2, 3, 4, 5, 6, 7],
                 "average": [49.9, 55.0, 59.3, 59.2, 60.8, 61.9, 63.5]}
FLAN2022_TASKS = [9, 89, 282, 1836]
FLAN_T5_SMALLEST = 80e6  # parameters of Flan-T5's smallest model (Flan 2022)
FIGURE7_SIZES = [422e6, 2e9, 8e9, 68e9, 137e9]  # tuning hurts at 8B and below, helps above


SWEEP_PLAN = "plans/when_tuning_helps_{}.yaml"  # a sweep's plan, from its short name
# The model-size sweep is chapter 12's (Figure 7); this chapter reads its held-out panel.
FIGURE7_PLANS = ("plans/figure7_tiny.yaml", "plans/figure7_small.yaml")

# Section titles of the known sweeps (another sweep is titled by its plan's description).
KNOB_TITLES = {
    "when_tuning_helps_pretraining": "Pretraining length: does the base know its world?",
    "when_tuning_helps_tasks": "Number of tuning tasks (Flan 2022's axis)",
    "when_tuning_helps_corpus": "What the corpus contains: documents that ask questions",
    "when_tuning_helps_tuning_steps": "Tuning length",
    "when_tuning_helps_tuning_steps_other": "Tuning length, the other seven clusters",
    "when_tuning_helps_options": "Shared answer spaces: the options suffix in tuning prompts",
    "when_tuning_helps_smoke": "Pretraining length, smoke-sized (a test of the path)",
}


@dataclasses.dataclass(frozen=True)
class WhenTuningHelpsConfig:
    """Notebook 10's parameters (one field per parameter), validated on construction."""

    sweeps: list  # short names: "tasks" is notebooks/plans/when_tuning_helps_tasks.yaml
    reference_plan: str  # the book's held-out plan, shown as the reference regime
    run_plan: bool  # rerun the sweep plans' unfinished runs and republish first

    def __post_init__(self):
        require(isinstance(self.sweeps, (list, tuple)) and len(self.sweeps) > 0
                and all(isinstance(s, str) and s for s in self.sweeps),
                f"SWEEPS must be a non-empty list of sweep names (e.g. ['pretraining']), got "
                f"{self.sweeps!r}")
        for name in self.sweeps:
            path = book_path(SWEEP_PLAN.format(name))
            if not os.path.isfile(path):
                known = sorted(p.stem.removeprefix("when_tuning_helps_") for p in
                               Path(book_path("plans")).glob("when_tuning_helps_*.yaml"))
                require(False, f"SWEEPS: no plan {SWEEP_PLAN.format(name)!r} for sweep "
                               f"{name!r}; the sweeps are {', '.join(known)}")
        check_plan_file(self.reference_plan, "REFERENCE_PLAN", "plans/book.yaml")
        require(isinstance(self.run_plan, bool),
                f"RUN_PLAN must be True or False, got {self.run_plan!r}")

    def plan_paths(self) -> list[Path]:
        return [Path(book_path(SWEEP_PLAN.format(name))) for name in self.sweeps]

    def reference_path(self) -> Path:
        return Path(book_path(self.reference_plan))


def knob_title(sweep: "Sweep") -> str:
    return KNOB_TITLES.get(sweep.stem, sweep.plan.description)


# -- settings --------------------------------------------------------------------------------

def _run_parameters(document: Mapping[str, Any], run: str) -> dict[str, Any]:
    for r in document["provenance"]["runs"]:
        if r["name"] == run:
            return r.get("parameters", {})
    return {}


def _bases(document: Mapping[str, Any]) -> list[str]:
    """The base runs the document's settings name, sorted."""
    return sorted({str(c["setting"]["BASE_RUN"]) for c in document["clusters"]
                   if "BASE_RUN" in c["setting"]})


def _base_knobs(document: Mapping[str, Any]) -> list[str]:
    """Notebook 07's parameters that differ between the document's bases (NUM_STEPS when
    none does: the one base is labelled by its length)."""
    values = [_run_parameters(document, b) for b in _bases(document)]
    keys = sorted({k for v in values for k in v})
    return [k for k in keys if len({repr(v.get(k)) for v in values}) > 1] or ["NUM_STEPS"]


def _generated_corpus(value: str) -> tuple[str, str] | None:
    """(size, mix) of a TinyWorld CORPUS value, None for anything else."""
    try:
        return tinyworld.parse_corpus(value)
    except UserError:
        return None


def _base_label(document: Mapping[str, Any], run: str) -> str:
    params = _run_parameters(document, run)
    parts = []
    for key in _base_knobs(document):
        value = params.get(key)
        if key == "NUM_STEPS" and isinstance(value, int):
            parts.append(f"{value:,} pretraining steps")
        elif key == "CORPUS" and isinstance(value, str) and value.startswith("tinyworld/"):
            parsed = _generated_corpus(value)
            if parsed is None:  # a mix renamed since publishing: show the value as recorded
                parts.append(f"CORPUS={value}")
                continue
            size, mix = parsed
            sizes = {(_generated_corpus(str(_run_parameters(document, b).get("CORPUS"))) or
                      ("",))[0] for b in _bases(document)}
            parts.append(f"corpus mix {mix}" + (f" ({size})" if len(sizes) > 1 else ""))
        elif value is not None:
            parts.append(f"{key}={value}")
    return ", ".join(parts) or f"base {run}"


def setting_label(document: Mapping[str, Any], setting: Mapping[str, Any]) -> str:
    """A setting in words: "1,200 pretraining steps", "corpus mix no-questions", "9 tuning
    tasks" (a base is named by what differs between the document's bases)."""
    parts = []
    for key, value in setting.items():
        if key == "BASE_RUN":
            parts.append(_base_label(document, str(value)))
        elif key == "OPTIONS_SUFFIX":
            parts.append("tuned with the options suffix" if value
                         else "tuned without any options list")
        elif key == "NUM_STEPS":  # a setting of the tuning runs: their length
            parts.append(f"{value:,} tuning steps")
        elif key == "NUM_TUNING_TASKS":
            parts.append("the split's datasets" if value == 0 else f"{value} tuning tasks")
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts) or "the plan's one setting"


def slug(text: str) -> str:
    """A metric-name-safe form of a label: "1,200 steps" -> "1_200_steps"."""
    return "".join(ch if ch.isalnum() else "_" for ch in text).strip("_")


def sweep_metrics(stem: str, document: Mapping[str, Any]) -> dict[str, float]:
    """Flat `<stem>/<setting>/<cluster>/<model>` means (base, tuned, difference) for
    run.record, and the number of clusters each setting helps."""
    out = {}
    for c in document["clusters"]:
        key = f"{stem}/{slug(setting_label(document, c['setting']))}/{c['cluster']}"
        for model in ("base", "tuned", "difference"):
            out[f"{key}/{model}"] = c[model]["mean"]
    for setting in settings(document):
        helped = [c for c in document["clusters"]
                  if c["setting"] == setting and c["verdict"] == stats.HELPS]
        out[f"{stem}/{slug(setting_label(document, setting))}/clusters_helped"] = len(helped)
    return out


# -- tables ----------------------------------------------------------------------------------

def sweep_rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per (setting, cluster): base, tuned, difference with intervals, verdict, floor
    (no setting column for a plan with one setting)."""
    several = len(settings(document)) > 1
    return [{**({"setting": setting_label(document, c["setting"])} if several else {}),
             "cluster": c["cluster"],
             "seeds": c["num_seeds"], "base": format_interval(c["base"]),
             "tuned": format_interval(c["tuned"]),
             "tuned - base": format_interval(c["difference"]), "verdict": c["verdict"],
             "majority floor": c.get("majority_floor")} for c in document["clusters"]]


def floor_rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per dataset (once: every setting scores the same examples) the floors on the examples
    scored; generation datasets have none."""
    rows: dict[str, dict[str, Any]] = {}
    for d in document["datasets"]:
        floors = d.get("floors") or {}
        rows.setdefault(d["dataset"], {
            "dataset": d["dataset"], "cluster": d["cluster"], "metric": d["metric"],
            "examples": d["num_examples"], "templates": d["num_templates"],
            "majority": floors.get("majority"), "random": floors.get("random")})
    return list(rows.values())


def one_answer_rows(document: Mapping[str, Any], top: int = 3) -> list[dict[str, Any]]:
    """Every (setting, dataset, model) whose model gives one answer to over 90% of the
    examples, with its most frequent answers and their shares."""
    rows = []
    for d in document["datasets"]:
        for model in results.MODELS:
            hist = d[f"{model}_figures"]["histogram"]
            if not hist["dominant"]:
                continue
            answers = list(hist["answers"].items())[:top]
            rows.append({"setting": setting_label(document, d["setting"]),
                         "dataset": d["dataset"], "model": model,
                         "answers (share)": ", ".join(
                             f"{(a[:16] or '(empty)')!r} {n / hist['total']:.0%}"
                             for a, n in answers)})
    return rows


def probe_rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The knowledge probe per base (its pretraining length in words) and model."""
    rows = []
    for p in document.get("probe", []):
        base = p.get("base_run")
        label = setting_label(document, {"BASE_RUN": base}) if base else "the base"
        rows.append({"base": label, "model": p["model"], **probe_cells(p)})
    return rows


# -- reading intervals -----------------------------------------------------------------------

def _names(items: Sequence[str]) -> str:
    items = list(items)
    if not items:
        return "none"
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]


def verdict_lines(document: Mapping[str, Any]) -> list[str]:
    """Per setting: the clusters tuning helps, hurts, and leaves unchanged (from intervals)."""
    lines = []
    for setting in settings(document):
        rows = [c for c in document["clusters"] if c["setting"] == setting]
        label = setting_label(document, setting) if setting else "every held-out cluster"
        by = {v: [f"{c['cluster']} ({c['difference']['mean']:+.1f})" for c in rows
                  if c["verdict"] == v] for v in (stats.HELPS, stats.HURTS, stats.NO_CHANGE)}
        lines.append(f"- **{label}** ({rows[0]['num_seeds']} "
                     f"seeds): tuning helps on {_names(by[stats.HELPS])}; hurts on "
                     f"{_names(by[stats.HURTS])}; no detectable change on "
                     f"{_names(by[stats.NO_CHANGE])}.")
    return lines


def _tuned_runs(document: Mapping[str, Any], setting: Mapping[str, Any],
                cluster: str) -> list[tuple[str, str]]:
    """(tuned run, its base run) of one (setting, cluster), in plan (seed) order."""
    ev = document.get("evaluation", {})
    notebook = ev.get("tuning_notebook", "08_instruction_tuning")
    held, base = ev.get("held_out_parameter", "HELD_OUT"), ev.get("base_parameter", "BASE_RUN")
    out = []
    for r in document["provenance"]["runs"]:
        values = r.get("parameters", {})
        if (Path(r["notebook"]).stem == notebook and values.get(held) == cluster
                and all(values.get(k) == v for k, v in setting.items())):
            out.append((r["name"], str(values.get(base))))
    return out


def gain_change(document: Mapping[str, Any], cluster: str, first: Mapping[str, Any],
                last: Mapping[str, Any]) -> dict[str, float] | None:
    """How much the paired gain (tuned - base) changes from setting `first` to `last`, per
    example on the same examples, seeds paired by position, with a 95% bootstrap interval
    (`flan_nb.stats`); None when the per-example scores are not in the document."""
    scores = {(s["run"], s["dataset"]): s["test_per_example"]
              for s in document.get("scores", [])}
    entry = next((c for c in document["clusters"]
                  if c["cluster"] == cluster and c["setting"] == first), None)
    a, b = _tuned_runs(document, first, cluster), _tuned_runs(document, last, cluster)
    if entry is None or not a or len(a) != len(b):
        return None
    groups = []
    for d in entry["datasets"]:
        seeds = []
        for (ta, ba), (tb, bb) in zip(a, b):
            if any((r, d) not in scores for r in (ta, ba, tb, bb)):
                return None
            seeds.append([(y1 - x1) - (y0 - x0) for y0, x0, y1, x1 in zip(
                scores[(ta, d)], scores[(ba, d)], scores[(tb, d)], scores[(bb, d)])])
        groups.append(seeds)
    return stats.mean_interval(groups).as_dict()


def knob_lines(document: Mapping[str, Any]) -> list[str]:
    """Per cluster: does the gain move between the sweep's first setting and another? Every
    other setting of a sweep of up to 3 (unordered knobs, e.g. corpus mixes), the last of a
    longer one (ordered knobs, e.g. task counts). Read from the interval of the change of the
    paired gain (same examples), or, without per-example scores, from whether the two gains'
    intervals overlap."""
    order = settings(document)
    if len(order) < 2:
        return []
    first = order[0]
    others = order[1:] if len(order) <= 3 else [order[-1]]
    a = setting_label(document, first)
    lines = []
    for cluster in clusters(document):
        by = {json_key(c["setting"]): c for c in document["clusters"] if c["cluster"] == cluster}
        lo = by.get(json_key(first))
        for other in others:
            hi = by.get(json_key(other))
            if lo is None or hi is None:
                continue
            change = gain_change(document, cluster, first, other)
            if change is not None:
                how = {stats.HELPS: "higher", stats.HURTS: "lower"}.get(
                    stats.verdict(stats.Interval(**change)), "indistinguishable")
                why = f"change {format_interval(change)}, its 95% interval " + (
                    "contains 0" if how == "indistinguishable" else
                    "above 0" if how == "higher" else "below 0")
            else:
                how = compare(hi["difference"], lo["difference"])
                why = ("the two intervals overlap" if how == "indistinguishable"
                       else "the two intervals do not overlap")
            text = {"higher": "larger", "lower": "smaller",
                    "indistinguishable": "not distinguishable"}[how]
            lines.append(f"- {cluster}: the gain {lo['difference']['mean']:+.1f} with {a} "
                         f"becomes {hi['difference']['mean']:+.1f} with "
                         f"{setting_label(document, other)}: {text} ({why}).")
    return lines


def probe_lines(document: Mapping[str, Any]) -> list[str]:
    """What the probe says per base: does it know the facts (cloze vs chance), does it say
    them through templates, and does tuning close the gap?"""
    if not document.get("probe"):
        return ["- No knowledge probe was published with this sweep."]
    lines = []
    for p in document["probe"]:
        if p["model"] != "base":
            continue
        base = p.get("base_run")
        label = setting_label(document, {"BASE_RUN": base}) if base else "the base"
        knows = ("above" if p["cloze"]["ci_low"] > p["chance"] else "not clearly above")
        line = (f"- {label}: cloze {p['cloze']['mean']:.1f}% ({knows} the {p['chance']:.0f}% "
                f"chance), templates {p['template']['mean']:.1f}%, gap "
                f"{p['gap']['mean']:+.1f}")
        tuned = next((t for t in document["probe"] if t["model"] == "tuned"
                      and t.get("base_run") == base), None)
        if tuned:
            how = compare(tuned["template"], p["template"])
            line += (f"; tuned without closed-book QA, the templates give "
                     f"{tuned['template']['mean']:.1f}% ("
                     + {"higher": "tuning closes part of the gap",
                        "lower": "tuning widens the gap",
                        "indistinguishable": "no detectable change"}[how] + ")")
        lines.append(line + ".")
    bases = [p for p in document["probe"] if p["model"] == "base" and p.get("base_run")]
    if len(bases) >= 2:
        how = compare(bases[-1]["cloze"], bases[0]["cloze"])
        words = {"higher": "higher than", "lower": "lower than",
                 "indistinguishable": "not distinguishable from"}[how]
        lines.append(f"- The cloze score with {setting_label_of_probe(document, bases[-1])} "
                     f"is {words} that with {setting_label_of_probe(document, bases[0])} "
                     f"(95% intervals).")
    return lines


def setting_label_of_probe(document: Mapping[str, Any], probe: Mapping[str, Any]) -> str:
    return setting_label(document, {"BASE_RUN": probe["base_run"]})


def best_setting(document: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """The setting that helps on the most clusters (ties: the larger summed gain)."""
    def score(setting):
        rows = [c for c in document["clusters"] if c["setting"] == setting]
        return (sum(c["verdict"] == stats.HELPS for c in rows),
                sum(c["difference"]["mean"] for c in rows))

    best = max(settings(document), key=score)
    return best, score(best)[0]


def conclusions_markdown(sweep: Sweep, reference: Mapping[str, Any] | None = None) -> str:
    """The chapter's reading of one published sweep, built from its intervals."""
    doc = sweep.document
    if doc is None:
        return not_run_markdown(sweep)
    best, helped = best_setting(doc)
    total = len(clusters(doc))
    parts = ["**Verdicts per setting** (95% interval of the paired difference):", "",
             *verdict_lines(doc)]
    knob = knob_lines(doc)
    if knob:
        parts += ["", "**Does the knob move the gain?**", "", *knob]
    goal = goal_text(helped) + "."
    best_line = (f"**Best setting: {setting_label(doc, best)}**, helping on {helped} of "
                 f"{total} held-out clusters (ties go to the larger summed gain); {goal}"
                 if helped else
                 f"**No setting helps on any held-out cluster**; {goal}")
    parts += ["", "**Knowledge probe:**", "", *probe_lines(doc), "", best_line]
    return "\n".join(parts)


def goal_text(helped: int) -> str:
    """Whether `helped` clusters meet the chapter's goal, in words."""
    return (f"the chapter's goal ({ISSUE_TARGET} held-out clusters whose interval lies above "
            f"zero) is " + ("met" if helped >= ISSUE_TARGET else "not met"))


def chance_of_helps(num_clusters: int, at_least: int, rate: float = CHANCE_HELPS) -> float:
    """Probability that `at_least` of `num_clusters` independent clusters get a 95% interval
    wholly above zero when tuning changes nothing (each does so with probability `rate`, the
    upper tail of a two-sided 95% interval): the multiple-comparisons yardstick."""
    return sum(math.comb(num_clusters, k) * rate ** k * (1 - rate) ** (num_clusters - k)
               for k in range(at_least, num_clusters + 1))


def reference_markdown(reference: Sweep) -> str:
    """The reference plan's reading: verdicts, the chapter's goal, how likely that many "helps"
    would be by chance alone, and the probe."""
    doc = reference.document
    if doc is None:
        return not_run_markdown(reference)
    rows = [c for c in doc["clusters"] if not c["setting"]]
    helped = sum(c["verdict"] == stats.HELPS for c in rows)
    goal = goal_text(helped)
    chance = (f"With {len(rows)} clusters each read at 95%, chance alone puts an interval "
              f"wholly above zero on {CHANCE_HELPS * len(rows):.2f} clusters on average, and on "
              f"{max(helped, 1)} or more with probability "
              f"{chance_of_helps(len(rows), max(helped, 1)):.2g} (were the clusters "
              f"independent; they share one base, so this is a yardstick, not a test).")
    return "\n".join([*verdict_lines(doc), "", f"Tuning helps on {helped} of {len(rows)} "
                      f"held-out clusters: {goal}. {chance}", "", cluster_reading(reference),
                      "", *probe_lines(doc)])


# -- the figure ------------------------------------------------------------------------------

def plot_sweep(document: Mapping[str, Any], title: str):
    """Per held-out cluster (columns): base and tuned scores per setting with 95% intervals and
    the majority floor (top), and the paired difference tuned - base (bottom)."""
    import matplotlib.pyplot as plt  # lazily: see flan_nb/__init__.py

    order = settings(document)
    names = clusters(document)
    labels = [textwrap.fill(setting_label(document, s), 14) for s in order]
    fig, axes = plt.subplots(2, len(names), figsize=(2.6 * len(names) + 1, 5.2),
                             sharex=True, squeeze=False)
    for j, cluster in enumerate(names):
        rows = {json_key(c["setting"]): c for c in document["clusters"]
                if c["cluster"] == cluster}
        got = [(i, rows[json_key(s)]) for i, s in enumerate(order) if json_key(s) in rows]
        top, bottom = axes[0][j], axes[1][j]
        for k, model in enumerate(("base", "tuned")):
            xs = [i + (k - 0.5) * 0.2 for i, _ in got]
            top.errorbar(xs, [c[model]["mean"] for _, c in got], yerr=_yerr(
                [c[model] for _, c in got]), fmt="o", color=MODEL_COLORS[model], capsize=3,
                label=MODEL_LABELS[model] + " (95% CI)" if j == 0 else None)
        for i, c in got:
            if c.get("majority_floor") is not None:
                top.hlines(c["majority_floor"], i - 0.35, i + 0.35, colors="k",
                           linestyles=":", label="majority floor" if j == 0 and i == 0
                           else None)
        bottom.errorbar([i for i, _ in got], [c["difference"]["mean"] for _, c in got],
                        yerr=_yerr([c["difference"] for _, c in got]), fmt="s", color="0.2",
                        capsize=3)
        bottom.axhline(0, color="0.5", lw=0.8)
        top.set_title(cluster, fontsize=9)
        bottom.set_xticks(range(len(order)), labels, fontsize=7)
        bottom.set_xlim(-0.6, len(order) - 0.4)
    axes[0][0].set_ylabel("held-out score (%)")
    axes[1][0].set_ylabel("tuned - base (points)")
    fig.suptitle(title, fontsize=10)
    fig.legend(fontsize=7, ncol=3, loc="lower center", bbox_to_anchor=(0.5, -0.06))
    fig.tight_layout()
    return fig


# -- the paper, and what is left -------------------------------------------------------------

def _params(document: Mapping[str, Any] | None) -> int | None:
    if document is None:
        return None
    for r in document["provenance"]["runs"]:
        if r["notebook"].startswith("07_") and isinstance(r["metrics"].get("params"), int):
            return r["metrics"]["params"]
    return None


def _sweep_line(sweep: Sweep | None) -> str:
    if sweep is None:
        return "not part of this chapter's plans"
    if sweep.document is None:
        return f"not run yet (`{sweep.command}`)"
    doc = sweep.document
    if len(settings(doc)) == 1:
        helped = sum(c["verdict"] == stats.HELPS for c in doc["clusters"])
        return f"tuning helps on {helped} of {len(doc['clusters'])} held-out clusters"
    per = []
    for setting in settings(doc):
        rows = [c for c in doc["clusters"] if c["setting"] == setting]
        per.append(f"{setting_label(doc, setting)}: helps on "
                   f"{sum(c['verdict'] == stats.HELPS for c in rows)} of {len(rows)}")
    return "measured, " + "; ".join(per)


def cluster_reading(reference: Sweep) -> str:
    """The reference plan's verdicts (every evaluated cluster held out in turn), grouped as
    the paper groups clusters."""
    if reference.document is None:
        return f"Every cluster held out in turn: not run yet (`{reference.command}`)."
    verdict = {c["cluster"]: c["verdict"] for c in reference.document["clusters"]
               if not c["setting"]}

    def group(names: Sequence[str], what: str) -> str:
        got = [n for n in names if n in verdict]
        helped = [n for n in got if verdict[n] == stats.HELPS]
        if not got:
            return f"none of the clusters {what} (none is held out)"
        return (f"{len(helped)} of the {len(got)} clusters {what}"
                + (f" ({_names(helped)})" if helped else ""))

    others = [n for n in verdict if n not in PAPER_INSTRUCTION_CLUSTERS + PAPER_LM_CLUSTERS]
    return (f"Held out in turn here, tuning helps on "
            f"{group(PAPER_INSTRUCTION_CLUSTERS, 'the paper calls instruction-like')}, on "
            f"{group(PAPER_LM_CLUSTERS, 'it calls sentence completion')}, and on "
            f"{group(others, 'it does not group')}.")


def model_size_reading(plan_files: Sequence[str] = FIGURE7_PLANS) -> str | None:
    """Chapter 12's held-out reading of model size from its published Figure 7 plans: the
    paired gain per size, where it helps, and its change from the smallest size to the
    largest; None while no plan is published."""
    documents = [p.document for p in (load_sweep(book_path(f)) for f in plan_files)
                 if p.document is not None]
    found = ch12.sizes(documents)
    points = ch12.panel_points(found, "held-out")
    if not points:
        return None
    gains = ", ".join(f"{ch12.params_label(p['params'])} {format_interval(p['difference'])}"
                      for p in points)
    helped = [ch12.params_label(p["params"]) for p in points if p["verdict"] == stats.HELPS]
    text = (f"chapter 12 tunes {len(points)} sizes pretrained on the same tokens; held-out "
            f"tuned - base: {gains}; it helps at "
            f"{_names(helped) if helped else 'no size'}")
    sized = [s for s in found if s.base_run in {p["base_run"] for p in points}]
    change = ch12.gain_change(found, "held-out", sized[0], sized[-1]) if len(sized) > 1 else None
    if change is not None:
        how = {stats.HELPS: "it grows", stats.HURTS: "it shrinks"}.get(
            stats.verdict(stats.Interval(**change)), "no detectable change")
        text += (f", and from the smallest to the largest the gain changes by "
                 f"{format_interval(change)} ({how})")
    return text


def paper_markdown(sweeps: Mapping[str, Sweep], reference: Sweep,
                   model_size: str | None = None) -> str:
    """How the miniature relates to the paper: its findings, what we measured beside each
    (`model_size`: `model_size_reading()`), and why a million-parameter model on TinyWorld
    cannot show some of them."""
    params = _params(reference.document) or next(
        (p for s in sweeps.values() for p in [_params(s.document)] if p), None)
    size = (f"{params / 1e6:.1f}M" if params >= 1e5 else f"{params:,}") if params \
        else "about 1M"
    pre = sweeps.get("when_tuning_helps_pretraining")
    tasks = sweeps.get("when_tuning_helps_tasks")
    ref = _sweep_line(reference)
    return "\n".join([
        "- **Which clusters gain (Section 4.1).** The paper: tuning helps most where the task "
        "reads naturally as an instruction (" + _names(PAPER_INSTRUCTION_CLUSTERS) + ") and "
        "little where it is posed as finishing a sentence (" + _names(PAPER_LM_CLUSTERS)
        + "), where the instruction adds little to language modelling. "
        + cluster_reading(reference),
        f"- **Figure 7 (scale).** The paper: instruction tuning *hurts* held-out clusters at "
        f"{FIGURE7_SIZES[2] / 1e9:.0f}B parameters and below and helps at "
        f"{FIGURE7_SIZES[3] / 1e9:.0f}B and {FIGURE7_SIZES[4] / 1e9:.0f}B. Our models have "
        f"{size} parameters, "
        f"{FIGURE7_SIZES[0] / (params or 1e6):,.0f} times fewer than the paper's smallest. "
        + (f"Model size: {model_size}. " if model_size else
           "Model size is not measured yet (below). ")
        + f"The pretraining-length sweep asks a related question the miniature can answer: "
        f"does tuning help once the base *knows* its world? Book regime: {ref}. Pretraining "
        f"length: {_sweep_line(pre)}.",
        "- **Figure 6 (number of clusters).** The paper: the held-out average rises from "
        f"{PAPER_FIGURE6['average'][0]} to {PAPER_FIGURE6['average'][-1]} as tuning clusters "
        f"go from 1 to {PAPER_FIGURE6['clusters'][-1]}. The miniature has TinyWorld's 12 "
        "clusters; this chapter does not add clusters one by one (chapter 11's ablation).",
        f"- **Flan 2022's task count** ({' -> '.join(f'{n:,}' for n in FLAN2022_TASKS)} "
        "tasks; gains grow, with diminishing returns past ~282) and **Tk-Instruct** (gains "
        "grow with tasks and with model size, 60M to 11B): with ~1.8k tasks Flan-T5 gains "
        f"at every size down to {FLAN_T5_SMALLEST / 1e6:.0f}M. TinyWorld's task variants "
        f"make the axis drawable at small scale: {_sweep_line(tasks)}.",
        "- **What the miniature cannot show, and why:** the paper's sizes (a 2-core CPU "
        "trains models of a few million parameters in minutes; the paper's effect appears at "
        "tens of billions), real-language transfer (TinyWorld's clusters share one small "
        "world and vocabulary, closer to each other than the paper's), and thousands of genuinely "
        "different tasks (our variants recombine one world's relations and formats).",
    ])


def not_tried_markdown(sweeps: Mapping[str, Sweep], model_size: str | None = None) -> str:
    """The knobs this chapter has not measured yet, with how to run each (model size only
    while `model_size`, chapter 12's reading, is None)."""
    items = [] if model_size else [
        "- **Model size** (`MODEL` of notebook 07, `small-5m` and below): chapter 12's "
        "Figure 7 plans (`notebooks/plans/figure7_tiny.yaml`, `figure7_small.yaml`) sweep it "
        "with the same token budget; the chapter shows whether they are published.",
    ]
    for stem, sweep in sweeps.items():
        if sweep.document is None:
            items.append(f"- **{stem}** is planned but not published: `{sweep.command}` "
                         f"({len(sweep.plan.runs)} runs).")
    if "when_tuning_helps_tasks" not in sweeps:
        items.append("- **Number of tuning tasks** (Flan 2022's axis): "
                     "`flan-nb batch notebooks/plans/when_tuning_helps_tasks.yaml --publish`.")
    items.append("- **Chapter 09 in the regime found**: the held-out plan moves to the best "
                 "setting once a sweep finds one that helps on more clusters than the book's.")
    return "\n".join(items)
