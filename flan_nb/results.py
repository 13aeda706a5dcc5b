"""Published sweep results: `results/<plan-stem>.json`, written by `flan-nb batch PLAN --publish`.

A plan's runs train the models; publishing evaluates them and writes one JSON file, committed to
the repository, that a chapter renders without retraining. It holds:

- `plan`, `evaluation` (how the runs were scored) and `provenance`: the git commit of the code,
  the plan file's sha256, the date, the machine (cores, device kind), the command, and per run
  its full parameters, wall time and every metric it recorded;
- `clusters`: per (setting, held-out cluster) the base, tuned and paired tuned - base scores,
  each a mean with a 95% bootstrap interval over examples and seeds (`flan_nb.stats`), and the
  verdict the difference's interval gives;
- `datasets`: the paper's per-dataset figures (mean over templates, spread over templates,
  best-dev-template test score) with intervals, floors on exactly the examples scored, and a
  histogram of the answers each model gave (flagged when one answer takes over 90%);
- `probe`: the knowledge probe (`flan_nb.probe`) of the base and the tuned models;
- with `held_in_datasets: N` in the evaluation section, held-in entries too (`"held_in": true`
  in `clusters` and `datasets`; the paper's Figure 7, second panel): per tuned run, the test
  split of the first N datasets (registry order) of each cluster it was tuned on, scored for
  it and its base with the same templates and examples;
- `scores`: per run and dataset the per-example test score averaged over templates, and per
  template the dev and test means, so every interval can be recomputed;
- per run in the provenance, `loss_curve`: its training loss against tokens seen (at most
  `CURVE_POINTS` points, the mean loss of each stretch of steps) from its training log.

`setting` holds the values a sweep varies (the tuning runs' plan parameters other than the
held-out cluster and the seed; the base run too when the plan has several); it is empty for the
held-out plan.

`flan-nb results PLAN [--json]` prints the table after checking that the file is there, parses,
and still matches the plan (same runs, same parameters, same evaluation); otherwise one line
says what is wrong and which command republishes.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import hashlib
import json
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

from flan_nb import contamination, evaluate, plans, splits, stats, tasks, tinyworld
from flan_nb import params as params_lib
from flan_nb import probe as probe_lib
from flan_nb.errors import UserError, require
from flan_nb.evaluate import EvalSettings, few_shot_pool, held_out_cells
from flan_nb.formats import few_shot_label
from flan_nb.report import format_table
from flan_nb.runs import Run, atomic_write_text, repo_root, runs_dir
from flan_nb.stats import format_interval

RESULTS_ENV = "FLAN_NB_RESULTS"
FORMAT = 1
SPLITS = ("validation", "test")
REQUIRED_KEYS = ("format", "plan", "evaluation", "provenance", "clusters", "datasets", "scores")
PROVENANCE_KEYS = ("commit", "plan_sha256", "date", "machine", "runs", "command",
                   "wall_seconds")
MODELS = ("base", "tuned")
COT_CLUSTER = "cot_held_out"  # flan_nb.tasks.MIXTURES: multi-step questions never tuned on
COT_EVAL_FORMATS = ("zero-shot", "cot", "cot-trigger")  # direct, CoT prompt, zero-shot trigger
PROBE_CLUSTER = "closed_book_qa"  # tuned models probed: those that never saw closed-book QA


@dataclasses.dataclass(frozen=True)
class EvaluationConfig:
    """A plan's `evaluation:` section: which runs are compared and how they are scored."""

    tuning_notebook: str = "08_instruction_tuning"  # its runs are the tuned models
    held_out_parameter: str = "HELD_OUT"  # its value is the cluster a tuned run left out
    seed_parameter: str = "SEED"
    base_parameter: str = "BASE_RUN"  # the run each tuned model started from
    # Its value is the format a run was tuned in (Figure 8): a run tuned in an ablation format
    # is scored in that format and with FLAN's templates, and its base in both too.
    format_parameter: str = "FORMAT"
    num_templates: int | None = None  # evaluation templates per dataset (None: all)
    max_examples: int | None = None  # examples per split and dataset (None: all)
    max_input_length: int = 160  # input tokens kept, EOS included (as in tuning)
    max_target_length: int = 96  # decoding budget cap, EOS included (as in tuning)
    batch_size: int = 8
    length_normalize: bool = False
    source: str = "tinyworld"
    size: str = "book"  # TinyWorld size and seed of the evaluation data
    seed: int = 0
    probe_facts: int = 200  # facts in the knowledge probe (0: no probe)
    # Appendix C: n of the n-gram overlap check against the pretraining corpus (None: no
    # check); see flan_nb.contamination.
    contamination_ngram: int | None = None
    # Flan 2022: also score every base and tuned run on the held-out multi-step questions
    # (TinyWorld's cot_held_out mixture) with the direct prompt, the CoT prompt and the
    # zero-shot trigger (COT_EVAL_FORMATS), as groups of the pseudo-cluster COT_CLUSTER.
    cot: bool = False
    # Figure 7's held-in panel: per tuned run, also the test split of the first N datasets of
    # each cluster it was tuned on, for it and its base (0: held-out clusters only).
    held_in_datasets: int = 0
    # Figure 9: every model is also scored with k exemplars from the training split per k
    # listed (0 is zero-shot, always scored), pruned to few_shot_max_input_length tokens (EOS
    # included; None: max_input_length), drawn with few_shot_seed from the first
    # few_shot_pool training examples (None: all).
    shots: list = dataclasses.field(default_factory=list)
    few_shot_max_input_length: int | None = None
    few_shot_seed: int = 0
    few_shot_pool: int | None = None

    def __post_init__(self):
        require(isinstance(self.shots, list) and all(
            isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in self.shots),
            f"evaluation shots must be a list of integers >= 0, got {self.shots!r}")
        for name in ("few_shot_max_input_length", "few_shot_pool"):
            value = getattr(self, name)
            require(value is None or (isinstance(value, int) and value >= 2),
                    f"evaluation {name} must be an integer >= 2 or null, got {value!r}")
        for name in ("num_templates", "max_examples"):
            value = getattr(self, name)
            require(value is None or (isinstance(value, int) and value >= 2),
                    f"evaluation {name} must be an integer >= 2 or null (all), got {value!r}")
        for name in ("max_input_length", "max_target_length", "batch_size"):
            value = getattr(self, name)
            require(isinstance(value, int) and value >= 2,
                    f"evaluation {name} must be an integer >= 2, got {value!r}")
        require(isinstance(self.probe_facts, int) and self.probe_facts >= 0,
                f"evaluation probe_facts must be an integer >= 0, got {self.probe_facts!r}")
        require(isinstance(self.cot, bool), f"evaluation cot must be true or false, got "
                                            f"{self.cot!r}")
        require(isinstance(self.held_in_datasets, int)
                and not isinstance(self.held_in_datasets, bool) and self.held_in_datasets >= 0,
                f"evaluation held_in_datasets must be an integer >= 0 (0: none), got "
                f"{self.held_in_datasets!r}")

    def settings(self):
        return EvalSettings(batch_size=self.batch_size, max_input_length=self.max_input_length - 1,
                            max_target_length=self.max_target_length,
                            length_normalize=self.length_normalize,
                            few_shot_max_input_length=self.few_shot_max_input_length)

    def eval_formats(self, tuned_format: str = "zero-shot") -> list[str]:
        """The formats a run is scored in: zero-shot, its tuning format, then few-shot-K."""
        return list(dict.fromkeys(["zero-shot", tuned_format,
                                   *(few_shot_label(k) for k in self.shots)]))


