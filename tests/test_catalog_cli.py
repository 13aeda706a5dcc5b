"""`flan-nb tasks`, `flan-nb show` and `flan-nb tinyworld build` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from flan_nb.catalog_cli import show_rows, task_rows
from flan_nb.cli import main
from flan_nb.tokenize import tinyworld_tokenizer


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_tasks_json_lists_tinyworld_with_its_fields(capsys):
    code, out, _ = run_cli(capsys, "tasks", "--json", "--source", "tinyworld")
    rows = json.loads(out)
    assert code == 0 and len(rows) >= 30
    assert set(rows[0]) == {"name", "cluster", "source", "num_templates", "kind", "metric",
                            "tfds_names", "manual_download"}
    assert {r["source"] for r in rows} == {"tinyworld"}
    assert all(r["num_templates"] == 10 and r["tfds_names"] == [] for r in rows)


def test_tasks_table_filters_by_cluster(capsys):
    code, out, _ = run_cli(capsys, "tasks", "--cluster", "translation", "--source",
                           "tinyworld")
    assert code == 0
    assert "tw_translate_en_ve" in out and "tw_nli" not in out
    assert out.strip().endswith("2 datasets")
    assert task_rows("tinyworld", "translation") == [
        r for r in task_rows("tinyworld") if r["cluster"] == "translation"]


def test_show_prints_rendered_examples(capsys):
    code, out, _ = run_cli(capsys, "show", "tw_boolq", "--template", "3", "--n", "2",
                           "--size", "smoke", "--split", "test")
    assert code == 0 and out.count("=== tw_boolq / test #") == 2
    assert "OPTIONS:\n- yes\n- no" in out and "--- target: " in out
    code, out, _ = run_cli(capsys, "show", "tw_math", "--n", "1", "--size", "smoke", "--json")
    row = json.loads(out)
    assert row["dataset"] == "tw_math" and row["options"] == [] and row["targets"]


def test_tasks_json_marks_real_datasets_with_their_tfds_names(capsys):
    code, out, _ = run_cli(capsys, "tasks", "--json", "--source", "tfds")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and len(rows) == 62
    assert rows["mnli"]["tfds_names"] == ["glue/mnli:2.0.0"]
    assert rows["anli"]["tfds_names"] == ["anli/r1:0.1.0", "anli/r2:0.1.0", "anli/r3:0.1.0"]
    assert rows["samsum"]["manual_download"] and not rows["mnli"]["manual_download"]


def test_show_few_shot_puts_training_exemplars_before_the_example(capsys):
    from flan_nb import formats, tasks

    code, out, _ = run_cli(capsys, "show", "tw_nli", "--format", "few-shot", "--shots", "2",
                           "--n", "1", "--size", "smoke", "--json")
    row = json.loads(out)
    spec = tasks.get("tw_nli")
    example = tasks.load_examples("tw_nli", "validation", size="smoke")[0]
    pool = tasks.load_examples("tw_nli", "train", size="smoke")
    tokenizer = tinyworld_tokenizer(vocab_size=2000, size="smoke")
    expected = formats.few_shot(spec, example, 0, pool, k=2, max_input_tokens=1024,
                                count_tokens=lambda text: len(tokenizer.encode(text)))
    assert code == 0 and row["inputs"] == expected.inputs
    assert row["inputs"].endswith(spec.render(example, 0).inputs)
    assert row["inputs"].count("OPTIONS:") == 3  # two exemplars and the example


def test_show_few_shot_prunes_to_sentencepiece_tokens(capsys):
    tokenizer = tinyworld_tokenizer(vocab_size=2000, size="smoke")
    budget = 200
    code, out, err = run_cli(capsys, "show", "tw_nli", "--format", "few-shot", "--shots", "8",
                             "--n", "3", "--size", "smoke", "--json", "--max-input-tokens",
                             str(budget))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and err == "" and len(rows) == 3
    assert all(len(tokenizer.encode(r["inputs"])) <= budget for r in rows)
    code, out, _ = run_cli(capsys, "show", "tw_nli", "--format", "few-shot", "--shots", "8",
                           "--n", "3", "--size", "smoke", "--json", "--max-input-tokens",
                           str(budget), "--tokenizer", "words")
    by_words = [json.loads(line) for line in out.splitlines()]  # fewer words than tokens
    assert sum(r["inputs"].count("OPTIONS:") for r in by_words) > \
        sum(r["inputs"].count("OPTIONS:") for r in rows)


def test_show_warns_when_an_example_alone_is_over_the_budget(capsys):
    code, out, err = run_cli(capsys, "show", "tw_nli", "--format", "few-shot", "--n", "2",
                             "--size", "smoke", "--max-input-tokens", "5")
    assert code == 0 and out.count("=== tw_nli") == 2
    assert err == ("flan-nb show: warning: 2 of 2 examples do not fit in 5 tokens even "
                   "without exemplars: their prompts are zero-shot and longer than that "
                   "(nothing is cut)\n")


def test_show_rows_match_the_registry():
    from flan_nb import tasks, tinyworld

    rows = show_rows("tw_nli", template=4, n=3, split="train", size="smoke")
    examples = tinyworld.load_split("tw_nli", "train", size="smoke")[:3]
    assert [r["inputs"] for r in rows] == [tasks.get("tw_nli").render(e, 4).inputs
                                           for e in examples]


@pytest.mark.parametrize("argv, message", [
    (("show", "tw_nlii"), "unknown dataset 'tw_nlii'"),
    (("show", "tw_nli", "--template", "10", "--size", "smoke"), "templates 0..9, not 10"),
    (("show", "tw_nli", "--n", "0", "--size", "smoke"), "--n must be at least 1"),
    (("show", "tw_nli", "--split", "dev", "--size", "smoke"), "unknown split 'dev'"),
    (("show", "tw_nli", "--size", "tiny"), "unknown TinyWorld size 'tiny'"),
    (("show", "tw_nli", "--format", "few-shot", "--shots", "-2", "--size", "smoke"),
     "--shots must be >= 0, got -2"),
    (("show", "tw_nli", "--format", "few-shot", "--max-input-tokens", "0"),
     "--max-input-tokens must be >= 1, got 0"),
    (("show", "rte", "--format", "few-shot"), "few-shot on TFDS data needs --tokenizer"),
    (("tasks", "--cluster", "poetry"), "unknown cluster 'poetry'"),
    (("tasks", "--source", "web"), "unknown source 'web'"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_tinyworld_build_writes_files_and_refuses_to_overwrite(capsys, tmp_path):
    out = tmp_path / "tw"
    code, text, _ = run_cli(capsys, "tinyworld", "build", "--seed", "1", "--out", str(out),
                            "--size", "smoke", "--train", "6", "--validation", "2", "--test",
                            "3")
    assert code == 0 and "31 datasets in 12 clusters" in text
    rows = [json.loads(r) for r in
            (out / "datasets" / "tw_rte" / "test.jsonl").read_text().splitlines()]
    assert sorted(r["label"] for r in rows) == [0, 0, 1]  # as balanced as 3 can be
    assert len((out / "datasets" / "tw_squad" / "train.jsonl").read_text().splitlines()) == 6
    stats = json.loads((out / "stats.json").read_text())
    assert stats["world"]["facts"] == len((out / "world.jsonl").read_text().splitlines())
    code, _, err = run_cli(capsys, "tinyworld", "build", "--out", str(out), "--size", "smoke")
    assert code == 2 and "--force" in err
    assert list(tmp_path.iterdir()) == [out]  # no temporary folder left behind


def test_tinyworld_stats_prints_sizes(capsys):
    code, out, _ = run_cli(capsys, "tinyworld", "stats", "--size", "smoke")
    info = json.loads(out)
    assert code == 0 and info["size"] == "smoke" and info["corpus_words"] >= 30_000
    from flan_nb.tinyworld import size_spec
    from flan_nb.tinyworld.datasets import TW_DATASETS, train_size

    train = sum(train_size(d, size_spec("smoke")) for d in TW_DATASETS)  # spread by dataset
    assert sum(info["examples_per_cluster"].values()) == train + 31 * (8 + 8)


def test_tasks_verb_starts_fast_without_jax():
    """`flan-nb tasks` must not import JAX (it would take seconds to start)."""
    code = ("import sys; from flan_nb.cli import main; main(['tasks', '--source', 'tinyworld']);"
            "sys.exit('jax' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
