"""Chapter 12 (model scale, the paper's Figure 7): its config, the two panels (held-out and
held-in, untuned vs tuned), the training curves and knowledge probe per size, the sentences the
chapter reads from the intervals, and the paper-scale TPU-time table.

The size sweep is published by several plans (`notebooks/plans/figure7_*.yaml`: four sizes do not
fit one 90-minute plan here), each to `results/<plan-stem>.json` by `flan-nb batch PLAN
--publish` (`flan_nb.results`, with `held_in_datasets` for the second panel). A size is a base
run (notebook 07 with `MODEL`) and the runs tuned from it; every conclusion here reads 95%
intervals, never a fixed threshold.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from flan_nb import model as model_lib
from flan_nb import plans, stats
from flan_nb.bench.train import model_flops_utilisation
from flan_nb.chapters.ch07_pretraining import PAPER_PRETRAIN_TOKENS
from flan_nb.chapters.ch08_instruction_tuning import (PAPER_TUNING_BATCH_TOKENS,
                                                      PAPER_TUNING_STEPS)
from flan_nb.chapters.published import Published, format_interval, load_published
from flan_nb.chapters.published import probe_cells, yerr
from flan_nb.params import book_path, require
from flan_nb.report import MODEL_COLORS, MODEL_LABELS
from flan_nb.results import evaluation_config, tuned_groups
from flan_nb.runs import repo_root

CHAPTER = "12_model_scale"
PANELS = ("held-out", "held-in")

# The paper's Figure 7 (PAPER.md): its sizes, and the direction of the tuning effect it reports
# (values not found, so only the directions are shown).
PAPER_SIZES = {"paper-422m": 422e6, "paper-2b": 2e9, "paper-8b": 8e9, "paper-68b": 68e9,
               "paper-137b": 137e9}
PAPER_HELD_OUT = {"paper-422m": stats.HURTS, "paper-2b": stats.HURTS, "paper-8b": stats.HURTS,
                  "paper-68b": stats.HELPS, "paper-137b": stats.HELPS}
PAPER_HELD_IN = {name: stats.HELPS for name in PAPER_SIZES}
PAPER_TUNING_TOKENS = PAPER_TUNING_STEPS * PAPER_TUNING_BATCH_TOKENS  # 30k x 8,192 per run
# The paper's tuning of 137B: "about 60 hours on a 128-core TPUv3" (PAPER.md).
PAPER_TUNING_HOURS = 60.0
PAPER_TUNING_CHIPS = 64  # a v3-128 slice: 128 TensorCores, 2 per chip
# Cloud TPU v3 documentation: 123 TFLOP/s (bfloat16) peak per chip.
TPU_V3_PEAK_TFLOPS = 123.0
# Model FLOPs utilisation measured here by `flan-nb bench train` (README, quiet machine, commits
# c9ea019 and 25df64f, small-5m: 0.55, 0.54 and 0.57): our CPU figure, beside the TPU assumption.
CPU_MEASURED_MFU = (0.54, 0.57)

# Training speed per size on this 2-core machine (tokens/s): tiny-1m from the book's
# notebook 07 runs (README: 8,600-11,100; the low end), small-5m from a notebook run (the
# lead's quiet-machine measurement). A size without a measurement takes the next larger measured
# size's rate: a smaller model is not slower, so the estimate errs long.
MEASURED_TOKENS_PER_S = {"tiny-1m": 8_600.0, "small-5m": 3_400.0}
RUN_OVERHEAD_S = 30.0  # kernel start, data, compilation and checkpoints of one notebook run
# Evaluation: seconds per (model, held-out cluster) pair for tiny-1m, from the pretraining
# sweep's published wall time (read by `eval_seconds_per_pair`); larger sizes scale with their
# matmul parameters, smaller ones keep it.
EVAL_REFERENCE_PLAN = "when_tuning_helps_pretraining"


@dataclasses.dataclass(frozen=True)
class ModelScaleConfig:
    """Notebook 12's parameters (one field per parameter), validated on construction."""

    plans: list  # the size sweep's plans (relative to notebooks/), rendered together
    tpu_plan: str  # the paper-scale plan whose sizes the TPU-time table lists
    tpu_chips: int  # chips of the TPU slice of the estimate
    tpu_peak_tflops: float  # peak bfloat16 TFLOP/s per chip
    tpu_mfu: float  # the model FLOPs utilisation assumed on the TPU
    run_plan: bool  # run the plans' missing runs and republish first

    def __post_init__(self):
        require(isinstance(self.plans, (list, tuple)) and len(self.plans) > 0
                and all(isinstance(p, str) and p for p in self.plans),
                f"PLANS must be a non-empty list of plan files (e.g. "
                f"['plans/figure7_tiny.yaml']), got {self.plans!r}")
        for path in [*self.plans, self.tpu_plan]:
            require(isinstance(path, str) and path.endswith((".yaml", ".yml"))
                    and os.path.isfile(book_path(path)),
                    f"no plan file {path!r}: the Figure 7 plans are "
                    f"{', '.join(sorted(p.name for p in figure7_plan_files()))} in "
                    f"notebooks/plans/")
        require(isinstance(self.tpu_chips, int) and self.tpu_chips >= 1,
                f"TPU_CHIPS must be a positive integer, got {self.tpu_chips!r}")
        require(self.tpu_peak_tflops > 0,
                f"TPU_PEAK_TFLOPS must be positive, got {self.tpu_peak_tflops!r}")
        require(0 < self.tpu_mfu <= 1, f"TPU_MFU must lie in (0, 1], got {self.tpu_mfu!r}")
        require(isinstance(self.run_plan, bool),
                f"RUN_PLAN must be True or False, got {self.run_plan!r}")

    def plan_paths(self) -> list[Path]:
        return [Path(book_path(p)) for p in self.plans]

    def tpu_plan_path(self) -> Path:
        return Path(book_path(self.tpu_plan))


