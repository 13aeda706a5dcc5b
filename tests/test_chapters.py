"""The chapter configs (`flan_nb.chapters`): built from their notebook's own defaults, they
reject bad values with one clear line naming the parameter."""

from __future__ import annotations

import ast
import dataclasses

import pytest

from flan_nb import splits, tasks
from flan_nb.chapters import book_config
from flan_nb.chapters.ch04_tasks_and_clusters import figure6_rows, held_out_rows
from flan_nb.chapters.ch07_pretraining import PretrainChapterConfig
from flan_nb.chapters.ch08_instruction_tuning import TuningChapterConfig
from flan_nb.chapters.training import TrainingSettings
from flan_nb.errors import UserError
from flan_nb.params import config_class, notebook_parameters
from flan_nb.runs import repo_root

NOTEBOOKS = sorted((repo_root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_config_field_is_a_parameter_without_a_default_of_its_own(path):
    config = book_config(path.stem)
    declared = notebook_parameters(path)
    for field in dataclasses.fields(config):
        assert field.default is dataclasses.MISSING, f"{field.name} repeats a default"
        assert field.name.upper() in declared, f"{field.name} is not a notebook parameter"
        value = getattr(config, field.name)
        default = declared[field.name.upper()].default
        assert value == (tuple(default) if isinstance(value, tuple) else default)


def test_both_training_chapters_share_one_settings_type():
    shared = {f.name for f in dataclasses.fields(TrainingSettings)}
    for cls in (PretrainChapterConfig, TuningChapterConfig):
        assert issubclass(cls, TrainingSettings)
        assert shared <= {f.name for f in dataclasses.fields(cls)}
    pretrain = book_config("07_pretraining").train_config()
    tuning = book_config("08_instruction_tuning").train_config()
    assert (pretrain.batch_tokens, pretrain.seq_length) == (tuning.batch_tokens,
                                                            tuning.seq_length)
    assert tuning.max_input_length == 160 and pretrain.max_input_length is None


def test_tables_of_chapter_04():
    rows = held_out_rows("tfds")
    assert [r["held out"] for r in rows] == list(tasks.CLUSTERS.values())
    nli = rows[0]
    assert (nli["eval"], nli["excluded"], nli["train"]) == (7, 4, 51)
    assert nli["also removed"] == "Paraphrase"
    plan = figure6_rows("tfds")
    assert [r["paper's datasets"] for r in plan] == list(splits.FIGURE6_PAPER_DATASETS)
    assert [r["train datasets"] for r in plan] == [len(s.train)
                                                   for s in splits.figure6_plan("tfds")]
    assert figure6_rows("tfds")[-1]["added"] == "Conversational QA"
    assert [r["step"] for r in figure6_rows("tinyworld")] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("changes,message", [
    ({"split_source": "hf"}, "SPLIT_SOURCE must be one of"),
    ({"held_out": "poetry"}, "HELD_OUT must be a cluster id"),
    ({"size": "huge"}, "SIZE must be one of"),
])
def test_chapter_04_config_rejects_bad_values(changes, message):
    assert book_config("04_tasks_and_clusters").held_out == "nli"
    with pytest.raises(UserError, match=message):
        book_config("04_tasks_and_clusters", **changes)


@pytest.mark.parametrize("changes,message", [
    ({"dataset": "anli"}, "DATASET must be a TinyWorld dataset"),
    ({"tfds_dataset": "tw_nli"}, "TFDS_DATASET must be a dataset of the paper's collection"),
    ({"num_shots": -1}, "NUM_SHOTS must be >= 0"),
    ({"tokenizer": "bytes"}, "TOKENIZER must be one of"),
    ({"budgets": []}, "BUDGETS must be a non-empty list"),
    ({"split": "dev"}, "SPLIT must be train, validation or test"),
])
def test_chapter_05_config_rejects_bad_values(changes, message):
    assert book_config("05_templates", budgets=[10, 20]).budgets == (10, 20)
    with pytest.raises(UserError, match=message):
        book_config("05_templates", **changes)


def test_tuning_config_passes_isolation_on_and_rejects_it_with_a_bidirectional_prefix():
    assert book_config("08_instruction_tuning").isolate_packed is True  # Flan 2022's packing
    book_config("08_instruction_tuning", isolate_packed=False)  # FLAN 2021's
    with pytest.raises(UserError, match="BIDIRECTIONAL_PREFIX = True needs ISOLATE_PACKED"):
        book_config("08_instruction_tuning", isolate_packed=False, bidirectional_prefix=True)


def test_tuning_config_default_is_the_datasets_and_n_draws_n_tasks():
    tuning = book_config("08_instruction_tuning", size="smoke")
    assert tuning.tuning_split() == splits.held_out_split("nli", "tinyworld")
    split = book_config("08_instruction_tuning", size="smoke", num_tuning_tasks=20,
                        held_out="closed_book_qa").tuning_split()
    assert len(split.train) == 20 and split.eval == ["tw_trivia_qa", "tw_arc"]
    assert not any(tasks.get(n).cluster == "closed_book_qa" for n in split.train)
    assert set(split.train_clusters) == {tasks.get(n).cluster for n in split.train}


@pytest.mark.parametrize("values, message", [
    ({"NUM_TUNING_TASKS": -1}, "NUM_TUNING_TASKS must be an integer >= 0"),
    ({"NUM_TUNING_TASKS": True}, "NUM_TUNING_TASKS must be an integer >= 0"),
    ({"NUM_TUNING_TASKS": 198, "SIZE": "smoke"}, r"has 197 tuning tasks with nli held out"),
    ({"NUM_TUNING_TASKS": 5000, "SIZE": "smoke", "HELD_OUT": "closed_book_qa"},
     r"choose 0 \(the datasets\) to 226"),
    ({"NUM_TUNING_TASKS": 9, "SOURCE": "tfds"}, 'needs SOURCE = "tinyworld"'),
])
def test_bad_num_tuning_tasks_fail_before_anything_runs(values, message):
    with pytest.raises(UserError, match=message):
        book_config("08_instruction_tuning", **{k.lower(): v for k, v in values.items()})


# The stages of the data path hold their stage only.
STAGES = ("tasks", "templates", "formats", "splits", "bpe", "tokenize", "mixture", "packing",
          "pipeline", "model", "sharding", "train", "checkpoint", "decoding", "metrics",
          "evaluate", "report", "contamination", "prompt_tuning")


def _imports_and_classes(module: str) -> tuple[set[str], set[str], set[str]]:
    tree = ast.parse((repo_root() / "flan_nb" / f"{module}.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    classes = {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    return imported, classes, functions


@pytest.mark.parametrize("module", STAGES)
def test_a_stage_module_holds_no_chapter_code(module):
    imported, classes, functions = _imports_and_classes(module)
    assert not {m for m in imported if m.split(".")[0] == "matplotlib"}, "plots live in chapters"
    assert not {m for m in imported if m.startswith("flan_nb.chapters")}
    assert "flan_nb.params" not in imported, "validation helpers live in flan_nb.errors"
    assert not {c for c in classes if c.endswith("ChapterConfig")}
    assert "benchmark" not in functions, "benchmarks live in flan_nb/bench/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_takes_its_config_from_its_chapter_module(path):
    """Naming rule: notebooks/NN_slug.ipynb -> flan_nb/chapters/chNN_slug.py."""
    assert config_class(path).__module__ == f"flan_nb.chapters.ch{path.stem}"
