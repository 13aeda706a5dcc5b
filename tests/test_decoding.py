"""Greedy decoding with the key/value cache equals decoding without it."""

import numpy as np
import pytest

from flan_nb import decoding
from flan_nb.errors import UserError


@pytest.fixture(scope="module")
def model():
    from flan_nb import model as model_lib

    # Untied output: with tied embeddings a random model echoes the prompt's last token (EOS).
    return model_lib.create_model(model_lib.named_config("test", tied_embeddings=False), seed=0)


def prompts(seed, lengths):
    rng = np.random.default_rng(seed)
    return [decoding.prompt_ids(rng.integers(3, 64, n).tolist()) for n in lengths]


@pytest.mark.parametrize("bidirectional", [False, True])
def test_cached_equals_uncached_on_a_ragged_batch(model, bidirectional):
    batch = prompts(0, [3, 7, 0, 10, 5])  # 5 prompts in batches of 4: a padded last batch
    cached = decoding.greedy_decode(model, batch, max_new_tokens=10, batch_size=4,
                                    bidirectional_prefix=bidirectional)
    uncached = decoding.greedy_decode_uncached(model, batch, max_new_tokens=10,
                                               bidirectional_prefix=bidirectional)
    assert cached == uncached
    assert all(len(out) == 10 for out in cached)  # this model never says EOS


def test_stops_at_eos_per_row(model):
    """Make EOS likely by scaling its output column: rows then stop at different steps."""
    from flax import nnx

    boosted = nnx.clone(model)
    boosted.unembed[...] = boosted.unembed[...].at[:, decoding.EOS_ID].multiply(2.0)
    batch = prompts(1, [2, 4, 6, 8, 1, 3, 9, 5])
    cached = decoding.greedy_decode(boosted, batch, max_new_tokens=8, batch_size=8)
    uncached = decoding.greedy_decode_uncached(boosted, batch, max_new_tokens=8)
    assert cached == uncached
    lengths = {len(out) for out in cached}
    assert len(lengths) > 1 and min(lengths) < 8  # some rows stopped early, not all together
    assert all(decoding.EOS_ID not in out for out in cached)


def test_helpers_and_bad_input(model):
    assert decoding.prompt_ids([7, 8]) == [0, 7, 8, 1]
    assert decoding.strip_output([5, 6, 1, 0, 0]) == [5, 6]
    assert decoding.strip_output([5, 6]) == [5, 6]
    assert decoding.greedy_decode(model, [], max_new_tokens=3) == []
    with pytest.raises(UserError, match="prompt 1 has 5 tokens"):
        decoding.greedy_decode(model, [[0, 1], [0, 3, 4, 5, 1]], max_new_tokens=2,
                               max_prompt_length=4)
    with pytest.raises(UserError, match="max_new_tokens must be >= 1"):
        decoding.greedy_decode(model, [[0, 1]], max_new_tokens=0)
