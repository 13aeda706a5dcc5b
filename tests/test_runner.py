"""`flan-nb run`: parameters checked before anything runs, runs written whole, errors on one line."""

import json
import subprocess
import sys

import pytest
import yaml

from flan_nb.cli import main
from flan_nb.errors import UserError
from flan_nb.params import notebook_parameters, resolve_parameters
from flan_nb.runner import run_notebook
from notebook_workspace import notebook_workspace

PARAMS_CELL = 'STEPS = 3  # how many steps\nRATE = 0.5  # a float\nNAME = "x"  # a string\n'
BODY = ("from flan_nb.runs import current_run\n"
        "run = current_run('tiny')\n"
        "run.record('total', STEPS * RATE)\nrun.record('name', NAME)\n"
        "import matplotlib.pyplot as plt\nfrom flan_nb.plotting import savefig\n"
        "savefig(plt.figure(), 'empty', '99_tiny')\n"
        # Counts executions in the run folder; NAME='flaky' fails the first one (a preemption).
        "tries = run.path / 'tries.txt'\n"
        "run.record('tries', int(tries.read_text()) + 1 if tries.exists() else 1)\n"
        "tries.write_text(str(run.metrics()['tries']))\n"
        "assert not (NAME == 'flaky' and run.metrics()['tries'] == 1), 'preempted'\n")


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    """A two-cell notebook in tmp/notebooks with its three profile files; runs go to tmp/runs."""
    profiles = {"smoke": {"STEPS": 1}, "book": {}, "tpu_full": {"STEPS": 100}}
    nb_dir = notebook_workspace(tmp_path, monkeypatch, "99_tiny.ipynb", PARAMS_CELL,
                                more_cells=(BODY,),
                                profile_yaml={profile: yaml.safe_dump({"99_tiny": values})
                                              for profile, values in profiles.items()})
    return nb_dir / "99_tiny.ipynb"


def test_parameters_cell_is_parsed_with_comments(notebook):
    params = notebook_parameters(notebook)
    assert {n: p.default for n, p in params.items()} == {"STEPS": 3, "RATE": 0.5, "NAME": "x"}
    assert params["STEPS"].comment == "how many steps"


def test_profile_then_overrides_with_type_checks(notebook):
    assert resolve_parameters(notebook, "smoke") == {"STEPS": 1}
    assert resolve_parameters(notebook, "smoke", {"RATE": 2}) == {"STEPS": 1, "RATE": 2.0}
    with pytest.raises(UserError, match="STEPS must be int"):
        resolve_parameters(notebook, "book", {"STEPS": "many"})
    with pytest.raises(UserError, match="unknown parameter 'STESP'"):
        resolve_parameters(notebook, "book", {"STESP": 1})
    with pytest.raises(UserError, match="unknown profile 'huge'"):
        resolve_parameters(notebook, "huge")


def test_run_writes_params_metrics_and_marker(notebook, tmp_path):
    run = run_notebook(notebook, "smoke", {"RATE": 2.0}, progress=False)
    assert run.path.parent == tmp_path / "runs"
    assert run.metrics() == {"total": 2.0, "name": "x", "tries": 1}
    assert run.params()["parameters"] == {"STEPS": 1, "RATE": 2.0, "NAME": "x"}
    assert (run.path / "notebook.ipynb").is_file() and (run.path / "finished").is_file()
    # Figures of a `flan-nb run` stay in the run; the book's figures/ is not touched.
    assert (run.path / "figures" / "99_tiny" / "empty.svg").is_file()
    with pytest.raises(UserError, match="already finished"):
        run_notebook(notebook, "smoke", {"RATE": 2.0}, progress=False)


def test_an_unfinished_run_resumes_in_its_folder(notebook, tmp_path):
    with pytest.raises(Exception, match="preempted"):
        run_notebook(notebook, "smoke", {"NAME": "flaky"}, run_name="r", progress=False)
    folder = tmp_path / "runs" / "r"
    assert (folder / "tries.txt").read_text() == "1" and not (folder / "finished").exists()
    # Other settings under the same name: refused, and nothing of the first attempt is lost.
    with pytest.raises(UserError, match=r"other settings \(NAME: 'flaky' -> 'x'\).*--force"):
        run_notebook(notebook, "smoke", {"NAME": "x"}, run_name="r", progress=False)
    assert (folder / "tries.txt").read_text() == "1"
    # The same settings: executed again in the same folder, keeping what it wrote.
    run = run_notebook(notebook, "smoke", {"NAME": "flaky"}, run_name="r", progress=False)
    assert run.metrics()["tries"] == 2 and (folder / "finished").exists()
    # --force starts clean.
    run = run_notebook(notebook, "smoke", {"NAME": "x"}, run_name="r", force=True,
                       progress=False)
    assert run.metrics()["tries"] == 1


@pytest.mark.parametrize("argv, message", [
    (["--profile", "huge"], "unknown profile 'huge'"),
    (["-p", "STESP", "1"], "unknown parameter 'STESP'"),
    (["-p", "STEPS", "1.5"], "parameter STEPS must be int"),
])
def test_cli_errors_are_one_line_exit_2_and_write_nothing(notebook, tmp_path, capsys, argv,
                                                          message):
    assert main(["run", str(notebook), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "runs").exists()


def test_missing_notebook_is_a_clear_error(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.ipynb")]) == 2
    assert "not found" in capsys.readouterr().err


def test_console_entry_point_runs_a_notebook(notebook, tmp_path):
    out = subprocess.run([sys.executable, "-m", "flan_nb", "run", str(notebook), "--profile",
                          "tpu_full", "--quiet"], capture_output=True, text=True, check=True)
    assert "99_tiny-tpu_full" in out.stdout
    metrics = json.loads((tmp_path / "runs" / "99_tiny-tpu_full" / "metrics.json").read_text())
    assert metrics["total"] == 50.0
