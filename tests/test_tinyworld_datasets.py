"""TinyWorld's datasets: registry, templates, splits, labels checked by the independent solver."""

from __future__ import annotations

import collections
import copy
import hashlib
import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flan_nb import tasks, tinyworld
from flan_nb.cli import main
from flan_nb.tinyworld import solver
from flan_nb.tinyworld.cli import build_to
from flan_nb.tinyworld.datasets import BY_NAME, TW_DATASETS, generate_datasets, train_size


@pytest.fixture(scope="module")
def smoke():
    return tinyworld.build(0, "smoke")


@pytest.fixture(scope="module")
def book():
    """The book-size TinyWorld, generated once (timed in CPU seconds: the machine is shared)."""
    start = time.process_time()
    tw = tinyworld.TinyWorld(0, "book")
    tw.corpus, tw.datasets
    return tw, time.process_time() - start


def test_book_size_generates_in_under_30_seconds(book):
    tw, seconds = book
    assert seconds < 30
    words = sum(len(d.split()) for d in tw.corpus)
    assert 1_500_000 <= words <= 3_000_000  # about 1.5-3M words, as the pretraining chapter needs
    assert len({w for d in tw.corpus for w in d.split()}) < 5000  # a small vocabulary


def test_registry_covers_all_clusters():
    specs = tasks.all_datasets(source="tinyworld")
    assert len(specs) == len(TW_DATASETS) >= 30
    per_cluster = collections.Counter(s.cluster for s in specs)
    assert set(per_cluster) == set(tasks.CLUSTERS)
    assert min(per_cluster.values()) >= 2
    assert all(s.name.startswith("tw_") for s in specs)


@pytest.mark.parametrize("name", [d.name for d in TW_DATASETS])
def test_ten_templates_at_most_three_turned_around(name):
    spec = tasks.get(name)
    assert len(spec.templates) == 10
    assert len(set(spec.templates)) == 10
    assert sum(t.turned_around for t in spec.templates) <= 3


@pytest.mark.parametrize("name", [d.name for d in TW_DATASETS])
def test_every_example_renders_through_every_template(smoke, name):
    spec = tasks.get(name)
    for split, examples in smoke.datasets[name].items():
        for ex in examples:
            for k, template in enumerate(spec.templates):
                out = spec.render(ex, k)
                assert "{" not in out.inputs + out.targets and out.inputs and out.targets
                if spec.kind == "classification" and not template.turned_around:
                    assert "\nOPTIONS:\n- " in "\n" + out.inputs
                    assert out.targets in out.options == spec.example_options(ex)
                else:
                    assert out.options == () and "OPTIONS:" not in out.inputs


@pytest.mark.parametrize("name", [d.name for d in TW_DATASETS])
def test_splits_are_disjoint_sized_and_balanced(smoke, name):
    spec, splits = BY_NAME[name], smoke.datasets[name]
    keys = {split: {spec.key(ex) for ex in rows} for split, rows in splits.items()}
    assert not keys["train"] & keys["test"] and not keys["train"] & keys["validation"]
    assert not keys["validation"] & keys["test"]
    for split, rows in splits.items():
        assert len(rows) == smoke.split_sizes[name][split] == len(keys[split])
        if spec.kind == "classification":
            counts = collections.Counter(ex["label"] for ex in rows)
            assert len(counts) == spec.num_labels
            assert max(counts.values()) - min(counts.values()) <= 1
            if split == "train":  # sized in whole rounds of labels: exactly balanced
                assert len(set(counts.values())) == 1
            for ex in rows:  # the label points at the answer
                options = ex.get("options") or spec.options
                assert options[ex["label"]] == ex["answer"]


def _solver_disagreements(tw) -> dict[str, int]:
    bad = collections.Counter()
    for name, splits in tw.datasets.items():
        for rows in splits.values():
            for ex in rows:
                bad[name] += not solver.check(name, ex, tw.world)
    return {k: v for k, v in bad.items() if v}


def test_solver_confirms_every_label_of_the_book_size(book):
    assert _solver_disagreements(book[0]) == {}


