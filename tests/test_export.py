"""The `export` verb: formatted TinyWorld (and fake TFDS) data as JSON Lines, written atomically."""

from __future__ import annotations

import importlib.util
import json

import pytest

from flan_nb import export, formats, splits, tasks, tfds_data
from flan_nb.cli import main
from flan_nb.collection.catalog import sample_features
from flan_nb.errors import UserError
from flan_nb.tokenize import tinyworld_tokenizer

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
                                     limit=2, k=2))
    assert len(zero) == len(few)
    for z, f in zip(zero, few):
        assert f["inputs"].endswith(z["inputs"]) and len(f["inputs"]) > len(z["inputs"])
        assert f["targets"] == z["targets"] and f["options"] == z["options"]


def test_few_shot_export_fits_sentencepiece_tokens(tmp_path, capsys):
    tokenizer = tinyworld_tokenizer(vocab_size=2000, size="smoke")
    out = tmp_path / "few.jsonl"
    args = ["export", "--held-out", "nli", "--format", "few-shot", "--k", "16", "--size",
            "smoke", "--limit", "3", "--max-input-tokens", "300"]
    assert main([*args, "--out", str(out)]) == 0
    records = read_jsonl(out)
    assert all(len(tokenizer.encode(r["inputs"])) <= 300 for r in records)
    assert any(r["inputs"].count(formats.EXEMPLAR_DELIMITER) >= 2 for r in records)
    assert main([*args, "--tokenizer", "words", "--out", str(tmp_path / "words.jsonl")]) == 0
    by_words = read_jsonl(tmp_path / "words.jsonl")
    assert all(len(r["inputs"].split()) <= 300 for r in by_words)
    assert any(len(tokenizer.encode(r["inputs"])) > 300 for r in by_words)
    assert capsys.readouterr().err == ""


def test_few_shot_export_says_how_many_examples_are_over_the_budget(tmp_path, capsys):
    out = tmp_path / "few.jsonl"
    assert main(["export", "--held-out", "nli", "--format", "few-shot", "--size", "smoke",
                 "--limit", "1", "--max-input-tokens", "3", "--out", str(out)]) == 0
    count = len(read_jsonl(out))
    err = capsys.readouterr().err
    assert err == (f"flan-nb export: warning: {count} of {count} examples do not fit in 3 "
                   f"tokens even without exemplars: their prompts are zero-shot and longer "
                   f"than that (nothing is cut)\n")


def test_export_refuses_to_overwrite_a_file_without_force(tmp_path, capsys):
    out = tmp_path / "data.jsonl"
    out.write_text("precious\n", encoding="utf-8")
    args = ["export", "--held-out", "nli", "--format", "zero-shot", "--size", "smoke",
            "--limit", "1", "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--out {str(out)!r} already exists" in err
    assert "--force" in err and out.read_text(encoding="utf-8") == "precious\n"
    assert main([*args, "--force"]) == 0
    assert read_jsonl(out)[0]["split"] == "train"
    assert [p.name for p in tmp_path.iterdir()] == ["data.jsonl"]


def test_export_tfds_data_without_tensorflow(tmp_path, monkeypatch):
    rows = {(tfds_data.tfds_names(s)[0], s.splits["validation"]):
            [sample_features(s.name)] for s in tasks.all_datasets(source="tfds", cluster="nli")}

    class Fake:
        def data_source(self, name, *, split, data_dir=None, download=True):
            return rows.get((name, split), [])

    monkeypatch.setattr(tfds_data, "import_tfds", Fake)
    # Without a test split of its own, a dataset's "validation" is half its dev split
    # (tfds_data.DEV_HALVES); put the one example of each in that half.
    monkeypatch.setattr(tfds_data, "dev_half_of",
                        lambda fields: tfds_data.DEV_HALVES["validation"])
    out = tmp_path / "nli_eval.jsonl"
    assert main(["export", "--held-out", "nli", "--format", "dataset-name", "--source", "tfds",
                 "--split", "validation", "--out", str(out)]) == 0
    records = read_jsonl(out)
    names = list(dict.fromkeys(r["dataset"] for r in records))
    assert names == ["anli", "cb", "mnli", "qnli", "rte", "snli", "wnli"]
    assert len(records) == 7 * 10  # one example each (ANLI's r2, r3 empty), every template
    assert records[0]["inputs"].startswith("[Natural language inference: ANLI (R1-R3)] ")


def test_missing_tfds_data_is_one_message_naming_every_dataset(tmp_path, monkeypatch, capsys):
    rte = tasks.get("rte")
    rows = {(tfds_data.tfds_names(rte)[0], rte.splits["validation"]): [sample_features("rte")]}

    class Fake:
        def data_source(self, name, *, split, data_dir=None, download=True):
            if (name, split) not in rows:
                raise FileNotFoundError(name)
            return rows[(name, split)]

    monkeypatch.setattr(tfds_data, "import_tfds", Fake)
    out, data_dir = tmp_path / "nli.jsonl", tmp_path / "tfds"
    assert main(["export", "--held-out", "nli", "--format", "zero-shot", "--source", "tfds",
                 "--split", "validation", "--data-dir", str(data_dir), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.count("tfds build") == 1
    assert "TFDS data is not prepared for anli, cb, mnli, qnli, snli, wnli (" in err
    assert (f"`tfds build anli/r1 anli/r2 anli/r3 super_glue/cb glue/mnli glue/qnli snli "
            f"glue/wnli --data_dir {data_dir} --file_format array_record`") in err
    has_tfds = importlib.util.find_spec("tensorflow_datasets") is not None
    assert ("pip install -e" in err) == (not has_tfds)  # said only when TFDS is missing
    assert not out.exists()


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
    (["--held-out", "nli", "--format", "zero-shot", "--limit", "0"],
     "--limit must be at least 1 example per dataset, got 0"),
    (["--held-out", "nli", "--format", "few-shot", "--k", "-1"], "--k must be >= 0, got -1"),
    (["--held-out", "nli", "--format", "few-shot", "--max-input-tokens", "0"],
     "--max-input-tokens must be >= 1, got 0"),
    (["--held-out", "nli", "--format", "few-shot", "--source", "tfds"],
     "few-shot on TFDS data needs --tokenizer"),
])
def test_bad_input_is_one_line_exit_2_and_no_file(tmp_path, capsys, args, message):
    out = tmp_path / "out.jsonl"
    assert main(["export", "--limit", "1", "--size", "smoke", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_out_must_be_a_file(tmp_path):
    with pytest.raises(UserError, match="is a folder"):
        export.write_jsonl_atomic(tmp_path, iter([]))
