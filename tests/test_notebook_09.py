"""Notebook 09 on the smoke profile: the whole experiment path, end to end.

The smoke plan's runs (two held-out clusters, two tuning seeds) execute, `--publish`'s code
scores them and writes the results file under the runs folder, and the chapter renders it.
"""

import json
import os
from pathlib import Path

import pytest


@pytest.mark.notebook
def test_notebook_09_runs_publishes_and_renders_the_smoke_plan(run_smoke):
    run_smoke("07_pretraining")  # shared with notebook 07's test: made once per session
    run = run_smoke("09_zero_shot_evaluation")
    metrics = run.metrics()
    published = json.loads((Path(os.environ["FLAN_NB_RUNS"]) / "results" / "smoke.json")
                           .read_text())
    clusters = {"nli", "closed_book_qa"}  # notebooks/plans/smoke.yaml
    assert {c["cluster"] for c in published["clusters"]} == clusters
    for c in published["clusters"]:
        assert c["num_seeds"] == 2
        for model in ("base", "tuned", "difference"):
            value = metrics[f"cluster/{c['cluster']}/{model}"]
            assert value == c[model]["mean"]
            assert c[model]["ci_low"] <= value <= c[model]["ci_high"]
        assert c["verdict"] in ("helps", "hurts", "no detectable change")
    # base and tuned were scored on the same examples: one per-example list per run
    per_run = {(s["run"], s["dataset"]): len(s["test_per_example"]) for s in published["scores"]}
    assert set(per_run.values()) == {6}  # MAX_EXAMPLES of the smoke plan's evaluation
    assert metrics["clusters_helped"] + metrics["clusters_hurt"] <= len(clusters)
    # NLI is all classification: floors on the examples scored, in percent
    nli = next(d for d in published["datasets"] if d["dataset"] == "tw_nli")
    assert nli["floors"]["random"] == pytest.approx(100 / 3, abs=0.01)
    assert {p["model"] for p in published["probe"]} == {"base", "tuned"}
    assert 0 <= metrics["probe/base/cloze"] <= 100
    assert published["provenance"]["machine"]["cores"] >= 1
    # every printed line fits the page
    notebook = json.loads((run.path / "notebook.ipynb").read_text())
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            if output.get("output_type") == "stream" or "image/png" not in output.get(
                    "data", {}):
                assert all(len(line) <= 88 for line in text.splitlines()), text