@settings(max_examples=4, deadline=None)
@given(st.integers(1, 100_000))
def test_solver_confirms_every_label_for_any_seed(seed):
    assert _solver_disagreements(tinyworld.TinyWorld(seed, "smoke")) == {}


@pytest.mark.parametrize("name", [d.name for d in TW_DATASETS])
def test_solver_rejects_wrong_answers(smoke, name):
    """The solver is not a rubber stamp: a changed answer or target is caught."""
    spec = BY_NAME[name]
    ex = copy.deepcopy(smoke.datasets[name]["test"][0])
    if spec.kind == "classification":
        options = ex.get("options") or spec.options
        ex["answer"] = options[(ex["label"] + 1) % len(options)]
    else:
        field = solver.TARGET_FIELDS.get(name) or [f for f in ex if f not in spec.input_fields
                                                   and isinstance(ex[f], str)][0]
        ex[field] = ex[field] + " and more" if not ex[field].isdigit() else \
            str(int(ex[field]) + 1)
    try:
        assert not solver.check(name, ex, smoke.world)
    except solver.SolverError:
        pass  # unreadable is a rejection too


def test_closed_book_evaluation_uses_statement_only_facts(smoke):
    reader = solver.Reader(smoke.world)
    for split in ("validation", "test"):
        for ex in smoke.datasets["tw_trivia_qa"][split]:
            subject, relation = reader.question(ex["question"])
            assert tinyworld.world.Fact(subject, relation, ex["answer"]) in \
                smoke.world.statement_only
    for ex in smoke.datasets["tw_trivia_qa"]["train"]:
        subject, relation = reader.question(ex["question"])
        assert tinyworld.world.Fact(subject, relation, ex["answer"]) not in \
            smoke.world.statement_only


def test_test_split_does_not_depend_on_train_size(smoke):
    more = generate_datasets(smoke.world, {"train": 40, "validation": 8, "test": 8})
    for name in ("tw_nli", "tw_squad", "tw_translate_en_ve"):
        assert more[name]["test"] == smoke.datasets[name]["test"]
        assert len(more[name]["train"]) == 40


def test_training_sizes_spread_like_the_real_datasets():
    """Training splits are min(real, 30,000) / scale: the real collection's spread, scaled
    down; validation and test sizes stay one per size (evaluation sizes do not change)."""
    book = tinyworld.size_spec("book")
    assert book.scale == 30 and (book.validation, book.test) == (100, 200)
    sizes = {d.name: train_size(d, book) for d in TW_DATASETS}
    assert sizes["tw_copa"] == 14 and sizes["tw_wsc"] == 44 and sizes["tw_rte"] == 84
    assert sizes["tw_tweets"] == sizes["tw_squad"] == 1000  # both past the paper's 30,000
    assert 20_000 <= sum(sizes.values()) <= 31_000  # no more tuning data than before
    for d in TW_DATASETS:  # the order of sizes is the real order (up to the 30,000 limit)
        for e in TW_DATASETS:
            if min(d.real_train, 30_000) < min(e.real_train, 30_000):
                assert sizes[d.name] <= sizes[e.name]
    for size in tinyworld.SIZES:
        spec = tinyworld.size_spec(size)
        for d in TW_DATASETS:
            n = train_size(d, spec)
            assert n >= 4 and n % max(d.num_labels, 1) == 0
            assert abs(n - min(d.real_train, 30_000) / spec.scale) <= max(d.num_labels, 1) \
                or n == max(2 * d.num_labels, 4)  # a floor for the smallest at tiny sizes


def test_book_size_makes_every_split_it_asks_for(book):
    tw = book[0]
    made = {n: {k: len(v) for k, v in splits.items()} for n, splits in tw.datasets.items()}
    assert made == tw.split_sizes
    assert {n: s["train"] for n, s in made.items()} == \
        {d.name: train_size(d, tw.spec) for d in TW_DATASETS}


