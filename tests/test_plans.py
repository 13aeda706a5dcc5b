"""The `batch` verb: plan checking, skipping finished runs, resuming an interrupted plan."""

from pathlib import Path

import nbformat
import pytest
import yaml

from flan_nb import cli, plans, runner
from flan_nb.errors import UserError
from flan_nb.runs import FINISHED_MARKER, KERNEL_LOG, Run
from notebook_workspace import notebook_workspace

PARAMS = "SCALE = 2  # multiplies X\nX = 1  # the value recorded\nFAIL_AT = -1  # X that fails\n"
BODY = ("from flan_nb.runs import current_run\n"
        "run = current_run('toy')\n"
        "assert X != FAIL_AT, f'X={X} fails'\n"
        "run.record('y', SCALE * X)\n")


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A notebooks folder with one toy notebook and empty profiles, and a private runs folder."""
    return notebook_workspace(tmp_path, monkeypatch, "toy.ipynb", PARAMS, more_cells=(BODY,),
                              profile_yaml={"smoke": "toy: {SCALE: 10}\n", "book": "toy: {}\n",
                                            "tpu_full": "toy: {}\n"})


def write_plan(nb_dir: Path, **plan) -> Path:
    plan.setdefault("notebooks_dir", ".")
    path = nb_dir / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


def toy_step(**step):
    return {"notebook": "toy.ipynb", "name": "toy-{X}", "grid": {"X": [1, 2, 3]},
            "summary": ["y"], **step}


def fake_run_notebook(calls):
    """Stands in for papermill: records y = SCALE * X like the toy notebook, or fails."""
    def run_notebook(notebook, profile, overrides, run_name, force, progress):
        calls.append(run_name)
        planned = plans.PlannedRun(Path(notebook), run_name, profile, overrides)
        values = planned.parameters()
        run = Run(runner.runs_dir() / run_name)
        run.path.mkdir(parents=True, exist_ok=True)
        if values["X"] == values["FAIL_AT"]:
            raise RuntimeError(f"AssertionError: X={values['X']} fails")
        run.record("y", values["SCALE"] * values["X"])
        (run.path / FINISHED_MARKER).write_text("")
        return run
    return run_notebook


def test_plan_expands_grid_with_names_profile_and_fixed_parameters(workspace):
    plan = plans.load_plan(write_plan(workspace, profile="smoke",
                                      steps=[toy_step(parameters={"FAIL_AT": 7})]))
    assert [r.name for r in plan.runs] == ["toy-1", "toy-2", "toy-3"]
    assert plan.runs[1].overrides == {"FAIL_AT": 7, "X": 2}
    assert plan.runs[1].parameters() == {"SCALE": 10, "X": 2, "FAIL_AT": 7}


@pytest.mark.parametrize("plan, message", [
    ({"steps": []}, "'steps' must be a non-empty list"),
    ({"profile": "fast", "steps": [toy_step()]}, "unknown profile 'fast'"),
    ({"steps": [toy_step(notebook="nope.ipynb")]}, "notebook .*nope.ipynb' not found"),
    ({"steps": [toy_step(grid={"Y": [1]})]}, "unknown parameter 'Y'"),
    ({"steps": [toy_step(grid={"X": ["one"]})]}, "parameter X must be int"),
    ({"steps": [toy_step(grid={"X": 3})]}, "grid values of X must be a non-empty list"),
    ({"steps": [toy_step(name="toy-x")]}, "two runs are named 'toy-x'"),
    ({"steps": [toy_step(name="toy-{Z}")]}, "run name 'toy-{Z}' uses 'Z'"),
    ({"steps": [toy_step(extra=1)]}, r"step 1: unknown keys \['extra'\]"),
    ({"stepz": []}, r"unknown keys \['stepz'\]"),
])
def test_bad_plans_fail_before_anything_runs(workspace, monkeypatch, plan, message):
    calls = []
    monkeypatch.setattr(runner, "run_notebook", fake_run_notebook(calls))
    with pytest.raises(UserError, match=message):
        plans.run_plan(write_plan(workspace, **plan))
    assert calls == [] and not (workspace.parent / "runs").exists()


def test_missing_or_malformed_plan_file(workspace, tmp_path):
    with pytest.raises(UserError, match="plan file .* not found"):
        plans.load_plan(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [unclosed\n")
    with pytest.raises(UserError, match="not valid YAML"):
        plans.load_plan(bad)


def test_skips_finished_runs_and_resumes_after_a_failure(workspace, monkeypatch):
    calls = []
    monkeypatch.setattr(runner, "run_notebook", fake_run_notebook(calls))
    path = write_plan(workspace, steps=[toy_step(parameters={"FAIL_AT": 2})])
    first = plans.run_plan(path, echo=lambda line: None)
    assert [o.status for o in first] == [plans.RAN, plans.FAILED, plans.NOT_RUN]
    assert calls == ["toy-1", "toy-2"]
    # Fix the plan (as a user would) and run it again: toy-1 is not redone.
    path = write_plan(workspace, steps=[toy_step()])
    second = plans.run_plan(path, echo=lambda line: None)
    assert [o.status for o in second] == [plans.SKIPPED, plans.RAN, plans.RAN]
    assert calls == ["toy-1", "toy-2", "toy-2", "toy-3"]
    assert [o.metrics["y"] for o in second] == [2, 4, 6]
    table = plans.summary_table(second)
    assert table.splitlines()[0].split() == ["run", "status", "seconds", "y"]
    assert "skipped" in table.splitlines()[2]
    # keep_going runs past failures; exclude leaves a notebook out entirely.
    path = write_plan(workspace, steps=[toy_step(parameters={"FAIL_AT": 1})])
    third = plans.run_plan(path, force=True, keep_going=True, echo=lambda line: None)
    assert [o.status for o in third] == [plans.FAILED, plans.RAN, plans.RAN]
    assert plans.run_plan(path, exclude=["toy"], echo=lambda line: None) == []


def test_cli_batch_with_real_notebooks(workspace, capsys):
    """End to end through papermill: two runs, then a rerun that skips both."""
    path = write_plan(workspace, profile="smoke",
                      steps=[toy_step(grid={"X": [1, 2]})])
    assert cli.main(["batch", str(path), "--quiet"]) == 0
    first = capsys.readouterr().out
    assert "done toy-1" in first and "done toy-2" in first
    assert Run(workspace.parent / "runs" / "toy-2").metrics() == {"y": 20}
    # the kernel's own stderr (start-up warnings) is kept in the run, not mixed into ours
    assert (workspace.parent / "runs" / "toy-2" / KERNEL_LOG).is_file()
    assert cli.main(["batch", str(path), "--quiet"]) == 0
    second = capsys.readouterr().out
    assert second.count("skipped") == 2 and "done" not in second
    assert cli.main(["batch", str(path), "--dry-run"]) == 0
    assert "toy-1: toy.ipynb smoke {'X': 1} [finished]" in capsys.readouterr().out


def test_cli_bad_plan_is_one_line_and_exit_2(workspace, capsys):
    path = write_plan(workspace, steps=[toy_step(grid={"X": ["one"]})])
    assert cli.main(["batch", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "parameter X must be int" in err


def test_runs_by_parameter_maps_values_to_run_names(workspace):
    path = write_plan(workspace, profile="smoke", steps=[toy_step(grid={"X": [4, 5]})])
    assert plans.runs_by_parameter(path, "toy", "X") == {4: "toy-4", 5: "toy-5"}
    with pytest.raises(UserError, match="both have SCALE=10"):
        plans.runs_by_parameter(path, "toy", "SCALE")
    with pytest.raises(UserError, match="no run of notebook 'other'"):
        plans.runs_by_parameter(path, "other", "X")


def test_book_build_runs_count_as_done_by_their_done_when_metric(workspace, monkeypatch):
    """`runs/toy/` written by the book build (defaults, no marker) is reused once it holds
    the step's done_when metric; a half-finished one is redone."""
    calls = []
    monkeypatch.setattr(runner, "run_notebook", fake_run_notebook(calls))
    path = write_plan(workspace, steps=[{"notebook": "toy.ipynb", "name": "toy",
                                         "done_when": "y"}])
    book_run = Run(workspace.parent / "runs" / "toy")
    book_run.record("started", 1)  # interrupted: no y yet
    assert [o.status for o in plans.run_plan(path, echo=lambda line: None)] == [plans.RAN]
    (book_run.path / FINISHED_MARKER).unlink()
    book_run.record("y", 3)
    assert [o.status for o in plans.run_plan(path, echo=lambda line: None)] == [plans.SKIPPED]
    assert calls == ["toy"]


