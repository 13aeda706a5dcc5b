"""The mixture: the paper's rates and caps, seeded determinism, proportions, resumability."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flan_nb.errors import UserError
from flan_nb.mixture import PAPER_MAX_EXAMPLES, PAPER_RATE_CAP, Mixture, mixing_rates
from flan_nb.templates import Rendered


def _render(name, fields, template_id):
    return Rendered(inputs=f"{name} t{template_id}: {fields['x']}", targets=fields["y"])


def fake_mixture(sizes, seed=0, templates=3, **kwargs) -> Mixture:
    examples = {f"d{i}": [{"x": f"x{i}_{j}" + " w" * (j % 5), "y": f"y{j}"} for j in range(n)]
                for i, n in enumerate(sizes)}
    return Mixture(examples, {name: templates for name in examples}, _render, seed=seed,
                   **kwargs)


def test_paper_rates_cap_big_datasets():
    rates = mixing_rates({"small": 1_000, "mid": 3_000, "big": 400_000})
    assert (PAPER_RATE_CAP, PAPER_MAX_EXAMPLES) == (3_000, 30_000)
    assert rates["small"] == pytest.approx(1 / 7) and rates["big"] == pytest.approx(3 / 7)
    uncapped = mixing_rates({"small": 1_000, "big": 400_000}, rate_cap=None, max_examples=None)
    assert uncapped["big"] == pytest.approx(400 / 401)
    only_examples_cap = mixing_rates({"small": 1_000, "big": 400_000}, rate_cap=None)
    assert only_examples_cap["big"] == pytest.approx(30 / 31)


def test_temperature_flattens_rates():
    hot = mixing_rates({"a": 100, "b": 400}, temperature=2.0)
    assert hot["b"] / hot["a"] == pytest.approx(2.0)  # (400/100) ** (1/2)
    assert mixing_rates({"a": 100, "b": 400})["b"] == pytest.approx(0.8)


@pytest.mark.parametrize("kwargs, message", [
    ({"temperature": 0}, "temperature must be > 0"),
    ({"rate_cap": 0}, "rate_cap must be >= 1"),
    ({"max_examples": -5}, "max_examples must be >= 1"),
])
def test_bad_rates_raise(kwargs, message):
    with pytest.raises(UserError, match=message):
        mixing_rates({"a": 10}, **kwargs)


def test_empty_dataset_is_named():
    with pytest.raises(UserError, match="dataset 'd1' has no examples"):
        fake_mixture([3, 0])


def test_max_examples_drops_examples_beyond_the_cap():
    mix = fake_mixture([50, 5], max_examples=10, rate_cap=None)
    assert len(mix.examples["d0"]) == 10
    assert mix.rates["d0"] == pytest.approx(10 / 15)
    assert all(s.index < 10 for s in mix.take(200))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 5_000), min_size=1, max_size=5), st.integers(0, 2**31),
       st.sampled_from([None, 50, 400]), st.sampled_from([1.0, 3.0]))
def test_proportions_match_rates(sizes, seed, rate_cap, temperature):
    mix = fake_mixture(sizes, seed=seed, rate_cap=rate_cap, temperature=temperature,
                       block_size=1000)
    draws = 4_000
    counts = {name: 0 for name in mix.names}
    for sample in mix.take(draws):
        counts[sample.dataset] += 1
    for name, rate in mix.rates.items():
        sigma = math.sqrt(rate * (1 - rate) / draws)
        assert abs(counts[name] / draws - rate) <= 5 * sigma + 1e-9, (name, counts, mix.rates)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=4), st.integers(0, 2**31))
def test_each_epoch_visits_every_example_once(sizes, seed):
    mix = fake_mixture(sizes, seed=seed, rate_cap=None)
    seen = {name: [] for name in mix.names}
    for sample in mix.take(300):
        seen[sample.dataset].append(sample.index)
        assert 0 <= sample.template_id < 3
    for name, indices in seen.items():
        n = len(mix.examples[name])
        for start in range(0, len(indices) - n + 1, n):  # every full epoch is a permutation
            assert sorted(indices[start:start + n]) == list(range(n))


def test_templates_are_seeded_and_all_used():
    samples = fake_mixture([200], seed=3, templates=10).take(200)
    assert {s.template_id for s in samples} == set(range(10))
    assert samples == fake_mixture([200], seed=3, templates=10).take(200)
    assert samples != fake_mixture([200], seed=4, templates=10).take(200)
    assert all(s.inputs.startswith(f"d0 t{s.template_id}:") for s in samples)


def test_shards_take_disjoint_examples():
    shards = [fake_mixture([40, 60], seed=1, rate_cap=None, shard_index=h, num_shards=3)
              for h in range(3)]
    keys = [{(s.dataset, s.index) for s in shard.take(15)} for shard in shards]
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])
    with pytest.raises(UserError, match="shard_index"):
        fake_mixture([4], shard_index=3, num_shards=3)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=4), st.integers(0, 2**31),
       st.integers(0, 150), st.integers(1, 60))
def test_save_then_restore_continues_identically(sizes, seed, before, after):
    original = fake_mixture(sizes, seed=seed, block_size=64)
    original.take(before)
    state = json.loads(json.dumps(original.get_state()))
    restored = fake_mixture(sizes, seed=seed, block_size=64)
    restored.set_state(state)
    assert restored.take(after) == original.take(after)


def test_restore_into_a_different_mixture_fails_clearly():
    state = fake_mixture([5, 6], seed=1).get_state()
    with pytest.raises(UserError, match="seed=1 but this mixture has 2"):
        fake_mixture([5, 6], seed=2).set_state(state)
    with pytest.raises(UserError, match="datasets="):
        fake_mixture([5, 7], seed=1).set_state(state)