def test_book_rate_cap_binds_on_the_datasets_the_papers_cap_binds_on(book):
    from flan_nb.chapters import book_config
    from flan_nb.chapters.ch06_mixing_and_packing import rates_next_to_paper
    from flan_nb.mixture import PAPER_MAX_EXAMPLES, PAPER_RATE_CAP, mixing_rates

    tw = book[0]
    # Notebook 06's defaults are the paper's caps at TinyWorld's book scale (1:30): its training
    # splits are the real datasets' (at most 30,000 used) divided by the scale.
    config = book_config("06_mixing_and_packing")
    assert config.rate_cap * tw.spec.scale == PAPER_RATE_CAP
    assert config.max_examples * tw.spec.scale == PAPER_MAX_EXAMPLES
    train = {n: len(s["train"]) for n, s in tw.datasets.items()}
    binds = {n for n, k in train.items() if k > config.rate_cap}
    assert binds == {d.name for d in TW_DATASETS if d.real_train > PAPER_RATE_CAP}
    assert 0 < len(binds) < len(train)
    rows = rates_next_to_paper(train, rate_cap=config.rate_cap, max_examples=config.max_examples)
    assert max(abs(r.rate - r.paper_rate) for r in rows) < 0.002
    uncapped = mixing_rates(train, rate_cap=None, max_examples=None)
    assert max(uncapped.values()) / min(uncapped.values()) > 50  # unequal, as the real ones


def test_sizes_are_deterministic_and_overrides_apply_to_every_dataset():
    a, b = tinyworld.TinyWorld(3, "smoke"), tinyworld.TinyWorld(3, "smoke")
    assert a.split_sizes == b.split_sizes and a.datasets == b.datasets
    assert len({s["train"] for s in a.split_sizes.values()}) > 1
    assert len({(s["validation"], s["test"]) for s in a.split_sizes.values()}) == 1
    c = tinyworld.TinyWorld(3, "smoke", {"train": 6})
    assert {s["train"] for s in c.split_sizes.values()} == {6}


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_is_byte_identical_for_a_seed_and_differs_across_seeds(tmp_path):
    a = build_to(tmp_path / "a", seed=5, size="smoke")
    build_to(tmp_path / "b", seed=5, size="smoke")
    build_to(tmp_path / "c", seed=6, size="smoke")
    da, db, dc = (_digest(tmp_path / x) for x in "abc")
    assert da == db and len(da) == 3 + 3 * len(TW_DATASETS)
    assert da["corpus.jsonl"] != dc["corpus.jsonl"] and da["world.jsonl"] != dc["world.jsonl"]
    assert a["datasets"] == len(TW_DATASETS) and a["clusters"] == 12


def _cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(["tinyworld", "build", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("force", [(), ("--force",)])
def test_build_onto_a_file_says_so_and_keeps_the_file(capsys, tmp_path, force):
    target = tmp_path / "f"
    target.write_text("keep me")
    code, out, err = _cli(capsys, "--out", str(target), "--size", "smoke", *force)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"{target} is a file, not a folder" in err and "choose a new folder path" in err
    assert target.read_text() == "keep me" and sorted(tmp_path.iterdir()) == [target]


def test_build_warns_once_naming_the_splits_that_stopped_short(capsys, tmp_path):
    code, out, err = _cli(capsys, "--out", str(tmp_path / "tw"), "--size", "smoke",
                          "--train", "250", "--validation", "0", "--test", "0")
    stats = json.loads((tmp_path / "tw" / "stats.json").read_text())["examples_per_dataset"]
    short = {name for name, splits in stats.items() if splits["train"] < 250}
    assert code == 0 and "31 datasets" in out and short  # smoke has some small datasets
    assert err.count("\n") == 1 and err.startswith("flan-nb tinyworld: warning: ")
    for name in short:
        assert f"{name} train {stats[name]['train']}/250" in err
    assert "tw_nli" not in err


def test_a_full_build_prints_no_warning(capsys, tmp_path):
    code, _, err = _cli(capsys, "--out", str(tmp_path / "tw"), "--size", "smoke")
    assert code == 0 and err == ""
