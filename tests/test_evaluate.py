"""Rank classification: known answers by construction, and batched == one pair at a time."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from flan_nb import evaluate, packing
from flan_nb.errors import UserError
from flan_nb.templates import Rendered

WORD_IDS = {"yes": 5, "no": 9, "maybe": 3, "not": 4, "sure": 3}


class WordTokenizer:
    """Whitespace tokenizer: known words have fixed ids, others hash into 10..49."""

    def encode_batch(self, texts):
        return [[WORD_IDS.get(w, 10 + sum(map(ord, w)) % 40) for w in t.split()] for t in texts]


def minus_id_scorer(batch):
    """log p(token) = -(token id): an option's score is minus the sum of its ids plus EOS (1)."""
    return -batch["decoder_target_tokens"].astype(float) * batch["decoder_loss_weights"]


def test_rank_classification_picks_the_option_fixed_by_construction():
    examples = [Rendered("is it so ?", "yes", ("no", "yes")),      # -10 vs -6
                Rendered("well ?", "maybe", ("yes", "maybe", "no"))]  # -6, -4, -10
    result = evaluate.rank_classify(minus_id_scorer, WordTokenizer(), examples, method="packed")
    assert result.predictions == [1, 1]
    np.testing.assert_allclose(result.option_scores[1], [-6, -4, -10])


def test_length_normalization_changes_the_winner():
    # "yes": ids 5+EOS -> sum -6, mean -3; "not sure": 4+3+EOS -> sum -8, mean -2.67
    examples = [Rendered("q", "yes", ("yes", "not sure"))]
    tok = WordTokenizer()
    packed = evaluate.rank_classify(minus_id_scorer, tok, examples, method="packed")
    assert packed.predictions == [0]
    normalized = evaluate.rank_classify(minus_id_scorer, tok, examples, method="naive",
                                         length_normalize=True)
    assert normalized.predictions == [1]
    np.testing.assert_allclose(normalized.option_scores[0], [-3, -8 / 3])


def test_ties_go_to_the_first_option_and_options_are_required():
    examples = [Rendered("q", "maybe", ("maybe", "sure"))]  # same ids -> same score
    result = evaluate.rank_classify(minus_id_scorer, WordTokenizer(), examples, method="packed")
    assert result.predictions == [0]
    with pytest.raises(UserError, match="example 0 has no options"):
        evaluate.rank_classify(minus_id_scorer, WordTokenizer(), [Rendered("q", "a")])
    with pytest.raises(UserError, match="unknown rank classification method 'fast'"):
        evaluate.rank_classify(minus_id_scorer, WordTokenizer(), examples, method="fast")


def context_scorer(batch):
    """A fake model whose token scores depend on the previous token, the position and the
    target, so misplaced segments, positions or weights change the result."""
    score = (0.1 * batch["decoder_target_tokens"] + 0.01 * batch["decoder_positions"]
             + 0.001 * batch["decoder_input_tokens"] + 0.3 * batch["decoder_causal_attention"])
    return -score * batch["decoder_loss_weights"]


pairs_strategy = st.lists(
    st.tuples(st.lists(st.integers(3, 60), min_size=0, max_size=20),
              st.lists(st.integers(3, 60), min_size=1, max_size=5)),
    min_size=1, max_size=30)


@settings(max_examples=40, deadline=None)
@given(pairs_strategy, st.sampled_from([16, 24, 64]), st.integers(1, 4),
       st.sampled_from(["next_fit", "best_fit"]))