def test_the_stem_name_is_reserved_for_default_parameters(workspace):
    step = {"notebook": "toy.ipynb", "name": "toy", "parameters": {"X": 5}}
    with pytest.raises(UserError, match="run name 'toy' is reserved for the book build"):
        plans.load_plan(write_plan(workspace, steps=[step]))
    with pytest.raises(UserError, match="reserved"):
        plans.load_plan(write_plan(workspace, profile="smoke",
                                   steps=[{"notebook": "toy.ipynb", "name": "toy"}]))
    assert plans.load_plan(write_plan(workspace, steps=[{**step, "parameters": {"X": 1}}]))


def test_finished_runs_are_redone_when_the_notebook_or_parameters_changed(workspace,
                                                                         monkeypatch):
    calls, lines = [], []
    monkeypatch.setattr(runner, "run_notebook", fake_run_notebook(calls))
    path = write_plan(workspace, steps=[toy_step(grid={"X": [1]})])
    plans.run_plan(path, echo=lines.append)
    assert plans.run_plan(path, echo=lines.append)[0].status == plans.SKIPPED
    # Edit the notebook's code: the run no longer shows what the notebook computes.
    notebook = nbformat.read(workspace / "toy.ipynb", as_version=4)
    notebook.cells[1].source += "\n# changed"
    nbformat.write(notebook, workspace / "toy.ipynb")
    assert plans.run_plan(path, echo=lines.append)[0].status == plans.RAN
    assert "(toy.ipynb changed since it ran)" in lines[-2]
    assert plans.run_plan(path, echo=lines.append)[0].status == plans.SKIPPED
    # A parameter the notebook gained since the run (recorded without it) is no change while
    # the plan keeps its default (FAIL_AT here): the run is kept.
    Run(workspace.parent / "runs" / "toy-1").write_params({"parameters": {"X": 1, "SCALE": 2}})
    assert plans.run_plan(path, echo=lines.append)[0].status == plans.SKIPPED
    # Recorded parameters that differ from the plan's (e.g. the profile changed) redo it too.
    Run(workspace.parent / "runs" / "toy-1").write_params({"parameters": {"X": 1,
                                                                          "SCALE": 10}})
    assert plans.run_plan(path, echo=lines.append)[0].status == plans.RAN
    assert "parameters differ" in lines[-2]
    assert calls == ["toy-1"] * 3