def evaluation_config(plan: plans.Plan) -> EvaluationConfig:
    """The plan's evaluation section, checked; a plan without one cannot be published."""
    if not plan.evaluation:
        raise UserError(f"plan {plan.path} has no 'evaluation' section, so it cannot be "
                        f"published; add one (see notebooks/plans/book.yaml)")
    fields = {f.name for f in dataclasses.fields(EvaluationConfig)}
    unknown = set(plan.evaluation) - fields
    if unknown:
        raise UserError(f"plan {plan.path}: unknown evaluation keys {sorted(unknown)} (allowed: "
                        f"{', '.join(sorted(fields))})")
    try:
        return EvaluationConfig(**plan.evaluation)
    except UserError as err:
        raise UserError(f"plan {plan.path}: {err}") from None


@dataclasses.dataclass
class Group:
    """The tuned runs of one (setting, held-out cluster, evaluation format): one per seed,
    with their bases."""

    setting: dict[str, Any]
    cluster: str
    runs: list[tuple[Any, str, str]]  # (seed, tuned run, base run)
    eval_format: str = "zero-shot"
    held_in: tuple[str, ...] = ()  # a held-in group: the tuned-on datasets it scores (test)


def tuned_groups(plan: plans.Plan, config: EvaluationConfig) -> list[Group]:
    """The plan's tuning runs grouped by (setting, held-out cluster, evaluation format), in
    plan order."""
    groups: dict[str, Group] = {}
    tuning = [p for p in plan.runs if p.notebook.stem == config.tuning_notebook]
    for planned in tuning:
        values = planned.parameters()
        for name in (config.held_out_parameter, config.base_parameter):
            if name not in values:
                raise UserError(f"plan {plan.path}: {planned.notebook.name} has no parameter "
                                f"{name}; set the evaluation's parameter names")
    # The base run is part of the setting when the plan sweeps it (e.g. pretraining length).
    bases = {str(p.parameters()[config.base_parameter]) for p in tuning}
    skip = {config.held_out_parameter, config.seed_parameter}
    if len(bases) <= 1:
        skip.add(config.base_parameter)
    for planned in tuning:
        values = planned.parameters()
        setting = {k: v for k, v in planned.overrides.items() if k not in skip}
        if config.base_parameter not in skip:
            setting[config.base_parameter] = str(values[config.base_parameter])
        tuned_format = values.get(config.format_parameter, "zero-shot")
        eval_formats = config.eval_formats(tuned_format)
        # A run may hold out several clusters at once (Figure 6): one group per cluster.
        for cluster in splits.parse_clusters(values[config.held_out_parameter],
                                             config.held_out_parameter):
            for fmt in eval_formats:
                key = json.dumps([setting, cluster, fmt], sort_keys=True, default=str)
                group = groups.setdefault(key, Group(setting, cluster, [], fmt))
                group.runs.append((values.get(config.seed_parameter), planned.name,
                                   str(values[config.base_parameter])))
        for fmt in COT_EVAL_FORMATS if config.cot else ():
            key = json.dumps([setting, COT_CLUSTER, fmt], sort_keys=True, default=str)
            group = groups.setdefault(key, Group(setting, COT_CLUSTER, [], fmt))
            group.runs.append((values.get(config.seed_parameter), planned.name,
                               str(values[config.base_parameter])))
    if not groups:
        raise UserError(f"plan {plan.path} has no run of {config.tuning_notebook}: nothing to "
                        f"compare with the base model")
    if config.cot and not cot_datasets(config.source):
        raise UserError(f"plan {plan.path}: evaluation cot: true asks for chain-of-thought "
                        f"questions, and source {config.source!r} has none; set cot: false or "
                        f"source: tinyworld")
    held_in: dict[str, Group] = {}  # after the held-out groups (Figure 7's second panel)
    for planned in tuning if config.held_in_datasets else ():
        values = planned.parameters()
        setting = next(g.setting for g in groups.values()
                       if any(r == planned.name for _, r, _ in g.runs))
        for cluster, names in held_in_datasets(plan, planned.name, values, config).items():
            key = json.dumps([setting, cluster, names], sort_keys=True, default=str)
            group = held_in.setdefault(key, Group(setting, cluster, [], "zero-shot",
                                                  tuple(names)))
            group.runs.append((values.get(config.seed_parameter), planned.name,
                               str(values[config.base_parameter])))
    return list(groups.values()) + list(held_in.values())


