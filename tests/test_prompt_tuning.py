"""Prompt tuning: the soft prompt is a prefix of embeddings, P = 0 is the plain model, training
moves the prompt and nothing else, and bad settings fail in one line."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from flan_nb import evaluate, prompt_tuning, tasks
from flan_nb.errors import UserError
from flan_nb.model import create_model, named_config

CONFIG = prompt_tuning.PromptTuningConfig(prompt_length=4, num_steps=6, batch_size=4,
                                          max_length=64, max_target_length=8,
                                          score_batch_size=4)


@pytest.fixture(scope="module")
def model():
    return create_model(named_config("test", vocab_size=64), seed=0)


def _pairs(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return [(list(rng.integers(3, 64, size=rng.integers(3, 12))),
             list(rng.integers(3, 64, size=rng.integers(1, 4)))) for _ in range(n)]


def test_a_soft_prompt_of_token_embeddings_equals_those_tokens_before_the_input(model):
    tokens = jnp.asarray(np.random.default_rng(1).integers(3, 64, size=(2, 10)), jnp.int32)
    hard = jnp.asarray([[5, 9, 17]] * 2, jnp.int32)
    full = jnp.concatenate([hard, tokens], axis=1)
    positions = jnp.broadcast_to(jnp.arange(13), (2, 13))
    ones = jnp.ones((2, 13), jnp.int32)
    expected = model(full, positions, ones)[:, 3:]
    soft = model.embed[...][jnp.asarray([5, 9, 17])]  # (3, d_model)
    got = model(tokens, positions[:, :10], ones[:, :10], soft_prompt=soft)
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-5, atol=1e-5)


def test_an_empty_prompt_scores_like_the_plain_model(model):
    pairs = _pairs()
    config = prompt_tuning.PromptTuningConfig(prompt_length=0, max_length=64,
                                              max_target_length=8, score_batch_size=4)
    empty = np.zeros((0, model.config.d_model), np.float32)
    plain = evaluate.score_pairs_naive(evaluate.model_scorer(model), pairs, seq_length=32,
                                       max_target_length=8).log_likelihood
    for prompt in (None, empty):
        got = prompt_tuning.score_pairs(model, prompt, pairs, config)
        np.testing.assert_allclose(got, plain, rtol=1e-5, atol=1e-4)


def test_training_changes_the_prompt_and_no_model_parameter(model):
    before = jax.tree.map(lambda x: np.array(x, copy=True), nnx.state(model, nnx.Param))
    start = prompt_tuning.init_prompt(model, CONFIG.prompt_length, seed=3)
    trained = prompt_tuning.train_prompt(model, _pairs(8), CONFIG, seed=3)
    after = nnx.state(model, nnx.Param)
    for old, new in zip(jax.tree.leaves(before), jax.tree.leaves(after)):
        assert np.array_equal(old, np.asarray(new))  # bit-identical
    assert trained.prompt.shape == (4, model.config.d_model)
    assert not np.array_equal(trained.prompt, start)
    assert len(trained.losses) == CONFIG.num_steps and all(np.isfinite(trained.losses))


def test_training_lowers_the_loss_on_what_it_trains_on(model):
    config = prompt_tuning.PromptTuningConfig(prompt_length=4, num_steps=40, batch_size=4,
                                              max_length=64, max_target_length=8,
                                              learning_rate=0.3)
    trained = prompt_tuning.train_prompt(model, _pairs(4), config, seed=0)
    assert np.mean(trained.losses[-5:]) < np.mean(trained.losses[:5])


def test_a_prompt_that_leaves_no_room_for_the_input_is_one_clear_error():
    with pytest.raises(UserError, match="leaves .* input tokens"):
        prompt_tuning.PromptTuningConfig(prompt_length=250, max_length=256)


def test_more_examples_than_the_training_split_is_one_clear_error():
    available = len(tasks.load_examples("tw_copa", "train", size="smoke"))
    with pytest.raises(UserError, match="training split holds"):
        prompt_tuning.training_examples("tw_copa", available + 1, seed=0, size="smoke")
    assert len(prompt_tuning.training_examples("tw_copa", None, seed=0,
                                               size="smoke")) == available


def test_rank_classification_with_a_prompt_reports_every_example(model):
    from flan_nb.tokenize import tinyworld_tokenizer

    tokenizer = tinyworld_tokenizer(vocab_size=500, size="smoke")
    spec = tasks.get("tw_rte")
    test = tasks.load_examples("tw_rte", "test", size="smoke")[:3]
    big = create_model(named_config("test", vocab_size=tokenizer.vocab_size), seed=0)
    config = prompt_tuning.PromptTuningConfig(prompt_length=2, max_length=256,
                                              max_target_length=8, score_batch_size=8)
    out = prompt_tuning.rank_classify(big, tokenizer, None, spec, test, [0, 1], config)
    assert len(out["per_example"]) == 3 and set(out["per_template"]) == {0, 1}
    assert all(p in spec.render(test[0], 0).options for p in out["predictions"])


# -- a prompt-tuning plan's bad input: one line, exit 2, before any run ----------------------

from test_few_shot_eval import expect_exit_2_before_any_run, workspace, write_plan  # noqa: E402,F401


def _section(**changes):
    section = {"datasets": ["tw_rte"], "num_examples": [2], "seeds": [0], "size": "smoke",
               "prompt_length": 4, "max_length": 64}
    return {"prompt_tuning": {**section, **changes}}


@pytest.mark.parametrize("changes, pattern", [
    ({"datasets": ["tw_nope"]}, "unknown dataset 'tw_nope'"),
    ({"num_examples": [10_000]}, "tw_rte with 10000 examples: its training split holds"),
    ({"prompt_length": 60}, "prompt_length=60 leaves .* input tokens"),
    ({"datasets": ["tw_copa"]}, "no tuning run holds out commonsense"),
    ({"seeds": [0, 1]}, "prompt seed 1 has no tuning run"),
    ({"datasets": ["tw_squad"]}, "not a classification dataset"),
    ({"steps": 3}, r"unknown keys \['steps'\]"),
])
def test_a_bad_prompt_tuning_plan_fails_before_any_run(workspace, capsys, changes, pattern):
    plan = write_plan(workspace, _section(**changes))
    expect_exit_2_before_any_run(capsys, plan, pattern)


def test_a_good_prompt_tuning_plan_names_its_start_models(workspace):
    from flan_nb import plans, prompt_results

    plan = plans.load_plan(write_plan(workspace, _section(num_examples=[2, None])))
    prompt_results.check_publishable(plan)
    got = [(u.start, u.run, u.num_examples) for u in prompt_results.units(plan)]
    assert sorted(got, key=str) == sorted([("base", "base", 2), ("base", "base", None),
                                           ("tuned", "tune-nli-s0", 2),
                                           ("tuned", "tune-nli-s0", None)], key=str)
