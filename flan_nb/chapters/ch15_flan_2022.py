"""Chapter 15 (Flan 2022 in miniature): its config, the chain-of-thought and prompt-format
readings of published plans, and their figures.

Three published plans feed the chapter: `flan2022_cot.yaml` (tuning without and with the CoT
mixture, scored on held-out NLI and on held-out multi-step questions with the direct prompt, a
CoT prompt and the zero-shot trigger), `flan2022_formats.yaml` (zero-shot-only vs mixed
zero/few-shot tuning, scored zero-shot and few-shot) and chapter 10's task-count sweep
(`when_tuning_helps_tasks.yaml`, rendered with chapter 10's functions). Every comparison here is
paired example by example on the same examples, seeds paired by position, from the per-example
scores the results file keeps, and read from its 95% bootstrap interval (`flan_nb.stats`): no
number is compared with a fixed threshold and none is typed in.
"""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path
from typing import Any, Mapping, Sequence

from flan_nb import formats, stats, tasks
from flan_nb.chapters import book_config
from flan_nb.chapters import ch10_when_tuning_helps as ch10
from flan_nb.chapters.published import Published, check_plan_file, clusters, format_interval
from flan_nb.chapters.published import settings, yerr
from flan_nb.params import book_path, require
from flan_nb.tinyworld import build, cot, size_spec

CHAPTER = "15_flan_2022"
COT_CLUSTER = "cot_held_out"  # flan_nb.results.COT_CLUSTER
COT_FORMATS = {"zero-shot": "direct", "cot": "CoT prompt", "cot-trigger": "step by step"}
KNOBS = ("COT_MIXTURE", "FEW_SHOT_FRACTION")  # notebook 08's Flan 2022 parameters
# Flan 2022's readings (Chung et al. 2210.11416; formats: Longpre et al. 2301.13688), as
# /work/shared/PAPER.md records them.
PAPER = {
    "cot_keeps": "joint CoT + non-CoT tuning improves CoT on held-out benchmarks",
    "non_cot_degrades": "tuning on non-CoT data alone degrades CoT performance",
    "direct_kept": "adding CoT data keeps non-CoT (direct) performance",
    "trigger_tuned": "\"Let's think step by step\" works on Flan-PaLM",
    "trigger_base": "... and not on untuned PaLM",
    "mixed_zero": "mixing zero- and few-shot templates improves zero-shot",
    "mixed_few": "... and improves few-shot",
    "more_tasks": "more tuning tasks raise held-out scores (diminishing past ~282 tasks)",
}
PAPER_TASKS = ch10.FLAN2022_TASKS  # 9 -> 89 -> 282 -> 1,836 tuning tasks
PAPER_COT_WEIGHT = 0.05  # Flan 2022's final mixture weight of its CoT data (PAPER.md)


@dataclasses.dataclass(frozen=True)
class Flan2022Config:
    """Notebook 15's parameters (one field per parameter), validated on construction."""

    cot_plan: str  # the chain-of-thought plan (plans/flan2022_cot.yaml)
    formats_plan: str  # the prompt-format plan (plans/flan2022_formats.yaml)
    tasks_plan: str  # chapter 10's task-count sweep (plans/when_tuning_helps_tasks.yaml)
    run_plan: bool  # run the CoT and format plans' missing runs and publish them first
    size: str  # TinyWorld size of the chain-of-thought examples shown

    def __post_init__(self):
        for name in ("cot_plan", "formats_plan", "tasks_plan"):
            check_plan_file(getattr(self, name), name.upper(), "plans/flan2022_cot.yaml")
        require(isinstance(self.run_plan, bool),
                f"RUN_PLAN must be True or False, got {self.run_plan!r}")
        size_spec(self.size)

    def path(self, name: str) -> Path:
        """The plan file of `name` ("cot", "formats" or "tasks")."""
        return Path(book_path(getattr(self, f"{name}_plan")))

    def plans_to_run(self) -> list[Path]:
        """The chapter's own plans (the task sweep is chapter 10's), each once."""
        return list(dict.fromkeys([self.path("cot"), self.path("formats")]))


# -- the data --------------------------------------------------------------------------------

