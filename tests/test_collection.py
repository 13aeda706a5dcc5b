"""The FLAN collection: 62 TFDS datasets in the paper's 12 clusters, 10 templates each.

The whole registry is checked for the paper's shape (counts per cluster, templates, options,
turned-around templates, the 30k cap); the 27 datasets of part 1 (NLI, commonsense, sentiment,
paraphrase, closed-book QA, reading comprehension) get their field mappings checked on
hand-written TFDS-shaped features, in str form and in the bytes/NumPy form TFDS returns. No
TFDS needed.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from flan_nb import tasks
from flan_nb.collection import catalog as collection
from flan_nb.collection._common import SAMPLE_FEATURES
from flan_nb.errors import UserError
from flan_nb.templates import OPTIONS_FIELD, options_text

REPO = Path(__file__).resolve().parent.parent
PAPER_COUNTS = dict(zip(tasks.CLUSTERS, (7, 4, 4, 4, 3, 4, 8, 5, 2, 3, 7, 11)))
PART1 = {
    "nli": ["anli", "cb", "mnli", "qnli", "rte", "snli", "wnli"],
    "commonsense": ["copa", "hellaswag", "piqa", "story_cloze"],
    "sentiment": ["imdb", "sentiment140", "sst2", "yelp"],
    "paraphrase": ["mrpc", "qqp", "paws", "stsb"],
    "closed_book_qa": ["arc", "natural_questions", "trivia_qa"],
    "reading_comprehension": ["bool_q", "drop", "multirc", "openbookqa", "squad"],
}
PART1_NAMES = [name for names in PART1.values() for name in names]
GENERATION = {"natural_questions", "trivia_qa", "drop", "squad"}
MANUAL = {"story_cloze"}
TFDS_NAME = re.compile(r"^[a-z0-9_]+(/[\w.-]+)?:\d+\.\d+\.\d+$")
ALL_TFDS = [spec.name for spec in tasks.all_datasets(source="tfds")]


def fields_of(name: str, **changes) -> dict:
    """The fields of dataset `name`'s sample features, with some features changed."""
    features = {**SAMPLE_FEATURES[name], **changes}
    fields = tasks.get(name).to_fields(features)
    assert fields is not None, f"{name}: the sample was dropped"
    return fields


def as_tfds_numpy(value):
    """Features as TFDS's NumPy data sources return them: bytes, arrays, NumPy scalars."""
    if isinstance(value, dict):
        return {key: as_tfds_numpy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_tfds_numpy(item) for item in value]
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bool):
        return np.bool_(value)
    if isinstance(value, int):
        return np.int64(value)
    if isinstance(value, float):
        return np.float32(value)
    return value


def test_62_datasets_in_the_papers_12_clusters():
    specs = tasks.all_datasets(source="tfds")
    assert len(specs) == 62
    counts = {cluster: len(tasks.all_datasets(source="tfds", cluster=cluster))
              for cluster in tasks.CLUSTERS}
    assert counts == PAPER_COUNTS
    for cluster, names in PART1.items():
        assert [s.name for s in tasks.all_datasets(source="tfds", cluster=cluster)] == names


def test_in_paper_order_sorts_by_cluster_and_keeps_order_within():
    specs = collection.in_paper_order(tasks.all_datasets(source="tfds"))
    assert [s.cluster for s in specs] == [c for c, n in PAPER_COUNTS.items() for _ in range(n)]
    assert [s.name for s in specs[:7]] == PART1["nli"]


@pytest.mark.parametrize("name", ALL_TFDS)
def test_spec_shape(name):
    spec = tasks.get(name)
    assert len(spec.templates) == 10
    assert len({(tpl.inputs, tpl.targets) for tpl in spec.templates}) == 10
    assert sum(tpl.turned_around for tpl in spec.templates) <= 3
    assert not spec.templates[0].turned_around  # the raw ablation formats read template 0
    names = (spec.tfds_name,) if isinstance(spec.tfds_name, str) else spec.tfds_name
    assert names and all(TFDS_NAME.match(n) for n in names), names
    assert {"train", "validation"} <= set(spec.splits)
    assert spec.max_train_examples == tasks.MAX_TRAIN_EXAMPLES == 30_000
    assert spec.to_fields is not None and name in SAMPLE_FEATURES
    assert collection.title(name)