def held_in_datasets(plan: plans.Plan, run: str, values: Mapping[str, Any],
                     config: EvaluationConfig) -> dict[str, list[str]]:
    """Per cluster a tuning run was tuned on (its HELD_OUT, TUNING_CLUSTERS and
    DATASETS_PER_CLUSTER parameters, the paper's held-out rules), the first
    `config.held_in_datasets` datasets it was tuned on, in registry order."""
    if values.get("NUM_TUNING_TASKS", 0):
        raise UserError(f"plan {plan.path}: {run} tunes on NUM_TUNING_TASKS drawn tasks, so "
                        f"its held-in datasets are not a cluster's first ones; remove "
                        f"held_in_datasets from the evaluation section")

    held_out = splits.parse_clusters(values[config.held_out_parameter],
                                     config.held_out_parameter)
    chosen = splits.parse_clusters(values.get("TUNING_CLUSTERS", ""), "TUNING_CLUSTERS")
    split = splits.limit_datasets_per_cluster(
        splits.split_for(held_out, source=config.source, train_clusters=chosen or None),
        int(values.get("DATASETS_PER_CLUSTER", 0)))
    out: dict[str, list[str]] = {}
    for name in split.train:
        names = out.setdefault(tasks.get(name).cluster, [])
        if len(names) < config.held_in_datasets:
            names.append(name)
    return out


def check_publishable(plan: plans.Plan) -> None:
    """Fail before any run when the plan could not be published (a few-shot k larger than a
    held-out dataset's training split included)."""
    config = evaluation_config(plan)
    groups = tuned_groups(plan, config)
    if config.shots and max(config.shots):
        for cluster in dict.fromkeys(g.cluster for g in groups):
            for name in splits.held_out_split(cluster, source=config.source).eval:
                few_shot_pool(name, max(config.shots), size=config.size, seed=config.seed,
                              max_pool=config.few_shot_pool)


def results_dir(plan: plans.Plan) -> Path:
    """Where a plan's results go: $FLAN_NB_RESULTS, else the repository's results/; a smoke
    plan's (a test of the path, not a result) go under the runs folder instead."""
    if os.environ.get(RESULTS_ENV):
        return Path(os.environ[RESULTS_ENV])
    if plan.profile == "smoke":
        return Path(runs_dir()) / "results"
    return repo_root() / "results"


def results_path(plan: plans.Plan) -> Path:
    return results_dir(plan) / f"{plan.stem}.json"


def plan_label(plan: plans.Plan) -> str:
    """The plan's path relative to the repository (as commands name it)."""
    try:
        return str(plan.path.resolve().relative_to(repo_root()))
    except ValueError:
        return str(plan.path)


def publish_command(plan: plans.Plan) -> str:
    return f"flan-nb batch {plan_label(plan)} --publish"


# -- evaluating the plan's runs --------------------------------------------------------------

