"""Prompt formats: zero-shot, few-shot, and the two ablation formats of the paper's Figure 8.

Data path, stage 2 of 6: tasks -> **templates, formats** -> tokenize -> mixture/packing/pipeline ->
model/train -> evaluate.

Every format returns a `flan_nb.templates.Rendered` (inputs, targets, options), so tuning and
evaluation code does not care which one made it.
- zero-shot: the example through one template;
- few-shot: k exemplars from the training split, rendered with the same template, joined by
  fixed delimiters before the evaluated example; exemplars are dropped from the end until the
  prompt fits `max_input_tokens` as counted by any tokenizer's `count_tokens` (`TokenBudget`
  also counts the examples too long to fit even alone: they are kept whole, never cut);
- no template: only the raw input fields (those the dataset's first template reads, in its
  order), one per line;
- dataset name: the raw fields after a prefix naming the task and the dataset, e.g.
  "[Translation: WMT'16 EN/DE] The dog runs.".
Classification keeps its options suffix in every format: the options are the answer space that
rank classification scores, not part of the instruction being ablated.

Chain of thought (Flan 2022), for datasets whose examples carry a `rationale` (TinyWorld's
`twc_*`): "cot" wraps the template's prompt in an instruction to reason first, "cot-trigger"
adds the zero-shot trigger "Let's think step by step." (Kojima et al.) to the unchanged prompt;
both targets are the rationale, then "So the answer is <answer>.". Scored with the answer
extracted (`flan_nb.metrics.extract_answer`), they compare with the direct prompt ("zero-shot").
"""

from __future__ import annotations

import dataclasses
import random
import string
from typing import Any, Callable, Iterator, Mapping, Sequence

from flan_nb.checkpoint import load_tokenizer
from flan_nb.collection.catalog import title as collection_title
from flan_nb.errors import UserError
from flan_nb.tasks import CLUSTERS, DatasetSpec
from flan_nb.templates import OPTIONS_FIELD, Rendered, Template, render
from flan_nb.tokenize import tinyworld_tokenizer

FORMATS = ("zero-shot", "few-shot", "no-template", "dataset-name")
INPUT_TARGET_DELIMITER = "\n"  # between an exemplar's inputs and its target
EXEMPLAR_DELIMITER = "\n\n"  # between exemplars, and before the evaluated example
MAX_INPUT_TOKENS = 1024  # the paper's input length: the command line's few-shot budget
COT_FORMATS = ("cot", "cot-trigger")
# Formats that render through the dataset's templates (one evaluation cell per template).
TEMPLATED_FORMATS = ("zero-shot", "few-shot", *COT_FORMATS)
RATIONALE_FIELD = "rationale"
COT_TRIGGER = "Let's think step by step."
# The "cot" instruction per template id (cycled), and whether it follows the prompt or comes
# first; it always comes first before a prompt that ends in a cue ("A:"), which must stay last.
COT_INSTRUCTIONS = (
    ("Explain your reasoning step by step, then give the answer.", "after"),
    ("Answer by reasoning one step at a time.", "before"),
    ("Give the facts that lead to the answer first, then the answer.", "after"),
    ("Think it through and show each step.", "before"),
    ("Work it out step by step.", "after"),
)


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return fmt


def zero_shot(spec: DatasetSpec, fields: Mapping[str, Any], template_id: int) -> Rendered:
    """The example through template `template_id`."""
    return spec.render(fields, template_id)


def without_options(spec: DatasetSpec, fields: Mapping[str, Any], template_id: int) -> Rendered:
    """The example through template `template_id` with no options list in its inputs (neither
    the OPTIONS suffix nor an `{options}` placeholder's list; the blank lines left where the
    list stood are dropped); the answer choices stay with the example, so rank classification
    still scores them. An instruction that mentions the options ("Choose one of the
    options.") keeps its words. The ablation of the paper's shared answer spaces (chapter 10)."""
    plain = render(spec.templates[template_id], fields, ())
    return Rendered(plain.inputs.rstrip(), plain.targets, spec.render(fields, template_id).options)


def _exemplar_text(rendered: Rendered) -> str:
    return f"{rendered.inputs}{INPUT_TARGET_DELIMITER}{rendered.targets}"