def test_a_run_older_than_an_earlier_run_of_the_plan_is_redone(workspace, monkeypatch):
    """If the base model is retrained, the runs tuned from it are stale."""
    calls = []
    monkeypatch.setattr(runner, "run_notebook", fake_run_notebook(calls))
    path = write_plan(workspace, steps=[toy_step(grid={"X": [1, 2]})])
    plans.run_plan(path, echo=lambda line: None)
    plans.run_plan(path, force=True, echo=lambda line: None)
    (workspace.parent / "runs" / "toy-1" / FINISHED_MARKER).touch()  # toy-1 redone
    assert [r for _, r in plans.plan_status(path)] == [
        None, "an earlier run of the plan finished after it"]
    outcomes = plans.run_plan(path, echo=lambda line: None)
    assert [o.status for o in outcomes] == [plans.SKIPPED, plans.RAN]
    (workspace.parent / "runs" / "toy-1" / FINISHED_MARKER).unlink()
    assert [r for _, r in plans.plan_status(path)] == [
        "not finished", "an earlier run of the plan runs first"]


def test_an_interrupted_run_resumes_and_a_stale_one_starts_clean(workspace, monkeypatch):
    forced = {}
    fake = fake_run_notebook([])

    def run_notebook(notebook, profile, overrides, run_name, force, progress):
        forced[run_name] = force
        return fake(notebook, profile, overrides, run_name, force, progress)

    monkeypatch.setattr(runner, "run_notebook", run_notebook)
    path = write_plan(workspace, steps=[toy_step()])
    runs = runner.runs_dir()
    # toy-1 was killed mid-run with the plan's settings (started by `flan-nb run`, which records
    # the notebook path as typed); toy-2 with other settings.
    for name, scale in (("toy-1", 2), ("toy-2", 3)):
        Run(runs / name).write_params({
            "notebook": "notebooks/toy.ipynb", "profile": "book",
            "parameters": {"SCALE": scale, "X": int(name[-1]), "FAIL_AT": -1}})
    plans.run_plan(path, echo=lambda line: None)
    assert forced == {"toy-1": False, "toy-2": True, "toy-3": False}


def test_seeds_repeat_every_grid_point_and_name_the_seed(workspace, monkeypatch):
    step = toy_step(grid={"X": [1, 2]}, seeds=[5, 6], seed_parameter="SCALE")
    plan = plans.load_plan(write_plan(workspace, steps=[step]))
    assert [r.name for r in plan.runs] == ["toy-1-s5", "toy-1-s6", "toy-2-s5", "toy-2-s6"]
    assert plan.runs[1].parameters()["SCALE"] == 6
    named = toy_step(name="toy-{SCALE}-{X}", grid={"X": [1]}, seeds=[0, 1],
                     seed_parameter="SCALE")
    plan = plans.load_plan(write_plan(workspace, steps=[named]))
    assert [r.name for r in plan.runs] == ["toy-0-1", "toy-1-1"]  # {SEED} already in the name
    calls = []
    monkeypatch.setattr(runner, "run_notebook", fake_run_notebook(calls))
    outcomes = plans.run_plan(plan, echo=lambda line: None)
    assert [o.metrics["y"] for o in outcomes] == [0, 1]
    assert plans.run_wall_seconds("toy-0-1") >= 0.0  # recorded for the provenance
    assert plans.run_wall_seconds("never-ran") is None


@pytest.mark.parametrize("step, message", [
    (toy_step(seeds=[]), "seeds must be a non-empty list of distinct integers"),
    (toy_step(seeds=[1, 1]), "seeds must be a non-empty list of distinct integers"),
    (toy_step(seeds=["a"]), "seeds must be a non-empty list of distinct integers"),
    (toy_step(seeds=[1, 2], seed_parameter="X"), "X is set by 'seeds'"),
    (toy_step(seed_parameter="X"), "seed_parameter without seeds"),
    (toy_step(seeds=[1, 2], seed_parameter="NOPE"), "unknown parameter 'NOPE'"),
])
def test_bad_seeds_fail_before_anything_runs(workspace, step, message):
    with pytest.raises(UserError, match=message):
        plans.load_plan(write_plan(workspace, steps=[step]))