def figure7_plan_files() -> list[Path]:
    return sorted(Path(book_path("plans")).glob("figure7*.yaml"))


# -- the published plans (loaded by flan_nb.chapters.published) ------------------------------

def not_run_line(published: Published) -> str:
    """One line for a plan never published: what it holds, its time here, the command."""
    minutes = plan_minutes(published.plan)
    return (f"**{published.plan.stem}: not run yet** ({len(published.plan.runs)} runs, about "
            f"{minutes['total']:.0f} min here): run `{published.command}`")


# -- sizes -----------------------------------------------------------------------------------

@dataclasses.dataclass
class Size:
    """One model size of a published plan: its base run and the runs tuned from it."""

    document: dict[str, Any]
    base_run: str
    model: str
    params: int
    tuned_runs: list[str]

    @property
    def label(self) -> str:
        return f"{self.model} ({params_label(self.params)})"


def params_label(n: float) -> str:
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:.0f}"


def _records(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in document["provenance"]["runs"]}


def sizes(documents: Sequence[Mapping[str, Any]]) -> list[Size]:
    """Every base run of the published documents with its model and parameter count (as its
    notebook 07 run recorded them) and its tuned runs, smallest first."""
    out = []
    for doc in documents:
        ev = doc.get("evaluation", {})
        tuning = ev.get("tuning_notebook", "08_instruction_tuning")
        base_key = ev.get("base_parameter", "BASE_RUN")
        records = _records(doc)
        tuned: dict[str, list[str]] = {}
        for r in records.values():
            if Path(r["notebook"]).stem == tuning:
                tuned.setdefault(str(r["parameters"].get(base_key)), []).append(r["name"])
        for base, runs in tuned.items():
            record = records.get(base, {})
            params = record.get("metrics", {}).get("params")
            model = record.get("parameters", {}).get("MODEL", base)
            out.append(Size(doc, base, model, int(params) if params else 0, runs))
    return sorted(out, key=lambda s: s.params)


def size_rows(found: Sequence[Size]) -> list[dict[str, Any]]:
    """Per size: shape name, parameters, pretraining tokens and losses, speed, wall times."""
    rows = []
    for s in found:
        record = _records(s.document).get(s.base_run, {})
        m = record.get("metrics", {})
        tuned_wall = [_records(s.document)[r].get("wall_seconds") for r in s.tuned_runs]
        tuned_wall = [w for w in tuned_wall if w is not None]
        rows.append({
            "model": s.model, "params": f"{s.params:,}",
            "pretraining tokens": f"{m['tokens_seen']:,}" if "tokens_seen" in m else "-",
            "final loss": _loss(m.get("final_loss")),
            "held-out doc loss": _loss(m.get("heldout_loss")),
            "tokens/s": f"{m['tokens_per_s']:,.0f}" if "tokens_per_s" in m else "-",
            "pretraining min": _minutes(record.get("wall_seconds")),
            "tuning min (mean)": _minutes(float(np.mean(tuned_wall)) if tuned_wall else None),
            "tuned runs": len(s.tuned_runs)})
    return rows


