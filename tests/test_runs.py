"""Run folders on local disk and in a bucket (`gs://`, as on TPU VMs).

The bucket is an in-memory fsspec file system registered for `gs://`, so the code goes through
the same etils `epath` calls as with Google Cloud Storage, without a network.
"""

import json
import time
from pathlib import Path

import fsspec
import matplotlib.pyplot as plt
import nbformat
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from flan_nb import plans, runner
from flan_nb.errors import UserError
from flan_nb.plotting import savefig
from flan_nb.runs import (Run, append_text, as_path, atomic_write_text, current_run, is_local,
                          modified_time)
from flan_nb.train import TrainLog


class FakeBucket(MemoryFileSystem):
    """`gs://BUCKET/...` kept in memory; like GCS, no appending to an object, and an `mtime`."""

    protocol = ("gcs", "gs")
    root_marker = ""
    store: dict = {}  # fsspec keeps a memory file system's files on its class
    pseudo_dirs: list = [""]

    def __init__(self, *args, finalize_on_close=True, **kwargs):
        super().__init__(*args, **kwargs)

    @classmethod
    def _strip_protocol(cls, path):
        path = str(path)
        for prefix in ("gs://", "gcs://"):
            path = path.removeprefix(prefix)
        return "/" + path.strip("/")

    def _open(self, path, mode="rb", **kwargs):
        if "a" in mode:
            raise OSError("GCS objects cannot be appended to")
        return super()._open(path, mode, **kwargs)

    def info(self, path, **kwargs):
        info = super().info(path, **kwargs)
        if "created" in info:
            info["mtime"] = info["created"]
        return info


@pytest.fixture
def bucket(monkeypatch, tmp_path):
    for name in ("gcs", "gs"):
        fsspec.register_implementation(name, FakeBucket, clobber=True)
    FakeBucket.store.clear()
    FakeBucket.pseudo_dirs[:] = [""]
    monkeypatch.setenv("FLAN_NB_RUNS", "gs://bucket/runs")
    yield "gs://bucket/runs"
    FakeBucket.store.clear()


def test_paths_local_and_in_a_bucket(bucket, tmp_path):
    from etils import epath

    assert as_path("runs/x") == Path("runs/x") and is_local(as_path("runs/x"))
    assert is_local(epath.Path(tmp_path))  # Orbax's path type, on local disk
    log = TrainLog(epath.Path(tmp_path) / "train_log.jsonl")
    log.append([{"step": 1, "loss": 2.0}])
    assert [r["step"] for r in log.read()] == [1]  # appended at once, nothing waits
    # A pathlib.Path made from a URL lost a slash; it is put back.
    for text in ("gs://b/runs/x", str(Path("gs://b/runs/x"))):
        path = as_path(text)
        assert str(path) == "gs://b/runs/x" and not is_local(path)
    local = tmp_path / "log.txt"
    append_text(local, "a\n")
    append_text(local, "b\n")
    atomic_write_text(tmp_path / "f.txt", "whole")
    assert local.read_text() == "a\nb\n" and (tmp_path / "f.txt").read_text() == "whole"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_a_bucket_without_its_file_system_library_is_a_clear_error(monkeypatch):
    def missing(protocol):
        raise ImportError("Please install gcsfs to access Google Storage")

    monkeypatch.setattr(fsspec, "get_filesystem_class", missing)
    with pytest.raises(UserError, match=r"gs:// paths need .*pip install -e '.\[tpu\]'"):
        as_path("gs://bucket/runs")


