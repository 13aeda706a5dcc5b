"""Notebook 11 on the smoke profile: the two-point Figure 6, Figure 8 and Appendix B plans end
to end (runs, publish under the runs folder, chapter), sharing one tuned run among them and
the base with chapter 09's smoke plan: four tuning runs in all, each a fresh kernel."""

import json
import os
from pathlib import Path

import pytest

from flan_nb.chapters import ch11_what_makes_tuning_work as ch11
from flan_nb.notebook import wide_output_lines
from flan_nb.runner import EXECUTED_NOTEBOOK

SHARED = "08_instruction_tuning-smoke-fig6-2-s0"  # in all three smoke plans


@pytest.mark.notebook
def test_notebook_11_runs_publishes_and_renders_the_three_smoke_plans(run_smoke):
    run_smoke("07_pretraining")  # the base every smoke plan shares: made once per session
    runs = Path(os.environ["FLAN_NB_RUNS"])
    run = run_smoke("11_what_makes_tuning_work")
    metrics = run.metrics()
    documents = {}
    for name in ch11.FIGURES:
        assert metrics[f"{name}/published"] == 1
        documents[name] = json.loads((runs / "results" / f"{name}_smoke.json").read_text())
    # the shared run was trained once, by the first plan, skipped by the others, and scored
    # by all three
    for name, doc in documents.items():
        assert SHARED in [r["name"] for r in doc["provenance"]["runs"]]
    printed = (run.path / EXECUTED_NOTEBOOK).read_text()
    assert printed.count(f"done {SHARED} in") == 1
    assert printed.count(f"skip {SHARED}: finished") == 2

    six = ch11.figure6_points(documents["figure6"])
    assert [(p["clusters"], p["datasets"]) for p in six] == [(1, 3), (2, 5)]  # TinyWorld
    assert set(six[0]["per_cluster"]) == {"nli", "closed_book_qa"}  # held out together
    for p in six:
        assert metrics[f"figure6/clusters{p['clusters']}/tuned"] == p["tuned"]["mean"]
        assert p["tuned"]["ci_low"] <= p["tuned"]["mean"] <= p["tuned"]["ci_high"]
    assert ch11.direction(ch11.change(documents["figure6"], six[0]["setting"],
                                      six[1]["setting"])) in (ch11.INCREASE, ch11.DECREASE,
                                                              ch11.NO_EFFECT)

    bars = ch11.figure8_bars(documents["figure8"])
    assert [(b["tuning"], b["eval"]) for b in bars] == ch11.BAR_ORDER[2:]  # no no-template
    for b in bars:
        key = f"figure8/{ch11.slug(b['tuning'])}/{ch11.slug(b['eval'])}"
        assert metrics[f"{key}/tuned"] == b["tuned"]["mean"]
        assert metrics[f"{key}/base"] == b["base"]["mean"]
    lines = ch11.figure8_lines(documents["figure8"])
    assert len(lines) == 2 and "(evaluated with dataset name)" in lines[1]
    assert "46.6 -> 55.2" in lines[0] and "47.0 -> 55.2" in lines[1]  # the paper's bars

    sweeps = ch11.appendix_b_points(documents["appendix_b"])
    assert [p["label"] for p in sweeps["datasets"]] == ["1", "all"]
    assert len(sweeps["templates"]) == 1  # "all" only: the book's plan sweeps templates
    assert "fewer than two settings" in ch11.appendix_b_lines(documents["appendix_b"])[1]
    assert sweeps["datasets"][0]["datasets"] == 2  # one of each of the two clusters
    for name in ch11.FIGURES:
        assert (run.path / "figures" / ch11.CHAPTER / f"{name}_smoke.svg").is_file()
    assert not wide_output_lines(run.path / EXECUTED_NOTEBOOK)
