"""The FLAN collection, part 2: translation, summarization, struct-to-text, misc., coreference and
read. comp. with commonsense (35 TFDS datasets). Every dataset's hand-written TFDS-shaped feature
dict goes through `to_fields` and all 10 templates; the rules each module documents are checked
on crafted examples. No TFDS, no data: the modules are imported directly.
"""

from __future__ import annotations

import re
import string
import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flan_nb.collection.coreference as coreference
import flan_nb.collection.misc as misc
import flan_nb.collection.rc_commonsense as rc_commonsense
import flan_nb.collection.struct_to_text as struct_to_text
import flan_nb.collection.summarization as summarization
import flan_nb.collection.translation as translation
from flan_nb import tasks
from flan_nb.collection._common import SAMPLE_FEATURES, TITLES
from flan_nb.templates import placeholders

EXPECTED = {
    "translation": ["paracrawl_en_es", "wmt14_en_fr", "wmt16_en_cs", "wmt16_en_de",
                    "wmt16_en_fi", "wmt16_en_ro", "wmt16_en_ru", "wmt16_en_tr"],
    "summarization": ["aeslc", "ag_news", "cnn_dailymail", "gigaword", "multi_news",
                      "newsroom", "samsum", "wiki_lingua_en", "xsum",
                      "opinion_abstracts_idebate", "opinion_abstracts_movie"],
    "struct_to_text": ["common_gen", "dart", "e2e_nlg", "web_nlg"],
    "misc": ["coqa", "quac", "wic", "math_dataset", "fix_punctuation", "trec", "cola"],
    "coreference": ["dpr", "winogrande", "wsc273"],
    "reading_comprehension_with_commonsense": ["cosmos_qa", "record"],
}
MODULES = {"translation": translation, "summarization": summarization,
           "struct_to_text": struct_to_text, "misc": misc, "coreference": coreference,
           "reading_comprehension_with_commonsense": rc_commonsense}
ALL_NAMES = [name for names in EXPECTED.values() for name in names]
CLASSIFICATION = {"ag_news", "wic", "trec", "cola", "dpr", "winogrande", "wsc273", "cosmos_qa",
                  "record"}
MANUAL = {"newsroom", "samsum", "xsum", "wmt16_en_cs", "wmt16_en_ru"}
TFDS_NAME = re.compile(r"^[a-z0-9_]+(/[\w.-]+)?:\d+\.\d+\.\d+$")
SPLIT = re.compile(r"^[a-z_]+(\[-?\d*%?:-?\d*%?\])?$")


def fields_of(name: str, features=None) -> dict:
    spec = tasks.get(name)
    fields = spec.to_fields(SAMPLE_FEATURES[name] if features is None else features)
    assert fields is not None, f"{name}: the sample example was dropped"
    return fields


def as_tfds_numpy(value):
    """A feature dict as TFDS's NumPy data sources return it: bytes, arrays, numpy scalars."""
    if isinstance(value, dict):
        return {key: as_tfds_numpy(item) for key, item in value.items()}
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, list):
        if all(isinstance(item, str) for item in value):
            return np.array([item.encode("utf-8") for item in value], dtype=object)
        return np.array(value)
    if isinstance(value, bool):
        return np.bool_(value)
    if isinstance(value, int):
        return np.int64(value)
    return value


@pytest.mark.parametrize("cluster", list(EXPECTED))
def test_each_cluster_registers_its_datasets(cluster):
    names = [spec.name for spec in tasks.all_datasets(source="tfds", cluster=cluster)]
    assert names == EXPECTED[cluster]
    counts = {"translation": 8, "summarization": 11, "struct_to_text": 4, "misc": 7,
              "coreference": 3, "reading_comprehension_with_commonsense": 2}
    assert len(names) == counts[cluster]
    module = MODULES[cluster].__name__
    assert all(tasks.get(n).to_fields.__module__ == module for n in names)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_spec_shape(name):
    spec = tasks.get(name)
    assert spec.source == "tfds" and len(spec.templates) == 10
    pairs = {(tpl.inputs, tpl.targets) for tpl in spec.templates}
    assert len(pairs) == 10, "templates must be distinct"
    assert sum(tpl.turned_around for tpl in spec.templates) <= 3
    assert spec.kind == ("classification" if name in CLASSIFICATION else "generation")
    if spec.kind == "classification":
        assert spec.metric == "accuracy"
    assert TFDS_NAME.match(spec.tfds_name), spec.tfds_name
    assert {"train", "validation"} <= set(spec.splits)
    assert all(SPLIT.match(split) for split in spec.splits.values()), spec.splits
    assert (spec.manual_download is not None) == (name in MANUAL)
    if spec.manual_download:
        from flan_nb.tfds_data import manual_text

        assert "http" in spec.manual_download
        assert "--file_format array_record --manual_dir" in manual_text(spec, "/data")
    assert spec.description and TITLES[name] != name  # the paper's display name is set