@pytest.mark.parametrize("name", ALL_TFDS)
def test_placeholders_are_fields_and_all_templates_render(name):
    spec = tasks.get(name)
    fields = fields_of(name)
    for template_id, template in enumerate(spec.templates):
        assert template.placeholders() - {OPTIONS_FIELD} <= set(fields), template_id
        rendered = spec.render(fields, template_id)
        assert rendered.inputs.strip() and rendered.targets.strip()


@pytest.mark.parametrize("name", ALL_TFDS)
def test_classification_templates_carry_the_options(name):
    spec = tasks.get(name)
    fields = fields_of(name)
    options = spec.example_options(fields)
    for template_id, template in enumerate(spec.templates):
        rendered = spec.render(fields, template_id)
        if spec.kind == "generation" or template.turned_around:
            assert rendered.options == ()
            assert "OPTIONS:" not in rendered.inputs
        else:
            assert len(options) >= 2 and rendered.options == options
            assert options_text(options) in rendered.inputs
            assert rendered.targets in options


@pytest.mark.parametrize("name", PART1_NAMES)
def test_part1_kinds_metrics_and_manual_downloads(name):
    spec = tasks.get(name)
    assert spec.kind == ("generation" if name in GENERATION else "classification")
    expected_metric = {"natural_questions": "exact_match", "trivia_qa": "exact_match",
                       "drop": "f1", "squad": "f1", "multirc": "f1"}.get(name, "accuracy")
    assert spec.metric == expected_metric
    assert bool(spec.manual_download) == (name in MANUAL)
    if spec.manual_download:
        from flan_nb.tfds_data import manual_text

        assert "http" in spec.manual_download
        text = manual_text(spec, "/data")
        assert "put the files in /data/downloads/manual/" in text
        assert "--data_dir /data --file_format array_record --manual_dir /data/downloads" in text


@pytest.mark.parametrize("name", PART1_NAMES)
def test_mapping_reads_bytes_and_numpy_like_str(name):
    spec = tasks.get(name)
    assert spec.to_fields(as_tfds_numpy(SAMPLE_FEATURES[name])) == fields_of(name)


@pytest.mark.parametrize("name", ["anli", "cb", "mnli", "qnli", "rte", "snli", "wnli", "imdb",
                                  "sst2", "yelp", "mrpc", "qqp", "paws"])
def test_unlabelled_examples_are_dropped(name):
    assert tasks.get(name).to_fields({**SAMPLE_FEATURES[name], "label": -1}) is None


@pytest.mark.parametrize("name,label,answer", [
    ("anli", 0, "yes"), ("anli", 1, "it is not possible to tell"), ("anli", 2, "no"),
    ("mnli", 2, "no"), ("snli", 1, "it is not possible to tell"),
    ("cb", 0, "yes"), ("cb", 1, "no"), ("cb", 2, "it is not possible to tell"),
    ("rte", 0, "yes"), ("rte", 1, "no"), ("qnli", 0, "yes"), ("qnli", 1, "no"),
    ("wnli", 0, "no"), ("wnli", 1, "yes"),
    ("mrpc", 1, "yes"), ("qqp", 0, "no"), ("paws", 1, "yes"),
    ("imdb", 0, "negative"), ("sst2", 1, "positive"), ("yelp", 0, "negative"),
    ("multirc", 1, "yes"), ("multirc", 0, "no"),
])
def test_label_orders_follow_each_tfds_builder(name, label, answer):
    assert fields_of(name, label=label)["answer"] == answer


def test_nli_relation_phrases_match_the_answer():
    assert fields_of("mnli", label=0)["relation"] == "follows from"
    assert fields_of("mnli", label=2)["relation"] == "contradicts"
    assert fields_of("rte", label=1)["relation"] == "does not follow from"
    assert fields_of("qnli", label=1)["relation"] == "does not answer"


def test_mnli_evaluates_both_dev_sets():
    assert tasks.get("mnli").splits["validation"] == \
        "validation_matched+validation_mismatched"


