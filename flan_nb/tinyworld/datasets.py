"""TinyWorld's datasets: one per row of `TW_DATASETS`, registered in `flan_nb.tasks`.

`flan_nb.tinyworld.source` registers every `tw_*` dataset (this module only makes them), with
its 10 templates from `flan_nb.tinyworld.prompts`. `generate_datasets(world, split_sizes)` makes
the examples: per dataset one seeded stream, splits filled in the order test, validation, train
(so the test set does not change when the training set grows), labels drawn in turn so every
split is balanced, and an example whose inputs were already drawn in any split drawn again (so
splits are disjoint).

Training splits differ in size the way the real datasets do. Each row names the training size of
the real dataset it mirrors (TFDS's `train` split); `train_size` scales the part of it that the
paper tunes on (at most 30,000 examples) down by the world size's `scale` (book: 30, so the
paper's 30,000 become 1,000 and its 3,000 rate cap becomes 100). Validation and test splits keep
one size for every dataset, so evaluation is equally precise everywhere.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Mapping

import flan_nb.tinyworld.generators as gen
from flan_nb.tinyworld.world import PAPER_MAX_EXAMPLES, SizeSpec, World, rng_for

SPLIT_ORDER = ("test", "validation", "train")
MAX_FAILED_DRAWS = 5000  # consecutive draws without a new example before a split stops short


@dataclasses.dataclass(frozen=True)
class TWDataset:
    """How to make one TinyWorld dataset and which real dataset it mirrors."""

    name: str
    cluster: str
    make: Callable
    input_fields: tuple[str, ...]  # what the model reads (the "no template" input)
    mirrors: str
    # Training examples of the real dataset it stands for (the first `mirrors` names), from the
    # TFDS catalog's `train` split (WMT-16: EN-DE; Fix Punctuation: ParaCrawl EN-ES pairs).
    real_train: int
    options: tuple[str, ...] = ()  # fixed answer options (classification)
    num_choices: int = 0  # per-example options (multiple choice)
    metric: str = "accuracy"
    hypothesis_field: str | None = None  # for the hypothesis-only probe

    @property
    def kind(self) -> str:
        return "classification" if self.options or self.num_choices else "generation"

    @property
    def num_labels(self) -> int:
        return len(self.options) or self.num_choices

    def key(self, example: dict) -> str:
        return "\x1f".join(str(example[f]) for f in self.input_fields)


def train_size(spec: TWDataset, size: SizeSpec) -> int:
    """Training examples of `spec` at `size`: min(real, 30,000) / size.scale, rounded to whole
    rounds of labels (so the split is exactly balanced), at least two rounds and 4 examples."""
    scaled = min(spec.real_train, PAPER_MAX_EXAMPLES) / size.scale
    step = spec.num_labels or 1
    return max(step * round(scaled / step), 2 * step, 4)


_D = TWDataset
TW_DATASETS: tuple[TWDataset, ...] = (
    _D("tw_nli", "nli", gen.nli, ("premise", "hypothesis"), "MNLI / SNLI", 392_702,
       options=gen.NLI_OPTIONS, hypothesis_field="hypothesis"),
    _D("tw_rte", "nli", gen.rte, ("premise", "hypothesis"), "RTE", 2_490, options=gen.YES_NO,
       hypothesis_field="hypothesis"),
    _D("tw_qnli", "nli", gen.qnli, ("question", "sentence"), "QNLI", 104_743,
       options=gen.YES_NO, hypothesis_field="sentence"),
    _D("tw_copa", "commonsense", gen.copa, ("premise", "question"), "COPA", 400, num_choices=2),
    _D("tw_swag", "commonsense", gen.swag, ("context",), "HellaSwag", 39_905, num_choices=4),
    _D("tw_reviews", "sentiment", gen.reviews, ("text",), "IMDB / Yelp", 25_000,
       options=gen.SENTIMENT),
    _D("tw_tweets", "sentiment", gen.tweets, ("text",), "Sentiment140", 1_600_000,
       options=gen.SENTIMENT),
    _D("tw_sst2", "sentiment", gen.sst2, ("sentence",), "SST-2", 67_349, options=gen.SENTIMENT),
    _D("tw_mrpc", "paraphrase", gen.mrpc, ("sentence1", "sentence2"), "MRPC / QQP", 3_668,
       options=gen.YES_NO),
    _D("tw_paws", "paraphrase", gen.paws, ("sentence1", "sentence2"), "PAWS", 49_401,
       options=gen.YES_NO),
    _D("tw_trivia_qa", "closed_book_qa", gen.trivia_qa, ("question",),
       "TriviaQA / Natural Questions", 138_384, metric="exact_match"),
    _D("tw_arc", "closed_book_qa", gen.arc, ("question",), "ARC", 3_370, num_choices=4),
    _D("tw_webnlg", "struct_to_text", gen.webnlg, ("triples",), "WebNLG / DART", 35_426,
       metric="rouge"),
    _D("tw_e2e", "struct_to_text", gen.e2e, ("meaning_representation",), "E2E NLG", 33_525,
       metric="rouge"),
    _D("tw_commongen", "struct_to_text", gen.commongen, ("concepts",), "CommonGen", 67_389,
       metric="rouge"),
    _D("tw_translate_en_ve", "translation", gen.translate, ("english",),
       "WMT-16 (English to Velan)", 4_548_885, metric="bleu"),
    _D("tw_translate_ve_en", "translation", gen.translate, ("velan",),
       "WMT-16 (Velan to English)", 4_548_885, metric="bleu"),
    _D("tw_boolq", "reading_comprehension", gen.boolq, ("passage", "question"), "BoolQ", 9_427,
       options=gen.YES_NO),
    _D("tw_squad", "reading_comprehension", gen.squad, ("context", "question"), "SQuAD v1",
       87_599, metric="f1"),
    _D("tw_drop", "reading_comprehension", gen.drop, ("passage", "question"), "DROP", 77_409,
       metric="f1"),
    _D("tw_cosmos_qa", "reading_comprehension_with_commonsense", gen.cosmos_qa,
       ("context", "question"), "CosmosQA", 25_262, num_choices=4),
    _D("tw_record", "reading_comprehension_with_commonsense", gen.record, ("passage", "query"),
       "ReCoRD", 100_730, num_choices=3),
    _D("tw_winogrande", "coreference", gen.winogrande, ("sentence",), "Winogrande", 40_398,
       num_choices=2),
    _D("tw_wsc", "coreference", gen.wsc, ("text", "candidate"), "DPR / WSC273", 1_322,
       options=gen.YES_NO),
    _D("tw_fix_punct", "misc", gen.fix_punctuation, ("text",), "Fix Punctuation (ParaCrawl)",
       21_987_267, metric="rouge"),
    _D("tw_trec", "misc", gen.trec, ("question",), "TREC", 5_452, options=gen.TREC_TYPES),
    _D("tw_cola", "misc", gen.cola, ("sentence",), "CoLA", 8_551, options=gen.YES_NO),
    _D("tw_math", "misc", gen.math, ("question",), "Math (algebra, arithmetic)", 1_999_998,
       metric="exact_match"),
    _D("tw_news", "summarization", gen.news, ("article",), "XSum / CNN-DM", 203_577,
       metric="rouge"),
    _D("tw_dialogsum", "summarization", gen.dialogsum, ("dialogue",), "SAMSum", 14_732,
       metric="rouge"),
    _D("tw_ag_news", "summarization", gen.ag_news, ("text",), "AG News", 120_000,
       options=gen.TOPICS),
)
BY_NAME = {d.name: d for d in TW_DATASETS}


def generate_dataset(world: World, spec: TWDataset, split_sizes: dict[str, int],
                     seen: set | None = None) -> dict[str, list[dict]]:
    """The splits of one dataset: balanced labels, no inputs shared between splits."""
    rng = rng_for(world.seed, world.size, f"dataset/{spec.name}")
    g = gen.Gen(world, rng)
    seen = set() if seen is None else seen
    out = {}
    for split in SPLIT_ORDER:
        wanted, examples, failures = split_sizes.get(split, 0), [], 0
        while len(examples) < wanted and failures < MAX_FAILED_DRAWS:
            label = len(examples) % spec.num_labels if spec.num_labels else None
            example = spec.make(g, label, split)
            key = None if example is None else spec.key(example)
            if example is None or key in seen:
                failures += 1
                continue
            failures = 0
            seen.add(key)
            examples.append(example)
        if failures and spec.num_labels:  # stopped short: keep whole rounds of labels
            examples = examples[: len(examples) - len(examples) % spec.num_labels]
        rng.shuffle(examples)
        out[split] = examples
    return {split: out[split] for split in ("train", "validation", "test")}


def split_sizes_of(size: SizeSpec, overrides: Mapping[str, int] | None = None
                   ) -> dict[str, dict[str, int]]:
    """name -> split -> examples asked for at `size`: `train_size` per dataset, the size's
    validation and test sizes; `overrides` (split -> count) sets a split alike for every dataset."""
    overrides = overrides or {}
    return {spec.name: {"train": overrides.get("train", train_size(spec, size)),
                        "validation": overrides.get("validation", size.validation),
                        "test": overrides.get("test", size.test)}
            for spec in TW_DATASETS}


def generate_datasets(world: World, split_sizes: Mapping[str, int] | None = None,
                      per_dataset: Mapping[str, Mapping[str, int]] | None = None,
                      ) -> dict[str, dict[str, list]]:
    """Every TinyWorld dataset of `world`: name -> split -> examples.

    `per_dataset` (name -> split -> count, see `split_sizes_of`) wins; otherwise `split_sizes`
    (split -> count) applies to every dataset.
    """
    return {spec.name: generate_dataset(world, spec, (per_dataset or {}).get(spec.name)
                                        or split_sizes or {})
            for spec in TW_DATASETS}