def cot_datasets(source: str) -> list[str]:
    """The held-out chain-of-thought datasets of `source` (TinyWorld's; none elsewhere)."""
    return [s.name for s in tasks.all_variants(source=source) if s.cluster == COT_CLUSTER]


def _cells_of(cluster: str, fmt: str, config: EvaluationConfig, data_dir: str | None):
    names = (cot_datasets(config.source) if cluster == COT_CLUSTER
             else splits.held_out_split(cluster, source=config.source).eval)
    return held_out_cells(names,
                          num_templates=config.num_templates, max_examples=config.max_examples,
                          splits=SPLITS, size=config.size, seed=config.seed, data_dir=data_dir,
                          format=fmt, shot_seed=config.few_shot_seed,
                          max_pool=config.few_shot_pool)


def evaluate_plan(plan: plans.Plan, *, data_dir: str | None = None, mesh=None,
                  echo=print) -> dict[str, Any]:
    """Score every tuned run on its held-out cluster and every base run on the clusters of
    the runs tuned from it (same examples, same templates), and probe the base runs and the
    runs tuned without closed-book QA. Returns {"scores": [...], "probe": {...}, "cells":
    {dataset: {split: examples}}, "seconds": ...}."""
    config = evaluation_config(plan)
    groups = tuned_groups(plan, config)
    start = time.perf_counter()
    cells = {(c, f): _cells_of(c, f, config, data_dir)
             for c, f in dict.fromkeys((g.cluster, g.eval_format) for g in groups)}

    def group_cells(g: Group) -> list:
        # A held-in group scores the test split of its datasets only.
        return [c for c in cells[(g.cluster, g.eval_format)] if not g.held_in
                or (c.dataset in g.held_in and c.split == "test")]

    settings = config.settings()
    base_clusters: dict[str, list[str]] = {}
    base_cells: dict[str, dict[tuple, Any]] = {}  # each cell once, though several groups ask
    for g in groups:
        for _, _, base in g.runs:
            labels = base_clusters.setdefault(base, [])
            if _label(g) not in labels:
                labels.append(_label(g))
            for c in group_cells(g):
                base_cells.setdefault(base, {}).setdefault(
                    (c.dataset, c.template, c.split, c.format), c)
    world = (tinyworld.build(config.seed, config.size).world
             if config.source == "tinyworld" and config.probe_facts else None)
    items = probe_lib.probe_items(world, config.probe_facts, seed=config.seed) if world else []
    scores, probes, prompt_log = [], {}, {}

    def probe(label, run, loaded, base):
        if items:
            probes[run] = {"model": label, "base_run": base, **probe_lib.run_probe(
                loaded.model, loaded.tokenizer, world, items,
                bidirectional_prefix=loaded.bidirectional_prefix,
                max_input_length=config.max_input_length - 1, batch_size=config.batch_size)}

    for base, clusters in base_clusters.items():
        echo(f"evaluate base {base} on {', '.join(clusters)}")
        loaded = evaluate.load_run_model(base, mesh)
        scores += evaluate.evaluate_run(base, list(base_cells[base].values()),
                                        "base", settings, loaded=loaded, prompt_log=prompt_log)
        probe("base", base, loaded, base)
    for g in groups:
        for _, run, base in g.runs:
            echo(f"evaluate tuned {run} on {_label(g)}")
            loaded = evaluate.load_run_model(run, mesh)
            scores += evaluate.evaluate_run(run, group_cells(g), "tuned",
                                            settings, loaded=loaded, prompt_log=prompt_log)
            if (g.cluster == PROBE_CLUSTER and g.eval_format == "zero-shot" and not g.held_in
                    and run not in probes):
                probe("tuned", run, loaded, base)
    examples: dict[str, dict[str, Any]] = {c.dataset: {} for cl in cells.values() for c in cl}
    for cl in cells.values():
        for c in cl:
            examples[c.dataset][c.split] = c.examples
    return {"scores": scores, "probe": probes, "examples": examples, "items": len(items),
            "prompts": prompt_log, "seconds": time.perf_counter() - start}


def _label(g: Group) -> str:
    if g.held_in:
        return f"{g.cluster} (held-in: {', '.join(g.held_in)})"
    return g.cluster if g.eval_format == "zero-shot" else f"{g.cluster} ({g.eval_format})"


# -- summarising -----------------------------------------------------------------------------

def _by(scores, **where):
    return [s for s in scores if all(getattr(s, k) == v for k, v in where.items())]


def _template_means(rows) -> dict[int, float]:
    return {r.template: statistics.fmean(r.values) for r in rows}


def _per_example(scores, run: str, dataset: str) -> list[float]:
    """A run's test score of each example, averaged over the templates."""
    rows = _by(scores, run=run, dataset=dataset, split="test")
    if not rows:
        raise UserError(f"no test scores of {run} on {dataset}")
    lengths = {len(r.values) for r in rows}
    if len(lengths) != 1:
        raise UserError(f"{run} on {dataset}: templates were scored on different examples")
    return [statistics.fmean(v) for v in zip(*(r.values for r in rows))]