def test_multi_config_datasets_read_every_config():
    assert tasks.get("anli").tfds_name == ("anli/r1:0.1.0", "anli/r2:0.1.0", "anli/r3:0.1.0")
    assert len(tasks.get("arc").tfds_name) == 2 and len(tasks.get("squad").tfds_name) == 2


def test_sentiment140_drops_neutral_and_maps_polarity():
    spec = tasks.get("sentiment140")
    assert spec.to_fields({**SAMPLE_FEATURES["sentiment140"], "polarity": 2}) is None
    assert fields_of("sentiment140", polarity=4)["answer"] == "positive"
    assert fields_of("sentiment140", polarity=0)["answer"] == "negative"


def test_imdb_and_yelp_clean_their_line_breaks():
    assert "<br" not in fields_of("imdb")["text"]
    assert "\\n" not in fields_of("yelp")["text"]


@pytest.mark.parametrize("score,answer", [(0.0, "0"), (2.49, "2"), (2.5, "3"), (5.0, "5")])
def test_stsb_rounds_to_whole_scores(score, answer):
    assert fields_of("stsb", label=score)["answer"] == answer
    assert tasks.get("stsb").to_fields({**SAMPLE_FEATURES["stsb"], "label": -1.0}) is None


def test_story_cloze_label_is_one_based_and_tunes_on_validation():
    assert fields_of("story_cloze", label=1)["answer"] == \
        SAMPLE_FEATURES["story_cloze"]["endings"][0]
    assert tasks.get("story_cloze").to_fields(
        {**SAMPLE_FEATURES["story_cloze"], "label": 0}) is None
    assert tasks.get("story_cloze").splits == {"train": "validation", "validation": "test"}


def test_multiple_choice_answers_come_from_the_options():
    assert fields_of("arc")["answer"] == "a balance"
    assert tasks.get("arc").to_fields({**SAMPLE_FEATURES["arc"], "answerKey": 4}) is None
    assert fields_of("openbookqa")["answer"] == "metal"
    assert fields_of("copa")["answer"] == SAMPLE_FEATURES["copa"]["choice2"]
    assert fields_of("copa")["question"] == "effect"
    assert fields_of("piqa")["options"] == (SAMPLE_FEATURES["piqa"]["sol1"],
                                            SAMPLE_FEATURES["piqa"]["sol2"])
    assert tasks.get("hellaswag").to_fields({**SAMPLE_FEATURES["hellaswag"], "label": -1}) \
        is None


def test_qa_answers_keep_every_gold_answer_once():
    trivia = fields_of("trivia_qa")
    assert trivia["answer"] == "Saturn" and trivia["answers"] == ["Saturn", "Planet Saturn"]
    nq = fields_of("natural_questions")
    assert nq["question"].endswith("?") and nq["answers"] == ["Mont Blanc", "Monte Bianco"]
    assert fields_of("drop")["answers"] == ["3", "three"]
    assert tasks.get("natural_questions").to_fields({"question": "who", "answer": []}) is None


def test_squad_unanswerable_and_boolq_yes_no():
    squad = fields_of("squad")
    assert squad["answer"] == "a local watchmaker" and squad["title"] == "Old Town Clock"
    impossible = fields_of("squad", answers={"text": [], "answer_start": []},
                           is_impossible=True)
    assert impossible["answer"] == "unanswerable"
    assert fields_of("bool_q", answer=False)["answer"] == "no"
    assert fields_of("bool_q")["question"].endswith("?")


def test_readme_table_is_generated_from_the_registry():
    table = collection.readme_table()
    assert table.count("\n") == 62 + 1
    assert "| Commonsense | StoryCloze | `story_cloze` | `story_cloze/2016:1.0.0` | " \
           "manual download |" in table
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- datasets:start -->")[1].split("<!-- datasets:end -->")[0]
    assert table in block, "README's dataset table is stale: regenerate it with " \
                           "flan_nb.collection.catalog.readme_table()"


def test_sample_features_is_a_copy_and_unknown_names_fail():
    features = collection.sample_features("anli")
    features["label"] = 99
    assert SAMPLE_FEATURES["anli"]["label"] != 99
    with pytest.raises(UserError, match="tw_nli"):
        collection.sample_features("tw_nli")
