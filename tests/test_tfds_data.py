"""TFDS loading. Without tensorflow_datasets (the default install) the loader's logic runs on a
fake TFDS module and the missing-package message is checked; with it (`pip install -e
'.[tfds]'`), every collection dataset is loaded from `tfds.testing.mock_data` and rendered
through all its templates, and a real prepared array_record dataset is read without TensorFlow.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import sys
import textwrap

import pytest

from flan_nb import tasks, tfds_data
from flan_nb.collection.catalog import sample_features
from flan_nb.errors import UserError

HAS_TFDS = importlib.util.find_spec("tensorflow_datasets") is not None
needs_tfds = pytest.mark.skipif(not HAS_TFDS, reason="tensorflow_datasets is not installed "
                                "(pip install -e '.[tfds]'); the mappings are tested on "
                                "hand-written features in test_collection.py")
# Mock data (random values of the right types) never yields a valid example for these.
MOCK_NEVER_VALID = {"sentiment140": "polarity is 0 or 4 in real data",
                    "coqa": "one answer per question in real data; mock lengths differ"}
# Labels that are plain int32 features (not ClassLabel): the mock draws any value, which the
# mapping rightly rejects with a ValueError; those examples are skipped here.
MOCK_UNBOUNDED_LABELS = {"wsc273"}


class FakeTFDS:
    """Just enough of `tensorflow_datasets` for `load_split`: data sources from dicts."""

    def __init__(self, data: dict[tuple[str, str], list[dict]]):
        self.data = data
        self.calls: list[tuple[str, str]] = []

    def data_source(self, name, *, split, data_dir=None, download=True):
        assert download is False  # the loader never downloads behind the user's back
        self.calls.append((name, split))
        if (name, split) not in self.data:
            raise FileNotFoundError(name)
        return self.data[(name, split)]


def anli_rows(round_id: int, count: int) -> list[dict]:
    return [{"uid": f"r{round_id}-{i}", "context": f"premise {round_id}.{i}",
             "hypothesis": "hypothesis", "label": i % 3} for i in range(count)]


@pytest.fixture
def fake_tfds(monkeypatch):
    fake = FakeTFDS({("anli/r1:0.1.0", "train"): anli_rows(1, 4),
                     ("anli/r2:0.1.0", "train"): anli_rows(2, 2),
                     ("anli/r3:0.1.0", "train"): anli_rows(3, 3),
                     ("glue/mnli:2.0.0", "validation_matched+validation_mismatched"):
                         [{**sample_features("mnli"), "label": -1},
                          sample_features("mnli"),
                          {**sample_features("mnli"), "premise": "Another premise."}]})
    monkeypatch.setattr(tfds_data, "import_tfds", lambda: fake)
    monkeypatch.setenv("TFDS_DATA_DIR", "/nonexistent/tfds")
    return fake


def test_import_needs_no_tfds_and_a_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # as if not installed
    with pytest.raises(UserError, match=r"pip install -e '\.\[tfds\]'"):
        tfds_data.load_split(tasks.get("rte"), "train")


def test_several_configs_are_interleaved_and_capped(fake_tfds):
    spec = tasks.get("anli")
    examples = tfds_data.load_split(spec, "train")
    assert len(examples) == 9
    assert [e["premise"] for e in examples[:4]] == ["premise 1.0", "premise 2.0",
                                                    "premise 3.0", "premise 1.1"]
    limited = tfds_data.load_split(spec, "train", limit=5)
    assert limited == examples[:5]
    capped = dataclasses.replace(spec, name="anli_capped", max_train_examples=2)
    assert tfds_data.load_split(capped, "train") == examples[:2]


def test_unlabelled_examples_are_skipped_and_splits_joined(fake_tfds):
    examples = [e for split in ("validation", "test")  # the dev split's two halves
                for e in tfds_data.load_split(tasks.get("mnli"), split)]
    assert len(examples) == 2 and {e["answer"] for e in examples} == {"yes"}
    assert set(fake_tfds.calls) == {("glue/mnli:2.0.0", "validation_matched+validation_mismatched")}


def test_load_examples_dispatches_to_tfds(fake_tfds):
    assert len(tasks.load_examples("anli", "train", limit=3)) == 3


def test_missing_data_names_the_command_that_prepares_it(fake_tfds):
    with pytest.raises(UserError) as err:
        tfds_data.load_split(tasks.get("rte"), "train", data_dir="/data/tfds")
    message = str(err.value)
    assert "looked for super_glue/rte/1.0.2 in /data/tfds" in message
    assert "tfds build super_glue/rte --data_dir /data/tfds --file_format array_record" \
        in message
    with pytest.raises(UserError, match="manual download.*rochester") as err:
        tfds_data.load_split(tasks.get("story_cloze"), "train", data_dir="/data/tfds")
    assert "<data_dir>" not in str(err.value)
    assert ("--data_dir /data/tfds --file_format array_record "
            "--manual_dir /data/tfds/downloads/manual") in str(err.value)


def test_one_message_names_every_missing_dataset(fake_tfds):
    specs = [tasks.get(name) for name in ("anli", "mnli", "rte", "story_cloze")]
    with pytest.raises(UserError) as err:
        tfds_data.check_prepared(specs, ["train", "validation"], data_dir="/data/tfds")
    message = str(err.value)
    assert message.startswith("TFDS data is not prepared for anli, mnli, rte, story_cloze "
                              "(looked for anli/r1/0.1.0, anli/r2/0.1.0, anli/r3/0.1.0, "
                              "glue/mnli/2.0.0, ")  # ANLI's train is there, its validation not
    assert message.count("tfds build") == 2  # one for TFDS's downloads, one manual
    assert "`tfds build anli/r1 anli/r2 anli/r3 glue/mnli super_glue/rte --data_dir " \
        "/data/tfds --file_format array_record`" in message
    tfds_data.check_prepared([tasks.get("anli")], ["train"])  # all there: no error


def test_the_install_advice_only_when_tfds_is_missing(monkeypatch):
    spec = tasks.get("samsum")
    message = tfds_data.missing_data_message([(spec, tfds_data.tfds_names(spec))], "/d")
    assert (tfds_data.INSTALL_HINT in message) == (not HAS_TFDS)
    assert ("tfds build samsum --data_dir /d --file_format array_record "
            "--manual_dir /d/downloads/manual") in message
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # as if not installed
    message = tfds_data.missing_data_message([(spec, tfds_data.tfds_names(spec))], "/d")
    assert tfds_data.INSTALL_HINT in message
    assert tfds_data.prepare_command(tasks.get("rte"), "/d").startswith(
        f"{tfds_data.INSTALL_HINT} && tfds build super_glue/rte --data_dir /d")


def test_without_a_test_split_validation_and_test_halve_the_dev_split(fake_tfds):
    rows = [{**sample_features("rte"), "premise": f"p{i}", "label": i % 2} for i in range(40)]
    fake_tfds.data[("super_glue/rte:1.0.2", "validation")] = rows
    spec = tasks.get("rte")
    assert "test" not in spec.splits and tfds_data.split_names(spec)[-1] == "test"
    validation = [e["premise"] for e in tfds_data.load_split(spec, "validation")]
    test = [e["premise"] for e in tfds_data.load_split(spec, "test")]
    assert not set(validation) & set(test) and len(validation) + len(test) == 40
    assert 10 <= len(test) <= 30  # a hash halves it, roughly
    assert [e["premise"] for e in tfds_data.load_split(spec, "test", limit=3)] == test[:3]
    tfds_data.check_prepared([spec], ["validation", "test"])  # both read the dev split
    # A dataset with a labelled test split reads its splits whole.
    assert tfds_data.dev_half(tasks.get("anli"), "validation") is None
    assert tfds_data.tfds_split(tasks.get("anli"), "test") == "test"


def test_an_example_two_configs_share_lands_in_one_half(fake_tfds):
    """SQuAD is two TFDS configs whose dev sets share questions: a copy in each config must
    not end up in validation through one and in test through the other."""
    spec = tasks.get("squad")
    row = lambda i: {**sample_features("squad"), "id": f"q{i}",  # noqa: E731
                     "question": f"question {i}?"}
    for name in tfds_data.tfds_names(spec):
        fake_tfds.data[(name, "validation")] = [row(i) for i in range(30)]
    halves = {split: [e["question"] for e in tfds_data.load_split(spec, split)]
              for split in ("validation", "test")}
    assert not set(halves["validation"]) & set(halves["test"])
    assert sorted(set(halves["validation"]) | set(halves["test"])) == sorted(
        f"question {i}?" for i in range(30))


def test_bad_split_and_limit_are_user_errors(fake_tfds):
    with pytest.raises(UserError, match="no split 'dev'.*train, validation, test"):
        tfds_data.load_split(tasks.get("rte"), "dev")
    with pytest.raises(UserError, match="limit must be >= 0"):
        tfds_data.load_split(tasks.get("rte"), "train", limit=-1)


def test_tinyworld_specs_are_not_tfds():
    spec = tasks.DatasetSpec(name="x", cluster="nli", source="tinyworld",
                             kind="generation", templates=(), metric="bleu")
    with pytest.raises(UserError, match="not a TFDS dataset"):
        tfds_data.tfds_names(spec)


def test_dataset_dir_and_prepare_command(tmp_path):
    assert tfds_data.dataset_dir("anli/r1:0.1.0", tmp_path) == tmp_path / "anli/r1/0.1.0"
    (tmp_path / "drop" / "1.0.0").mkdir(parents=True)
    (tmp_path / "drop" / "2.0.0").mkdir()
    assert tfds_data.dataset_dir("drop", tmp_path) == tmp_path / "drop" / "2.0.0"
    command = tfds_data.prepare_command(tasks.get("arc"), tmp_path)
    assert command.endswith(f"tfds build ai2_arc/ARC-Easy ai2_arc/ARC-Challenge --data_dir "
                            f"{tmp_path} --file_format array_record")


# --- with tensorflow_datasets installed -------------------------------------------------------

@needs_tfds
@pytest.mark.parametrize("name", [spec.name for spec in tasks.all_datasets(source="tfds")])
def test_mock_data_through_every_mapping_and_template(name):
    tfds = tfds_data.import_tfds()
    spec = tasks.get(name)
    try:
        tfds.builder(tfds_data.tfds_names(spec)[0], data_dir="/nonexistent")
    except ModuleNotFoundError as err:
        if "tensorflow" not in str(err):
            raise
        pytest.skip(f"the TFDS builder of {name} needs TensorFlow to be constructed; its "
                    f"mapping is tested on hand-written features")
    for split in spec.splits:
        with tfds.testing.mock_data(num_examples=40,
                                    policy=tfds.testing.MockPolicy.USE_CODE):
            if name in MOCK_UNBOUNDED_LABELS:
                examples = []
                for features in tfds.data_source(tfds_data.tfds_names(spec)[0], split=split):
                    try:
                        examples.append(spec.to_fields(features))
                    except ValueError:
                        continue
                examples = [e for e in examples if e is not None]
            else:
                examples = tfds_data.load_split(spec, split)
        if name not in MOCK_NEVER_VALID:
            assert examples, f"{name}/{split}: no mock example survived the mapping"
        for fields in examples:
            for template_id in range(len(spec.templates)):
                spec.render(fields, template_id)


@needs_tfds
def test_missing_data_is_our_message_alone(tmp_path, caplog, capsys):
    """TFDS's absl warnings and its TensorFlow banner (SuperGLUE's builder code wants TF) are
    not shown: stdout may carry JSON, and our message says it all."""
    caplog.set_level(logging.INFO)
    with pytest.raises(UserError, match="not prepared for rte"):
        tfds_data.load_split(tasks.get("rte"), "train", data_dir=str(tmp_path))
    assert [r.getMessage() for r in caplog.records if r.name == "absl"] == []
    assert capsys.readouterr() == ("", "")


TOY_BUILDER = '''
import numpy as np
import tensorflow_datasets as tfds


class ToyRte(tfds.core.GeneratorBasedBuilder):
    """Two splits shaped like RTE, for reading prepared data without TensorFlow."""

    VERSION = tfds.core.Version("1.0.2")

    def _info(self):
        return self.dataset_info_from_configs(features=tfds.features.FeaturesDict({
            "idx": np.int32,
            "premise": tfds.features.Text(), "hypothesis": tfds.features.Text(),
            "label": tfds.features.ClassLabel(names=["entailment", "not_entailment"])}))

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples(6), "validation": self._generate_examples(2)}

    def _generate_examples(self, count):
        for i in range(count):
            yield i, {"idx": i, "premise": f"Premise number {i}.",
                      "hypothesis": f"Hypothesis {i}.", "label": i % 2}
'''


@needs_tfds
def test_reads_prepared_array_record_data_without_tensorflow(tmp_path, monkeypatch):
    pytest.importorskip("importlib_resources", reason="TFDS needs it to prepare data")
    package = tmp_path / "toy_builders"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "toy_rte.py").write_text(textwrap.dedent(TOY_BUILDER))
    monkeypatch.syspath_prepend(str(tmp_path))
    from toy_builders.toy_rte import ToyRte

    data_dir = tmp_path / "data"
    ToyRte(data_dir=str(data_dir), file_format="array_record").download_and_prepare()
    spec = dataclasses.replace(tasks.get("rte"), name="toy_rte", tfds_name="toy_rte:1.0.2")
    train = tfds_data.load_split(spec, "train", data_dir=str(data_dir))
    assert len(train) == 6 and {e["answer"] for e in train} == {"yes", "no"}
    assert all(isinstance(e["premise"], str) and e["premise"].startswith("Premise number")
               for e in train)
    halves = [tfds_data.load_split(spec, split, data_dir=str(data_dir))
              for split in ("validation", "test")]  # RTE's dev split, halved
    assert sum(len(h) for h in halves) > 0
    assert len(tfds_data.load_split(spec, "train", data_dir=str(data_dir), limit=1)) == 1


def test_cli_check_data_names_every_missing_dataset(tmp_path, capsys):
    from flan_nb.cli import main

    assert main(["tasks", "--source", "tfds", "--cluster", "nli", "--check-data",
                 "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not prepared for anli, cb, mnli, qnli, rte, snli, wnli" in err
    assert f"--data_dir {tmp_path} --file_format array_record" in err
    assert main(["tasks", "--source", "tinyworld", "--check-data"]) == 2
    assert "add --source tfds" in capsys.readouterr().err