def floors_on(dataset: str, examples: Sequence[Mapping[str, Any]], *, size: str,
              seed: int) -> dict[str, float] | None:
    """Majority-class (the training split's most common label) and random-choice accuracy in
    percent on exactly `examples`; None for a dataset without floors (generation, TFDS)."""

    spec = tasks.get(dataset)
    if spec.source != "tinyworld" or spec.kind != "classification" or not examples:
        return None
    train = tasks.load_examples(dataset, "train", seed=seed, size=size)
    majority = collections.Counter(ex["label"] for ex in train).most_common(1)[0][0]
    options = spec.options
    return {"majority": 100.0 * statistics.fmean(ex["label"] == majority for ex in examples),
            "random": 100.0 * statistics.fmean(1 / len(ex.get("options") or options)
                                               for ex in examples)}


def _histogram(rows, top: int = 5) -> dict[str, Any]:
    counts = stats.histogram([p for r in rows for p in r.predictions])
    dominant = stats.dominant_answer(counts)
    total = sum(counts.values())
    return {"answers": dict(list(counts.items())[:top]), "num_answers": len(counts),
            "total": total,
            "dominant": None if dominant is None else {"answer": dominant[0],
                                                       "share": round(dominant[1], 3)}}


def _best_dev(scores, run: str, dataset: str) -> float | None:
    dev = _template_means(_by(scores, run=run, dataset=dataset, split="validation"))
    test = _template_means(_by(scores, run=run, dataset=dataset, split="test"))
    common = [t for t in dev if t in test]
    if not common:
        return None
    return test[max(common, key=lambda t: (dev[t], -t))]


def _model_rows(scores, runs: Sequence[str], dataset: str) -> dict[str, Any]:
    """The paper's per-dataset figures for the runs of one model (seeds averaged)."""
    per_template: dict[int, list[float]] = {}
    for run in runs:
        for t, v in _template_means(_by(scores, run=run, dataset=dataset, split="test")).items():
            per_template.setdefault(t, []).append(v)
    template_means = [statistics.fmean(v) for _, v in sorted(per_template.items())]
    best = [_best_dev(scores, run, dataset) for run in runs]
    return {"mean_over_templates": round(statistics.fmean(template_means), 2),
            "template_std": round(statistics.stdev(template_means), 2)
            if len(template_means) > 1 else 0.0,
            "best_dev_template_test": None if None in best
            else round(statistics.fmean(best), 2),
            "histogram": _histogram([r for run in runs
                                     for r in _by(scores, run=run, dataset=dataset,
                                                  split="test")])}


def summarise(plan: plans.Plan, evaluated: Mapping[str, Any]) -> dict[str, Any]:
    """clusters, datasets, probe and per-example scores from `evaluate_plan`'s output."""
    config = evaluation_config(plan)
    scores = evaluated["scores"]
    clusters, datasets, kept = [], [], []
    every_score = scores
    for g in tuned_groups(plan, config):
        # A run scored on several clusters (Figure 6) or formats: this group's scores only.
        scores = [s for s in every_score
                  if s.format == g.eval_format and s.cluster == g.cluster]
        tuned_runs = [run for _, run, _ in g.runs]
        base_runs = [base for _, _, base in g.runs]
        unique_bases = list(dict.fromkeys(base_runs))
        # The group's own datasets: a run is also scored on its other held-out clusters
        # (Figure 6) and, with held_in_datasets, on clusters it was tuned on.
        names = list(dict.fromkeys(s.dataset for s in scores
                                   if s.run == tuned_runs[0] and s.cluster == g.cluster
                                   and (not g.held_in or s.dataset in g.held_in)))
        tuned = [[_per_example(scores, r, d) for r in tuned_runs] for d in names]
        base_rows = [[_per_example(scores, b, d) for b in base_runs] for d in names]
        base = [[_per_example(scores, b, d) for b in unique_bases] for d in names]
        diffs = [[[t - b for t, b in zip(tr, br)] for tr, br in zip(td, bd)]
                 for td, bd in zip(tuned, base_rows)]
        entry = {"setting": g.setting, "cluster": g.cluster, "eval_format": g.eval_format,
                 "num_seeds": len(tuned_runs),
                 "seeds": [seed for seed, _, _ in g.runs], "datasets": names,
                 "num_examples": sum(len(t[0]) for t in tuned),
                 "num_templates": {d: len(_by(scores, run=tuned_runs[0], dataset=d,
                                              split="test")) for d in names}}
        if g.held_in:
            entry["held_in"] = True
        for label, groups_ in (("base", base), ("tuned", tuned), ("difference", diffs)):
            entry[label] = stats.mean_interval(groups_).as_dict()
        entry["verdict"] = stats.verdict(stats.Interval(**entry["difference"]))
        floors = {d: floors_on(d, evaluated["examples"][d]["test"], size=config.size,
                               seed=config.seed) for d in names}
        entry["majority_floor"] = (round(statistics.fmean(f["majority"] for f in floors.values()),
                                         2) if all(floors.values()) else None)
        clusters.append(entry)
        for i, d in enumerate(names):
            metric = _by(scores, run=tuned_runs[0], dataset=d)[0].metric
            row = {"setting": g.setting, "cluster": g.cluster, "eval_format": g.eval_format,
                   "dataset": d, "metric": metric,
                   "num_examples": len(tuned[i][0]),
                   "num_templates": entry["num_templates"][d],
                   "floors": None if floors[d] is None
                   else {k: round(v, 2) for k, v in floors[d].items()},
                   **({"held_in": True} if g.held_in else {})}
            for label, groups_ in (("base", [base[i]]), ("tuned", [tuned[i]]),
                                   ("difference", [diffs[i]])):
                row[label] = stats.mean_interval(groups_).as_dict()
            row["verdict"] = stats.verdict(stats.Interval(**row["difference"]))
            row["base_figures"] = _model_rows(scores, unique_bases, d)
            row["tuned_figures"] = _model_rows(scores, tuned_runs, d)
            datasets.append(row)
        for run in unique_bases + tuned_runs:
            for d in names:
                kept.append({"run": run, "dataset": d, "format": g.eval_format,
                             "test_per_example": [round(v, 2) for v in
                                                  _per_example(scores, run, d)],
                             "per_template": {
                                 split: {str(t): round(v, 2) for t, v in _template_means(
                                     _by(scores, run=run, dataset=d, split=split)).items()}
                                 for split in SPLITS}})
    unique = {(k["run"], k["dataset"], k["format"]): k for k in kept}
    return {"clusters": clusters, "datasets": datasets,
            **({"few_shot_prompts": evaluated["prompts"]} if evaluated.get("prompts") else {}),
            "probe": summarise_probe(evaluated["probe"], evaluated.get("items", 0)),
            "scores": list(unique.values())}


