"""Instruction templates: from an example's fields to (inputs, targets, options) text.

Data path, stage 2 of 6: tasks -> **templates** (with `formats`, `splits`) -> tokenize ->
mixture/packing/pipeline -> model/train -> evaluate.

A template is a pair of `str.format` strings over the example's fields. Classification templates
get the paper's options suffix, the word OPTIONS followed by one dash-led line per answer, appended
to the inputs, or placed where the template writes `{options}`. A turned-around template (the
paper's "turn the task around", e.g. given a label, write a review) is a generation task and gets no
options.
"""

from __future__ import annotations

import dataclasses
import string
from typing import Any, Mapping, Sequence

from flan_nb.errors import UserError

OPTIONS_FIELD = "options"


@dataclasses.dataclass(frozen=True)
class Template:
    """One instruction phrasing of a dataset."""

    inputs: str
    targets: str
    turned_around: bool = False

    def placeholders(self) -> set[str]:
        """The field names this template reads (in inputs or targets)."""
        return placeholders(self.inputs) | placeholders(self.targets)


@dataclasses.dataclass(frozen=True)
class Rendered:
    """One example as the model sees it. `options` is empty for generation."""

    inputs: str
    targets: str
    options: tuple[str, ...] = ()


def placeholders(text: str) -> set[str]:
    """Names of the `{field}` placeholders in a format string."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def options_text(options: Sequence[str]) -> str:
    """The options block: 'OPTIONS:' and one '- option' line per answer."""
    return "OPTIONS:\n" + "\n".join(f"- {option}" for option in options)


def render(template: Template, fields: Mapping[str, Any],
           options: Sequence[str] = ()) -> Rendered:
    """Fill `template` with `fields`; `options` are the answer choices of a classification task."""
    missing = template.placeholders() - set(fields) - {OPTIONS_FIELD}
    if missing:
        raise UserError(f"template needs fields {sorted(missing)} that the example lacks "
                        f"(it has {sorted(fields)})")
    options = () if template.turned_around else tuple(str(o) for o in options)
    values = {k: v for k, v in fields.items() if k != OPTIONS_FIELD}
    values[OPTIONS_FIELD] = options_text(options) if options else ""
    inputs = template.inputs.format(**values)
    if options and OPTIONS_FIELD not in placeholders(template.inputs):
        inputs = f"{inputs}\n\n{options_text(options)}"
    targets = template.targets.format(**values)
    if options and targets not in options:
        raise UserError(f"target {targets!r} is not one of the options {list(options)}")
    return Rendered(inputs=inputs, targets=targets, options=options)
