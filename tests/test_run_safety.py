"""Parameters and run folders a user can trust (issue 12).

Every bad value reaches neither papermill nor the file system through `flan-nb run` or `flan-nb
batch`; a notebook executed by plain papermill writes to a folder its settings decide, never into
another run's, and leaves the tracked files alone.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flan_nb.cli import main
from flan_nb.errors import UserError
from flan_nb import params as params_lib

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()} if folder.exists() else {}


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """An empty runs folder holding one finished-looking run (so 'unchanged' means something)."""
    folder = tmp_path / "runs"
    (folder / "keep").mkdir(parents=True)
    (folder / "keep" / "metrics.json").write_text('{"x": 1}\n')
    monkeypatch.setenv("FLAN_NB_RUNS", str(folder))
    return folder


# Values that used to get past `flan-nb run` (issue 12): notebook, parameter, value, message.
ESCAPED = [
    ("08_instruction_tuning", "HELD_OUT", "foo", "cluster 'foo'"),
    ("03_tinyworld", "SIZE", "huge", "SIZE must be one of"),
    ("05_templates", "SIZE", "huge", "SIZE must be one of"),
    ("07_pretraining", "CORPUS", "missing.txt", "CORPUS 'missing.txt': no such file"),
    ("01_bpe", "CORPUS", "tinyworld/huge", "unknown TinyWorld size 'huge'"),
    ("07_pretraining", "CORPUS", "tinyworld/book/quizzes", "unknown TinyWorld corpus mix"),
    ("08_instruction_tuning", "BASE_RUN", "nope", "BASE_RUN 'nope' has no checkpoints"),
    ("05_templates", "DATASET", "x", "unknown dataset 'x'"),
    ("05_templates", "TOKENIZER", "x", "TOKENIZER must be one of"),
    ("07_pretraining", "MODEL", "x", "unknown model config 'x'"),
    ("09_zero_shot_evaluation", "PLAN", "x", "PLAN must be a .yaml plan file"),
    ("09_zero_shot_evaluation", "PLAN", "plans/missing.yaml", "no such plan file"),
    ("09_zero_shot_evaluation", "EXAMPLE_RUN", "nope", "EXAMPLE_RUN 'nope'"),
    ("09_zero_shot_evaluation", "DATA_DIR", "no/such/dir", "DATA_DIR 'no/such/dir'"),
    ("06_mixing_and_packing", "MIX_SEED", "-1", "MIX_SEED must be a whole number >= 0"),
    ("08_instruction_tuning", "MAX_INPUT_LENGTH", "1", "MAX_INPUT_LENGTH counts the EOS"),
]


@pytest.mark.parametrize("stem, name, value, message", ESCAPED,
                         ids=[f"{s[:2]}-{n}-{v}" for s, n, v, _ in ESCAPED])
def test_flan_nb_run_refuses_bad_values_in_one_line(runs, capsys, stem, name, value, message):
    before = _snapshot(runs)
    assert main(["run", str(NOTEBOOKS / f"{stem}.ipynb"), "--profile", "smoke",
                 "-p", name, value]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert _snapshot(runs) == before


@pytest.mark.parametrize("stem, name, value, message", ESCAPED,
                         ids=[f"{s[:2]}-{n}-{v}" for s, n, v, _ in ESCAPED])
def test_flan_nb_batch_refuses_bad_values_in_one_line(runs, tmp_path, capsys, stem, name, value,
                                                      message):
    # A plan whose second step is the bad run: nothing may run, not even the first step.
    plan = {"profile": "smoke", "notebooks_dir": str(NOTEBOOKS), "steps": [
        {"notebook": "03_tinyworld.ipynb", "name": "first"},
        {"notebook": f"{stem}.ipynb", "name": "bad",
         "parameters": {name: params_lib.parse_cli_value(value)}}]}
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    before = _snapshot(runs)
    assert main(["batch", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert _snapshot(runs) == before


def test_a_plan_may_name_an_earlier_run_as_base(runs, tmp_path):
    """BASE_RUN may be a run the plan makes before it (not after it)."""
    from flan_nb import plans

    base = {"notebook": "07_pretraining.ipynb", "name": "base"}
    tuned = {"notebook": "08_instruction_tuning.ipynb", "name": "tuned",
             "parameters": {"BASE_RUN": "base"}}
    path = tmp_path / "plan.yaml"
    for steps, ok in (([base, tuned], True), ([tuned, base], False)):
        path.write_text(yaml.safe_dump({"profile": "smoke", "notebooks_dir": str(NOTEBOOKS),
                                        "steps": steps}))
        if ok:
            params_lib.check_plan_files(plans.load_plan(path))
        else:
            with pytest.raises(UserError, match="run tuned: BASE_RUN 'base' has no checkpoints"):
                params_lib.check_plan_files(plans.load_plan(path))


def test_types_come_from_the_annotations():
    params = params_lib.notebook_parameters(NOTEBOOKS / "09_zero_shot_evaluation.ipynb")
    assert params["RUN_PLAN"].type == "bool"
    assert params_lib.check_value("NUM_TEMPLATES", None, 3, "Optional[int]") is None
    with pytest.raises(UserError, match="must be str"):
        params_lib.check_value("SIZE", None, "book", "str")
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        for p in params_lib.notebook_parameters(path).values():
            assert p.type, f"{path.name}: {p.name} needs a type annotation (papermill shows it)"
        # papermill skips a parameter line holding two '=' (e.g. in its comment).
        cell = params_lib.parameters_cell(params_lib.read_notebook(path))
        assert all(line.count("=") <= 1 for line in cell.splitlines()), path.name


def test_papermill_help_shows_the_types():
    out = subprocess.run([sys.executable, "-m", "papermill", "--help-notebook",
                          str(NOTEBOOKS / "08_instruction_tuning.ipynb")],
                         capture_output=True, text=True, check=True).stdout
    assert "HELD_OUT: str" in out and "NUM_STEPS: int" in out and "Unknown type" not in out


def test_flan_nb_params_lists_and_writes_papermill_files(capsys):
    notebook = str(NOTEBOOKS / "07_pretraining.ipynb")
    assert main(["params", notebook]) == 0
    listing = capsys.readouterr().out
    assert "MODEL" in listing and "str" in listing and "'tiny-1m'" in listing
    assert "a shape from flan_nb.model.NAMED_CONFIGS" in listing
    for profile in params_lib.PROFILES:
        assert main(["params", notebook, "--profile", profile]) == 0
        values = yaml.safe_load(capsys.readouterr().out)
        expected = params_lib.all_values(notebook, params_lib.resolve_parameters(
            notebook, profile, validate=False))
        assert values == expected  # flat: what `papermill -f` injects


def test_relative_paths_resolve_against_the_book_root_not_the_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert params_lib.book_path("plans/book.yaml") == str(NOTEBOOKS / "plans" / "book.yaml")
    assert params_lib.book_path("README.md") == str(REPO / "README.md")
    params_lib.check_files({"PLAN": "plans/smoke.yaml", "TUNING_NOTEBOOK":
                            "08_instruction_tuning"})


def test_checkpoint_fingerprint_covers_the_data_settings(tmp_path):
    from flan_nb.runs import Run
    from flan_nb.train import run_settings

    run = Run(tmp_path / "r")
    run.write_params({"parameters": {"HELD_OUT": "nli", "SIZE": "smoke", "NUM_STEPS": 10,
                                     "CHECKPOINT_EVERY": 5}})
    assert run_settings(run) == {"HELD_OUT": "nli", "SIZE": "smoke"}


def test_current_run_is_named_by_settings_and_refuses_others(tmp_path, monkeypatch):
    from flan_nb import runs

    monkeypatch.setenv("FLAN_NB_RUNS", str(tmp_path))
    monkeypatch.delenv(runs.RUN_DIR_ENV, raising=False)
    stem = "04_tasks_and_clusters"
    defaults = {n: p.default for n, p in
                params_lib.notebook_parameters(NOTEBOOKS / f"{stem}.ipynb").items()}
    assert runs.current_run(stem, defaults).path == tmp_path / stem
    smoke = runs.current_run(stem, {**defaults, "SIZE": "smoke"})
    assert smoke.path == tmp_path / f"{stem}-smoke" and smoke.params()["profile"] == "smoke"
    other = runs.current_run(stem, {**defaults, "HELD_OUT": "closed_book_qa"})
    assert other.path.name.startswith(f"{stem}-") and other.path != smoke.path
    assert other.params()["parameters"]["HELD_OUT"] == "closed_book_qa"
    # A folder holding other settings (moved, or written by hand) is refused, untouched.
    recorded = other.params()
    recorded["parameters"]["HELD_OUT"] = "nli"
    other.write_params(recorded)
    with pytest.raises(UserError, match="holds a run with other settings"):
        runs.current_run(stem, {**defaults, "HELD_OUT": "closed_book_qa"})


# -- plain papermill (smoke profile): the way researchers batch notebooks -----------------------

@pytest.fixture(scope="module")
def plain_papermill_runs(run_smoke, smoke_runs_dir, tmp_path_factory):
    """Notebook 08 executed twice by plain papermill from another directory, with the smoke
    profile's file and two HELD_OUT values; 07's smoke run is the base."""
    run_smoke("07_pretraining")
    work = tmp_path_factory.mktemp("papermill")
    values = work / "smoke.yaml"
    values.write_text(params_lib.profile_yaml(NOTEBOOKS / "08_instruction_tuning.ipynb",
                                              "smoke"))
    figures_before = _snapshot(REPO / "figures")
    env = {k: v for k, v in os.environ.items() if k != "FLAN_NB_RUN_DIR"}
    folders, metrics = {}, {}
    for held_out in ("closed_book_qa", "reading_comprehension"):
        before = set(p.name for p in smoke_runs_dir.iterdir())
        subprocess.run([sys.executable, "-m", "papermill", "--no-progress-bar",
                        str(NOTEBOOKS / "08_instruction_tuning.ipynb"), str(work / "out.ipynb"),
                        "-f", str(values), "-p", "HELD_OUT", held_out],
                       cwd=work, env=env, check=True, capture_output=True)
        (new,) = set(p.name for p in smoke_runs_dir.iterdir()) - before
        folders[held_out] = smoke_runs_dir / new
        metrics[held_out] = (folders[held_out] / "metrics.json").read_bytes()
    return folders, metrics, figures_before


@pytest.mark.notebook
def test_plain_papermill_runs_with_two_held_out_values_stay_apart(plain_papermill_runs):
    folders, metrics, _ = plain_papermill_runs
    first, second = folders["closed_book_qa"], folders["reading_comprehension"]
    assert first != second
    # The second run did not touch the first's metrics, and each trained on its own split.
    assert (first / "metrics.json").read_bytes() == metrics["closed_book_qa"]
    for held_out, folder in folders.items():
        recorded = json.loads((folder / "metrics.json").read_text())
        assert held_out not in recorded["tuning_clusters"]
        assert yaml.safe_load((folder / "params.yaml").read_text())["parameters"][
            "HELD_OUT"] == held_out
        fingerprint = json.loads((folder / "checkpoints" / "train_fingerprint.json").read_text())
        assert fingerprint["data"]["HELD_OUT"] == held_out


@pytest.mark.notebook
def test_a_directly_executed_notebook_leaves_tracked_files_alone(plain_papermill_runs):
    folders, _, figures_before = plain_papermill_runs
    assert _snapshot(REPO / "figures") == figures_before
    for held_out, folder in folders.items():
        assert (folder / "figures" / "08_instruction_tuning" / f"loss_{held_out}.svg").is_file()
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                             "figures", "notebooks"], cwd=REPO, capture_output=True, text=True)
    if status.returncode == 0:  # a git checkout (not an sdist)
        assert not any(f"loss_{h}" in status.stdout for h in folders)


def test_the_book_build_restarts_its_run_when_the_defaults_changed(tmp_path, monkeypatch):
    from flan_nb import runs

    monkeypatch.setenv("FLAN_NB_RUNS", str(tmp_path))
    monkeypatch.delenv(runs.RUN_DIR_ENV, raising=False)
    stem = "04_tasks_and_clusters"
    defaults = {n: p.default for n, p in
                params_lib.notebook_parameters(NOTEBOOKS / f"{stem}.ipynb").items()}
    old = runs.Run(tmp_path / stem)
    old.write_params({"parameters": {**defaults, "SEED": 7}})  # an older default
    old.record("stale", 1)
    with pytest.raises(UserError, match="other settings"):  # outside the book build: refused
        runs.current_run(stem, defaults)
    monkeypatch.setenv(runs.BOOK_BUILD_ENV, "1")
    run = runs.current_run(stem, defaults)
    assert run.metrics() == {} and run.params()["parameters"] == defaults


@pytest.mark.parametrize("profile", params_lib.PROFILES)
def test_every_profile_passes_every_notebooks_value_checks(profile):
    """The values the profiles ship are accepted by each notebook's config (files aside)."""
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        config = params_lib.build_config(path, params_lib.all_values(
            path, params_lib.resolve_parameters(path, profile)))
        assert config is not None, f"{path.name}: no make_config(CLASS, globals()) found"