def _loss(value) -> str:
    return "-" if value is None else f"{float(value):.3f}"


def _minutes(seconds) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f}"


# -- the two panels --------------------------------------------------------------------------

def _entries(size: Size, panel: str) -> list[Mapping[str, Any]]:
    """The published cluster entries of one size and panel (zero-shot evaluation)."""
    base_key = size.document.get("evaluation", {}).get("base_parameter", "BASE_RUN")
    out = []
    for c in size.document["clusters"]:
        if c.get("eval_format", "zero-shot") != "zero-shot":
            continue
        if bool(c.get("held_in")) != (panel == "held-in"):
            continue
        base = c["setting"].get(base_key)
        if base is None:  # a plan with one base: it is this size's if the size is the only one
            bases = {s.base_run for s in sizes([size.document])}
            base = next(iter(bases)) if len(bases) == 1 else None
        if base == size.base_run:
            out.append(c)
    return out


def panel_groups(size: Size, panel: str) -> dict[str, list[np.ndarray]] | None:
    """Per-dataset arrays (seeds, examples) of the base, tuned and paired difference scores of
    one size over every cluster of the panel, from the document's per-example scores; None when
    the panel has no entry for this size."""
    entries = _entries(size, panel)
    if not entries:
        return None
    scores = {(s["run"], s["dataset"]): s["test_per_example"]
              for s in size.document.get("scores", [])
              if s.get("format", "zero-shot") == "zero-shot"}
    out: dict[str, list[np.ndarray]] = {"base": [], "tuned": [], "difference": []}
    for c in entries:
        for d in c["datasets"]:
            runs = [r for r in size.tuned_runs if (r, d) in scores]
            if (size.base_run, d) not in scores or not runs:
                continue
            base = np.asarray(scores[(size.base_run, d)], float)
            tuned = np.asarray([scores[(r, d)] for r in runs], float)
            out["base"].append(base[None])
            out["tuned"].append(tuned)
            out["difference"].append(tuned - base[None])
    if not out["base"]:
        return None
    seeds = {a.shape[0] for a in out["tuned"]}
    if len(seeds) != 1:  # a dataset some seed was not scored on: keep the common seed count
        n = min(seeds)
        out["tuned"] = [a[:n] for a in out["tuned"]]
        out["difference"] = [a[:n] for a in out["difference"]]
    return out


def panel_point(size: Size, panel: str) -> dict[str, Any] | None:
    """One size's point of a panel: base, tuned and difference means over the panel's datasets
    (each dataset counts once) with 95% bootstrap intervals over seeds and examples, the
    verdict of the difference, and what was averaged."""
    groups = panel_groups(size, panel)
    if groups is None:
        return None
    point = {"model": size.model, "params": size.params, "base_run": size.base_run,
             "panel": panel, "clusters": [c["cluster"] for c in _entries(size, panel)],
             "num_datasets": len(groups["base"]),
             "num_seeds": int(groups["tuned"][0].shape[0])}
    for key, arrays in groups.items():
        point[key] = stats.mean_interval(arrays).as_dict()
    point["verdict"] = stats.verdict(stats.Interval(**point["difference"]))
    return point


def panel_points(found: Sequence[Size], panel: str) -> list[dict[str, Any]]:
    return [p for s in found for p in [panel_point(s, panel)] if p is not None]


def point_rows(points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"model": p["model"], "params": params_label(p["params"]),
             "datasets": p["num_datasets"], "seeds": p["num_seeds"],
             "base": format_interval(p["base"]), "tuned": format_interval(p["tuned"]),
             "tuned - base": format_interval(p["difference"]), "verdict": p["verdict"]}
            for p in points]


