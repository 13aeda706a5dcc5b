"""Figures 9 and 10 run the same code on TFDS data (the tpu_full plans): few-shot cells and
prompt tuning on a SuperGLUE dataset read through `flan_nb.tfds_data`, here from a fake TFDS
module (no download, no TensorFlow) holding varied copies of the collection's sample example."""

from __future__ import annotations

import pytest

from flan_nb import evaluate, formats, prompt_tuning, tasks, tfds_data
from flan_nb.collection.catalog import sample_features
from flan_nb.errors import UserError


class VariedTFDS:
    """Every (dataset, split) holds `count` distinct copies of the dataset's sample features."""

    def __init__(self, count: int = 12):
        self.count = count

    def data_source(self, name, *, split, data_dir=None, download=True):
        assert download is False
        dataset = next(s.name for s in tasks.all_datasets(source="tfds")
                       if name in tfds_data.tfds_names(s))
        rows = []
        for i in range(self.count):
            row = dict(sample_features(dataset))
            row["premise"] = f"{row['premise']} ({split} {i})"
            row["label"] = i % 2
            rows.append(row)
        return rows


@pytest.fixture
def fake_tfds(monkeypatch):
    monkeypatch.setattr(tfds_data, "import_tfds", lambda: VariedTFDS())
    monkeypatch.setenv("TFDS_DATA_DIR", "/nonexistent/tfds")
    evaluate._training_pool.cache_clear()
    yield
    evaluate._training_pool.cache_clear()


def test_few_shot_cells_and_prompt_tuning_on_a_tfds_dataset(fake_tfds):
    from flan_nb.model import create_model, named_config
    from flan_nb.tokenize import tinyworld_tokenizer

    spec = tasks.get("rte")
    assert spec.source == "tfds"
    cells = evaluate.held_out_cells(["rte"], num_templates=1, max_examples=3,
                                    splits=("validation",), format="few-shot-2")
    budget = formats.TokenBudget(formats.count_words, 1024, unit="words")
    for fields in cells[0].examples:
        rendered = cells[0].render(spec, fields, budget)
        assert rendered.inputs.endswith(spec.render(fields, cells[0].template).inputs)
    assert budget.exemplars_kept == 2 * len(cells[0].examples)
    # RTE has no labelled test split: the results' (validation, test) are its dev split's halves.
    by_split = {c.split: {e["premise"] for e in c.examples} for c in evaluate.held_out_cells(
        ["rte"], num_templates=1, max_examples=None, splits=("validation", "test"))}
    assert len(by_split["validation"]) + len(by_split["test"]) == 12
    assert not by_split["validation"] & by_split["test"]
    with pytest.raises(UserError, match="too large"):
        evaluate.held_out_cells(["rte"], num_templates=1, max_examples=3,
                                splits=("validation",), format="few-shot-12")

    tokenizer = tinyworld_tokenizer(vocab_size=500, size="smoke")
    model = create_model(named_config("test", vocab_size=tokenizer.vocab_size), seed=0)
    config = prompt_tuning.PromptTuningConfig(prompt_length=2, num_steps=2, batch_size=2,
                                              max_length=256, max_target_length=8,
                                              num_templates=1, score_batch_size=4)
    train = prompt_tuning.training_examples("rte", 4, seed=0)
    test = tasks.load_examples("rte", "test", limit=3)  # SuperGLUE's: half of its dev split
    out = prompt_tuning.prompt_tune_and_score(model, tokenizer, "rte", train, test, config,
                                              seed=0)
    assert len(out["per_example"]) == 3 and len(out["losses"]) == 2
