"""Published prompt-tuning results (the paper's Figure 10): `results/<plan-stem>.json`.

A prompt-tuning plan's steps train the start models with the ordinary plan runner: a base
(notebook 07) and models tuned with clusters held out (notebook 08), as in any held-out plan.
Its `evaluation: {prompt_tuning: {...}}` section then says what publishing does with them:
for every dataset, number of training examples (`null`: the whole split) and seed, train a
soft prompt (`flan_nb.prompt_tuning`) on (a) the base and (b) the run tuned without the
dataset's cluster with the same seed, and score the test split by rank classification.

Prompt tuning is a publish-time step, not a notebook run per prompt: a prompt is P x d_model
floats trained in seconds to minutes, so a run folder, a notebook and a checkpoint per prompt
would cost more than the prompt, and a notebook per run would have to be a book chapter (every
notebook is). It stays resumable: each (start model, dataset, n, seed) is written, once
scored, to `<runs>/<plan-stem>-prompt_tuning/`, and publishing again reuses what is there
while the start model and the settings are the same.

The published file holds per (dataset, n) the base and FLAN means with 95% bootstrap
intervals over test examples and seeds, the paired FLAN - base difference and its verdict,
their average over datasets per n (the paper's bars), and every per-example score.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from flan_nb import evaluate, plans, prompt_tuning, results, stats, tasks
from flan_nb.errors import UserError, require
from flan_nb.report import format_table
from flan_nb.runs import atomic_write_text, runs_dir
from flan_nb.stats import format_interval

KEY = "prompt_tuning"
FORMAT = 1
STARTS = ("base", "tuned")  # the paper's LaMDA-PT and FLAN
REQUIRED_KEYS = ("format", "kind", "plan", "evaluation", "provenance", "settings", "overall",
                 "records")
PLAN_KEYS = {"datasets", "num_examples", "seeds", "max_test_examples", "source", "size",
             "seed"} | {f.name for f in dataclasses.fields(prompt_tuning.PromptTuningConfig)}


def is_prompt_tuning_plan(plan: plans.Plan) -> bool:
    return bool(plan.evaluation) and KEY in plan.evaluation


@dataclasses.dataclass(frozen=True)
class Settings:
    """A plan's `evaluation.prompt_tuning` section."""

    datasets: tuple[str, ...]
    num_examples: tuple[int | None, ...]  # None: the whole training split
    seeds: tuple[int, ...]
    config: prompt_tuning.PromptTuningConfig
    max_test_examples: int | None = None  # None: the whole test split
    source: str = "tinyworld"
    size: str = "book"  # TinyWorld size of the data
    seed: int = 0  # TinyWorld world seed of the data


def settings_of(plan: plans.Plan) -> Settings:
    """The prompt-tuning section, checked (names, types, lengths); one UserError otherwise."""
    section = plan.evaluation.get(KEY)
    where = f"plan {plan.path}: evaluation.{KEY}"
    if not isinstance(section, dict):
        raise UserError(f"{where} must be a mapping, got {section!r}")
    unknown = set(section) - PLAN_KEYS
    if unknown:
        raise UserError(f"{where}: unknown keys {sorted(unknown)} (allowed: "
                        f"{', '.join(sorted(PLAN_KEYS))})")
    for name in ("datasets", "num_examples", "seeds"):
        if not isinstance(section.get(name), list) or not section[name]:
            raise UserError(f"{where}.{name} must be a non-empty list, got "
                            f"{section.get(name)!r}")
    fields = {f.name for f in dataclasses.fields(prompt_tuning.PromptTuningConfig)}
    try:
        config = prompt_tuning.PromptTuningConfig(
            **{k: v for k, v in section.items() if k in fields})
        for name in section["datasets"]:
            spec = tasks.get(name)  # an unknown dataset is one line naming close ones
            require(spec.kind == "classification",
                    f"{name} is not a classification dataset: prompt tuning is scored by "
                    f"rank classification")
        for n in section["num_examples"]:
            prompt_tuning.check_num_examples("every dataset", n, 10 ** 12)
        require(all(isinstance(s, int) for s in section["seeds"]),
                f"seeds must be integers, got {section['seeds']!r}")
        max_test = section.get("max_test_examples")
        require(max_test is None or (isinstance(max_test, int) and max_test >= 2),
                f"max_test_examples must be an integer >= 2 or null, got {max_test!r}")
    except UserError as err:
        raise UserError(f"{where}: {err}") from None
    return Settings(tuple(section["datasets"]), tuple(section["num_examples"]),
                    tuple(section["seeds"]), config, max_test, section.get("source",
                                                                          "tinyworld"),
                    section.get("size", "book"), section.get("seed", 0))