def cluster_gain_rows(found: Sequence[Size], panel: str) -> list[dict[str, Any]]:
    """Per cluster of the panel, each size's paired gain tuned - base (mean [95% interval], as
    `flan-nb results` publishes it per cluster) and its verdict: which clusters move a panel's
    average, and at which sizes."""
    rows: dict[str, dict[str, Any]] = {}
    for s in found:
        for c in _entries(s, panel):
            row = rows.setdefault(c["cluster"], {"cluster": c["cluster"]})
            row[s.model] = (f"{format_interval(c['difference'])} "
                            f"{verdict_words(c['verdict'])}")
    return [{"cluster": name, **{s.model: row.get(s.model, "-") for s in found}}
            for name, row in rows.items()]


def gain_change(found: Sequence[Size], panel: str, first: Size,
                last: Size) -> dict[str, float] | None:
    """How the paired gain (tuned - base) changes from size `first` to size `last` on the same
    examples (seeds paired by position), with a 95% interval; None when the two were not
    scored on the same datasets and examples."""
    a, b = panel_groups(first, panel), panel_groups(last, panel)
    if a is None or b is None or len(a["difference"]) != len(b["difference"]):
        return None
    change = []
    for x, y in zip(a["difference"], b["difference"]):
        n = min(x.shape[0], y.shape[0])
        if x.shape[1] != y.shape[1]:
            return None
        change.append(y[:n] - x[:n])
    return stats.mean_interval(change).as_dict()


# -- reading the panels ----------------------------------------------------------------------

def verdict_words(verdict: str) -> str:
    return {stats.HELPS: "helps", stats.HURTS: "hurts"}.get(verdict, "no detectable change")


def direction_lines(found: Sequence[Size]) -> list[str]:
    """Per panel: where tuning helps, hurts or changes nothing (from each size's interval), and
    whether the gain grows from the smallest to the largest size (the interval of its change,
    example by example)."""
    lines = []
    for panel in PANELS:
        points = panel_points(found, panel)
        if not points:
            lines.append(f"- **{panel}**: not published for any size.")
            continue
        per = "; ".join(f"{p['model']} {verdict_words(p['verdict'])} "
                        f"({p['difference']['mean']:+.1f} "
                        f"[{p['difference']['ci_low']:.1f}, {p['difference']['ci_high']:.1f}])"
                        for p in points)
        line = f"- **{panel}** (tuned - base, 95% interval): {per}."
        scored = {p["base_run"] for p in points}  # the sizes the panel has, not recomputed
        ordered = [s for s in found if s.base_run in scored]
        if len(ordered) >= 2:
            change = gain_change(found, panel, ordered[0], ordered[-1])
            if change is not None:
                how = {stats.HELPS: "grows", stats.HURTS: "shrinks"}.get(
                    stats.verdict(stats.Interval(**change)), "does not change detectably")
                line += (f" From {ordered[0].model} to {ordered[-1].model} the gain {how} "
                         f"(change {format_interval(change)}).")
        lines.append(line)
    return lines


def paper_rows(found: Sequence[Size]) -> list[dict[str, Any]]:
    """The paper's sizes with the direction it reports per panel, then ours with the direction
    our intervals give."""
    rows = [{"who": "paper", "model": name, "params": params_label(n),
             "held-out": verdict_words(PAPER_HELD_OUT[name]),
             "held-in": verdict_words(PAPER_HELD_IN[name])} for name, n in PAPER_SIZES.items()]
    for s in found:
        row = {"who": "ours", "model": s.model, "params": params_label(s.params)}
        for panel in PANELS:
            p = panel_point(s, panel)
            row[panel] = "-" if p is None else verdict_words(p["verdict"])
        rows.append(row)
    return rows