def summarise_probe(probes: Mapping[str, Mapping[str, Any]], num_items: int) -> list[dict]:
    """Per base run and model (the base; the runs tuned from it without closed-book QA, seeds
    pooled): cloze and template accuracy and the gap cloze - template on the same facts, with
    intervals. A plan that sweeps the base (e.g. pretraining length) gets one row pair per base."""
    bases = list(dict.fromkeys(p.get("base_run") for p in probes.values()))
    out = []
    for base_run in bases:
        for label in MODELS:
            runs = [r for r, p in probes.items()
                    if p["model"] == label and p.get("base_run") == base_run]
            if not runs:
                continue
            cloze = [probes[r]["cloze"] for r in runs]
            template = [probes[r]["template"] for r in runs]
            gap = [[c - t for c, t in zip(cr, tr)] for cr, tr in zip(cloze, template)]
            out.append({"model": label, "base_run": base_run, "runs": runs,
                        "num_facts": num_items,
                        "chance": round(probes[runs[0]]["chance"], 2),
                        "num_templates": len(probes[runs[0]]["templates"]),
                        "cloze": stats.mean_interval([cloze]).as_dict(),
                        "template": stats.mean_interval([template]).as_dict(),
                        "gap": stats.mean_interval([gap]).as_dict()})
    return out


# -- provenance and files --------------------------------------------------------------------

def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=repo_root(), capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine() -> dict[str, Any]:
    """What the numbers ran on: cores and the accelerator kind."""
    import jax

    devices = jax.devices()
    return {"cores": os.cpu_count(), "platform": devices[0].platform,
            "device_kind": devices[0].device_kind, "num_devices": len(devices),
            "system": f"{platform.system()} {platform.machine()}",
            "python": platform.python_version(), "jax": jax.__version__}


def plan_sha256(plan: plans.Plan) -> str:
    return hashlib.sha256(plan.path.read_bytes()).hexdigest()


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


CURVE_POINTS = 60  # points of a published training-loss curve