def select_exemplars(spec: DatasetSpec, fields: Mapping[str, Any], template_id: int,
                     pool: Sequence[Mapping[str, Any]], k: int, seed: int = 0) -> list[Rendered]:
    """Up to `k` exemplars from `pool` rendered with the same template, never the evaluated
    example (neither the same fields nor the same rendered inputs). The draw is seeded by
    `seed` and the example, so each example gets its own exemplars, reproducibly."""
    target = spec.render(fields, template_id)
    rng = random.Random(f"{seed}\0{spec.name}\0{template_id}\0{target.inputs}")
    chosen: list[Rendered] = []
    for index in _draw_order(rng, len(pool), 4 * k + 8):
        if len(chosen) == k:
            break
        candidate = pool[index]
        if dict(candidate) == dict(fields):
            continue
        rendered = spec.render(candidate, template_id)
        if rendered.inputs != target.inputs:
            chosen.append(rendered)
    return chosen


def _draw_order(rng: random.Random, n: int, first: int) -> Iterator[int]:
    """Pool indices in random order: a short draw first, the rest only if it runs out
    (a 30k-example pool is not shuffled for every evaluated example)."""
    first_draw = rng.sample(range(n), min(n, first))
    yield from first_draw
    if len(first_draw) < n:
        seen = set(first_draw)
        yield from (i for i in rng.sample(range(n), n) if i not in seen)


def few_shot(spec: DatasetSpec, fields: Mapping[str, Any], template_id: int,
             pool: Sequence[Mapping[str, Any]], *, k: int,
             count_tokens: Callable[[str], int], max_input_tokens: int,
             seed: int = 0) -> Rendered:
    """`k` exemplars from `pool` (the training split), then the example, all through template
    `template_id`; exemplars are dropped from the end until `count_tokens(inputs)` is at most
    `max_input_tokens` (with none left, this is the zero-shot prompt)."""
    return _few_shot(spec, fields, template_id, pool, k, count_tokens, max_input_tokens,
                     seed)[0]


def _few_shot(spec, fields, template_id, pool, k, count_tokens, max_input_tokens,
              seed) -> tuple[Rendered, int]:
    """The few-shot prompt and how many exemplars it kept."""
    if k < 0 or max_input_tokens < 1:
        raise UserError(f"few-shot needs k >= 0 and max_input_tokens >= 1 "
                        f"(got k={k}, max_input_tokens={max_input_tokens})")
    target = spec.render(fields, template_id)
    parts = [_exemplar_text(r) for r in select_exemplars(spec, fields, template_id, pool, k, seed)]
    while parts:
        inputs = EXEMPLAR_DELIMITER.join([*parts, target.inputs])
        if count_tokens(inputs) <= max_input_tokens:
            return Rendered(inputs=inputs, targets=target.targets,
                            options=target.options), len(parts)
        parts.pop()
    return target, 0


def chain_of_thought(spec: DatasetSpec, fields: Mapping[str, Any], template_id: int,
                     trigger: bool = False) -> Rendered:
    """The example through template `template_id`, asking for the reasoning: wrapped in a CoT
    instruction, or (`trigger`) followed by COT_TRIGGER; the target is the rationale and the
    answer. A UserError when the dataset has no rationales."""
    if RATIONALE_FIELD not in fields:
        raise UserError(f"{spec.name} has no chain-of-thought rationales (no "
                        f"{RATIONALE_FIELD!r} field): the CoT formats apply to TinyWorld's "
                        f"twc_* datasets only")
    direct = spec.render(fields, template_id)
    if trigger:
        inputs = f"{direct.inputs}\n{COT_TRIGGER}"
    else:
        instruction, where = COT_INSTRUCTIONS[template_id % len(COT_INSTRUCTIONS)]
        if where == "after" and not direct.inputs.rstrip().endswith(":"):
            inputs = f"{direct.inputs}\n{instruction}"
        else:
            inputs = f"{instruction}\n{direct.inputs}"
    return Rendered(inputs=inputs, targets=cot_target(fields[RATIONALE_FIELD], direct.targets))


def cot_target(rationale: str, answer: str) -> str:
    """The target of a CoT prompt: the rationale, then "So the answer is <answer>."."""
    return f"{rationale} So the answer is {answer}."