def test_a_run_folder_in_a_bucket(bucket, monkeypatch):
    run = current_run("07_pretraining")
    assert str(run.path) == f"{bucket}/07_pretraining" and not is_local(run.path)
    run.record("loss", 1.5)
    run.record("steps", 3)
    run.write_params({"parameters": {"STEPS": 3}})
    assert Run(f"{bucket}/07_pretraining").metrics() == {"loss": 1.5, "steps": 3}
    assert run.params() == {"parameters": {"STEPS": 3}}
    append_text(run.path / "log.txt", "a\n")
    append_text(run.path / "log.txt", "b\n")
    assert (run.path / "log.txt").read_text() == "a\nb\n"
    assert modified_time(run.path / "log.txt") > 0
    # The training log of a run in a bucket: appended, then cut back to a resumed checkpoint.
    log = TrainLog(run.path / "train_log.jsonl")
    log.append([{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.0}])
    log.append([{"step": 3, "loss": 0.5}])
    assert log.read() == []  # rows wait for the next checkpoint: one upload, not one per step
    log.flush()
    assert [r["step"] for r in log.read()] == [1, 2, 3]
    assert [r["step"] for r in log.truncate(2)] == [1, 2] and len(log.read()) == 2
    # Figures of a run go into its folder in the bucket.
    monkeypatch.setenv("FLAN_NB_RUN_DIR", str(run.path))
    figure = plt.figure()
    path = savefig(figure, "curve", "07_pretraining")
    plt.close(figure)
    assert str(path) == f"{bucket}/07_pretraining/figures/07_pretraining/curve.svg"
    assert path.read_text().lstrip().startswith("<?xml")


def test_flan_nb_run_into_a_bucket(bucket, tmp_path, monkeypatch):
    """`flan-nb run` with FLAN_NB_RUNS=gs://...: papermill writes the executed notebook locally,
    it is copied into the run folder, and the batch verb reads the run's state from there."""
    import papermill

    notebook = tmp_path / "notebooks" / "toy.ipynb"
    (notebook.parent / "params").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("X = 1", metadata={"tags": ["parameters"]})]
    nbformat.write(nb, notebook)
    for profile in ("smoke", "book", "tpu_full"):
        (notebook.parent / "params" / f"{profile}.yaml").write_text("toy: {}\n")

    def execute_notebook(source, output, parameters, **kwargs):
        # Stands in for the kernel: the notebook's record() calls, then the executed notebook.
        assert Path(output).parent.exists() and "://" not in output
        current_run("toy").record("x", parameters.get("X", 1) * 10)
        nbformat.write(nb, output)

    monkeypatch.setattr(papermill, "execute_notebook", execute_notebook)
    run = runner.run_notebook(notebook, "book", {"X": 2}, run_name="toy-2", progress=False)
    assert str(run.path) == f"{bucket}/toy-2"
    assert run.metrics() == {"x": 20} and run.params()["parameters"] == {"X": 2}
    assert nbformat.reads((run.path / "notebook.ipynb").read_text(), 4).cells
    assert runner.is_finished(run.path)
    with pytest.raises(UserError, match="already finished"):
        runner.run_notebook(notebook, "book", {"X": 2}, run_name="toy-2", progress=False)
    planned = plans.PlannedRun(notebook, "toy-2", "book", {"X": 2})
    assert plans.todo_reason(planned) is None
    assert plans.todo_reason(planned, newer_than=time.time() + 5).startswith("an earlier run")
    # --force empties the folder in the bucket first.
    atomic_write_text(run.path / "stale.txt", "old")
    runner.run_notebook(notebook, "book", {"X": 2}, run_name="toy-2", force=True,
                        progress=False)
    assert not (run.path / "stale.txt").exists() and json.loads(
        (run.path / "metrics.json").read_text()) == {"x": 20}


def test_only_process_0_of_a_multi_host_job_writes(tmp_path, monkeypatch):
    from jax._src import distributed

    run = Run(tmp_path / "r")
    monkeypatch.setattr(distributed.global_state, "client", object())  # initialised, 2 hosts
    monkeypatch.setattr(distributed.global_state, "process_id", 1)
    monkeypatch.setenv("FLAN_NB_RUN_DIR", str(run.path))
    figure = plt.figure()
    assert run.record("loss", 1.0) == 1.0 and not run.metrics_path.exists()
    assert not savefig(figure, "curve", "07_pretraining").exists()
    monkeypatch.setattr(distributed.global_state, "process_id", 0)
    run.record("loss", 1.0)
    assert run.metrics() == {"loss": 1.0}
    assert savefig(figure, "curve", "07_pretraining").exists()
    plt.close(figure)