def cot_example_rows(size: str, seed: int = 0) -> list[dict[str, Any]]:
    """One evaluation example per chain: its mixture, steps, question, rationale, answer."""
    made = build(seed, size).cot
    rows = []
    for chain in cot.CHAINS:
        examples = made[chain.dataset]["test"]
        if examples:
            ex = examples[0]
            rows.append({"chain": chain.name, "mixture": chain.cluster, "steps": chain.steps,
                         "question": ex["question"], "rationale": ex["rationale"],
                         "answer": ex["answer"]})
    return rows


def cot_sizes(size: str, seed: int = 0) -> list[dict[str, Any]]:
    """Examples per split of every chain at `size`."""
    made = build(seed, size).cot
    return [{"dataset": c.dataset, "mixture": c.cluster, "steps": c.steps,
             **{split: len(made[c.dataset][split]) for split in ("train", "validation", "test")}}
            for c in cot.CHAINS]


def cot_mixture_share(size: str, held_out: str = "nli") -> float:
    """The CoT chains' share of notebook 08's mixing rates with COT_MIXTURE = True (rate =
    min(examples, RATE_CAP), examples-proportional), at TinyWorld `size`."""
    config = book_config("08_instruction_tuning", held_out=held_out, size=size,
                         cot_mixture=True)
    rates = {name: min(len(tasks.load_examples(name, "train", size=size,
                                               limit=config.max_examples)), config.rate_cap)
             for name in config.tuning_split().train}
    cot_rate = sum(r for n, r in rates.items() if tasks.get(n).cluster == "cot")
    return cot_rate / sum(rates.values())


# -- settings and comparisons ----------------------------------------------------------------

def _on(setting: Mapping[str, Any], knob: str) -> bool:
    return bool(setting.get(knob))


def baseline(document: Mapping[str, Any]) -> dict[str, Any] | None:
    """The setting with every Flan 2022 knob off (no CoT data, zero-shot only)."""
    return next((s for s in settings(document)
                 if not any(_on(s, k) for k in KNOBS)), None)


def treated(document: Mapping[str, Any], knob: str) -> dict[str, Any] | None:
    """The setting that turns `knob` on (the first, in plan order)."""
    return next((s for s in settings(document) if _on(s, knob)), None)


def entry(document: Mapping[str, Any], setting: Mapping[str, Any] | None, cluster: str,
          fmt: str) -> dict[str, Any] | None:
    """The published comparison of (setting, held-out cluster, evaluation format)."""
    return next((c for c in document["clusters"] if c["setting"] == setting
                 and c["cluster"] == cluster
                 and c.get("eval_format", "zero-shot") == fmt), None)


def non_cot_clusters(document: Mapping[str, Any]) -> list[str]:
    return [c for c in clusters(document) if c != COT_CLUSTER]


def _models(document, setting, cluster, model: str) -> list[str]:
    """The runs of `model` ("tuned" or "base") of (setting, cluster), seeds in plan order:
    the tuning runs of that setting that held `cluster` out, or, for the multi-step
    questions (which every tuning run is scored on), every tuning run of that setting."""
    ev = document.get("evaluation", {})
    notebook = ev.get("tuning_notebook", "08_instruction_tuning")
    held = ev.get("held_out_parameter", "HELD_OUT")
    base = ev.get("base_parameter", "BASE_RUN")
    out = []
    for r in document["provenance"]["runs"]:
        values = r.get("parameters", {})
        if (Path(r["notebook"]).stem == notebook
                and all(values.get(k) == v for k, v in setting.items())
                and (cluster == COT_CLUSTER or cluster in str(values.get(held)).split(","))):
            out.append(r["name"] if model == "tuned" else str(values.get(base)))
    return out