@pytest.mark.parametrize("name", ALL_NAMES)
def test_sample_renders_through_all_templates(name):
    spec = tasks.get(name)
    fields = fields_of(name)
    for k, template in enumerate(spec.templates):
        rendered = spec.render(fields, k)
        assert rendered.inputs.strip() and rendered.targets.strip(), (name, k)
        for field in template.placeholders() - {"options"}:
            assert str(fields[field]) in rendered.inputs + rendered.targets, (name, k, field)
        if spec.kind == "classification" and not template.turned_around:
            assert rendered.options and rendered.targets in rendered.options
            assert "OPTIONS:" in rendered.inputs
        else:
            assert rendered.options == ()


@pytest.mark.parametrize("name", ALL_NAMES)
def test_to_fields_reads_numpy_bytes_like_str(name):
    features = SAMPLE_FEATURES[name]
    assert fields_of(name, as_tfds_numpy(features)) == fields_of(name, features)


@pytest.mark.parametrize("name", sorted(CLASSIFICATION - {"record"}))
def test_unlabelled_examples_are_dropped(name):
    features = dict(SAMPLE_FEATURES[name])
    features["label-coarse" if name == "trec" else "label"] = -1
    assert tasks.get(name).to_fields(features) is None


def test_translation_directions():
    spec = tasks.get("wmt16_en_ro")
    fields = fields_of("wmt16_en_ro")
    targets = [spec.render(fields, k).targets for k in range(10)]
    assert targets == [fields["foreign"]] * 5 + [fields["english"]] * 5
    # Asking for the foreign text must name the language; the reverse need not.
    assert all("Romanian" in tpl.inputs for tpl in spec.templates[:5])
    assert spec.to_fields({"en": "", "ro": "ceva"}) is None


def test_paracrawl_held_out_slices_do_not_overlap_training():
    def bounds(split):
        lo, hi = re.match(r"train\[(\d*):(\d*)\]", split).groups()
        return int(lo or 0), int(hi) if hi else None
    held_out = [bounds(s) for n in ("paracrawl_en_es", "fix_punctuation")
                for key, s in tasks.get(n).splits.items() if key != "train"]
    train_starts = [bounds(tasks.get(n).splits["train"])[0]
                    for n in ("paracrawl_en_es", "fix_punctuation")]
    assert max(hi for _, hi in held_out) <= min(train_starts)
    ranges = sorted(held_out)
    assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:]))


def test_ag_news_options_and_turned_templates():
    spec = tasks.get("ag_news")
    assert spec.options == ("World", "Sports", "Business", "Science-Tech")
    fields = spec.to_fields({"label": 1, "title": "Cup final", "description": "A late goal."})
    assert fields["answer"] == "Sports"


def test_opinion_abstracts_read_list_of_dicts_too():
    example = dict(SAMPLE_FEATURES["opinion_abstracts_movie"])
    columns = example["_critics"]
    example["_critics"] = [{"key": k, "value": v}
                           for k, v in zip(columns["key"], columns["value"])]
    fields = fields_of("opinion_abstracts_movie", example)
    assert fields["first_review"] == columns["value"][0]
    assert fields == fields_of("opinion_abstracts_movie")


def test_multi_news_separates_sources():
    fields = fields_of("multi_news")
    assert "|||||" not in fields["document"] and "\n\n" in fields["document"]
    assert not fields["summary"].startswith("–")


def test_e2e_attributes_are_readable():
    text = "name[The Mill], eatType[coffee shop], customer rating[5 out of 5]"
    assert struct_to_text.e2e_attributes(text) == (
        "name: The Mill; eat type: coffee shop; customer rating: 5 out of 5")


def test_gem_target_falls_back_to_first_reference_and_drops_empty():
    example = dict(SAMPLE_FEATURES["common_gen"], target="", references=["One.", "Two."])
    assert fields_of("common_gen", example)["target"] == "One."
    hidden = dict(SAMPLE_FEATURES["common_gen"], target="", references=[])
    assert tasks.get("common_gen").to_fields(hidden) is None


def test_coqa_asks_the_last_question_with_history():
    fields = fields_of("coqa")
    questions = SAMPLE_FEATURES["coqa"]["questions"]
    answers = SAMPLE_FEATURES["coqa"]["answers"]["input_text"]
    assert fields["question"] == questions[-1] and fields["answer"] == answers[-1]
    assert all(q in fields["history"] for q in questions[:-1])
    assert questions[-1] not in fields["history"]
    single = {"source": "x", "story": "A story.", "questions": ["Why?"],
              "answers": {"input_text": ["Because."], "answer_start": [0], "answer_end": [1]}}
    assert fields_of("coqa", single)["history"] == "(no earlier questions)"


