"""TinyWorld's task variants and NUM_TUNING_TASKS: clusters, labels, held-out rules, selection."""

import collections
import json

import pytest

from flan_nb import splits, tasks, tinyworld
from flan_nb.errors import UserError
from flan_nb.tinyworld import solver
from flan_nb.tinyworld import variants as V
from flan_nb.tinyworld.datasets import BY_NAME as DATASETS
from flan_nb.tinyworld.world import Fact


@pytest.fixture(scope="module")
def smoke():
    return tinyworld.build(0, "smoke")


def test_variants_are_generated_deterministically_from_seed_and_size(smoke):
    again = tinyworld.TinyWorld(0, "smoke")  # a fresh world, not the cached one
    assert again.variants == smoke.variants
    other = tinyworld.TinyWorld(1, "smoke").variants
    shared = set(other) & set(smoke.variants)
    assert shared and any(other[n] != smoke.variants[n] for n in shared)


def test_every_variant_is_one_registered_task_of_one_cluster_and_not_listed(smoke):
    assert len(V.VARIANTS) == len(V.BY_NAME) >= 250  # hundreds of tasks, unique names
    listed = {s.name for s in tasks.all_datasets()}
    for v in V.VARIANTS:
        spec = tasks.get(v.name)
        assert v.name.startswith(V.PREFIX) and spec.cluster == v.cluster in tasks.CLUSTERS
        assert v.name not in listed
    assert {s.name for s in tasks.all_variants() if s.name.startswith(V.PREFIX)} == set(V.BY_NAME)
    # The default listing and splits are the datasets': 31 TinyWorld datasets, none a variant.
    assert len(tasks.all_datasets(source="tinyworld")) == 31
    assert not any(n.startswith(V.PREFIX) for n in splits.held_out_split("nli").train)
    assert sum(V.counts_per_cluster().values()) == len(V.VARIANTS)
    assert all(V.counts_per_cluster(smoke.variants).values())  # every cluster has variants


def test_a_variant_missing_from_a_small_world_is_a_clear_error(smoke):
    missing = sorted(set(V.BY_NAME) - set(smoke.variants))
    assert missing  # smoke's 12 people state too few facts of some relations
    with pytest.raises(UserError, match="does not exist there"):
        tinyworld.load_split(missing[0], "train", size="smoke")


def test_each_variant_has_its_own_templates_whose_wording_varies(smoke):
    seen = set()
    for name, split_rows in smoke.variants.items():
        spec = tasks.get(name)
        assert len(spec.templates) == V.TEMPLATES_PER_VARIANT
        example = split_rows["train"][0]
        inputs = [spec.render(example, t).inputs for t in range(len(spec.templates))]
        assert len(set(inputs)) == len(inputs), name
        seen.add(tuple(t.inputs for t in spec.templates))
    assert len(seen) == len(smoke.variants)  # no two variants share their templates


@pytest.mark.parametrize("seed", [0, 3])
def test_the_solver_confirms_every_label_and_labels_are_balanced(seed):
    tw = tinyworld.build(seed, "smoke")
    reader = solver.Reader(tw.world)
    wrong = collections.Counter()
    for name, split_rows in tw.variants.items():
        variant = V.BY_NAME[name]
        for split, rows in split_rows.items():
            for ex in rows:
                wrong[name] += not V.check(variant, ex, tw.world, reader)
            if variant.num_labels:
                labels = collections.Counter(ex["label"] for ex in rows)
                assert len(set(labels.values())) <= 1 and len(rows) % variant.num_labels == 0
    assert +wrong == collections.Counter()


def test_a_wrong_label_is_caught_by_the_check(smoke):
    reader = solver.Reader(smoke.world)
    name = next(n for n in smoke.variants if n.startswith("twv_closed_book_job_yes_no"))
    ex = dict(smoke.variants[name]["train"][0])
    ex["answer"] = "no" if ex["answer"] == "yes" else "yes"
    assert not V.check(V.BY_NAME[name], ex, smoke.world, reader)


def _asked_fact(world, reader, variant, ex):
    if "question" in ex:
        subject, relation = reader.question(ex["question"])
    elif "statement" in ex:
        fact = reader.statement(ex["statement"])
        subject, relation = fact.subject, fact.relation
    else:
        return None
    return Fact(subject, relation, world.value(subject, relation))