def loss_curve(run: str, points: int = CURVE_POINTS) -> dict[str, list] | None:
    """A run's training loss against tokens seen, from its training log (`flan_nb.train`):
    the log's steps cut into at most `points` consecutive stretches, each giving its mean loss
    at the tokens seen by its last step. None for a run without a log."""
    from flan_nb.train import LOG_FILE, TrainLog  # JAX at import: `flan-nb results` stays light
    rows = TrainLog(runs_dir() / run / LOG_FILE).read()
    if not rows:
        return None
    size = -(-len(rows) // points)  # ceil: at most `points` stretches
    parts = [rows[i:i + size] for i in range(0, len(rows), size)]
    return {"tokens_seen": [p[-1]["tokens_seen"] for p in parts],
            "loss": [round(statistics.fmean(r["loss"] for r in p), 4) for p in parts]}


def run_records(plan: plans.Plan) -> list[dict[str, Any]]:
    """Per run: name, notebook, full parameters, wall time, every metric it recorded and its
    training-loss curve."""
    return [{"name": p.name, "notebook": p.notebook.name, "profile": p.profile,
             "parameters": _jsonable(p.parameters()),
             "wall_seconds": plans.run_wall_seconds(p.name),
             "metrics": _jsonable(Run(runs_dir() / p.name).metrics()),
             "loss_curve": loss_curve(p.name)} for p in plan.runs]


def require_finished(plan: plans.Plan) -> None:
    """Every run of the plan finished (else a UserError naming the first that did not and the
    command that finishes and publishes it)."""
    todo = [(p.name, why) for p, why in plans.plan_status(plan) if why]
    if todo:
        name, why = todo[0]
        raise UserError(f"plan {plan_label(plan)} is not finished ({name}: {why}); run "
                        f"`{publish_command(plan)}`")


def provenance(plan: plans.Plan, *, command: str | None,
               seconds: Mapping[str, float]) -> dict[str, Any]:
    """Where a published document comes from: commit (and whether the tree was dirty), plan
    hash, date, machine, the command that made it and the one that remakes it, wall time (the
    runs', then each of `seconds`, e.g. {"evaluation": s}) and every run's record."""
    runs = run_records(plan)
    run_seconds = [r["wall_seconds"] for r in runs if r["wall_seconds"] is not None]
    return {
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "plan_sha256": plan_sha256(plan),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(), "command": command or publish_command(plan),
        "regenerate": publish_command(plan),
        "wall_seconds": {"runs": round(sum(run_seconds), 1),
                         **{k: round(v, 1) for k, v in seconds.items()},
                         "runs_timed": len(run_seconds), "runs_total": len(runs)},
        "runs": runs}


def publish(plan: plans.Plan | str | Path, *, command: str | None = None,
            data_dir: str | None = None, mesh=None, progress: bool = True,
            directory: Path | None = None) -> Path:
    """Evaluate a finished plan and write its results file (atomically); returns its path."""
    plan = plan if isinstance(plan, plans.Plan) else plans.load_plan(plan)
    config = evaluation_config(plan)
    require_finished(plan)
    evaluated = evaluate_plan(plan, data_dir=data_dir, mesh=mesh,
                              echo=print if progress else (lambda _: None))
    summary = summarise(plan, evaluated)
    document = {
        "format": FORMAT, "plan": plan_label(plan), "description": plan.description,
        "evaluation": dataclasses.asdict(config),
        "provenance": provenance(plan, command=command,
                                 seconds={"evaluation": evaluated["seconds"]}),
        **summary}
    if config.contamination_ngram is not None:
        document["contamination"] = contamination.section(document,
                                                          ngram=config.contamination_ngram)
    path = (directory or results_dir(plan)) / f"{plan.stem}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(document, indent=1, sort_keys=False) + "\n")
    return path


def differences(plan: plans.Plan, document: Mapping[str, Any]) -> list[str]:
    """How the plan differs from the one the results were published from (empty: same).

    A parameter (or evaluation key) added since publishing is no difference while it holds its
    default: the default keeps the behaviour the results were made with."""
    recorded = {r["name"]: r.get("parameters", {}) for r in document["provenance"]["runs"]}
    planned = {p.name: p for p in plan.runs}
    current = {n: _jsonable(p.parameters()) for n, p in planned.items()}
    out = [f"{n} (new in the plan)" for n in current if n not in recorded]
    out += [f"{n} (no longer in the plan)" for n in recorded if n not in current]
    for name in current:
        if name not in recorded:
            continue
        defaults = {k: _jsonable(p.default) for k, p in
                    params_lib.notebook_parameters(planned[name].notebook).items()}
        keys = sorted(k for k in set(recorded[name]) | set(current[name])
                      if recorded[name].get(k, defaults.get(k)) != current[name].get(k))
        if keys:
            out.append(f"{name} ({', '.join(keys)} changed)")
    evaluation = dataclasses.asdict(evaluation_config(plan))
    defaults = dataclasses.asdict(EvaluationConfig())
    published = {**{k: v for k, v in defaults.items() if k not in document.get("evaluation", {})},
                 **document.get("evaluation", {})}
    if published != evaluation:
        out.append("the evaluation section")
    return out


def read_results_file(plan: plans.Plan, path: Path | None = None) -> tuple[Path, Any]:
    """The path of a plan's results file (default: `results_path`) and its parsed JSON, not
    checked further; never published or not JSON: one UserError with the command to publish."""
    path = Path(path or results_path(plan))
    fix = f"run `{publish_command(plan)}`"
    if not path.is_file():
        raise UserError(f"plan {plan_label(plan)} has never been published ({path} is "
                        f"missing): {fix}")
    try:
        return path, json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"results file {path} is corrupt ({type(err).__name__}: "
                        f"{str(err).splitlines()[0]}): {fix} to rewrite it") from None


