"""Prompt formats: zero-shot, few-shot, and the two ablation formats of the paper's Figure 8.

Every format returns a `flan_nb.templates.Rendered` (inputs, targets, options), so tuning and
evaluation code does not care which one made it.
- zero-shot: the example through one template;
- few-shot: k exemplars from the training split, rendered with the same template, joined by
  fixed delimiters before the evaluated example; exemplars are dropped from the end until the
  prompt fits `max_input_tokens` as counted by any tokenizer's `count_tokens`;
- no template: only the raw input fields (those the dataset's first template reads, in its
  order), one per line;
- dataset name: the raw fields after a prefix naming the task and the dataset, e.g.
  "[Translation: WMT'16 EN/DE] The dog runs.".
Classification keeps its options suffix in every format: the options are the answer space that
rank classification scores, not part of the instruction being ablated.
"""

from __future__ import annotations

import random
import string
from typing import Any, Callable, Iterator, Mapping, Sequence

from flan_nb.errors import UserError
from flan_nb.tasks import CLUSTERS, DatasetSpec
from flan_nb.templates import OPTIONS_FIELD, Rendered, Template, render

FORMATS = ("zero-shot", "few-shot", "no-template", "dataset-name")
INPUT_TARGET_DELIMITER = "\n"  # between an exemplar's inputs and its target
EXEMPLAR_DELIMITER = "\n\n"  # between exemplars, and before the evaluated example


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return fmt


def zero_shot(spec: DatasetSpec, fields: Mapping[str, Any], template_id: int) -> Rendered:
    """The example through template `template_id`."""
    return spec.render(fields, template_id)


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
    if k < 0 or max_input_tokens < 1:
        raise UserError(f"few-shot needs k >= 0 and max_input_tokens >= 1 "
                        f"(got k={k}, max_input_tokens={max_input_tokens})")
    target = spec.render(fields, template_id)
    parts = [_exemplar_text(r) for r in select_exemplars(spec, fields, template_id, pool, k, seed)]
    while parts:
        inputs = EXEMPLAR_DELIMITER.join([*parts, target.inputs])
        if count_tokens(inputs) <= max_input_tokens:
            return Rendered(inputs=inputs, targets=target.targets, options=target.options)
        parts.pop()
    return target


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
    from flan_nb.collection._common import TITLES

    return TITLES.get(spec.name, spec.name)


def dataset_prefix(spec: DatasetSpec) -> str:
    """'[<Cluster>: <dataset>]', the prefix of Figure 8's dataset-name format."""
    return f"[{CLUSTERS[spec.cluster]}: {dataset_title(spec)}]"


def dataset_name(spec: DatasetSpec, fields: Mapping[str, Any]) -> Rendered:
    """Figure 8's "dataset name": the raw fields after the task and dataset name."""
    raw = no_template(spec, fields)
    return Rendered(inputs=f"{dataset_prefix(spec)} {raw.inputs}", targets=raw.targets,
                    options=raw.options)


def render_format(fmt: str, spec: DatasetSpec, fields: Mapping[str, Any], template_id: int = 0,
                  *, pool: Sequence[Mapping[str, Any]] = (), k: int = 0,
                  count_tokens: Callable[[str], int] | None = None,
                  max_input_tokens: int = 1024, seed: int = 0) -> Rendered:
    """One example in format `fmt` (one of FORMATS); the few-shot arguments are used only by
    "few-shot" (`count_tokens` defaults to counting whitespace-separated words)."""
    check_format(fmt)
    if fmt == "zero-shot":
        return zero_shot(spec, fields, template_id)
    if fmt == "few-shot":
        return few_shot(spec, fields, template_id, pool, k=k, seed=seed,
                        count_tokens=count_tokens or count_words,
                        max_input_tokens=max_input_tokens)
    if fmt == "no-template":
        return no_template(spec, fields)
    return dataset_name(spec, fields)


def count_words(text: str) -> int:
    """A tokenizer-free length: whitespace-separated words."""
    return len(text.split())
