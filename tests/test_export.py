"""The `export` verb: formatted TinyWorld (and fake TFDS) data as JSON Lines, written atomically."""

from __future__ import annotations

import json

import pytest

from flan_nb import export, splits, tasks, tfds_data
from flan_nb.cli import main
from flan_nb.collection import sample_features
from flan_nb.errors import UserError

KEYS = {"dataset", "cluster", "split", "template_id", "inputs", "targets", "options"}


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_export_tinyworld_training_data(tmp_path, capsys):
    out = tmp_path / "nli_train.jsonl"
    status = main(["export", "--held-out", "nli", "--format", "zero-shot", "--out", str(out),
                   "--size", "smoke", "--limit", "3"])
    assert status == 0
    records = read_jsonl(out)
    plan = splits.held_out_split("nli", source="tinyworld")
    assert {r["dataset"] for r in records} == set(plan.train)
    assert len(records) == 3 * len(plan.train)  # one random template per example
    for record in records:
        assert set(record) == KEYS and record["split"] == "train"
        spec = tasks.get(record["dataset"])
        assert 0 <= record["template_id"] < len(spec.templates)
        if record["options"]:
            assert record["targets"] in record["options"]
    assert f"wrote {len(records)} examples" in capsys.readouterr().out


def test_export_evaluation_data_goes_through_every_template(tmp_path):
    out = tmp_path / "eval.jsonl"
    count = export.write_jsonl_atomic(out, export.export_records(
        "sentiment", "zero-shot", split="validation", size="smoke", limit=2))
    records = read_jsonl(out)
    eval_names = splits.held_out_split("sentiment", source="tinyworld").eval
    assert count == len(records) == sum(2 * len(tasks.get(n).templates) for n in eval_names)
    first = [r for r in records if r["dataset"] == eval_names[0]]
    assert [r["template_id"] for r in first[:10]] == list(range(10))


def test_few_shot_export_prepends_training_exemplars(tmp_path):
    zero = list(export.export_records("nli", "zero-shot", split="validation", size="smoke",
                                      limit=2))
    few = list(export.export_records("nli", "few-shot", split="validation", size="smoke",
                                     limit=2, k=2, max_input_tokens=2000))
    assert len(zero) == len(few)
    for z, f in zip(zero, few):
        assert f["inputs"].endswith(z["inputs"]) and len(f["inputs"]) > len(z["inputs"])
        assert f["targets"] == z["targets"] and f["options"] == z["options"]


def test_export_tfds_data_without_tensorflow(tmp_path, monkeypatch):
    rows = {(tfds_data.tfds_names(s)[0], s.splits["validation"]):
            [sample_features(s.name)] for s in tasks.all_datasets(source="tfds", cluster="nli")}

    class Fake:
        def data_source(self, name, *, split, data_dir=None, download=True):
            return rows.get((name, split), [])

    monkeypatch.setattr(tfds_data, "import_tfds", Fake)
    out = tmp_path / "nli_eval.jsonl"
    assert main(["export", "--held-out", "nli", "--format", "dataset-name", "--source", "tfds",
                 "--split", "validation", "--out", str(out)]) == 0
    records = read_jsonl(out)
    names = list(dict.fromkeys(r["dataset"] for r in records))
    assert names == ["anli", "cb", "mnli", "qnli", "rte", "snli", "wnli"]
    assert len(records) == 7 * 10  # one example each (ANLI's r2, r3 empty), every template
    assert records[0]["inputs"].startswith("[Natural language inference: ANLI (R1-R3)] ")


def test_a_failure_leaves_no_half_file(tmp_path):
    out = tmp_path / "data.jsonl"
    out.write_text("old content\n", encoding="utf-8")

    def records():
        yield {"dataset": "x"}
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        export.write_jsonl_atomic(out, records())
    assert out.read_text(encoding="utf-8") == "old content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["data.jsonl"]


@pytest.mark.parametrize("args,message", [
    (["--held-out", "poetry", "--format", "zero-shot"], "unknown cluster 'poetry'"),
    (["--held-out", "nli", "--format", "two-shot"], "unknown format 'two-shot'"),
    (["--held-out", "nli", "--format", "zero-shot", "--source", "hf"], "unknown source 'hf'"),
    (["--held-out", "nli", "--format", "zero-shot", "--size", "huge"], "TinyWorld size"),
])
def test_bad_input_is_one_line_exit_2_and_no_file(tmp_path, capsys, args, message):
    out = tmp_path / "out.jsonl"
    assert main(["export", *args, "--out", str(out), "--limit", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_out_must_be_a_file(tmp_path):
    with pytest.raises(UserError, match="is a folder"):
        export.write_jsonl_atomic(tmp_path, iter([]))