def test_no_variant_asks_about_a_statement_only_fact(smoke):
    """Closed-book QA evaluates on the facts the corpus never quizzes; no variant asks them."""
    reader = solver.Reader(smoke.world)
    asked = 0
    for name, split_rows in smoke.variants.items():
        variant = V.BY_NAME[name]
        if variant.family not in ("closed_book", "reading"):
            continue
        for rows in split_rows.values():
            for ex in rows:
                fact = _asked_fact(smoke.world, reader, variant, ex)
                if fact is not None:
                    asked += 1
                    assert fact not in smoke.world.statement_only, (name, ex)
    assert asked > 500


def test_no_variant_example_reproduces_an_evaluation_example(smoke):
    # Independent of the generator's filter: every input set of a validation or test example
    # of a tw_* dataset, against every variant example's input strings.
    evaluation = {frozenset(str(ex[f]) for f in DATASETS[name].input_fields)
                  for name, split_rows in smoke.datasets.items()
                  for split in ("validation", "test") for ex in split_rows[split]}
    by_value = collections.defaultdict(list)
    for inputs in evaluation:
        for value in inputs:
            by_value[value].append(inputs)
    for name, split_rows in smoke.variants.items():
        fields = V.BY_NAME[name].input_fields
        keys = {split: {V.BY_NAME[name].key_of(ex) for ex in rows}
                for split, rows in split_rows.items()}
        assert not keys["train"] & (keys["validation"] | keys["test"])  # disjoint splits
        for rows in split_rows.values():
            for ex in rows:
                mine = {str(ex[f]) for f in fields}
                assert not any(inputs <= mine for v in mine for inputs in by_value[v]), name
    # The filter does bite: an evaluation example's inputs are recognised as reproduced.
    ex = smoke.datasets["tw_trivia_qa"]["test"][0]
    variant = V.BY_NAME["twv_closed_book_job_free"]
    assert V.reproduces({"question": ex["question"]}, variant, V.evaluation_keys(smoke.datasets))


@pytest.mark.parametrize("cluster", list(tasks.CLUSTERS))
def test_held_out_clusters_and_their_rules_keep_every_variant_out_of_tuning(cluster):
    split = splits.held_out_split(cluster, "tinyworld")
    pool = splits.tuning_pool(split, "smoke")
    everything = sum(len(names) for names in pool.values())
    chosen = splits.select_tuning_tasks(split, everything, size="smoke")
    gone = {cluster, *splits.excluded_clusters([cluster])}
    assert len(chosen) == len(set(chosen)) == everything
    assert set(split.train) <= set(chosen)
    assert not any(tasks.get(n).cluster in gone for n in chosen)
    assert any(n.startswith(V.PREFIX) for n in chosen)


def test_selection_is_exact_stratified_nested_and_seeded():
    split = splits.held_out_split("nli", "tinyworld")
    pool = splits.tuning_pool(split, "smoke")
    sizes = {c: len(names) for c, names in pool.items()}
    total = sum(sizes.values())
    previous: set = set()
    for n in range(1, total + 1):
        chosen = splits.select_tuning_tasks(split, n, seed=0, size="smoke")
        assert len(chosen) == len(set(chosen)) == n
        assert previous <= set(chosen)  # a larger N keeps the smaller N's tasks
        previous = set(chosen)
        per_cluster = collections.Counter(tasks.get(name).cluster for name in chosen)
        for cluster, size in sizes.items():  # each cluster near its proportional share
            assert abs(per_cluster[cluster] - n * size / total) < 1.5, (n, cluster)
    # Datasets come before a cluster's variants; the variants drawn depend on the seed.
    assert splits.select_tuning_tasks(split, 26, size="smoke") != split.train  # stratified
    a = splits.select_tuning_tasks(split, 60, seed=0, size="smoke")
    assert a == splits.select_tuning_tasks(split, 60, seed=0, size="smoke")
    assert a != splits.select_tuning_tasks(split, 60, seed=1, size="smoke")
    assert splits.select_tuning_tasks(split, 0, size="smoke") == split.train


def test_cli_counts_variants_per_cluster_and_the_tuning_pool(capsys):
    from flan_nb.cli import main

    assert main(["tinyworld", "variants", "--size", "smoke", "--held-out", "nli",
                 "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["catalog"] == V.counts_per_cluster()
    assert info["in_world_total"] == len(tinyworld.build(0, "smoke").variants)
    assert info["tuning_pool"].get("nli", 0) == info["tuning_pool"].get("paraphrase", 0) == 0
    assert info["max_num_tuning_tasks"] == 197
    assert main(["tinyworld", "variants", "--size", "smoke", "--held-out", "poetry"]) == 2
    assert "unknown cluster 'poetry'" in capsys.readouterr().err
