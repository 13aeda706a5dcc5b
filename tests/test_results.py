"""Published results: summary statistics, provenance, the `results` verb and its bad input.

The plan's runs are faked (a toy tuning notebook) and so is the scoring (known per-example
scores), so the whole publish path runs in seconds; notebook 09's smoke test runs it for real.
"""

import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml

from flan_nb import cli, plans, prompt_results, results, runner, tasks
from flan_nb.report import TemplateScore
from flan_nb.runs import CHECKPOINTS_DIR, FINISHED_MARKER, Run
from notebook_workspace import notebook_workspace

REPO = Path(__file__).resolve().parent.parent
PARAMS = ('HELD_OUT = "nli"  # cluster left out\nBASE_RUN = "base"  # the base run\n'
          'SEED = 0  # tuning seed\nNUM_STEPS = 10  # steps\n')
DATASETS = {"nli": "tw_rte", "closed_book_qa": "tw_trivia_qa"}


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    return notebook_workspace(tmp_path, monkeypatch, "tune.ipynb", PARAMS, more_cells=("pass",),
                              profile_yaml="tune: {}\n")


def make_base_runs(*names):
    """Base runs with a checkpoints folder, as the plan runner checks before it starts."""
    for name in names:
        (runner.runs_dir() / name / CHECKPOINTS_DIR).mkdir(parents=True)


def write_plan(nb_dir, seeds=(0, 1, 2), **evaluation):
    plan = {"profile": "book", "notebooks_dir": ".",
            "steps": [{"notebook": "tune.ipynb", "name": "tune-{HELD_OUT}",
                       "grid": {"HELD_OUT": list(DATASETS)}, "seeds": list(seeds)}],
            "evaluation": {"tuning_notebook": "tune", "size": "smoke", "max_examples": 6,
                           "probe_facts": 0, **evaluation}}
    path = nb_dir / "toy.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


def fake_runs(monkeypatch):
    def run_notebook(notebook, profile, overrides, run_name, force, progress):
        run = Run(runner.runs_dir() / run_name)
        run.path.mkdir(parents=True, exist_ok=True)
        run.record("final_loss", 1.5)
        (run.path / FINISHED_MARKER).write_text("")
        return run
    monkeypatch.setattr(runner, "run_notebook", run_notebook)


def score(run, label, dataset, template, split, values, predictions):
    spec = tasks.get(dataset)
    return TemplateScore(label, dataset, spec.cluster, template, split, spec.metric,
                         float(np.mean(values)), len(values), tuple(values),
                         tuple(predictions), run)


def fake_evaluation(plan, data_dir=None, mesh=None, echo=print):
    """Known scores: tuning fixes two of six NLI answers per template, changes nothing on
    closed-book QA; the base answers 'yes' to every NLI example."""
    base_nli = [100.0, 0.0, 0.0, 100.0, 0.0, 100.0]
    scores = []
    for template in (0, 1):
        for split in ("validation", "test"):
            scores.append(score("base", "base", "tw_rte", template, split, base_nli,
                                ["yes"] * 6))
            scores.append(score("base", "base", "tw_trivia_qa", template, split,
                                [0.0] * 5 + [100.0], ["x"] * 6))
            for seed in (0, 1, 2):
                fixed = list(base_nli)
                fixed[1 + (seed + template) % 2] = 100.0
                fixed[4] = 100.0
                scores.append(score(f"tune-nli-s{seed}", "tuned", "tw_rte", template, split,
                                    fixed, ["yes", "no"] * 3))
                scores.append(score(f"tune-closed_book_qa-s{seed}", "tuned", "tw_trivia_qa",
                                    template, split, [0.0] * 5 + [100.0], ["x", "y"] * 3))
    examples = {d: {s: tasks.load_examples(d, s, size="smoke", limit=6)
                    for s in ("validation", "test")} for d in DATASETS.values()}
    return {"scores": scores, "probe": {}, "examples": examples, "items": 0, "seconds": 1.0}


@pytest.fixture
def published(workspace, monkeypatch):
    fake_runs(monkeypatch)
    make_base_runs("base")
    monkeypatch.setattr(results, "evaluate_plan", fake_evaluation)
    plan_path = write_plan(workspace)
    plans.run_plan(plan_path, echo=lambda line: None)
    path = results.publish(plan_path, progress=False)
    return plan_path, path


