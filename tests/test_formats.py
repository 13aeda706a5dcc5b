"""Prompt formats: zero-shot, few-shot (exemplars, delimiters, pruning) and Figure 8's ablations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flan_nb import formats, tasks
from flan_nb.collection.catalog import sample_features
from flan_nb.errors import UserError
from flan_nb.tasks import DatasetSpec
from flan_nb.templates import Rendered, Template, options_text

# A small stand-alone classification dataset (not registered) for property tests.
SPEC = DatasetSpec(
    name="toy_nli", cluster="nli", source="tinyworld", kind="classification",
    metric="accuracy", options=("yes", "no"),
    templates=(Template("Premise: {premise}\nHypothesis: {hypothesis}\nTrue?", "{answer}"),
               Template("{hypothesis} Write a premise.", "{premise}", turned_around=True)),
)
WORDS = st.text(alphabet="abcdefgh", min_size=1, max_size=6)
SENTENCES = st.lists(WORDS, min_size=1, max_size=12).map(" ".join)
EXAMPLES = st.fixed_dictionaries({"premise": SENTENCES, "hypothesis": SENTENCES,
                                  "answer": st.sampled_from(["yes", "no"])})


def collection_fields(name: str) -> dict:
    return tasks.get(name).to_fields(sample_features(name))


def test_zero_shot_is_the_template_rendering():
    spec = tasks.get("rte")
    fields = collection_fields("rte")
    assert formats.zero_shot(spec, fields, 3) == spec.render(fields, 3)


@settings(max_examples=60, deadline=None)
@given(example=EXAMPLES, pool=st.lists(EXAMPLES, max_size=12), k=st.integers(0, 6),
       budget=st.integers(5, 200), template_id=st.sampled_from([0, 1]), seed=st.integers(0, 3))
def test_few_shot_never_shows_the_example_and_fits(example, pool, k, budget, template_id, seed):
    pool = [*pool, dict(example)]  # the evaluated example is in the training pool too
    target = SPEC.render(example, template_id)
    chosen = formats.select_exemplars(SPEC, example, template_id, pool, k, seed)
    assert len(chosen) <= k
    for shot in chosen:
        assert shot.inputs != target.inputs
        assert shot in [SPEC.render(p, template_id) for p in pool if p != example]
    result = formats.few_shot(SPEC, example, template_id, pool, k=k,
                              count_tokens=formats.count_words, max_input_tokens=budget,
                              seed=seed)
    assert result.targets == target.targets and result.options == target.options
    prompts = [formats.EXEMPLAR_DELIMITER.join(
        [*(f"{s.inputs}{formats.INPUT_TARGET_DELIMITER}{s.targets}" for s in chosen[:m]),
         target.inputs]) for m in range(len(chosen) + 1)]
    assert result.inputs in prompts  # the first m exemplars, in order, then the example
    used = prompts.index(result.inputs)
    if used:  # pruned to fit; with no exemplar left it is the zero-shot prompt
        assert formats.count_words(result.inputs) <= budget
    if used < len(chosen):  # pruned only when one more exemplar would not fit
        assert formats.count_words(prompts[used + 1]) > budget
    assert formats.few_shot(SPEC, example, template_id, pool, k=k, seed=seed,
                            count_tokens=formats.count_words,
                            max_input_tokens=budget) == result  # reproducible


def test_few_shot_layout_uses_the_fixed_delimiters():
    pool = [{"premise": f"p{i}", "hypothesis": f"h{i}", "answer": "yes"} for i in range(5)]
    example = {"premise": "p", "hypothesis": "h", "answer": "no"}
    result = formats.few_shot(SPEC, example, 1, pool, k=2, count_tokens=len,
                              max_input_tokens=10_000)
    first, second, last = result.inputs.split("\n\n")  # template 1 has no options block
    assert last == "h Write a premise."
    for shot in (first, second):
        inputs, target = shot.split("\n")
        assert inputs == f"h{target[1:]} Write a premise." and target in {"p0", "p1", "p2",
                                                                         "p3", "p4"}
    assert first != second and result.targets == "p"


def test_few_shot_takes_a_real_tokenizer_and_prunes_from_the_end():
    pool = [{"premise": "x " * 50, "hypothesis": "h", "answer": "yes"} for _ in range(4)]
    example = {"premise": "p", "hypothesis": "h", "answer": "no"}
    full = formats.few_shot(SPEC, example, 0, pool, k=3, count_tokens=len,
                            max_input_tokens=10_000)
    budget = len(full.inputs) - 1  # characters as "tokens": one too many for three shots
    pruned = formats.few_shot(SPEC, example, 0, pool, k=3, count_tokens=len,
                              max_input_tokens=budget)
    assert len(pruned.inputs) <= budget and full.inputs.startswith(pruned.inputs[:20])
    assert pruned.inputs.count("Premise:") == 3  # two shots and the example
    with pytest.raises(UserError, match="k >= 0"):
        formats.few_shot(SPEC, example, 0, pool, k=-1, count_tokens=len, max_input_tokens=5)


def test_few_shot_with_a_collection_dataset_keeps_options():
    spec = tasks.get("anli")
    fields = collection_fields("anli")
    pool = [collection_fields(name) for name in ("mnli", "snli", "cb")]
    result = formats.few_shot(spec, fields, 1, pool, k=3, count_tokens=formats.count_words,
                              max_input_tokens=1024)
    assert result.inputs.count(options_text(spec.options)) == 4
    assert result.options == spec.options and result.targets == "no"


def test_no_template_is_the_raw_input_fields():
    spec = tasks.get("snli")
    fields = collection_fields("snli")
    raw = formats.no_template(spec, fields)
    assert raw.inputs == (f"{fields['premise']}\n{fields['hypothesis']}\n\n"
                          f"{options_text(spec.options)}")
    assert raw.targets == fields["answer"] and raw.options == spec.options
    assert formats.raw_field_names(tasks.get("squad")) == ["context", "question"]


def test_dataset_name_prefix_matches_figure_8():
    spec = tasks.get("wmt14_en_fr")
    fields = {"english": "The dog runs.", "foreign": "Le chien court."}
    rendered = formats.dataset_name(spec, fields)
    assert rendered == Rendered(inputs=f"[Translation: {formats.dataset_title(spec)}] "
                                       f"The dog runs.", targets="Le chien court.")
    assert formats.dataset_prefix(tasks.get("anli")) == \
        "[Natural language inference: ANLI (R1-R3)]"


@pytest.mark.parametrize("spec", tasks.all_datasets(source="tfds"), ids=lambda s: s.name)
def test_every_collection_dataset_has_the_raw_formats(spec):
    fields = collection_fields(spec.name)
    raw = formats.no_template(spec, fields)
    assert raw.inputs and raw.targets == spec.render(fields, 0).targets
    assert formats.dataset_name(spec, fields).inputs.startswith(formats.dataset_prefix(spec))


def test_render_format_dispatches_and_rejects_unknown_formats():
    spec = tasks.get("rte")
    fields = collection_fields("rte")
    assert formats.render_format("zero-shot", spec, fields, 2) == spec.render(fields, 2)
    assert formats.render_format("no-template", spec, fields) == \
        formats.no_template(spec, fields)
    budget = formats.TokenBudget(formats.count_words, 1024, unit="words")
    assert formats.render_format("few-shot", spec, fields, 0, pool=[fields], k=2,
                                 budget=budget) == \
        spec.render(fields, 0)  # the only candidate is the example itself
    with pytest.raises(ValueError, match="needs a TokenBudget"):
        formats.render_format("few-shot", spec, fields, 0, pool=[fields], k=2)
    with pytest.raises(UserError, match="unknown format 'one-shot'"):
        formats.render_format("one-shot", spec, fields)


def test_token_budget_counts_the_examples_too_long_even_alone():
    pool = [{"premise": f"p{i}", "hypothesis": "h", "answer": "yes"} for i in range(4)]
    short = {"premise": "p", "hypothesis": "h", "answer": "no"}
    long = {"premise": "word " * 40, "hypothesis": "h", "answer": "no"}
    budget = formats.TokenBudget(formats.count_words, 30, unit="words")
    assert budget.few_shot(SPEC, short, 0, pool, k=3).inputs.count("Premise:") > 1
    assert budget.warning() is None
    alone = budget.few_shot(SPEC, long, 0, pool, k=3)
    assert alone == SPEC.render(long, 0)  # kept whole, zero-shot: nothing is cut
    assert (budget.prompts, budget.over_budget) == (2, 1)
    assert budget.warning() == ("1 of 2 examples do not fit in 30 words even without "
                                "exemplars: their prompts are zero-shot and longer than that "
                                "(nothing is cut)")


def test_command_line_budget_counts_sentencepiece_tokens(tmp_path):
    from flan_nb.tokenize import tinyworld_tokenizer

    text = "Premise: Oscar is 38 years old. Oscar works as a singer."
    tokenizer = tinyworld_tokenizer(vocab_size=2000, size="smoke")
    default = formats.command_line_budget(None, 100, tfds=False, size="smoke")
    assert default.count_tokens(text) == len(tokenizer.encode(text)) > len(text.split())
    assert default.unit == "tokens" and default.max_input_tokens == 100
    tokenizer.save(tmp_path / "tokenizer.model")
    from_file = formats.command_line_budget(str(tmp_path / "tokenizer.model"), 100, tfds=True)
    assert from_file.count_tokens(text) == len(tokenizer.encode(text))
    run = tmp_path / "runs" / "08_x"
    (run / "checkpoints").mkdir(parents=True)
    tokenizer.save(run / "checkpoints" / "tokenizer.model")
    assert formats.command_line_budget(str(run), 100, tfds=True).count_tokens(text) == \
        len(tokenizer.encode(text))
    words = formats.command_line_budget("words", 100, tfds=True)
    assert words.count_tokens(text) == len(text.split()) and words.unit == "words"


@pytest.mark.parametrize("tokenizer,tfds,max_tokens,message", [
    (None, True, 1024, "few-shot on TFDS data needs --tokenizer"),
    ("missing.model", False, 1024, "--tokenizer 'missing.model': missing.model not found"),
    ("words", False, 0, "--max-input-tokens must be >= 1, got 0"),
    ("junk", False, 1024, "is not a readable SentencePiece model"),
])
def test_command_line_budget_rejects_bad_input(tmp_path, monkeypatch, tokenizer, tfds,
                                               max_tokens, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "junk").write_text("not a model")
    with pytest.raises(UserError, match=message):
        formats.command_line_budget(tokenizer, max_tokens, tfds=tfds)


def test_shots_kept_grows_with_the_budget():
    pool = [{"premise": f"p{i} " * 5, "hypothesis": "h", "answer": "yes"} for i in range(8)]
    examples = pool[:3]
    kept = formats.shots_kept(SPEC, examples, pool, 0, 3, [5, 40, 1000], formats.count_words)
    assert list(kept) == [5, 40, 1000]
    assert kept[5] == 0 and kept[1000] == 3 and 0 <= kept[40] <= 3


def test_token_counters():
    assert formats.token_counter("words")("a b  c") == 3
    with pytest.raises(UserError, match="unknown token counter 'bytes'"):
        formats.token_counter("bytes")