def raw_field_names(spec: DatasetSpec) -> list[str]:
    """The input fields of the dataset's first template, in the order it reads them."""
    first = spec.templates[0]
    if first.turned_around:
        raise UserError(f"{spec.name}: template 0 is turned around; the raw formats need the "
                        f"task's own direction first")
    names = [name for _, name, _, _ in string.Formatter().parse(first.inputs) if name]
    return [name for name in dict.fromkeys(names) if name != OPTIONS_FIELD]


def no_template(spec: DatasetSpec, fields: Mapping[str, Any]) -> Rendered:
    """Figure 8's "no template": the raw input fields, one per line, no instruction."""
    raw = Template(inputs="\n".join(f"{{{name}}}" for name in raw_field_names(spec)),
                   targets=spec.templates[0].targets)
    return render(raw, fields, spec.example_options(fields))


def dataset_title(spec: DatasetSpec) -> str:
    """The display name of a dataset (the paper's Figure 3 name for the TFDS collection)."""
    return collection_title(spec.name)


def dataset_prefix(spec: DatasetSpec) -> str:
    """'[<Cluster>: <dataset>]', the prefix of Figure 8's dataset-name format."""
    return f"[{CLUSTERS.get(spec.cluster, spec.cluster)}: {dataset_title(spec)}]"


def dataset_name(spec: DatasetSpec, fields: Mapping[str, Any]) -> Rendered:
    """Figure 8's "dataset name": the raw fields after the task and dataset name."""
    raw = no_template(spec, fields)
    return Rendered(inputs=f"{dataset_prefix(spec)} {raw.inputs}", targets=raw.targets,
                    options=raw.options)


@dataclasses.dataclass
class TokenBudget:
    """How few-shot prompts are measured (`count_tokens`, in `unit`) and their limit. It also
    counts the prompts it measured and those over the limit even without exemplars."""

    count_tokens: Callable[[str], int]
    max_input_tokens: int
    unit: str = "tokens"
    prompts: int = 0
    over_budget: int = 0
    exemplars_asked: int = 0  # k per prompt, summed
    exemplars_kept: int = 0  # exemplars left after pruning, summed

    def few_shot(self, spec: DatasetSpec, fields: Mapping[str, Any], template_id: int,
                 pool: Sequence[Mapping[str, Any]], k: int, seed: int = 0) -> Rendered:
        """`few_shot` within this budget, counting an example that does not fit alone."""
        rendered, kept = _few_shot(spec, fields, template_id, pool, k, self.count_tokens,
                                   self.max_input_tokens, seed)
        self.prompts += 1
        self.exemplars_asked += k
        self.exemplars_kept += kept
        if not kept and self.count_tokens(rendered.inputs) > self.max_input_tokens:
            self.over_budget += 1
        return rendered

    def warning(self) -> str | None:
        """One line for stderr when some prompts are over the limit, else None."""
        if not self.over_budget:
            return None
        return (f"{self.over_budget} of {self.prompts} examples do not fit in "
                f"{self.max_input_tokens} {self.unit} even without exemplars: their prompts are "
                f"zero-shot and longer than that (nothing is cut)")