def test_publish_writes_intervals_verdicts_and_provenance(published):
    plan_path, path = published
    document = json.loads(path.read_text())
    assert path.name == "toy.json"
    nli, cbqa = document["clusters"]
    assert (nli["cluster"], nli["setting"], nli["num_seeds"]) == ("nli", {}, 3)
    for part in ("base", "tuned", "difference"):
        assert nli[part]["ci_low"] <= nli[part]["mean"] <= nli[part]["ci_high"]
    assert nli["base"]["mean"] == pytest.approx(50.0)
    assert nli["difference"]["mean"] == pytest.approx(100 * 2 / 6, abs=0.01)
    assert nli["verdict"] == "helps" and cbqa["verdict"] == "no detectable change"
    assert cbqa["difference"] == {"mean": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    prov = document["provenance"]
    assert re.fullmatch(r"[0-9a-f]{40}", prov["commit"])
    assert prov["plan_sha256"] == results.plan_sha256(plans.load_plan(plan_path))
    assert prov["machine"]["cores"] >= 1 and prov["machine"]["device_kind"]
    assert [r["name"] for r in prov["runs"]] == [p.name for p in
                                                 plans.load_plan(plan_path).runs]
    run = prov["runs"][0]
    assert run["parameters"] == {"HELD_OUT": "nli", "BASE_RUN": "base", "SEED": 0,
                                 "NUM_STEPS": 10}
    assert run["wall_seconds"] is not None and run["metrics"] == {"final_loss": 1.5}
    assert "flan-nb batch" in prov["regenerate"] and prov["date"].endswith("Z")


def test_datasets_keep_the_papers_figures_floors_and_histograms(published):
    document = json.loads(published[1].read_text())
    rte = next(d for d in document["datasets"] if d["dataset"] == "tw_rte")
    # floors on the six examples scored: random is one of two options
    assert rte["floors"]["random"] == pytest.approx(50.0)
    examples = tasks.load_examples("tw_rte", "test", size="smoke", limit=6)
    train = tasks.load_examples("tw_rte", "train", size="smoke")
    majority = max(set(e["label"] for e in train), key=[e["label"] for e in train].count)
    assert rte["floors"]["majority"] == pytest.approx(
        100 * np.mean([e["label"] == majority for e in examples]), abs=0.01)
    assert rte["base_figures"]["histogram"]["dominant"] == {"answer": "yes", "share": 1.0}
    assert rte["tuned_figures"]["histogram"]["dominant"] is None
    assert rte["base_figures"]["template_std"] == 0.0
    assert rte["tuned_figures"]["best_dev_template_test"] is not None
    trivia = next(d for d in document["datasets"] if d["dataset"] == "tw_trivia_qa")
    assert trivia["floors"] is None  # a generation task has no floor
    per_example = {(s["run"], s["dataset"]): s["test_per_example"] for s in document["scores"]}
    assert per_example[("base", "tw_rte")] == [100.0, 0.0, 0.0, 100.0, 0.0, 100.0]


def test_results_verb_prints_the_table_and_json(published, capsys):
    plan_path, _ = published
    assert cli.main(["results", str(plan_path)]) == 0
    out = capsys.readouterr().out
    assert "nli" in out and "helps" in out and "regenerate: flan-nb batch" in out
    assert cli.main(["results", str(plan_path), "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert set(table["clusters"][0]) >= {"setting", "cluster", "num_seeds", "base", "tuned",
                                         "difference"}
    assert "commit" in table["provenance"] and "scores" not in table


def expect_one_line_error(capsys, argv, pattern):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and re.search(pattern, err), err


def test_bad_input_is_one_line_and_exit_2(published, capsys):
    plan_path, path = published
    expect_one_line_error(capsys, ["results", "notebooks/plans/nope.yaml"], "not found")
    # the plan changed since it was published: the runs that differ and the command are named
    write_plan(plan_path.parent, seeds=(0, 1))
    expect_one_line_error(capsys, ["results", str(plan_path)],
                          r"stale.*tune-nli-s2 \(no longer in the plan\).*flan-nb batch")
    write_plan(plan_path.parent, max_examples=4)
    expect_one_line_error(capsys, ["results", str(plan_path)], "stale.*evaluation section")
    write_plan(plan_path.parent)
    assert cli.main(["results", str(plan_path)]) == 0
    capsys.readouterr()
    good = path.read_text()
    path.write_text(good[:200])
    expect_one_line_error(capsys, ["results", str(plan_path)], "corrupt.*flan-nb batch")
    document = json.loads(good)
    del document["provenance"]["commit"]
    path.write_text(json.dumps(document))
    expect_one_line_error(capsys, ["results", str(plan_path)], "missing provenance.commit")
    path.unlink()
    expect_one_line_error(capsys, ["results", str(plan_path)], "never been published")


def test_publish_refuses_an_unfinished_plan_or_one_without_evaluation(workspace, monkeypatch,
                                                                      capsys):
    from flan_nb.errors import UserError

    plan_path = write_plan(workspace)
    with pytest.raises(UserError, match="not finished .*tune-nli-s0"):
        results.publish(plan_path, progress=False)
    data = yaml.safe_load(plan_path.read_text())
    del data["evaluation"]
    plan_path.write_text(yaml.safe_dump(data))
    expect_one_line_error(capsys, ["batch", str(plan_path), "--publish"],
                          "no 'evaluation' section")
    data["evaluation"] = {"max_examples": 1}
    plan_path.write_text(yaml.safe_dump(data))
    expect_one_line_error(capsys, ["batch", str(plan_path), "--publish"],
                          "max_examples must be an integer >= 2")
    assert not (workspace.parent / "runs").exists()  # nothing ran


def test_every_committed_results_file_matches_its_plan_and_has_provenance():
    files = sorted((REPO / "results").glob("*.json"))
    assert REPO / "results" / "book.json" in files  # the book's held-out plan is published
    for path in files:
        plan = plans.load_plan(REPO / "notebooks" / "plans" / f"{path.stem}.yaml")
        # Same runs, parameters and evaluation; a prompt-tuning plan has its own reader.
        reader = prompt_results if prompt_results.is_prompt_tuning_plan(plan) else results
        document = reader.load_results(plan, path)
        prov = document["provenance"]
        assert re.fullmatch(r"[0-9a-f]{40}", prov["commit"]) and not prov["dirty"]
        assert prov["machine"]["cores"] >= 1 and prov["machine"]["device_kind"]
        assert all(r["parameters"] for r in prov["runs"])
        assert prov["wall_seconds"]["evaluation"] > 0
        for row in document.get("clusters", document.get("settings")):
            assert row["num_seeds"] >= 3
            assert row["difference"]["ci_low"] <= row["difference"]["ci_high"]


def test_a_plan_sweeping_the_base_run_keeps_the_base_in_the_setting(workspace):
    plan = {"profile": "book", "notebooks_dir": ".",
            "steps": [{"notebook": "tune.ipynb", "name": "tune-{HELD_OUT}-{BASE_RUN}",
                       "grid": {"HELD_OUT": ["nli"], "BASE_RUN": ["short", "long"]},
                       "seeds": [0, 1, 2]}],
            "evaluation": {"tuning_notebook": "tune", "size": "smoke", "probe_facts": 0}}
    path = workspace / "bases.yaml"
    path.write_text(yaml.safe_dump(plan))
    loaded = plans.load_plan(path)
    groups = results.tuned_groups(loaded, results.evaluation_config(loaded))
    assert [(g.setting, g.cluster, len(g.runs)) for g in groups] == [
        ({"BASE_RUN": "short"}, "nli", 3), ({"BASE_RUN": "long"}, "nli", 3)]
    assert all(base == g.setting["BASE_RUN"] for g in groups for _, _, base in g.runs)


def test_one_base_run_is_not_a_setting(published):
    plan_path, _ = published
    loaded = plans.load_plan(plan_path)
    groups = results.tuned_groups(loaded, results.evaluation_config(loaded))
    assert {json.dumps(g.setting) for g in groups} == {"{}"}


def test_the_probe_is_summarised_per_base_run():
    facts = [1.0, 0.0, 1.0, 1.0]
    probe = {"chance": 25.0, "templates": [0, 1], "cloze": [100.0, 0.0, 100.0, 100.0],
             "template": [0.0, 0.0, 100.0, 0.0]}
    probes = {run: {"model": model, "base_run": base, **probe}
              for run, model, base in (("short", "base", "short"), ("long", "base", "long"),
                                       ("t-short", "tuned", "short"), ("t-long", "tuned", "long"))}
    rows = results.summarise_probe(probes, len(facts))
    assert [(r["base_run"], r["model"], r["runs"]) for r in rows] == [
        ("short", "base", ["short"]), ("short", "tuned", ["t-short"]),
        ("long", "base", ["long"]), ("long", "tuned", ["t-long"])]
    assert rows[0]["cloze"]["mean"] == 75.0 and rows[0]["gap"]["mean"] == 50.0
    assert "base run" in results.probe_rows({"probe": rows})[0]


def test_a_run_holding_out_several_clusters_is_compared_on_each(workspace):
    plan = {"profile": "book", "notebooks_dir": ".",
            "steps": [{"notebook": "tune.ipynb", "name": "tune-fig6",
                       "parameters": {"HELD_OUT": "nli,closed_book_qa"}, "seeds": [0, 1, 2]}],
            "evaluation": {"tuning_notebook": "tune", "size": "smoke", "probe_facts": 0}}
    path = workspace / "several.yaml"
    path.write_text(yaml.safe_dump(plan))
    loaded = plans.load_plan(path)
    groups = results.tuned_groups(loaded, results.evaluation_config(loaded))
    assert [(g.cluster, g.eval_format, [r for _, r, _ in g.runs]) for g in groups] == [
        (c, "zero-shot", ["tune-fig6-s0", "tune-fig6-s1", "tune-fig6-s2"])
        for c in ("nli", "closed_book_qa")]


def test_a_run_tuned_in_an_ablation_format_is_scored_in_both_formats(workspace):
    nb = workspace / "tune.ipynb"
    notebook = nbformat.read(nb, as_version=4)
    notebook.cells[0].source += 'FORMAT = "zero-shot"  # tuning format\n'
    nbformat.write(notebook, nb)
    plan = {"profile": "book", "notebooks_dir": ".",
            "steps": [{"notebook": "tune.ipynb", "name": "tune-{FORMAT}",
                       "grid": {"FORMAT": ["zero-shot", "no-template"]}, "seeds": [0]}],
            "evaluation": {"tuning_notebook": "tune", "size": "smoke", "probe_facts": 0}}
    path = workspace / "formats.yaml"
    path.write_text(yaml.safe_dump(plan))
    loaded = plans.load_plan(path)
    groups = results.tuned_groups(loaded, results.evaluation_config(loaded))
    assert [(g.setting["FORMAT"], g.eval_format) for g in groups] == [
        ("zero-shot", "zero-shot"), ("no-template", "zero-shot"),
        ("no-template", "no-template")]


def test_a_parameter_added_since_publishing_is_no_change_while_it_keeps_its_default(
        published):
    plan_path, path = published
    document = json.loads(path.read_text())
    for record in document["provenance"]["runs"]:
        del record["parameters"]["NUM_STEPS"]  # as if NUM_STEPS were added after publishing
    del document["evaluation"]["format_parameter"]  # likewise an evaluation key
    assert results.differences(plans.load_plan(plan_path), document) == []
    for record in document["provenance"]["runs"]:
        record["parameters"]["NUM_STEPS"] = 99
    assert all("NUM_STEPS changed" in d
               for d in results.differences(plans.load_plan(plan_path), document))


def test_each_cluster_of_a_run_holding_out_several_summarises_only_its_datasets(
        workspace, monkeypatch):
    fake_runs(monkeypatch)
    make_base_runs("base")
    plan = {"profile": "book", "notebooks_dir": ".",
            "steps": [{"notebook": "tune.ipynb", "name": "tune-both",
                       "parameters": {"HELD_OUT": "nli,closed_book_qa"}, "seeds": [0, 1, 2]}],
            "evaluation": {"tuning_notebook": "tune", "size": "smoke", "max_examples": 6,
                           "probe_facts": 0}}
    path = workspace / "both.yaml"
    path.write_text(yaml.safe_dump(plan))

    def evaluation(plan, data_dir=None, mesh=None, echo=print):
        scores = []
        for template in (0, 1):
            for split in ("validation", "test"):
                for run, label in [("base", "base")] + [(f"tune-both-s{s}", "tuned")
                                                         for s in (0, 1, 2)]:
                    scores.append(score(run, label, "tw_rte", template, split,
                                        [100.0, 0.0] * 3, ["yes", "no"] * 3))
                    scores.append(score(run, label, "tw_trivia_qa", template, split,
                                        [0.0] * 6, ["x"] * 6))
        examples = {d: {s: tasks.load_examples(d, s, size="smoke", limit=6)
                        for s in ("validation", "test")} for d in DATASETS.values()}
        return {"scores": scores, "probe": {}, "examples": examples, "items": 0,
                "seconds": 1.0}

    monkeypatch.setattr(results, "evaluate_plan", evaluation)
    plans.run_plan(path, echo=lambda line: None)
    document = json.loads(results.publish(path, progress=False).read_text())
    by_cluster = {c["cluster"]: c for c in document["clusters"]}
    assert by_cluster["nli"]["datasets"] == ["tw_rte"]
    assert by_cluster["nli"]["tuned"]["mean"] == 50.0
    assert by_cluster["closed_book_qa"]["datasets"] == ["tw_trivia_qa"]
    assert by_cluster["closed_book_qa"]["tuned"]["mean"] == 0.0
    assert [(d["cluster"], d["dataset"]) for d in document["datasets"]] == [
        ("nli", "tw_rte"), ("closed_book_qa", "tw_trivia_qa")]


def held_in_plan(workspace, held_in=1, held_out="nli"):
    plan = {"profile": "book", "notebooks_dir": ".",
            "steps": [{"notebook": "tune.ipynb", "name": "tune",
                       "parameters": {"HELD_OUT": held_out}, "seeds": [0, 1, 2]}],
            "evaluation": {"tuning_notebook": "tune", "size": "smoke", "max_examples": 6,
                           "probe_facts": 0, "held_in_datasets": held_in}}
    path = workspace / "held_in.yaml"
    path.write_text(yaml.safe_dump(plan))
    return plans.load_plan(path)


def test_held_in_groups_are_the_first_datasets_of_each_cluster_tuned_on(workspace):
    loaded = held_in_plan(workspace, held_in=2)
    groups = results.tuned_groups(loaded, results.evaluation_config(loaded))
    held_out, held_in = groups[0], groups[1:]
    assert (held_out.cluster, held_out.held_in) == ("nli", ())
    split = results.splits.held_out_split("nli", source="tinyworld")
    tuned_on = list(dict.fromkeys(tasks.get(n).cluster for n in split.train))
    assert [g.cluster for g in held_in] == tuned_on  # never nli, nor paraphrase (the rules)
    assert "paraphrase" not in tuned_on
    for g in held_in:
        first = [n for n in split.train if tasks.get(n).cluster == g.cluster][:2]
        assert list(g.held_in) == first and all(n.startswith("tw_") for n in first)
        assert [r for _, r, _ in g.runs] == ["tune-s0", "tune-s1", "tune-s2"]
    assert results.tuned_groups(loaded, results.EvaluationConfig(
        tuning_notebook="tune", size="smoke"))[1:] == []  # off by default


def test_held_in_datasets_must_be_a_count(workspace):
    for bad in (-1, "two", True):
        with pytest.raises(results.UserError, match="held_in_datasets must be an integer"):
            results.evaluation_config(held_in_plan(workspace, held_in=bad))


def fake_held_in_evaluation(plan, data_dir=None, mesh=None, echo=print):
    """Every group scored as the real evaluation would: the held-out cluster's tw_rte on
    both splits, held-in datasets on the test split; tuning adds 50 points on held-in
    datasets (3 of 6 examples fixed) and nothing on held-out ones."""
    config = results.evaluation_config(plan)
    scores = []
    for g in results.tuned_groups(plan, config):
        names = g.held_in or ("tw_rte",)
        for d in names:
            for split in (("test",) if g.held_in else ("validation", "test")):
                for template in (0, 1):
                    base = [0.0, 100.0] * 3
                    scores.append(score("base", "base", d, template, split, base, ["a"] * 6))
                    for _, run, _ in g.runs:
                        tuned = [100.0] * 6 if g.held_in else base
                        scores.append(score(run, "tuned", d, template, split, tuned,
                                            ["a", "b"] * 3))
    unique = {(s.run, s.dataset, s.template, s.split): s for s in scores}
    datasets = {s.dataset for s in unique.values()}
    examples = {d: {s: tasks.load_examples(d, s, size="smoke", limit=6)
                    for s in ("validation", "test")} for d in datasets}
    return {"scores": list(unique.values()), "probe": {}, "examples": examples, "items": 0,
            "seconds": 1.0}


def test_published_held_in_entries_compare_base_and_tuned_on_tuned_on_datasets(
        workspace, monkeypatch):
    fake_runs(monkeypatch)
    make_base_runs("base")
    monkeypatch.setattr(results, "evaluate_plan", fake_held_in_evaluation)
    loaded = held_in_plan(workspace, held_in=1)
    plans.run_plan(loaded, echo=lambda line: None)
    document = json.loads(results.publish(loaded, progress=False).read_text())
    held_out = [c for c in document["clusters"] if not c.get("held_in")]
    held_in = [c for c in document["clusters"] if c.get("held_in")]
    assert [(c["cluster"], c["datasets"]) for c in held_out] == [("nli", ["tw_rte"])]
    assert held_out[0]["verdict"] == "no detectable change"
    groups = results.tuned_groups(loaded, results.evaluation_config(loaded))[1:]
    assert [(c["cluster"], c["datasets"]) for c in held_in] == [
        (g.cluster, list(g.held_in)) for g in groups]
    for c in held_in:
        assert c["num_seeds"] == 3 and c["difference"]["mean"] == pytest.approx(50.0)
        assert c["verdict"] == "helps"
    assert all(d.get("held_in") for d in document["datasets"] if d["dataset"] != "tw_rte")
    rows = results.cluster_rows(document)
    assert {r["panel"] for r in rows} == {"held-out", "held-in"}
    assert document["evaluation"]["held_in_datasets"] == 1


def test_a_plan_tuned_on_drawn_tasks_cannot_ask_for_held_in_datasets(workspace):
    loaded = held_in_plan(workspace)
    with pytest.raises(results.UserError, match="NUM_TUNING_TASKS"):
        results.held_in_datasets(loaded, "tune-s0", {"HELD_OUT": "nli",
                                                     "NUM_TUNING_TASKS": 50},
                                 results.evaluation_config(loaded))


def test_the_loss_curve_is_published_from_the_training_log(workspace):
    run = runner.runs_dir() / "pre"
    run.mkdir(parents=True)
    rows = [{"step": i + 1, "loss": float(130 - i), "tokens_seen": 100 * (i + 1)}
            for i in range(130)]
    (run / "train_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    curve = results.loss_curve("pre", points=60)
    assert len(curve["loss"]) == len(curve["tokens_seen"]) <= 60
    assert curve["tokens_seen"][0] == 300 and curve["tokens_seen"][-1] == 13_000
    assert curve["loss"][0] == pytest.approx((130 + 129 + 128) / 3)
    assert curve["tokens_seen"] == sorted(curve["tokens_seen"])
    assert results.loss_curve("never-trained") is None


def test_a_long_list_in_a_setting_is_shortened_in_the_table():
    six = "summarization,translation,reading_comprehension,sentiment,struct_to_text,coreference"
    iv = {"mean": 1.0, "ci_low": 0.0, "ci_high": 2.0}
    entry = {"cluster": "nli", "num_seeds": 3, "base": iv, "tuned": iv, "difference": iv,
             "verdict": "no detectable change"}
    document = {"clusters": [
        {**entry, "setting": {"TUNING_CLUSTERS": "summarization,translation"}},
        {**entry, "setting": {"TUNING_CLUSTERS": six, "FORMAT": "no-template"},
         "eval_format": "no-template"}]}
    rows = results.cluster_rows(document)
    assert rows[0]["setting"] == "TUNING_CLUSTERS=summarization,translation"
    assert rows[1]["setting"] == ("TUNING_CLUSTERS=summarization,...,coreference (6), "
                                  "FORMAT=no-template")
    assert rows[1]["evaluated in"] == "no-template"
