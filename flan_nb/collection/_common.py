"""Shared helpers for the FLAN collection's cluster modules (the paper's 62 TFDS datasets).

Every cluster module registers its datasets with `tfds_spec(...)`, writes templates with `t(...)`
and `turned(...)`, and turns TFDS features into template fields with `text(...)` and `pick(...)`.
TFDS hands strings over as bytes (NumPy data sources) or str (mock data, tests); `text` takes
both.
The option tuples here are shared by several clusters so the model sees the same answer strings
across tasks (the design's lesson: shared options help transfer).

`to_fields` may return None for an example that cannot be used (no gold label, no answer); the
loader drops it. Every spec carries a hand-written `example`: a feature dict shaped exactly like
the TFDS builder's features (written for this project), so the mapping is tested without TFDS and
the book can show a realistic example without data.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from flan_nb.tasks import MAX_TRAIN_EXAMPLES
from flan_nb.templates import Template
from flan_nb.tfds_data import NAME as TFDS, TFDSDatasetSpec

# Our split name -> TFDS split name. "validation" is the labelled split we evaluate on.
TRAIN_VALIDATION: Mapping[str, str] = {"train": "train", "validation": "validation"}
TRAIN_VALIDATION_TEST: Mapping[str, str] = {"train": "train", "validation": "validation",
                                            "test": "test"}

# Answer options shared across clusters.
YES_NO: tuple[str, ...] = ("yes", "no")
NLI_OPTIONS: tuple[str, ...] = ("yes", "it is not possible to tell", "no")  # ent., neutral, contr.
TRUE_FALSE: tuple[str, ...] = ("true", "false")
POSITIVE_NEGATIVE: tuple[str, ...] = ("negative", "positive")  # index = TFDS label

# Dataset name -> hand-written TFDS-shaped feature dict (see `tfds_spec(example=...)`).
SAMPLE_FEATURES: dict[str, dict] = {}
# Every spec `tfds_spec` made, in the order the cluster modules made them.
SPECS: list[TFDSDatasetSpec] = []
# Dataset name -> the paper's display name (Figure 3), e.g. "ANLI (R1-R3)".
TITLES: dict[str, str] = {}


def t(inputs: str, targets: str) -> Template:
    """A template that asks the task the usual way round."""
    return Template(inputs=inputs, targets=targets)


def turned(inputs: str, targets: str) -> Template:
    """A template that turns the task around (e.g. given the label, write the text)."""
    return Template(inputs=inputs, targets=targets, turned_around=True)


def text(value: Any) -> str:
    """A TFDS string feature as clean `str` (bytes are decoded as UTF-8)."""
    if hasattr(value, "item") and not isinstance(value, (bytes, str)):
        value = value.item()  # NumPy scalars (np.bytes_, np.str_, 0-d arrays)
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return str(value).strip()


def texts(values: Any) -> list[str]:
    """A TFDS sequence of strings as a list of clean `str`."""
    return [text(v) for v in list(values)]


def pick(options: Sequence[str], index: Any) -> str | None:
    """The option a TFDS class label points at, or None for a negative label (TFDS marks
    unlabelled examples, e.g. GLUE test sets, with -1); a label past the options is an error."""
    i = int(index)
    if i < 0:
        return None
    if i >= len(options):
        raise ValueError(f"label {i} is outside the options {list(options)}")
    return options[i]


def manual_instructions(url: str, what: str) -> str:
    """Where to get the files of a dataset TFDS cannot download itself; `flan_nb.tfds_data`
    adds the folder to put them in and the `tfds build` command."""
    return f"get {what} from {url}"


def tfds_spec(
    name: str,
    cluster: str,
    *,
    tfds_name: str | tuple[str, ...],
    kind: str,
    metric: str,
    templates: Sequence[Template],
    to_fields: Callable[[Mapping[str, Any]], dict],
    splits: Mapping[str, str] = TRAIN_VALIDATION,
    options: Sequence[str] = (),
    manual_download: str | None = None,
    description: str = "",
    max_train_examples: int = MAX_TRAIN_EXAMPLES,
    example: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> TFDSDatasetSpec:
    """Build the spec of one TFDS dataset of the paper's collection and keep it in `SPECS`
    (`flan_nb.sources` registers them, in the order the cluster modules made them).

    `tfds_name` is `"builder/config:version"`, or a tuple of them for a dataset the paper counts
    once but TFDS stores as several configs (ANLI r1-r3, ARC easy/challenge, SQuAD v1.1/v2.0);
    their examples are concatenated in that order. `splits` maps our split names to TFDS split
    names; `"a+b"` concatenates TFDS splits (MNLI's matched and mismatched dev sets).
    `example` is one feature dict shaped like the builder's features (kept in SAMPLE_FEATURES);
    `title` is the paper's display name (kept in TITLES; default: the name).
    """
    if example is not None:
        SAMPLE_FEATURES[name] = dict(example)
    TITLES[name] = title or name
    spec = TFDSDatasetSpec(
        name=name, cluster=cluster, source=TFDS, kind=kind, templates=tuple(templates),
        metric=metric, options=tuple(options), description=description, tfds_name=tfds_name,
        splits=dict(splits), to_fields=to_fields, manual_download=manual_download,
        max_train_examples=max_train_examples,
    )
    SPECS.append(spec)
    return spec