def paper_reading_lines(found: Sequence[Size]) -> list[str]:
    """The paper's reading and ours, sentence by sentence, from the published intervals."""
    hurt = [n for n, v in PAPER_HELD_OUT.items() if v == stats.HURTS]
    helped = [n for n, v in PAPER_HELD_OUT.items() if v == stats.HELPS]
    lines = [f"- **Paper:** on held-out clusters tuning hurts at "
             f"{params_label(PAPER_SIZES[hurt[-1]])} and below and helps at "
             f"{' and '.join(params_label(PAPER_SIZES[n]) for n in helped)}; on held-in tasks "
             f"it helps at every size. Its explanation: a small model fills its capacity "
             f"with the tuning tasks and loses what it needs for new ones."]
    if not found:
        return lines + ["- **Ours:** not published yet."]
    largest, smallest = found[-1].params, found[0].params
    ratio = PAPER_SIZES["paper-422m"] / largest if largest else float("nan")
    lines.append(f"- **Ours:** {len(found)} sizes from {params_label(smallest)} to "
                 f"{params_label(largest)} ({largest / max(smallest, 1):.0f}x), the largest "
                 f"{ratio:,.0f} times smaller than the paper's smallest.")
    for panel, paper in (("held-out", PAPER_HELD_OUT), ("held-in", PAPER_HELD_IN)):
        points = panel_points(found, panel)
        if not points:
            continue
        expected = paper["paper-422m"]  # what the paper finds at its smallest sizes
        agree = [p["model"] for p in points if p["verdict"] == expected]
        lines.append(f"- {panel}: the paper's smallest sizes show \"{verdict_words(expected)}\"; "
                     f"ours shows it at {len(agree)} of {len(points)} sizes"
                     + (f" ({_names(agree)})." if agree else "."))
    return lines


def _names(items: Sequence[str]) -> str:
    items = list(items)
    if not items:
        return "none"
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]


def panel_metrics(found: Sequence[Size]) -> dict[str, float]:
    """Flat `<panel>/<model>/<base|tuned|difference>` means for run.record."""
    out = {}
    for panel in PANELS:
        for p in panel_points(found, panel):
            for key in ("base", "tuned", "difference"):
                out[f"{panel}/{p['model']}/{key}"] = p[key]["mean"]
    return out


# -- training curves -------------------------------------------------------------------------

def curves(found: Sequence[Size]) -> dict[str, dict[str, list]]:
    """Each size's pretraining loss curve (tokens seen, loss), as published with its run."""
    out = {}
    for s in found:
        curve = _records(s.document).get(s.base_run, {}).get("loss_curve")
        if curve and curve.get("loss"):
            out[s.model] = curve
    return out


# Training losses are noisy batch by batch; crossings are counted on each curve's running mean
# over this share of its logged points (5 of the 60 a run publishes), so noise alone does not
# make two nearly equal curves "cross" at every other point.
CURVE_SMOOTHING = 1 / 12


def smoothed(curve: Mapping[str, list]) -> tuple[np.ndarray, np.ndarray]:
    """(tokens, loss) of a published curve, each a running mean over `CURVE_SMOOTHING` of its
    points (unchanged for a curve of fewer than 24 points)."""
    tokens, loss = np.asarray(curve["tokens_seen"], float), np.asarray(curve["loss"], float)
    width = max(1, int(len(loss) * CURVE_SMOOTHING))
    window = np.ones(width) / width
    return np.convolve(tokens, window, "valid"), np.convolve(loss, window, "valid")


def crossing_lines(found: Sequence[Size]) -> list[str]:
    """For each pair of adjacent sizes: where the larger model's smoothed loss drops below the
    smaller's (on their common token range, interpolated), or that it never does; and their
    losses on held-out documents at the end, where the base run measured them."""
    got = curves(found)
    by_model = {s.model: s for s in found}
    order = [s.model for s in found if s.model in got]
    lines = []
    for small, large in zip(order, order[1:]):
        (ta, la), (tb, lb) = smoothed(got[small]), smoothed(got[large])
        lo, hi = max(ta[0], tb[0]), min(ta[-1], tb[-1])
        if hi <= lo:
            continue
        grid = np.linspace(lo, hi, 200)
        gap = np.interp(grid, tb, lb) - np.interp(grid, ta, la)  # < 0: the larger is lower
        signs = np.sign(gap)
        changes = [float(grid[i + 1]) for i in range(len(grid) - 1)
                   if signs[i] != signs[i + 1] and signs[i + 1] != 0]
        end = ("lower" if gap[-1] < 0 else "higher") + f" by {abs(gap[-1]):.3f}"
        if not changes:
            where = ("below" if gap[0] < 0 else "above") + " it over the whole run"
            line = (f"- {large} vs {small}: never cross; {large}'s loss stays {where} "
                    f"(at the end {end})")
        else:
            at = ", ".join(params_label(t) for t in changes[:3])
            line = (f"- {large} vs {small}: the curves cross {len(changes)} time(s), at {at} "
                    f"tokens; at the end {large}'s loss is {end}")
        held = [_records(by_model[m].document).get(by_model[m].base_run, {})
                .get("metrics", {}).get("heldout_loss") for m in (large, small)]
        if None not in held:
            line += f"; on held-out documents {held[0]:.3f} against {held[1]:.3f}"
        lines.append(line + ".")
    return lines


