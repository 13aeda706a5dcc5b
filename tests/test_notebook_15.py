"""Notebook 15 on the smoke profile: the Flan 2022 smoke plan end to end (runs, publish,
chapter), sharing chapter 07's base and, when chapter 09's smoke plan ran first, its NLI run.

It trains at most three tiny runs (none when they are already in the session's runs folder),
publishes under the runs folder, and renders the chain-of-thought and prompt-format parts from
what it published; chapter 10's task sweep (a book plan) renders from results/ or as "not run
yet" with its command.
"""

import json
import os
from pathlib import Path

import pytest

from flan_nb.notebook import wide_output_lines
from flan_nb.runner import EXECUTED_NOTEBOOK


@pytest.mark.notebook
def test_notebook_15_runs_publishes_and_renders_the_smoke_plan(run_smoke):
    run_smoke("07_pretraining")  # shared with notebooks 07-10: made once per session
    run = run_smoke("15_flan_2022")
    metrics = run.metrics()
    assert metrics["cot/published"] == metrics["formats/published"] == 1
    assert metrics["tasks/published"] in (0, 1)
    runs = Path(os.environ["FLAN_NB_RUNS"])
    published = json.loads((runs / "results" / "flan2022_smoke.json").read_text())
    keys = {(c["cluster"], c["eval_format"]) for c in published["clusters"]}
    assert {("cot_held_out", f) for f in ("zero-shot", "cot", "cot-trigger")} <= keys
    assert {("nli", "zero-shot"), ("nli", "few-shot-1")} <= keys
    cot_rows = [c for c in published["clusters"] if c["cluster"] == "cot_held_out"]
    assert {d for c in cot_rows for d in c["datasets"]} == {
        "twc_weather_rule", "twc_friend_pet_species", "twc_pet_swims"}
    # The readings the chapter records are the paired changes it computed from that file.
    recorded = {k for k in metrics if k.startswith(("cot/", "formats/"))} - {
        "cot/published", "formats/published"}
    assert any(k.startswith("cot/") for k in recorded)
    assert any(k.startswith("formats/") for k in recorded)
    for name in ("chain_of_thought", "mixed_formats"):
        assert (run.path / "figures" / "15_flan_2022" / f"{name}.svg").is_file()
    executed = (run.path / EXECUTED_NOTEBOOK).read_text()
    if metrics["tasks/published"] == 0:  # one clear line with the command, never a failure
        assert "not run yet" in executed
        assert "flan-nb batch notebooks/plans/when_tuning_helps_tasks.yaml --publish" in executed
    assert not wide_output_lines(run.path / EXECUTED_NOTEBOOK)