def test_quac_cannotanswer_rule():
    fields = fields_of("quac")
    assert not fields["context"].endswith("CANNOTANSWER")
    example = dict(SAMPLE_FEATURES["quac"],
                   orig_answer={"text": "CANNOTANSWER", "answer_start": -1})
    assert fields_of("quac", example)["answer"] == misc.UNANSWERABLE


def test_math_unwraps_bytes_literals():
    example = {"question": "b'Solve 2*x = 4 for x.\\n'", "answer": "b'2\\n'"}
    assert fields_of("math_dataset", example) == {"question": "Solve 2*x = 4 for x.",
                                                  "answer": "2"}


def test_fix_punctuation_rule():
    fields = fields_of("fix_punctuation")
    assert fields["sentence"] == SAMPLE_FEATURES["fix_punctuation"]["en"]
    assert fields["stripped"] == "yes the hotels pool is open until 10 pm every day"
    unchanged = {"en": "nothing to fix here", "es": "nada"}
    assert tasks.get("fix_punctuation").to_fields(unchanged) is None


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.punctuation + " ’—¿¡0123456789",
               max_size=60))
def test_strip_punctuation_properties(sentence):
    stripped = misc.strip_punctuation(sentence)
    assert not any(unicodedata.category(ch).startswith("P") for ch in stripped)
    assert stripped == stripped.lower() and "  " not in stripped
    assert stripped == stripped.strip()
    assert misc.strip_punctuation(stripped) == stripped
    # Everything but punctuation and spacing survives, in order (symbols such as $ are kept).
    assert stripped.replace(" ", "") == "".join(
        ch for ch in sentence.lower()
        if not ch.isspace() and not unicodedata.category(ch).startswith("P"))


@pytest.mark.parametrize("name,label", [("wic", 1), ("cola", 0)])
def test_yes_no_labels(name, label):
    example = dict(SAMPLE_FEATURES[name], label=label)
    assert fields_of(name, example)["answer"] == ("yes" if label == 1 else "no")


def test_trec_label_index():
    assert fields_of("trec")["answer"] == "location"  # label-coarse 5 = LOC


@pytest.mark.parametrize("name", ["dpr", "winogrande", "wsc273"])
def test_coreference_two_options(name):
    fields = fields_of(name)
    assert len(fields["options"]) == 2 and fields["answer"] != fields["other"]
    assert {fields["answer"], fields["other"]} == set(fields["options"])


def test_record_first_answer_and_aliases_removed():
    example = dict(SAMPLE_FEATURES["record"],
                   entities=["Coast Guard", "Guard", "Portsmouth", "Portsmouth"],
                   answers=["Coast Guard", "Guard"])
    fields = fields_of("record", example)
    assert fields["answer"] == "Coast Guard"
    assert fields["options"] == ("Coast Guard", "Portsmouth")
    assert "@placeholder" not in fields["query"] and "___" in fields["query"]
    assert fields["completed"].startswith("The Coast Guard will")
    assert "@highlight" not in fields["passage"] and "\n- No injuries" in fields["passage"]
    no_answer = dict(SAMPLE_FEATURES["record"], answers=[])
    assert tasks.get("record").to_fields(no_answer) is None


def test_record_answer_missing_from_entities_is_added():
    example = dict(SAMPLE_FEATURES["record"], entities=["Portsmouth"])
    fields = fields_of("record", example)
    assert fields["answer"] in fields["options"]


def test_cosmos_options_follow_tfds_order():
    fields = fields_of("cosmos_qa", dict(SAMPLE_FEATURES["cosmos_qa"], label=2))
    assert fields["options"][2] == fields["answer"] == SAMPLE_FEATURES["cosmos_qa"]["answer2"]


def test_all_placeholders_are_fields():
    for name in ALL_NAMES:
        spec, fields = tasks.get(name), fields_of(name)
        for template in spec.templates:
            assert placeholders(template.inputs + template.targets) - {"options"} <= set(fields)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_feature_names_match_the_tfds_builders(name):
    """Where the `tfds` extra is installed: TFDS's mock examples (random values, the builder's
    real feature names and shapes) go through `to_fields` without a missing feature."""
    tfds = pytest.importorskip("tensorflow_datasets")
    from flan_nb.tfds_data import import_tfds

    import_tfds()  # registers the text builders
    spec = tasks.get(name)
    split = spec.splits["train"].split("[")[0]
    with tfds.testing.mock_data(num_examples=3, policy=tfds.testing.MockPolicy.USE_CODE):
        try:
            source = tfds.data_source(spec.tfds_name, split=split)
        except ModuleNotFoundError as err:  # SuperGLUE's WiC builder code imports TensorFlow
            pytest.skip(f"TFDS needs TensorFlow for {spec.tfds_name}'s builder ({err})"[:200])
        for i in range(len(source)):
            try:
                spec.to_fields(source[i])
            except ValueError:
                pass  # random mock labels may fall outside the options; names were found