def plot_curves(found: Sequence[Size], title: str):
    """Pretraining loss against tokens seen, one line per size (log-scaled tokens)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for s in found:
        curve = curves([s]).get(s.model)
        if curve:
            ax.plot(curve["tokens_seen"], curve["loss"], label=s.label)
    ax.set_xscale("log")
    ax.set_xlabel("pretraining tokens seen")
    ax.set_ylabel("training loss (nats/token)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_panels(found: Sequence[Size], title: str):
    """Figure 7's two panels: held-out and held-in score against parameters (log scale), base
    and tuned with 95% intervals; the paper's direction per size is written under each panel
    (its values were not found)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.0), squeeze=False)
    for ax, panel in zip(axes[0], PANELS):
        points = panel_points(found, panel)
        for k, model in enumerate(("base", "tuned") if points else ()):
            xs = [p["params"] * (0.93 if k == 0 else 1.07) for p in points]
            ax.errorbar(xs, [p[model]["mean"] for p in points],
                        yerr=yerr([p[model] for p in points]), fmt="o-",
                        color=MODEL_COLORS[model], capsize=3,
                        label=MODEL_LABELS[model] + " (95% CI)")
        ax.set_xscale("log")
        sizes_drawn = sorted({p["params"] for p in points})
        ax.set_xticks(sizes_drawn, [params_label(n) for n in sizes_drawn])
        ax.minorticks_off()  # log-scale minor labels (2x10^5, 3x10^5, ...) overlap
        ax.set_xlabel("parameters")
        what = "clusters left out" if panel == "held-out" else "tasks tuned on"
        ax.set_title(f"{panel} ({what})", fontsize=9)
        paper = PAPER_HELD_OUT if panel == "held-out" else PAPER_HELD_IN
        note = "paper: " + ", ".join(f"{params_label(PAPER_SIZES[n])} {verdict_words(v)}"
                                     for n, v in paper.items())
        ax.text(0.0, -0.25, note, transform=ax.transAxes, fontsize=6.5, va="top")
    axes[0][0].set_ylabel("score (%), mean over datasets")
    axes[0][0].legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# -- the knowledge probe per size ------------------------------------------------------------

def probe_rows(found: Sequence[Size]) -> list[dict[str, Any]]:
    """Per size: the probe of the base and of the models tuned from it (closed-book QA held
    out): cloze (the corpus's own words) and templates, with intervals."""
    rows = []
    for s in found:
        for p in s.document.get("probe", []):
            if p.get("base_run") != s.base_run:
                continue
            rows.append({"model": s.model, "probed": p["model"], **probe_cells(p)})
    return rows


def probe_lines(found: Sequence[Size]) -> list[str]:
    """Per size: does the base know its facts (cloze interval above chance), and can it say
    them through templates, before and after tuning?"""
    lines = []
    for s in found:
        probes = {p["model"]: p for p in s.document.get("probe", [])
                  if p.get("base_run") == s.base_run}
        base = probes.get("base")
        if base is None:
            continue
        knows = base["cloze"]["ci_low"] > base["chance"]
        says = base["template"]["ci_low"] > base["chance"]
        line = (f"- {s.model}: cloze {base['cloze']['mean']:.1f}% "
                f"({'above' if knows else 'not clearly above'} the {base['chance']:.0f}% "
                f"chance: {'knows' if knows else 'too small or too short to know'} its facts), "
                f"templates {base['template']['mean']:.1f}% "
                f"({'above' if says else 'not clearly above'} chance)")
        tuned = probes.get("tuned")
        if tuned is not None:
            if tuned["template"]["ci_low"] > base["template"]["ci_high"]:
                how = "higher: tuning makes it say more of what it knows"
            elif tuned["template"]["ci_high"] < base["template"]["ci_low"]:
                how = "lower"
            else:
                how = "no detectable change"
            line += f"; tuned, templates {tuned['template']['mean']:.1f}% ({how})"
        lines.append(line + ".")
    return lines or ["- No knowledge probe was published with these plans."]