@dataclasses.dataclass(frozen=True)
class Unit:
    """One prompt to train and score."""

    start: str  # "base" or "tuned"
    run: str  # the start model's run
    dataset: str
    num_examples: int | None
    seed: int

    @property
    def file_name(self) -> str:
        n = "all" if self.num_examples is None else self.num_examples
        return f"{self.run}--{self.dataset}--n{n}--s{self.seed}.json"


def units(plan: plans.Plan, settings: Settings | None = None) -> list[Unit]:
    """Every (start model, dataset, n, seed) of the plan, grouped by start model. The tuned
    start of a dataset is the plan's run holding out the dataset's cluster with the prompt's
    seed; its base is the base start."""
    settings = settings or settings_of(plan)
    groups = results.tuned_groups(plan, results.EvaluationConfig(source=settings.source))
    out = []
    for dataset in settings.datasets:
        cluster = tasks.get(dataset).cluster
        found = [g for g in groups if g.cluster == cluster and g.eval_format == "zero-shot"]
        if not found:
            raise UserError(f"plan {plan.path}: no tuning run holds out {cluster} (the cluster "
                            f"of {dataset}); add one to the plan's steps")
        if len(found) > 1:
            raise UserError(f"plan {plan.path}: several tuning settings hold out {cluster} "
                            f"({'; '.join(str(g.setting) for g in found)}); a prompt-tuning "
                            f"plan needs one FLAN model per cluster and seed")
        group = found[0]
        by_seed = {seed: (run, base) for seed, run, base in group.runs}
        for seed in settings.seeds:
            if seed not in by_seed:
                raise UserError(f"plan {plan.path}: prompt seed {seed} has no tuning run "
                                f"holding out {cluster} with that seed (seeds: "
                                f"{sorted(by_seed)})")
            run, base = by_seed[seed]
            for n in settings.num_examples:
                out += [Unit("base", base, dataset, n, seed), Unit("tuned", run, dataset, n, seed)]
    return sorted(out, key=lambda u: (u.run, u.dataset, str(u.num_examples), u.seed))


def check_publishable(plan: plans.Plan) -> None:
    """Fail before any run: the settings, the start runs, and every n against the size of
    its dataset's training split."""
    settings = settings_of(plan)
    units(plan, settings)
    for dataset in settings.datasets:
        available = len(tasks.load_examples(dataset, "train", size=settings.size,
                                            seed=settings.seed))
        for n in settings.num_examples:
            try:
                prompt_tuning.check_num_examples(dataset, n, available)
            except UserError as err:
                raise UserError(f"plan {plan.path}: {err}") from None


def cache_dir(plan: plans.Plan) -> Path:
    return Path(runs_dir()) / f"{plan.stem}-{KEY}"


def _start_fingerprint(run: str, step: int) -> dict[str, Any]:
    """What identifies a start model: its run, checkpoint step and when its metrics were
    last written (a retrained run gets a new time)."""
    metrics = Path(runs_dir()) / run / "metrics.json"
    return {"run": run, "step": step,
            "metrics_mtime": metrics.stat().st_mtime if metrics.is_file() else None}


