"""Chapter 05 on the smoke profile: ten templates, options, few-shot pruning and the ablations."""

import importlib.util

import pytest

HAS_TFDS = importlib.util.find_spec("tensorflow_datasets") is not None


@pytest.mark.notebook
def test_templates_chapter_records_templates_options_and_pruning(run_smoke):
    metrics = run_smoke("05_templates").metrics()
    assert metrics["num_templates"] == 10 and metrics["tfds_num_templates"] == 10
    assert 0 <= metrics["num_turned_around"] <= 3
    assert metrics["targets_in_options"] is True
    assert metrics["few_shot_fits"] is True and metrics["few_shot_prompt_tokens"] <= 150
    kept = {int(budget): shots for budget, shots in metrics["shots_kept"].items()}
    assert sorted(kept) == [50, 100, 200]
    values = [kept[b] for b in sorted(kept)]
    assert values == sorted(values) and 0 <= values[0] and values[-1] <= 3
    assert values[-1] > values[0]  # a larger budget keeps more exemplars
    assert metrics["raw_fields"] == ["premise", "hypothesis"]
    assert metrics["templates_per_source"]["tfds"] == 620
    # with the tfds extra (the book's environment), the formats also run on mock TFDS data
    assert metrics["mock_tfds_formats"] == (["few-shot", "no-template", "dataset-name"]
                                            if HAS_TFDS else [])