def load_results(plan: plans.Plan | str | Path, path: Path | None = None,
                 check_plan: bool = True) -> dict[str, Any]:
    """A plan's published results, checked: present, valid JSON of the expected shape, and
    published from the plan as it is now. Any problem is one UserError."""
    plan = plan if isinstance(plan, plans.Plan) else plans.load_plan(plan)
    path, document = read_results_file(plan, path)
    fix = f"run `{publish_command(plan)}`"
    missing = ([k for k in REQUIRED_KEYS if k not in document]
               if isinstance(document, dict) else ["everything"])
    if not missing:
        prov = document["provenance"]
        missing = ([f"provenance.{k}" for k in PROVENANCE_KEYS if k not in prov]
                   if isinstance(prov, dict) else ["provenance"])
    if missing or document.get("format") != FORMAT:
        what = f"missing {', '.join(missing)}" if missing else f"format {document.get('format')}"
        raise UserError(f"results file {path} is corrupt or of another version ({what}): "
                        f"{fix} to rewrite it")
    if check_plan:
        changed = differences(plan, document)
        if changed:
            raise UserError(f"results file {path} is stale: the plan changed since it was "
                            f"published, runs that differ: {'; '.join(changed)}; {fix}")
    return document


# -- tables ----------------------------------------------------------------------------------

def _setting(setting: Mapping[str, Any]) -> str:
    """A setting in a table cell; a list of three or more (Figure 6's TUNING_CLUSTERS) as
    its first and last items and their count, so the table fits a terminal."""
    def value(v: Any) -> str:
        items = str(v).split(",")
        return f"{items[0]},...,{items[-1]} ({len(items)})" if len(items) > 2 else str(v)

    return ", ".join(f"{k}={value(v)}" for k, v in setting.items()) or "-"


def cluster_rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per (setting, cluster): base, tuned and difference as 'mean [low, high]'."""
    rows = []
    for c in document["clusters"]:
        row = {"setting": _setting(c["setting"])} if any(
            x["setting"] for x in document["clusters"]) else {}
        if any(x.get("eval_format", "zero-shot") != "zero-shot" for x in document["clusters"]):
            row["evaluated in"] = c.get("eval_format", "zero-shot")
        if any(x.get("held_in") for x in document["clusters"]):
            row["panel"] = "held-in" if c.get("held_in") else "held-out"
        row.update({"cluster": c["cluster"], "seeds": c["num_seeds"],
                    "base": format_interval(c["base"]), "tuned": format_interval(c["tuned"]),
                    "tuned - base": format_interval(c["difference"]), "verdict": c["verdict"]})
        rows.append(row)
    return rows


def dataset_rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for d in document["datasets"]:
        floors = d.get("floors") or {}
        flags = [m for m in MODELS if d[f"{m}_figures"]["histogram"]["dominant"]]
        rows.append({"dataset": d["dataset"], "metric": d["metric"], "n": d["num_examples"],
                     "tpl": d["num_templates"], "base": format_interval(d["base"]),
                     "tuned": format_interval(d["tuned"]),
                     "diff": format_interval(d["difference"]),
                     "floor": (f"{floors['majority']:.0f}/{floors['random']:.0f}"
                               if floors else "-"),
                     "one answer": ",".join(flags) or "-"})
    return rows


def provenance_lines(document: Mapping[str, Any]) -> list[str]:
    """Provenance as short lines (each under 88 characters)."""
    prov = document["provenance"]
    m = prov["machine"]
    wall = prov["wall_seconds"]
    commit = prov["commit"][:12] + (" (uncommitted changes)" if prov.get("dirty") else "")
    return [f"plan: {document['plan']}  (sha256 {prov['plan_sha256'][:12]})",
            f"code: commit {commit}, published {prov['date']}",
            f"machine: {m['cores']} cores, {m['num_devices']} x {m['device_kind']}",
            f"wall time: runs {wall['runs'] / 60:.1f} min ({wall['runs_timed']} of "
            f"{wall['runs_total']} timed), evaluation {wall['evaluation'] / 60:.1f} min",
            f"regenerate: {prov['regenerate']}"]


def format_results(document: Mapping[str, Any]) -> str:
    """The readable table of `flan-nb results`."""
    parts = provenance_lines(document) + [
        "", "Held-out clusters (mean [95% CI] over examples and seeds):",
        format_table(cluster_rows(document))]
    if document.get("probe"):
        parts += ["", "Knowledge probe (accuracy on the same facts, chance "
                      f"{document['probe'][0]['chance']:.0f}):",
                  format_table(probe_rows(document))]
    return "\n".join(parts)


def probe_rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    probes = document.get("probe", [])
    several = len({p.get("base_run") for p in probes}) > 1
    return [{**({"base run": p.get("base_run")} if several else {}),
             "model": p["model"], "facts": p["num_facts"],
             "cloze": format_interval(p["cloze"]), "templates": format_interval(p["template"]),
             "cloze - templates": format_interval(p["gap"])}
            for p in probes]


def table_json(document: Mapping[str, Any]) -> dict[str, Any]:
    """What `flan-nb results --json` prints: everything but the per-example scores."""
    return {k: v for k, v in document.items() if k != "scores"}