def run_unit(unit: Unit, settings: Settings, loaded, *, data_dir: str | None = None
             ) -> dict[str, Any]:
    """Train and score one prompt on the loaded start model."""
    train = prompt_tuning.training_examples(unit.dataset, unit.num_examples, seed=unit.seed,
                                            size=settings.size, data_dir=data_dir)
    split = "test"  # a TFDS dataset without one: half of its dev split (flan_nb.tfds_data)
    test = tasks.load_examples(unit.dataset, split, seed=settings.seed, size=settings.size,
                               data_dir=data_dir, limit=settings.max_test_examples)
    out = prompt_tuning.prompt_tune_and_score(
        loaded.model, loaded.tokenizer, unit.dataset, train, test, settings.config,
        seed=unit.seed, bidirectional_prefix=loaded.bidirectional_prefix)
    losses = out["losses"]
    return {**dataclasses.asdict(unit), "num_train": len(train), "num_test": len(test),
            "split": split,
            "templates": out["templates"],
            "test_per_example": [round(v, 2) for v in out["per_example"]],
            "per_template": {str(t): round(v, 2) for t, v in out["per_template"].items()},
            "first_loss": round(losses[0], 4), "final_loss": round(float(np.mean(
                losses[-10:])), 4),
            "train_seconds": round(out["train_seconds"], 2),
            "score_seconds": round(out["score_seconds"], 2)}


def run_units(plan: plans.Plan, *, data_dir: str | None = None, mesh=None,
              echo=print) -> tuple[list[dict[str, Any]], float]:
    """Every unit's record, from the cache when its start model and settings are unchanged.
    Returns (records, seconds spent here)."""
    settings = settings_of(plan)
    key = {"config": dataclasses.asdict(settings.config),
           "max_test_examples": settings.max_test_examples, "source": settings.source,
           "size": settings.size, "seed": settings.seed}
    folder = cache_dir(plan)
    folder.mkdir(parents=True, exist_ok=True)
    start, records, loaded = time.perf_counter(), [], None
    for unit in units(plan, settings):
        if loaded is None or loaded.run != unit.run:
            loaded = evaluate.load_run_model(unit.run, mesh)
        fingerprint = {**key, "start": _start_fingerprint(unit.run, loaded.step)}
        path = folder / unit.file_name
        if path.is_file():
            try:
                cached = json.loads(path.read_text())
                if cached.get("fingerprint") == json.loads(json.dumps(fingerprint)):
                    records.append(cached["record"])
                    continue
            except (OSError, json.JSONDecodeError, KeyError):
                pass  # a broken cache file is redone
        n = "all" if unit.num_examples is None else unit.num_examples
        echo(f"prompt-tune {unit.start} {unit.run} on {unit.dataset} (n={n}, seed {unit.seed})")
        record = run_unit(unit, settings, loaded, data_dir=data_dir)
        atomic_write_text(path, json.dumps({"fingerprint": fingerprint, "record": record}))
        records.append(record)
    return records, time.perf_counter() - start


def _n_label(n: int | None) -> str:
    return "all" if n is None else str(n)