def change(document: Mapping[str, Any], cluster: str, first: tuple, second: tuple
           ) -> dict[str, float] | None:
    """second - first, each a (setting, evaluation format, model), per example on the same
    examples (seeds paired by position), as a mean over datasets with a 95% bootstrap
    interval; None when either is not in the document."""
    scores = {(s["run"], s["dataset"], s.get("format", "zero-shot")): s["test_per_example"]
              for s in document.get("scores", [])}
    published = entry(document, first[0], cluster, first[1])
    if published is None or entry(document, second[0], cluster, second[1]) is None:
        return None
    a = _models(document, first[0], cluster, first[2])
    b = _models(document, second[0], cluster, second[2])
    if not a or len(a) != len(b):
        return None
    groups = []
    for dataset in published["datasets"]:
        keys = [((ra, dataset, first[1]), (rb, dataset, second[1])) for ra, rb in zip(a, b)]
        if any(k not in scores for pair in keys for k in pair):
            return None
        groups.append([[y - x for x, y in zip(scores[ka], scores[kb])] for ka, kb in keys])
    return stats.mean_interval(groups).as_dict()


AT_FLOOR = "both at 0: not a test"


def at_floor(document: Mapping[str, Any], cluster: str, *compared: tuple) -> bool:
    """Is every compared (setting, format, model) scored 0 on every example (mean and upper
    bound 0)? Then a change of 0 says nothing about the paper's reading."""
    found = [entry(document, setting, cluster, fmt) for setting, fmt, _ in compared]
    return all(f is not None and f[m]["mean"] == 0 and f[m]["ci_high"] == 0
               for f, (_, _, m) in zip(found, compared))


def floor_markdown(document: Mapping[str, Any]) -> str | None:
    """One sentence when every model scores 0 on the held-out multi-step questions with every
    prompt (a floor), else None."""
    rows = [c for c in document["clusters"] if c["cluster"] == COT_CLUSTER]
    if not rows or any(c[m]["ci_high"] > 0 for c in rows for m in ("base", "tuned")):
        return None
    answers = collections.Counter()
    for d in document["datasets"]:
        if d["cluster"] == COT_CLUSTER:
            for model in ("base", "tuned"):
                answers.update(d[f"{model}_figures"]["histogram"]["answers"])
    common = answers.most_common(5)
    return (f"**At the floor.** No model answers a single held-out multi-step question, with "
            f"any prompt ({len(rows)} comparisons, every score 0.0 with a 95% interval of "
            f"[0.0, 0.0]): the chain-of-thought readings below compare zeros and cannot test "
            f"the paper's. What the models answer instead (extracted answers, most frequent "
            f"over every model and prompt): "
            + ", ".join(f"{a!r} ({n})" for a, n in common) + ".")


def direction(interval: Mapping[str, float] | None, floor: bool = False) -> str:
    """higher / lower / no detectable change, from where the interval lies relative to 0
    (or that both sides are at the floor)."""
    if floor:
        return AT_FLOOR
    if interval is None:
        return "not measured"
    return {stats.HELPS: "higher", stats.HURTS: "lower"}.get(
        stats.verdict(stats.Interval(**interval)), "no detectable change")


# -- chain of thought ------------------------------------------------------------------------

