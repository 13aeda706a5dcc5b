"""Loading the paper's datasets from TFDS, without TensorFlow wherever TFDS allows it.

TFDS (the `tfds` extra: `pip install -e '.[tfds]'`) is imported only when data is loaded, so
the default install never needs it. Reading uses TFDS's random-access data sources, which need no
TensorFlow, on data prepared in the `array_record` format:
1. a prepared dataset folder (`<data_dir>/<builder>/<config>/<version>`) is opened from its own
   metadata (`tfds.builder_from_directory`), so even builders whose code imports TensorFlow
   (SuperGLUE's) read without it; data prepared only as TFRecord is read with `tfds.load`, which
   needs TensorFlow;
2. otherwise `tfds.data_source` is asked, which is what `tfds.testing.mock_data` answers in tests;
   when the data is missing the error says which command prepares it. `check_prepared` looks
   for every dataset a command needs first, so one message names all the missing ones.
A dataset made of several TFDS configs (ANLI r1-r3, ARC, SQuAD) interleaves their examples, so a
cap on the number of examples takes from each.
Most of the collection has no labelled test split (SuperGLUE's and GLUE's test labels are
private; the paper reports their dev sets). For those, our "validation" and "test" are the two
halves of the labelled dev split (`DEV_HALVES`): the evaluation picks templates on one and reports
the other, and the two never share an example.

TFDS is one source of `flan_nb.tasks` (`SOURCE`: its loader, `load_split`, and its check,
`check_prepared`, registered by `flan_nb.sources`); `TFDSDatasetSpec` holds what only TFDS
datasets have (TFDS names, split mapping, feature mapping, manual download), and
`flan_nb.collection` makes the paper's 62 datasets' specs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import io
import json
import logging
import os
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from flan_nb import tasks
from flan_nb.errors import UserError
from flan_nb.paths import as_path

NAME = "tfds"
INSTALL_HINT = "pip install -e '.[tfds]'"
# TFDS modules whose import registers the text builders the collection needs (TFDS imports
# them lazily, so a name like "glue" is unknown until they are imported).
_BUILDER_MODULES = ("text", "question_answering", "summarization", "translate")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TFDSDatasetSpec(tasks.DatasetSpec):
    """A dataset read from TFDS: the registry's spec plus where TFDS keeps it."""

    # "builder/config:version"; a tuple when one dataset spans several configs (ANLI r1-r3)
    tfds_name: str | tuple[str, ...]
    to_fields: Callable[[Mapping[str, Any]], dict | None]  # TFDS features -> fields (None: skip)
    splits: Mapping[str, str] = dataclasses.field(default_factory=dict)  # ours -> TFDS split
    manual_download: str | None = None  # where to get the files TFDS cannot download itself


def import_tfds():
    """`tensorflow_datasets` with its text builders registered; a UserError when missing."""
    try:
        tfds = importlib.import_module("tensorflow_datasets")
    except ModuleNotFoundError as err:
        if err.name and err.name.split(".")[0] != "tensorflow_datasets":
            raise
        raise UserError(f"TFDS data needs tensorflow_datasets, which is not installed: run "
                        f"`{INSTALL_HINT}` (TinyWorld data needs nothing more)") from None
    for module in _BUILDER_MODULES:
        importlib.import_module(f"tensorflow_datasets.{module}")
    return tfds


def tfds_names(spec: TFDSDatasetSpec) -> tuple[str, ...]:
    """The TFDS names ("builder/config:version") a dataset reads, one or several."""
    if not isinstance(spec, TFDSDatasetSpec):
        raise UserError(f"{spec.name} is not a TFDS dataset (its source is {spec.source!r})")
    names = spec.tfds_name
    return (names,) if isinstance(names, str) else tuple(names)


# Our split -> which half of the dev split it reads, for a dataset without a labelled test
# split: an example's half is a stable hash of its fields (`dev_half_of`), not its position, so
# a split can be read with a limit without knowing its length, a dev split sorted by topic stays
# balanced, and an example that two configs share (SQuAD v1.1's questions in v2.0) lands in one
# half only.
DEV_HALVES = {"validation": 0, "test": 1}


def split_names(spec: TFDSDatasetSpec) -> tuple[str, ...]:
    """Our split names `spec` can be read with: its own, plus "test" (half of the dev split)
    when it has no test split of its own."""
    own = tuple(spec.splits)
    return own if "test" in own or "validation" not in own else (*own, "test")


def dev_half_of(fields: Mapping[str, Any]) -> int:
    """The half (0 or 1) of the dev split an example's fields belong to: a hash of their
    text, the same on every machine and in every run."""
    text = json.dumps(dict(fields), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).digest()[0] % 2