def summarise(settings: Settings, records: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Per (dataset, n) and per n over datasets: base, FLAN (tuned) and the paired
    difference, each a mean with a 95% interval over test examples and seeds."""
    def per_seed(start, dataset, n):
        rows = {r["seed"]: r["test_per_example"] for r in records
                if r["start"] == start and r["dataset"] == dataset
                and r["num_examples"] == n}
        return [rows[s] for s in settings.seeds]

    rows, overall = [], []
    for n in settings.num_examples:
        groups = {start: [per_seed(start, d, n) for d in settings.datasets] for start in STARTS}
        diffs = [[[t - b for t, b in zip(ts, bs)] for ts, bs in zip(td, bd)]
                 for td, bd in zip(groups["tuned"], groups["base"])]
        for i, d in enumerate(settings.datasets):
            train = next(r["num_train"] for r in records
                         if r["dataset"] == d and r["num_examples"] == n)
            row = {"dataset": d, "num_examples": _n_label(n), "num_train": train,
                   "num_test": len(groups["base"][i][0]), "num_seeds": len(settings.seeds)}
            for label, g in (("base", groups["base"][i]), ("tuned", groups["tuned"][i]),
                             ("difference", diffs[i])):
                row[label] = stats.mean_interval([g]).as_dict()
            row["verdict"] = stats.verdict(stats.Interval(**row["difference"]))
            rows.append(row)
        entry = {"num_examples": _n_label(n), "datasets": list(settings.datasets),
                 "num_seeds": len(settings.seeds)}
        for label, g in (("base", groups["base"]), ("tuned", groups["tuned"]),
                         ("difference", diffs)):
            entry[label] = stats.mean_interval(g).as_dict()
        entry["verdict"] = stats.verdict(stats.Interval(**entry["difference"]))
        overall.append(entry)
    return {"settings": rows, "overall": overall}


def publish(plan: plans.Plan | str | Path, *, command: str | None = None,
            data_dir: str | None = None, mesh=None, progress: bool = True,
            directory: Path | None = None) -> Path:
    """Train and score every prompt of a finished plan and write its results file."""
    plan = plan if isinstance(plan, plans.Plan) else plans.load_plan(plan)
    settings = settings_of(plan)
    results.require_finished(plan)
    records, seconds = run_units(plan, data_dir=data_dir, mesh=mesh,
                                 echo=print if progress else (lambda _: None))
    tuning_seconds = sum(r["train_seconds"] + r["score_seconds"] for r in records)
    document = {
        "format": FORMAT, "kind": KEY, "plan": results.plan_label(plan),
        "description": plan.description, "evaluation": _jsonable(plan.evaluation),
        "provenance": results.provenance(plan, command=command, seconds={
            "evaluation": seconds, "prompt_tuning": tuning_seconds}),
        **summarise(settings, records), "records": records}
    path = (directory or results.results_dir(plan)) / f"{plan.stem}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(document, indent=1) + "\n")
    return path


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def load_results(plan: plans.Plan | str | Path, path: Path | None = None,
                 check_plan: bool = True) -> dict[str, Any]:
    """The plan's published prompt-tuning results, checked: present, parseable, of this
    format, and (with `check_plan`) published from the plan as it is now (`differences`)."""
    plan = plan if isinstance(plan, plans.Plan) else plans.load_plan(plan)
    path, document = results.read_results_file(plan, path)
    fix = f"run `{results.publish_command(plan)}`"
    missing = ([k for k in REQUIRED_KEYS if k not in document]
               if isinstance(document, dict) else ["everything"])
    if missing or document.get("format") != FORMAT or document.get("kind") != KEY:
        raise UserError(f"results file {path} is corrupt or of another kind "
                        f"({', '.join(missing) or 'format'}): {fix} to rewrite it")
    if check_plan and differences(plan, document):
        raise UserError(f"results file {path} is stale: the plan changed since it was "
                        f"published ({'; '.join(differences(plan, document))}); {fix}")
    return document


def differences(plan: plans.Plan, document: Mapping[str, Any]) -> list[str]:
    """How the plan differs from the one the results were published from (empty: same)."""
    recorded = [r["name"] for r in document["provenance"].get("runs", [])]
    out = []
    if recorded != [p.name for p in plan.runs]:
        out.append("its runs")
    if document["evaluation"] != _jsonable(plan.evaluation):
        out.append("the evaluation section")
    return out


def setting_rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per (dataset, n): base, FLAN and difference as 'mean [low, high]', and the verdict."""
    return [{"dataset": r["dataset"], "n": r["num_examples"], "train": r["num_train"],
             "test": r["num_test"], "seeds": r["num_seeds"], "base LM": format_interval(r["base"]),
             "FLAN": format_interval(r["tuned"]), "FLAN - base": format_interval(r["difference"]),
             "verdict": r["verdict"]} for r in document["settings"]]


def overall_rows(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"n": r["num_examples"], "datasets": len(r["datasets"]), "seeds": r["num_seeds"],
             "base LM": format_interval(r["base"]), "FLAN": format_interval(r["tuned"]),
             "FLAN - base": format_interval(r["difference"]), "verdict": r["verdict"]}
            for r in document["overall"]]


def format_results(document: Mapping[str, Any]) -> str:
    """The readable table of `flan-nb results` for a prompt-tuning plan."""
    prov = document["provenance"]
    lines = [line for line in results.provenance_lines(document)]
    lines[3] = (f"wall time: runs {prov['wall_seconds']['runs'] / 60:.1f} min, prompt tuning "
                f"and scoring {prov['wall_seconds']['evaluation'] / 60:.1f} min")
    return "\n".join(lines + [
        "", "Prompt tuning, accuracy (mean [95% CI] over scored examples and seeds):",
        format_table(setting_rows(document)), "", "Averaged over the datasets:",
        format_table(overall_rows(document))])