def cot_rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Held-out multi-step questions: per model (the base, tuned without and with CoT data)
    its score with each prompt (mean [95% interval] over seeds, templates and examples)."""
    rows = []
    plain, with_cot = baseline(document), treated(document, "COT_MIXTURE")
    for label, setting, model in (("base (untuned)", plain, "base"),
                                  ("tuned, no CoT data", plain, "tuned"),
                                  ("tuned with CoT data", with_cot, "tuned")):
        row = {"model": label}
        for fmt, name in COT_FORMATS.items():
            found = entry(document, setting, COT_CLUSTER, fmt)
            row[name] = format_interval(found[model]) if found else "-"
        rows.append(row)
    return rows


def cot_readings(document: Mapping[str, Any]) -> list[Reading]:
    """Flan 2022's chain-of-thought readings beside ours (a paired change with its 95%
    interval, and the direction that interval gives)."""
    plain, with_cot = baseline(document), treated(document, "COT_MIXTURE")
    rows = [
        ("cot_keeps", "CoT prompt: tuned with CoT data - tuned without", COT_CLUSTER,
         (plain, "cot", "tuned"), (with_cot, "cot", "tuned")),
        ("non_cot_degrades", "CoT prompt: tuned without CoT data - base", COT_CLUSTER,
         (plain, "cot", "base"), (plain, "cot", "tuned")),
        ("trigger_tuned", "tuned with CoT data: step by step - direct", COT_CLUSTER,
         (with_cot, "zero-shot", "tuned"), (with_cot, "cot-trigger", "tuned")),
        ("trigger_base", "base: step by step - direct", COT_CLUSTER,
         (plain, "zero-shot", "base"), (plain, "cot-trigger", "base")),
    ]
    rows += [("direct_kept", f"{cluster} (direct): tuned with CoT data - without", cluster,
              (plain, "zero-shot", "tuned"), (with_cot, "zero-shot", "tuned"))
             for cluster in non_cot_clusters(document)]
    return [_reading(document, *row) for row in rows]


@dataclasses.dataclass(frozen=True)
class Reading:
    """One of the papers' findings (`paper`) beside what we measured (`what`: a paired change
    and its 95% interval, None when not in the document)."""

    paper: str
    what: str
    interval: dict[str, float] | None
    floor: bool = False  # both sides score 0 everywhere: not a test of the paper's reading

    def row(self) -> dict[str, str]:
        return {"Flan 2022": self.paper, "ours": self.what,
                "change [95% CI]": format_interval(self.interval),
                "direction": direction(self.interval, self.floor)}


def _reading(document, key, what, cluster, first, second) -> Reading:
    return Reading(PAPER[key], what, change(document, cluster, first, second),
                   at_floor(document, cluster, first, second))


def reading_rows(readings: Sequence[Reading]) -> list[dict[str, str]]:
    return [r.row() for r in readings]


def plot_cot(document: Mapping[str, Any], title: str):
    """Held-out multi-step questions per prompt (x) for the base and the two tuned models,
    with 95% intervals."""
    import matplotlib.pyplot as plt

    plain, with_cot = baseline(document), treated(document, "COT_MIXTURE")
    series = (("base (untuned)", plain, "base", "0.55"),
              ("tuned, no CoT data", plain, "tuned", "C0"),
              ("tuned with CoT data", with_cot, "tuned", "C1"))
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for k, (label, setting, model, colour) in enumerate(series):
        xs, got = [], []
        for i, fmt in enumerate(COT_FORMATS):
            found = entry(document, setting, COT_CLUSTER, fmt)
            if found:
                xs.append(i + (k - 1) * 0.22)
                got.append(found[model])
        ax.errorbar(xs, [g["mean"] for g in got], yerr=yerr(got), fmt="o",
                    color=colour, capsize=3, label=label)
    ax.set_xticks(range(len(COT_FORMATS)), list(COT_FORMATS.values()))
    ax.set_ylabel("answer exact match (%)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


# -- mixed prompt formats --------------------------------------------------------------------

def shot_formats(document: Mapping[str, Any]) -> dict[str, str]:
    """Evaluation-format label -> its name: zero-shot, and the plan's few-shot k (the first
    of the evaluation's `shots`)."""
    shots = [k for k in document.get("evaluation", {}).get("shots", []) if k]
    out = {"zero-shot": "zero-shot"}
    if shots:
        out[formats.few_shot_label(shots[0])] = f"{shots[0]}-shot"
    return out


