"""The registry's source interface: sources register a loader and datasets; `tasks` dispatches."""

from __future__ import annotations

import pytest

from flan_nb import tasks, tfds_data
from flan_nb.errors import UserError
from flan_nb.templates import Template

TEMPLATE = Template(inputs="{text}", targets="{answer}")


def toy_spec(name: str, source: str, **overrides) -> tasks.DatasetSpec:
    return tasks.DatasetSpec(**{"name": name, "cluster": "misc", "source": source,
                                "kind": "generation", "templates": (TEMPLATE,),
                                "metric": "exact_match", **overrides})


@pytest.fixture
def toy_source(monkeypatch):
    """A source "toy" whose loader and check record their calls (removed after the test)."""
    calls = []

    def load(spec, split, **options):
        calls.append(("load", spec.name, split, options))
        return [{"text": f"{split} {i}", "answer": str(i)} for i in range(10)]

    def check(specs, splits, data_dir):
        calls.append(("check", [s.name for s in specs], list(splits), data_dir))

    monkeypatch.setitem(tasks.SOURCES, "toy", tasks.Source("toy", load, check=check))
    for name, cap in (("toy_a", 4), ("toy_b", tasks.MAX_TRAIN_EXAMPLES)):
        monkeypatch.setitem(tasks._REGISTRY, name,
                            toy_spec(name, "toy", max_train_examples=cap))
    return calls


def test_both_sources_are_registered_with_their_datasets_in_order():
    assert tasks.source_names() == ["tinyworld", "tfds"]
    specs = tasks.all_datasets()
    assert {spec.source for spec in specs} == {"tinyworld", "tfds"}
    sources = [spec.source for spec in specs]
    assert sources == sorted(sources, key=tasks.source_names().index)  # TinyWorld's first
    assert all(isinstance(s, tfds_data.TFDSDatasetSpec) == (s.source == "tfds") for s in specs)


def test_a_tinyworld_spec_carries_no_tfds_fields():
    spec = tasks.get("tw_nli")
    assert not hasattr(spec, "tfds_name") and not hasattr(spec, "to_fields")
    assert tasks.get("mnli").tfds_name == "glue/mnli:2.0.0"


def test_load_examples_asks_the_spec_source_and_caps_training(toy_source):
    train = tasks.load_examples("toy_a", "train", seed=3, size="smoke", data_dir="/d")
    assert [e["answer"] for e in train] == ["0", "1", "2", "3"]  # the spec's cap of 4
    assert len(tasks.load_examples("toy_a", "validation")) == 10  # the cap is for training
    assert len(tasks.load_examples("toy_b", "train", limit=2)) == 2
    assert toy_source[0] == ("load", "toy_a", "train",
                             {"seed": 3, "size": "smoke", "data_dir": "/d", "limit": None})


def test_check_data_asks_each_source_about_its_own_datasets(toy_source):
    tasks.check_data([tasks.get("tw_nli"), tasks.get("toy_a"), tasks.get("toy_b")],
                     ["validation"], "/d")  # TinyWorld has no check: its data is generated
    assert toy_source == [("check", ["toy_a", "toy_b"], ["validation"], "/d")]


def test_registering_needs_a_known_source_and_unique_names(toy_source):
    with pytest.raises(ValueError, match="source 'web' is not registered"):
        tasks.register(toy_spec("web_set", "web"))
    with pytest.raises(ValueError, match="registered twice"):
        tasks.register(toy_spec("toy_a", "toy"))
    with pytest.raises(ValueError, match="registered twice"):
        tasks.register_source(tasks.Source("toy", lambda spec, split, **_: []))
    assert tasks.check_source("toy") == "toy" and tasks.check_source(None) is None
    with pytest.raises(UserError, match="unknown source 'web': choose one of tinyworld, tfds, toy"):
        tasks.check_source("web")
