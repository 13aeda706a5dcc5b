"""Chapter 04 on the smoke profile: the paper's clusters in the registry, splits by the rules."""

import pytest


@pytest.mark.notebook
def test_tasks_chapter_records_the_papers_clusters_and_splits(run_smoke):
    metrics = run_smoke("04_tasks_and_clusters").metrics()
    assert metrics["num_tfds_datasets"] == 62
    assert metrics["cluster_counts_tfds"] == [7, 4, 4, 4, 3, 4, 8, 5, 2, 3, 7, 11]
    assert metrics["tfds_matches_paper_counts"] is True
    assert metrics["num_tinyworld_datasets"] > 0
    split = metrics["held_out_split"]  # NLI held out on TinyWorld: paraphrase excluded
    assert split["eval"] > 0 and split["excluded"] > 0
    assert split["train"] + split["eval"] + split["excluded"] == metrics["num_tinyworld_datasets"]
    assert metrics["held_out_train_counts"]["Natural language inference"] == split["train"]
    sizes = metrics["figure6_train_sizes"]  # TinyWorld: no conversational QA, six steps
    assert len(sizes) == 6 and sizes == sorted(sizes) and sizes[0] > 0
    assert metrics["figure6_added"][-1] == "Coreference"
    assert metrics["figure6_eval_size"] > 0
    assert metrics["num_manual_download"] == 6
    assert metrics["tinyworld_train_examples"] > 0