def dev_half(spec: TFDSDatasetSpec, split: str) -> int | None:
    """Which half (`dev_half_of`) of the dev split our split `split` reads, for a dataset whose
    dev split stands in for validation and test; None when the split is read whole."""
    if "test" in spec.splits or "validation" not in spec.splits:
        return None
    return DEV_HALVES.get(split)


def tfds_split(spec: TFDSDatasetSpec, split: str) -> str:
    """The TFDS split (TFDS syntax: "a+b", "train[:2000]") behind our split name."""
    if split not in split_names(spec):
        raise UserError(f"{spec.name} has no split {split!r}: choose one of "
                        f"{', '.join(split_names(spec))}")
    return spec.splits["validation" if dev_half(spec, split) is not None else split]


def default_data_dir() -> Path:
    """TFDS's data folder: `$TFDS_DATA_DIR`, else ~/tensorflow_datasets (as TFDS decides)."""
    return data_folder(None)


def data_folder(data_dir: str | os.PathLike | None):
    """The TFDS data folder to use: `data_dir`, else TFDS's default; local or a bucket (gs://,
    as on TPU VMs)."""
    return as_path(data_dir or os.environ.get("TFDS_DATA_DIR") or
                   "~/tensorflow_datasets").expanduser()


def dataset_dir(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Where TFDS keeps the prepared data of `name` ("builder/config:version")."""
    base, _, version = name.partition(":")
    path = data_folder(data_dir).joinpath(*base.split("/"))
    if version:
        return path / version
    versions = sorted((p for p in path.glob("*.*.*") if p.is_dir()),
                      key=lambda p: tuple(int(x) for x in p.name.split(".") if x.isdigit()))
    return versions[-1] if versions else path / "<version>"


def _install_prefix() -> str:
    """`pip install ... && ` when tensorflow_datasets cannot be imported (`tfds build` is its
    command), else nothing."""
    try:
        importlib.import_module("tensorflow_datasets")
    except ImportError:
        return f"{INSTALL_HINT} && "
    return ""


def build_command(names: Sequence[str], data_dir: str | os.PathLike | None = None) -> str:
    """The one `tfds build` command line that prepares the TFDS names ("builder/config:version")
    `names` in the array_record format `load_split` reads without TensorFlow."""
    folder = str(data_folder(data_dir))
    builders = " ".join(dict.fromkeys(name.split(":")[0] for name in names))
    return (f"{_install_prefix()}tfds build {builders} --data_dir {folder} "
            f"--file_format array_record")


def prepare_command(spec: TFDSDatasetSpec, data_dir: str | os.PathLike | None = None) -> str:
    """The shell command that downloads and prepares a dataset for `load_split`."""
    return build_command(tfds_names(spec), data_dir)


def manual_text(spec: TFDSDatasetSpec, data_dir: str | os.PathLike | None = None) -> str:
    """How to prepare a dataset TFDS cannot download itself: where to get its files, where to
    put them, and the `tfds build` command (array_record, what `load_split` reads)."""
    folder = str(data_folder(data_dir))
    manual = f"{folder}/downloads/manual"
    return (f"{tfds_names(spec)[0].split(':')[0]} needs a manual download: "
            f"{spec.manual_download}, put the files in {manual}/, then run "
            f"`{build_command(tfds_names(spec), data_dir)} --manual_dir {manual}`")


def missing_data_message(missing: Sequence[tuple[TFDSDatasetSpec, Sequence[str]]],
                         data_dir: str | os.PathLike | None = None) -> str:
    """One message for every (dataset, its missing TFDS names) pair: where the data was looked
    for, one `tfds build` line for all those TFDS downloads itself, and the manual steps."""
    folder = str(data_folder(data_dir))
    base = data_folder(data_dir)
    looked = ", ".join(str(dataset_dir(n, data_dir).relative_to(base))
                       for _, names in missing for n in names)
    how = []
    auto = [(spec, names) for spec, names in missing if not spec.manual_download]
    if auto:
        them = "it" if len(auto) == 1 else "them"
        command = build_command([name for _, names in auto for name in names], data_dir)
        how.append(f"prepare {them} with `{command}` (TFDS downloads {them}; some builders "
                   f"need TensorFlow to prepare: pip install tensorflow)")
    how += [manual_text(spec, data_dir) for spec, _ in missing if spec.manual_download]
    what = ", ".join(spec.name for spec, _ in missing)
    return f"TFDS data is not prepared for {what} (looked for {looked} in {folder}): " + \
        "; ".join(how)


def _is_prepared(path: Path) -> bool:
    return (path / "dataset_info.json").is_file()


@contextlib.contextmanager
def _quiet():
    """Hide what TFDS says while it looks for data: absl warnings ("Variant folder ... has no
    dataset_info.json") and the banner it prints on stdout when a builder's code wants
    TensorFlow. Missing data is reported by our own message, and stdout may carry JSON."""
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logger.setLevel(level)


def _data_source(tfds, name: str, split: str, data_dir: str | os.PathLike | None):
    """TFDS's own data source for `name` (what `tfds.testing.mock_data` answers), or None when
    the data is missing (TFDS's error for it is about file formats; ours is clearer)."""
    try:
        with _quiet():
            return tfds.data_source(name, split=split, data_dir=data_dir, download=False)
    except Exception:  # noqa: BLE001 - TFDS raises several types for missing data
        return None


def _open(tfds, spec: TFDSDatasetSpec, name: str, split: str,
          data_dir: str | os.PathLike | None) -> Sequence[Any] | None:
    """A random-access sequence of feature dicts for one TFDS name and split; None if missing."""
    path = dataset_dir(name, data_dir)
    if _is_prepared(path):
        builder = tfds.builder_from_directory(str(path))
        formats = {str(getattr(f, "value", f)) for f in
                   [builder.info.file_format, *getattr(builder.info, "alternative_file_formats",
                                                       [])] if f}
        if formats & {"array_record", "parquet"}:
            return builder.as_data_source(split=split)
        try:  # TFRecord only: readable through tf.data, which needs TensorFlow
            importlib.import_module("tensorflow")
        except ModuleNotFoundError:
            raise UserError(
                f"{name} is prepared as TFRecord in {path}, which only TensorFlow reads: "
                f"`pip install tensorflow`, or prepare it again with `--file_format "
                f"array_record` ({prepare_command(spec, data_dir)})") from None
        return list(tfds.as_numpy(builder.as_dataset(split=split)))
    return _data_source(tfds, name, split, data_dir)


def check_prepared(specs: Sequence[TFDSDatasetSpec], splits: Sequence[str],
                   data_dir: str | os.PathLike | None = None) -> None:
    """A UserError naming every dataset of `specs` whose TFDS data for one of `splits` (those
    it has) is missing (so a command that needs several says everything at once), else nothing."""
    tfds = import_tfds()
    missing = []
    for spec in specs:
        wanted = {tfds_split(spec, split) for split in splits if split in split_names(spec)}
        names = [name for name in tfds_names(spec)
                 if not _is_prepared(dataset_dir(name, data_dir))
                 and any(_data_source(tfds, name, split, data_dir) is None for split in wanted)]
        if names:
            missing.append((spec, names))
    if missing:
        raise UserError(missing_data_message(missing, data_dir))


def _interleave(sources: Sequence[Sequence[Any]]) -> Iterator[Any]:
    """Round robin over several sources (one example of each in turn)."""
    longest = max((len(s) for s in sources), default=0)
    for i in range(longest):
        for source in sources:
            if i < len(source):
                yield source[i]


def load_split(spec: TFDSDatasetSpec, split: str, data_dir: str | None = None,
               limit: int | None = None) -> list[dict]:
    """The examples (template fields) of one split of a TFDS dataset of the collection.

    At most `limit` examples, and for "train" at most the spec's cap (the paper's 30k) are
    read; examples `spec.to_fields` rejects (no label, no answer) are skipped. A dataset with
    no test split reads "validation" and "test" from the two halves of its dev split.
    """
    tfds_split_name = tfds_split(spec, split)
    half = dev_half(spec, split)
    if limit is not None and limit < 0:
        raise UserError(f"limit must be >= 0, got {limit}")
    cap = spec.max_train_examples if split == "train" else None
    wanted = min(x for x in (limit, cap) if x is not None) if (limit, cap) != (None, None) \
        else None
    tfds = import_tfds()
    sources = [_open(tfds, spec, name, tfds_split_name, data_dir) for name in tfds_names(spec)]
    missing = [name for name, source in zip(tfds_names(spec), sources) if source is None]
    if missing:
        raise UserError(missing_data_message([(spec, missing)], data_dir))
    examples: list[dict] = []
    for features in _interleave(sources):
        if wanted is not None and len(examples) >= wanted:
            break
        fields = spec.to_fields(features)
        if fields is not None and all(v is not None for v in fields.values()) and (
                half is None or dev_half_of(fields) == half):
            examples.append(fields)
    return examples


def _load(spec: TFDSDatasetSpec, split: str, *, seed: int = 0, size: str = "book",
          data_dir: str | None = None, limit: int | None = None) -> list[dict]:
    # `seed` and `size` choose TinyWorld's world; TFDS data is what it is.
    return load_split(spec, split, data_dir=data_dir, limit=limit)


# The TFDS source of `flan_nb.tasks` (`flan_nb.sources` registers it).
SOURCE = tasks.Source(NAME, _load, check=check_prepared)