def few_shot_label(k: int) -> str:
    """The evaluation-format label of few-shot prompts with `k` exemplars, e.g. "few-shot-4"
    (zero exemplars is the zero-shot format)."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 0:
        raise UserError(f"few-shot k must be an integer >= 0, got {k!r}")
    return "zero-shot" if k == 0 else f"few-shot-{k}"


def parse_eval_format(label: str) -> tuple[str, int]:
    """(format, k) of an evaluation-format label: "few-shot-4" -> ("few-shot", 4); any other
    label is one of FORMATS or COT_FORMATS with k = 0."""
    if label.startswith("few-shot-") and label[len("few-shot-"):].isdigit():
        k = int(label[len("few-shot-"):])
        if k >= 1:
            return "few-shot", k
    if label == "few-shot":
        raise UserError("the few-shot evaluation format needs its k: write few-shot-K, "
                        "e.g. few-shot-4")
    return (label if label in COT_FORMATS else check_format(label)), 0


def render_format(fmt: str, spec: DatasetSpec, fields: Mapping[str, Any], template_id: int = 0,
                  *, pool: Sequence[Mapping[str, Any]] = (), k: int = 0,
                  budget: TokenBudget | None = None, seed: int = 0) -> Rendered:
    """One example in format `fmt` (one of FORMATS, or of COT_FORMATS); the few-shot arguments
    are used only by "few-shot", which needs a `budget` (there is no tokenizer-free default
    length)."""
    if fmt in COT_FORMATS:
        return chain_of_thought(spec, fields, template_id, trigger=fmt == "cot-trigger")
    check_format(fmt)
    if fmt == "zero-shot":
        return zero_shot(spec, fields, template_id)
    if fmt == "few-shot":
        if budget is None:
            raise ValueError("the few-shot format needs a TokenBudget")
        return budget.few_shot(spec, fields, template_id, pool, k, seed)
    if fmt == "no-template":
        return no_template(spec, fields)
    return dataset_name(spec, fields)


def count_words(text: str) -> int:
    """A tokenizer-free length: whitespace-separated words."""
    return len(text.split())


TOKEN_COUNTERS = ("sentencepiece", "words")


def token_counter(kind: str = "words", *, vocab_size: int = 2000, size: str = "book",
                  seed: int = 0) -> Callable[[str], int]:
    """A `count_tokens` function: whitespace words, or the SentencePiece model trained on the
    TinyWorld corpus (chapter 02's, cached; the first call builds the corpus)."""
    if kind not in TOKEN_COUNTERS:
        raise UserError(f"unknown token counter {kind!r}: choose one of "
                        f"{', '.join(TOKEN_COUNTERS)}")
    if kind == "words":
        return count_words

    tokenizer = tinyworld_tokenizer(vocab_size=vocab_size, size=size, seed=seed)
    return lambda text: len(tokenizer.encode(text))


def load_sentencepiece(path: str):
    """`--tokenizer PATH`: a SentencePiece model file, or a run (or its checkpoints folder),
    which keeps its model's tokenizer as `checkpoints/tokenizer.model`."""
    try:
        return load_tokenizer(path)
    except UserError as err:
        raise UserError(f"--tokenizer {path!r}: {err}") from None


TOKENIZER_HELP = ("how few-shot prompts are counted: a SentencePiece model file or a run folder "
                  "(e.g. runs/<run>/checkpoints/tokenizer.model), or 'words'; default: the "
                  "book's TinyWorld tokenizer (2000 pieces, of --size/--seed) for TinyWorld; "
                  "required for TFDS data, where no default would count right (give the "
                  "tokenizer of the model to evaluate)")


def command_line_budget(tokenizer: str | None, max_input_tokens: int, *, tfds: bool,
                        size: str = "book", seed: int = 0) -> TokenBudget:
    """The few-shot budget of `show` and `export` from their `--tokenizer` and
    `--max-input-tokens` (see TOKENIZER_HELP); `tfds`: the data includes TFDS datasets."""
    if max_input_tokens < 1:
        raise UserError(f"--max-input-tokens must be >= 1, got {max_input_tokens}")
    if tokenizer == "words":
        return TokenBudget(token_counter("words"), max_input_tokens, unit="words")
    if tokenizer:
        encode = load_sentencepiece(tokenizer).encode
        return TokenBudget(lambda text: len(encode(text)), max_input_tokens)
    if tfds:
        # No default for real data: the TinyWorld tokenizer cuts real text into far more pieces
        # than a model tuned on it would, and words undercount SentencePiece tokens, so either
        # would prune to the wrong length without a word. Only the user knows the tokenizer of
        # the model to evaluate; `words` stays available as an explicit choice.
        raise UserError("few-shot on TFDS data needs --tokenizer: the SentencePiece model of "
                        "the model to evaluate (e.g. runs/<run>/checkpoints/tokenizer.model), "
                        "or 'words' to count whitespace words")
    return TokenBudget(token_counter("sentencepiece", size=size, seed=seed), max_input_tokens)


def shots_kept(spec: DatasetSpec, examples: Sequence[Mapping[str, Any]],
               pool: Sequence[Mapping[str, Any]], template_id: int, k: int,
               budgets: Sequence[int], count_tokens: Callable[[str], int],
               seed: int = 0) -> dict[int, float]:
    """Budget -> the mean number of exemplars few-shot keeps over `examples` (pruning at work)."""
    kept = {}
    for budget in budgets:
        used = [_few_shot(spec, fields, template_id, pool, k, count_tokens, budget, seed)[1]
                for fields in examples]
        kept[int(budget)] = sum(used) / len(used)
    return kept