def format_rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per held-out cluster and model (the base, tuned zero-shot only, tuned mixed) its
    zero-shot and few-shot scores (mean [95% interval])."""
    plain, mixed = baseline(document), treated(document, "FEW_SHOT_FRACTION")
    fraction = (mixed or {}).get("FEW_SHOT_FRACTION")
    rows = []
    for cluster in non_cot_clusters(document):
        for label, setting, model in (("base (untuned)", plain, "base"),
                                      ("tuned, zero-shot only", plain, "tuned"),
                                      (f"tuned, {fraction} few-shot", mixed, "tuned")):
            row = {"cluster": cluster, "model": label}
            for fmt, name in shot_formats(document).items():
                found = entry(document, setting, cluster, fmt)
                row[name] = format_interval(found[model]) if found else "-"
            rows.append(row)
    return rows


def format_readings(document: Mapping[str, Any]) -> list[Reading]:
    """The Flan Collection's reading beside ours: tuned mixed - tuned zero-shot only, scored
    zero-shot and few-shot, per held-out cluster."""
    plain, mixed = baseline(document), treated(document, "FEW_SHOT_FRACTION")
    out = []
    for cluster in non_cot_clusters(document):
        for key, fmt in zip(("mixed_zero", "mixed_few"), shot_formats(document)):
            out.append(_reading(document, key, f"{cluster} {fmt}: mixed - zero-shot only",
                                cluster, (plain, fmt, "tuned"), (mixed, fmt, "tuned")))
    return out


def plot_formats(document: Mapping[str, Any], title: str):
    """Per held-out cluster: zero-shot and few-shot scores of the base and the two tuned
    models, with 95% intervals."""
    import matplotlib.pyplot as plt

    plain, mixed = baseline(document), treated(document, "FEW_SHOT_FRACTION")
    names = non_cot_clusters(document)
    fig, axes = plt.subplots(1, len(names), figsize=(3.4 * len(names) + 1, 3.2),
                             squeeze=False)
    series = (("base (untuned)", plain, "base", "0.55"),
              ("tuned, zero-shot only", plain, "tuned", "C0"),
              ("tuned, mixed", mixed, "tuned", "C2"))
    for ax, cluster in zip(axes[0], names):
        for k, (label, setting, model, colour) in enumerate(series):
            xs, got = [], []
            for i, fmt in enumerate(shot_formats(document)):
                found = entry(document, setting, cluster, fmt)
                if found:
                    xs.append(i + (k - 1) * 0.22)
                    got.append(found[model])
            ax.errorbar(xs, [g["mean"] for g in got], yerr=yerr(got), fmt="o",
                        color=colour, capsize=3, label=label if ax is axes[0][0] else None)
        ax.set_xticks(range(len(shot_formats(document))),
                      list(shot_formats(document).values()))
        ax.set_title(cluster, fontsize=9)
    axes[0][0].set_ylabel("held-out score (%)")
    fig.suptitle(title, fontsize=9)
    fig.legend(fontsize=7, frameon=False, loc="lower center", ncol=3,
               bbox_to_anchor=(0.5, -0.04))
    fig.tight_layout()
    return fig


# -- task scaling (chapter 10's sweep) ---------------------------------------------------------

def task_counts(sweep: Published) -> list[int]:
    """The numbers of tuning tasks the task sweep's plan tunes on (0: the split's datasets)."""
    counts = {int(p.parameters().get("NUM_TUNING_TASKS", 0)) for p in sweep.plan.runs
              if "NUM_TUNING_TASKS" in p.parameters()}
    return sorted(counts)


def task_scaling_line(sweep: Published) -> str:
    """Flan 2022's task counts beside ours, in one sentence."""
    ours = ", ".join("the split's datasets" if n == 0 else f"{n:,}" for n in task_counts(sweep))
    return (f"Flan 2022 tunes on {' -> '.join(f'{n:,}' for n in PAPER_TASKS)} tasks; "
            f"the sweep here on {ours or 'no task count'} (`{sweep.stem}`).")


def task_readings(document: Mapping[str, Any]) -> list[Reading]:
    """Flan 2022's task-scaling reading beside ours: per held-out cluster, how the paired
    gain (tuned - base) changes from the fewest to the most tuning tasks, example by example
    (`ch10.gain_change`), then from the step before the most to the most (diminishing?).
    Task counts only: NUM_TUNING_TASKS = 0 (the split's datasets) is the book's tuning."""
    order = [s for s in settings(document) if s.get("NUM_TUNING_TASKS", 0) > 0]
    if len(order) < 2:
        return []
    label = ch10.setting_label
    steps = [(order[0], order[-1])] + ([(order[-2], order[-1])] if len(order) > 2 else [])
    return [Reading(PAPER["more_tasks"] if i == 0 else "... with diminishing returns",
                    f"{cluster}: gain with {label(document, b)} - with {label(document, a)}",
                    ch10.gain_change(document, cluster, a, b))
            for i, (a, b) in enumerate(steps) for cluster in clusters(document)]


# -- metrics ---------------------------------------------------------------------------------

def reading_metrics(prefix: str, readings: Sequence[Reading]) -> dict[str, float]:
    """Flat `<prefix>/<what>` means of the readings' changes (those measured), for
    run.record."""
    return {f"{prefix}/{ch10.slug(r.what)}": r.interval["mean"] for r in readings
            if r.interval is not None}