def test_packed_scores_equal_one_pair_at_a_time(pairs, seq_length, batch_rows, packer):
    batched = evaluate.score_pairs(context_scorer, pairs, seq_length=seq_length,
                                   batch_rows=batch_rows, packer=packer)
    naive = evaluate.score_pairs_naive(context_scorer, pairs, seq_length=seq_length)
    np.testing.assert_allclose(batched.log_likelihood, naive.log_likelihood, atol=1e-9)
    np.testing.assert_array_equal(batched.num_tokens, naive.num_tokens)
    assert batched.num_truncated == naive.num_truncated
    assert batched.num_forward_passes <= naive.num_forward_passes == len(pairs)
    # targets (+EOS) are never cut: every pair's count is its target length + 1
    np.testing.assert_array_equal(naive.num_tokens, [min(len(t) + 1, seq_length // 2)
                                                     for _, t in pairs])


@pytest.fixture(scope="module")
def tiny_model():
    from flan_nb import model as model_lib

    return model_lib.create_model(model_lib.named_config("test"), seed=1)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_all_methods_give_the_same_scores_through_the_real_model(tiny_model, bidirectional):
    """Packed rows and the shared-prefix cache both equal one forward pass per option."""
    rng = np.random.default_rng(0)
    # inputs of at most 6 tokens and options of 1-3 keep the compiled shapes few
    inputs = [rng.integers(3, 64, rng.integers(0, 7)).tolist() for _ in range(11)]
    options = [[rng.integers(3, 64, rng.integers(1, 4)).tolist()
                for _ in range(rng.integers(1, 4))] for _ in inputs]
    pairs = [(x, o) for x, opts in zip(inputs, options) for o in opts]
    scorer = evaluate.model_scorer(tiny_model, bidirectional_prefix=bidirectional)
    naive = evaluate.score_pairs_naive(scorer, pairs, seq_length=16)
    packed = evaluate.score_pairs(scorer, pairs, seq_length=32, batch_rows=4)
    assert packed.num_forward_passes < naive.num_forward_passes / 3
    np.testing.assert_allclose(packed.log_likelihood, naive.log_likelihood, atol=2e-4)
    shared, counts, truncated = evaluate.score_options_shared(
        tiny_model, inputs, options, batch_size=4, bidirectional_prefix=bidirectional)
    np.testing.assert_allclose(np.concatenate(shared), naive.log_likelihood, atol=2e-4)
    np.testing.assert_array_equal(np.concatenate(counts), naive.num_tokens)
    assert truncated == 0 and np.all(naive.log_likelihood < 0)


def test_shared_prefix_truncation_cuts_the_end_of_the_input_as_training_does(tiny_model):
    long_input, options = list(range(3, 40)), [[[5], [6, 7]]]
    cut, _, truncated = evaluate.score_options_shared(tiny_model, [long_input], options,
                                                      batch_size=4, max_input_length=6)
    # The segments tuning would train on: the input cut to 6 tokens + EOS, then the option.
    segments = [packing.instruction_segment(long_input, o, 7, 4) for o in options[0]]
    trained = [list(s.tokens[:s.prefix_length - 1]) for s in segments]
    assert trained == [long_input[:6]] * 2 and truncated == 1
    ref, _, _ = evaluate.score_options_shared(tiny_model, trained[:1], options, batch_size=4)
    np.testing.assert_allclose(cut[0], ref[0], atol=1e-5)


def test_eval_settings_and_templates_are_checked():
    with pytest.raises(UserError, match="batch_rows must be a positive integer"):
        evaluate.EvalSettings(batch_rows=0)

    class Spec:
        templates = [type("T", (), {"turned_around": t}) for t in (False, True, False, False)]

    assert evaluate.eval_templates(Spec) == [0, 2, 3]
    assert evaluate.eval_templates(Spec, 2) == [0, 2]


def test_evaluate_model_scores_classification_and_generation_cells():
    """On TinyWorld smoke data with a random model: one score per cell, equal to scoring the
    same predictions by hand (naive rank classification, greedy decoding)."""
    from flan_nb import metrics, model as model_lib, tasks
    from flan_nb.tokenize import tinyworld_tokenizer

    tokenizer = tinyworld_tokenizer(vocab_size=500, size="smoke")
    model = model_lib.create_model(model_lib.named_config(
        "test", vocab_size=tokenizer.vocab_size, tied_embeddings=False), seed=2)
    cells = [evaluate.Cell(name, template, "test",
                           tasks.load_examples(name, "test", size="smoke", limit=4))
             for name, template in (("tw_rte", 1), ("tw_trivia_qa", 0))]
    settings = evaluate.EvalSettings(batch_size=4, max_new_tokens=4)
    timings = {}
    scores = evaluate.evaluate_model(model, tokenizer, cells, model_name="m",
                                     settings=settings, timings=timings)
    assert [(s.dataset, s.template, s.metric, s.num_examples) for s in scores] == [
        ("tw_rte", 1, "accuracy", 4), ("tw_trivia_qa", 0, "exact_match", 4)]
    assert set(timings) == {"rank_classification_s", "generation_s"}
    rte = tasks.get("tw_rte")
    rendered = [rte.render(f, 1) for f in cells[0].examples]
    naive = evaluate.rank_classify(model, tokenizer, rendered, method="naive", seq_length=128)
    chosen = [r.options[p] for r, p in zip(rendered, naive.predictions)]
    assert scores[0].value == metrics.accuracy(chosen, [r.targets for r in rendered])
    qa = [tasks.get("tw_trivia_qa").render(f, 0) for f in cells[1].examples]
    texts = evaluate.generate_texts(model, tokenizer, [r.inputs for r in qa], settings)
    assert scores[1].value == metrics.exact_match([t.strip() for t in texts],
                                                  [r.targets for r in qa])


def test_bench_eval_reports_all_three_methods_and_their_agreement():
    from flan_nb.bench import run_benchmark

    result = run_benchmark("eval", quick=True)
    for key in ("examples_per_s", "packed_examples_per_s", "naive_examples_per_s"):
        assert result[key] > 0
    assert result["speedup"] == pytest.approx(
        result["examples_per_s"] / result["naive_examples_per_s"], rel=0.01, abs=0.006)
    # abs: the speedup is printed to 2 decimals, which is more than 1% of a value below 0.5
    assert result["predictions_agree"] is True
    assert result["examples"] == 8


class DecodeTokenizer(WordTokenizer):
    def decode(self, ids):
        return " ".join(f"w{i}" for i in ids)


def test_decoding_budget_follows_the_longest_target_up_to_the_profile_cap():
    tok = WordTokenizer()
    refs = ["a b c", ["x", "y z w v u t s r q"]]  # longest: 9 tokens + EOS = 10
    assert evaluate.decoding_budget(tok, refs) == 16  # rounded up to 8 tokens
    assert evaluate.decoding_budget(
        tok, refs, evaluate.EvalSettings(max_target_length=12)) == 12
    assert evaluate.decoding_budget(tok, refs, evaluate.EvalSettings(max_new_tokens=5)) == 5
    long = [" ".join(["w"] * 300)]
    assert evaluate.decoding_budget(tok, long) == 256  # the default cap, the paper's length


def test_generation_decodes_each_dataset_up_to_its_own_budget(monkeypatch):
    """No fixed 64 tokens: a dataset with longer references gets a longer budget, and a model
    that never says EOS fills exactly that budget."""
    from flan_nb import decoding, model as model_lib, tasks
    from flan_nb.tokenize import tinyworld_tokenizer

    tokenizer = tinyworld_tokenizer(vocab_size=500, size="smoke")
    model = model_lib.create_model(model_lib.named_config(
        "test", vocab_size=tokenizer.vocab_size, tied_embeddings=False), seed=2)
    budgets, lengths = [], []
    original = decoding.greedy_decode

    def spy(*args, **kwargs):
        budgets.append(kwargs["max_new_tokens"])
        out = original(*args, **kwargs)
        lengths.append([len(o) for o in out])
        return out

    monkeypatch.setattr(evaluate, "greedy_decode", spy)  # evaluate imports it by name
    cells = [evaluate.Cell(name, 0, "test", tasks.load_examples(name, "test", size="smoke",
                                                               limit=3))
             for name in ("tw_trivia_qa", "tw_news")]
    evaluate.evaluate_model(model, tokenizer, cells, model_name="m",
                            settings=evaluate.EvalSettings(batch_size=4))
    expected = [evaluate.decoding_budget(tokenizer, [tasks.get(c.dataset).render(f, 0).targets
                                                     for f in c.examples]) for c in cells]
    assert budgets == expected and budgets[0] != budgets[1]
    for budget, outs in zip(budgets, lengths):
        assert max(outs) <= budget


def test_cells_in_an_ablation_format_render_that_format_once_per_split():
    from flan_nb import formats, tasks
    from flan_nb.evaluate import held_out_cells

    flan = held_out_cells(["tw_rte"], num_templates=None, max_examples=4, size="smoke")
    ablated = held_out_cells(["tw_rte"], num_templates=None, max_examples=4, size="smoke",
                             format="dataset-name")
    assert len(flan) == 2 * 8 and [c.template for c in ablated] == [0, 0]
    spec = tasks.get("tw_rte")
    cell = ablated[0]
    assert [cell.render(spec, f) for f in cell.examples] == [
        formats.dataset_name(spec, f) for f in cell.examples]
    assert flan[0].render(spec, flan[0].examples[0]) == spec.render(flan[0].examples[0], 0)