# -- time: this machine and TPUs -------------------------------------------------------------

def tokens_per_s(model: str) -> float:
    """The measured training speed of a size here, or of the next larger measured size."""
    if model in MEASURED_TOKENS_PER_S:
        return MEASURED_TOKENS_PER_S[model]
    count = model_lib.matmul_param_count(model_lib.named_config(model))
    larger = sorted((model_lib.matmul_param_count(model_lib.named_config(m)), rate)
                    for m, rate in MEASURED_TOKENS_PER_S.items())
    for n, rate in larger:
        if n >= count:
            return rate
    n, rate = larger[-1]
    return rate * n / count  # beyond the measured sizes: FLOPs-proportional


def eval_seconds_per_pair() -> float:
    """Seconds of evaluation per (model, held-out cluster) pair for tiny-1m, from the
    pretraining sweep's published wall time (results/when_tuning_helps_pretraining.json)."""
    doc = json.loads((repo_root() / "results" / f"{EVAL_REFERENCE_PLAN}.json").read_text())
    pairs = sum(c["num_seeds"] + 1 for c in doc["clusters"])  # tuned runs + the base, per cluster
    return doc["provenance"]["wall_seconds"]["evaluation"] / pairs


def plan_minutes(plan: plans.Plan) -> dict[str, float]:
    """Estimated minutes of a plan here: each run's tokens (steps x batch tokens) over its
    size's measured tokens/s plus a fixed overhead, and the evaluation of every (model, cluster)
    pair at tiny-1m's measured rate, scaled up by matmul parameters for larger sizes and down by
    the examples and templates scored (a held-in cluster counted as one pair). Upper-end
    estimates on a quiet machine."""
    config = evaluation_config(plan)
    # The reference scored every example (200 per split) with every template (about 7).
    share = ((config.max_examples or 200) / 200) * ((config.num_templates or 7) / 7)
    per_pair = eval_seconds_per_pair() * min(1.0, share)
    reference = model_lib.matmul_param_count(model_lib.named_config("tiny-1m"))
    model_of: dict[str, str] = {}
    train = 0.0
    for planned in plan.runs:
        values = planned.parameters()
        if "MODEL" in values:
            model = values["MODEL"]
        else:
            model = model_of.get(str(values.get("BASE_RUN")), "tiny-1m")
        model_of[planned.name] = model
        tokens = values["NUM_STEPS"] * values["BATCH_TOKENS"]
        train += tokens / tokens_per_s(model) + RUN_OVERHEAD_S
    evaluation = 0.0
    for g in tuned_groups(plan, config):
        for _, run, base in g.runs + [(None, g.runs[0][2], g.runs[0][2])]:
            n = model_lib.matmul_param_count(model_lib.named_config(model_of.get(run,
                                                                                 "tiny-1m")))
            evaluation += per_pair * max(1.0, n / reference)
    return {"runs": train / 60, "evaluation": evaluation / 60,
            "total": (train + evaluation) / 60}


def run_estimate_rows(plan: plans.Plan) -> list[dict[str, Any]]:
    """Per run of a plan: its size, tokens and the estimated minutes here."""
    rows, model_of = [], {}
    for planned in plan.runs:
        values = planned.parameters()
        model = values.get("MODEL") or model_of.get(str(values.get("BASE_RUN")), "tiny-1m")
        model_of[planned.name] = model
        tokens = values["NUM_STEPS"] * values["BATCH_TOKENS"]
        rows.append({"run": planned.name, "model": model, "tokens": f"{tokens:,}",
                     "tokens/s": f"{tokens_per_s(model):,.0f}",
                     "est. min": f"{(tokens / tokens_per_s(model) + RUN_OVERHEAD_S) / 60:.1f}"})
    return rows


