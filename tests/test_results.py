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

from flan_nb import cli, plans, results, runner, tasks
from flan_nb.report import TemplateScore
from flan_nb.runs import Run

REPO = Path(__file__).resolve().parent.parent
PARAMS = ('HELD_OUT = "nli"  # cluster left out\nBASE_RUN = "base"  # the base run\n'
          'SEED = 0  # tuning seed\nNUM_STEPS = 10  # steps\n')
DATASETS = {"nli": "tw_rte", "closed_book_qa": "tw_trivia_qa"}


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    nb_dir = tmp_path / "notebooks"
    (nb_dir / "params").mkdir(parents=True)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
                      nbformat.v4.new_code_cell("pass")]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, nb_dir / "tune.ipynb")
    for profile in ("smoke", "book", "tpu_full"):
        (nb_dir / "params" / f"{profile}.yaml").write_text("tune: {}\n")
    monkeypatch.setenv("FLAN_NB_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv(results.RESULTS_ENV, str(tmp_path / "results"))
    return nb_dir


def make_base_runs(*names):
    """Base runs with a checkpoints folder, as the plan runner checks before it starts."""
    for name in names:
        (runner.runs_dir() / name / "checkpoints").mkdir(parents=True)


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
        (run.path / runner.FINISHED_MARKER).write_text("")
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
        document = results.load_results(plan, path)  # same runs, parameters and evaluation
        prov = document["provenance"]
        assert re.fullmatch(r"[0-9a-f]{40}", prov["commit"]) and not prov["dirty"]
        assert prov["machine"]["cores"] >= 1 and prov["machine"]["device_kind"]
        assert all(r["parameters"] for r in prov["runs"])
        assert prov["wall_seconds"]["evaluation"] > 0
        for cluster in document["clusters"]:
            assert cluster["num_seeds"] >= 3
            assert cluster["difference"]["ci_low"] <= cluster["difference"]["ci_high"]


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
