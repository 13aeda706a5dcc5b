"""Held-out splits: the paper's exclusion rules, the Figure 6 plan, and the `split` verb."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flan_nb import splits, tasks
from flan_nb.cli import main
from flan_nb.errors import UserError

RCWC = "reading_comprehension_with_commonsense"


def clusters_of(names):
    return {tasks.get(name).cluster for name in names}


@pytest.mark.parametrize("held_out,excluded", [
    ("nli", {"paraphrase"}), ("paraphrase", {"nli"}),
    ("reading_comprehension", {RCWC}), ("commonsense", {RCWC}),
    (RCWC, {"reading_comprehension", "commonsense"}),
    ("sentiment", set()), ("translation", set()), ("closed_book_qa", set()),
])
def test_the_papers_exclusion_rules(held_out, excluded):
    split = splits.held_out_split(held_out, source="tfds")
    assert clusters_of(split.eval) == {held_out}
    assert clusters_of(split.excluded) == excluded
    assert clusters_of(split.train) == set(tasks.CLUSTERS) - {held_out} - excluded


@settings(max_examples=40, deadline=None)
@given(cluster=st.sampled_from(list(tasks.CLUSTERS)), source=st.sampled_from(["tfds", None]))
def test_a_split_partitions_the_source(cluster, source):
    split = splits.held_out_split(cluster, source=source)
    train, evaluated, excluded = set(split.train), set(split.eval), set(split.excluded)
    assert not train & evaluated and not train & excluded and not evaluated & excluded
    everything = {spec.name for spec in tasks.all_datasets(source=source)}
    assert train | evaluated | excluded == everything
    assert len(split.train) == len(train)  # no duplicates
    assert split.held_out == (cluster,)


def test_nli_split_on_the_collection_has_the_papers_sizes():
    split = splits.held_out_split("nli", source="tfds")
    assert (len(split.train), len(split.eval), len(split.excluded)) == (51, 7, 4)
    assert split.to_dict() == {"train": split.train, "eval": split.eval,
                               "excluded": split.excluded}


def test_bad_cluster_and_source_are_user_errors():
    with pytest.raises(UserError, match="unknown cluster 'nlp'.*nli"):
        splits.held_out_split("nlp")
    with pytest.raises(UserError, match="unknown source 'hf'"):
        splits.held_out_split("nli", source="hf")
    with pytest.raises(UserError, match="paraphrase.*cannot be tuned on"):
        splits.split_for(["nli"], "tfds", train_clusters=["paraphrase"])


def test_figure6_plan_adds_clusters_in_the_papers_order():
    plan = splits.figure6_plan(source="tfds")
    assert len(plan) == 7 == len(splits.FIGURE6_PAPER_DATASETS)
    clusters = (*splits.FIGURE6_ORDER[:6], "misc")
    for step, split in enumerate(plan, start=1):
        assert split.train_clusters == clusters[:step]
        assert clusters_of(split.train) == set(clusters[:step])
        assert clusters_of(split.eval) == {"nli", "closed_book_qa", "commonsense"}
        assert clusters_of(split.excluded) == {"paraphrase", RCWC}
    sizes = [len(split.train) for split in plan]
    assert sizes == [11, 19, 24, 28, 32, 35, 37]  # summarization first, as in the paper
    assert all(set(a.train) < set(b.train) for a, b in zip(plan, plan[1:]))


def test_figure6_last_step_is_conversational_qa_only():
    before, last = splits.figure6_plan(source="tfds")[-2:]
    assert set(last.train) - set(before.train) == {"coqa", "quac"}  # as the paper: +2 datasets
    assert "wic" not in last.train and "trec" not in last.train
    last_step = splits.figure6_steps("tfds")[-1][0]
    assert splits.figure6_step_title(last_step) == "Conversational QA"


def test_figure6_on_tinyworld_stops_before_conversational_qa():
    steps = splits.figure6_steps("tinyworld")
    assert [step for step, _ in steps] == list(splits.FIGURE6_ORDER[:6])
    assert "misc" not in clusters_of(steps[-1][1].train)  # no TinyWorld conversational QA


def test_split_verb_prints_json(capsys):
    assert main(["split", "--held-out", "paraphrase", "--source", "tfds", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"train", "eval", "excluded"}
    assert printed["eval"] == ["mrpc", "qqp", "paws", "stsb"]
    assert "anli" in printed["excluded"] and "anli" not in printed["train"]


def test_split_verb_unknown_cluster_is_one_line_and_exit_2(capsys):
    assert main(["split", "--held-out", "poetry", "--source", "tfds", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "unknown cluster 'poetry'" in captured.err


def test_cluster_lists_are_checked():
    assert splits.parse_clusters("nli, closed_book_qa") == ("nli", "closed_book_qa")
    assert splits.parse_clusters("") == ()
    with pytest.raises(UserError, match="unknown cluster 'poetry'"):
        splits.parse_clusters("nli,poetry")
    with pytest.raises(UserError, match="names a cluster twice"):
        splits.parse_clusters("nli,nli")


def test_datasets_per_cluster_bounds():
    split = splits.split_for(["nli"], "tinyworld")
    assert splits.limit_datasets_per_cluster(split, 0) == split
    one = splits.limit_datasets_per_cluster(split, 1)
    assert len(one.train) == len(split.train_clusters)
    with pytest.raises(UserError, match="largest tuning cluster has 4 datasets"):
        splits.limit_datasets_per_cluster(split, 5)