def tpu_hours(model: str, tokens: float, *, chips: int, peak_tflops: float,
              mfu: float) -> float:
    """Hours to train `model` on `tokens` tokens on `chips` chips of `peak_tflops` at `mfu`:
    6 N D FLOPs (N: matmul parameters) over the achieved FLOP/s."""
    flops = model_lib.training_flops(model_lib.named_config(model), int(tokens))
    return flops / (chips * peak_tflops * 1e12 * mfu) / 3600


def paper_tuning_mfu(chips: int = PAPER_TUNING_CHIPS,
                     peak_tflops: float = TPU_V3_PEAK_TFLOPS) -> float:
    """The MFU the paper's own tuning of 137B implies: its tokens in about 60 hours on a
    128-core TPUv3 (`flan_nb.bench.train.model_flops_utilisation`)."""
    n = model_lib.matmul_param_count(model_lib.named_config("paper-137b"))
    return model_flops_utilisation(n, PAPER_TUNING_TOKENS / (PAPER_TUNING_HOURS * 3600),
                                   chips * peak_tflops * 1e12)


def tpu_time_rows(plan: plans.Plan, *, chips: int, peak_tflops: float,
                  mfu: float) -> list[dict[str, Any]]:
    """Per size of the paper-scale plan: parameters, the paper's pretraining and tuning tokens,
    their 6 N D FLOPs, and hours on the stated slice at the stated MFU (pretraining; one tuning
    run; the plan's tuning runs of that size)."""
    rows = []
    values_of = {p.name: p.parameters() for p in plan.runs}
    kw = dict(chips=chips, peak_tflops=peak_tflops, mfu=mfu)
    for planned in plan.runs:
        values = values_of[planned.name]
        if "MODEL" not in values:
            continue
        model = values["MODEL"]
        config = model_lib.named_config(model)
        tuned = [v for v in values_of.values() if v.get("BASE_RUN") == planned.name]
        pre_tokens = values["NUM_STEPS"] * values["BATCH_TOKENS"]
        tune_tokens = tuned[0]["NUM_STEPS"] * tuned[0]["BATCH_TOKENS"] if tuned else 0
        tune_h = tpu_hours(model, tune_tokens, **kw)
        rows.append({
            "model": model, "params": f"{model_lib.param_count(config):,}",
            "pretrain tokens": f"{pre_tokens:.3g}",
            "pretrain FLOPs": f"{model_lib.training_flops(config, pre_tokens):.2e}",
            "pretrain h": f"{tpu_hours(model, pre_tokens, **kw):,.0f}",
            "tuning tokens": f"{tune_tokens:,}",
            "tuning FLOPs": f"{model_lib.training_flops(config, tune_tokens):.2e}",
            "tuning h/run": f"{tune_h:,.2f}",
            f"tuning h x{len(tuned)}": f"{len(tuned) * tune_h:,.2f}"})
    return rows


def tpu_assumption_lines(chips: int, peak_tflops: float, mfu: float) -> list[str]:
    """The stated assumptions of the TPU-time table, with the MFU figures beside ours."""
    implied = paper_tuning_mfu()
    return [
        f"- FLOPs: 6 N D, N the matmul parameters (`flan_nb.model.training_flops`), D the "
        f"tokens; attention's own FLOPs are not counted.",
        f"- Tokens: pretraining {PAPER_PRETRAIN_TOKENS:.3g} (LaMDA-PT, given for 137B; the "
        f"same for every size is our assumption); tuning {PAPER_TUNING_STEPS:,} steps x "
        f"{PAPER_TUNING_BATCH_TOKENS:,} tokens = {PAPER_TUNING_TOKENS:,} per run.",
        f"- Slice: {chips} chips at {peak_tflops:g} TFLOP/s (bf16 peak per chip); MFU "
        f"{mfu:.2f} (assumed).",
        f"- MFU beside it: {CPU_MEASURED_MFU[0]:.2f}-{CPU_MEASURED_MFU[1]:.2f} measured here "
        f"on CPU by `flan-nb bench train` (small-5m); {implied:.2f} implied by the paper's "
        f"own tuning of 137B ({PAPER_TUNING_HOURS:.0f} h on a 128-core TPUv3, "
        f"{PAPER_TUNING_CHIPS} chips at {TPU_V3_PEAK_TFLOPS:g} TFLOP/s).",
    ]
