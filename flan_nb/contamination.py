"""Data contamination (the paper's Appendix C): which evaluation examples the pretraining corpus
already contains, and whether the scores change without them.

An evaluation example is *dirty* when any n-gram of its text occurs in the pretraining corpus.
Text is compared as words: lower-cased, every run of characters other than letters and digits
is one separator ("Naomi's bag." -> naomi s bag). An example's text is what the evaluation
templates put into the prompt and the target, field by field: each field the templates read
(passage, question, hypothesis, answer, ...) and each of the example's own answer options is
one segment, and n-grams never cross segments. The templates' own words ("Premise:", "OPTIONS")
are left out: they are the same for every example of a dataset, so they say nothing about
whether *this* example was seen.

Why n = 9 (`DEFAULT_NGRAM`): the GPT-3-style analysis the paper follows used 13-grams on long
web documents. TinyWorld's sentences are 3-9 words long and share their frames ("what is the
colour of ...", "... is a vet who cares for sick animals"), so a short n marks an example dirty
because the corpus states a *different* fact in the same frame. Measured on TinyWorld `book`
(seed 0) over every phrasing of every fact, statements and questions (`chapters.
ch14_data_contamination.frame_collisions` repeats it): 122 distinct 7-grams and one 8-gram (a
job's frame, "is a vet who cares for sick animals") belong to more than one fact; no 9-gram
does. So 9 is the shortest n at which a match means the corpus holds this example's own words,
not a shared frame. Segments shorter than n have no n-gram and cannot be checked (most
single-sentence questions); a passage's n-grams also span its sentences. The analysis reports
how many examples could be checked.

The detector streams: it builds the (small) set of the evaluation examples' n-grams and reads
the corpus once, document by document, testing each window for membership; the corpus's
n-grams are never held, so memory is bounded by the evaluation set, whatever the corpus size
(`read_corpus` streams text files line by line, a document a line, as notebook 07 reads them).
Reading stops early once every checkable example is dirty. Speed is pure Python: about 1.1M
corpus words a second on one core of this 2-core machine (TinyWorld `book`, 2.0M words, 1.8 s);
a paper-scale corpus is split into files, each process scans some of them with the same
examples, and an example is dirty if any process found it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from flan_nb import stats, tasks
from flan_nb.errors import UserError, require
from flan_nb.evaluate import eval_templates
from flan_nb.report import format_table
from flan_nb.stats import format_interval
from flan_nb.tokenize import load_corpus

DEFAULT_NGRAM = 9  # see the module docstring: the shortest n without cross-fact collisions
PAPER_NGRAM = 13  # the GPT-3-style analysis on web documents
PAPER_FINDING = ("only ReCoRD and PIQA drop by more than 1 point on the clean subset "
                 "(FLAN, Appendix C)")
PAPER_DROP_POINTS = 1.0  # the paper's reading: a drop of more than 1 point is worth naming
CLEAN_HIGHER, CLEAN_LOWER, NO_CHANGE = "clean higher", "clean lower", "no detectable change"
NO_DIRTY, TOO_FEW_CLEAN = "no dirty example", "under 2 clean examples"
NONE_CHECKABLE = "none checkable"  # every segment of every example is shorter than n
MIN_CLEAN = 2  # a clean mean from one example is that example, not a subset's score
MODELS = ("base", "tuned")
_SEPARATORS = re.compile(r"[^0-9a-z]+")
_OPTIONS_FIELD = "options"


# -- the detector ----------------------------------------------------------------------------

def words(text: str) -> list[str]:
    """Lower-cased words of `text`; punctuation and spaces are separators alike."""
    return _SEPARATORS.sub(" ", str(text).lower()).split()


def ngrams(tokens: Sequence[str], n: int) -> Iterator[tuple[str, ...]]:
    """Every run of `n` consecutive tokens (none when there are fewer than `n`)."""
    return zip(*(tokens[i:] for i in range(n)))


@dataclasses.dataclass(frozen=True)
class Match:
    """One evaluation example's verdict: dirty or not, the first n-gram found in the corpus and
    the index of the corpus document it was found in (None when clean)."""

    dirty: bool
    ngram: str | None = None
    document: int | None = None
    checkable: bool = True  # False: no segment has n words, so the example cannot be dirty


def longest_segment(examples: Iterable[Sequence[str]]) -> int:
    """Words in the longest segment of any example (the largest n that can match anything)."""
    return max((len(words(s)) for segments in examples for s in segments), default=0)


def check_ngram(n: Any, examples: Sequence[Sequence[str]] | None = None) -> int:
    """`n` checked: an integer >= 1 and, given the examples, no longer than their longest
    segment (otherwise no example has an n-gram and every one would come out clean)."""
    require(isinstance(n, int) and not isinstance(n, bool) and n >= 1,
            f"n-gram length must be an integer >= 1, got {n!r}")
    if examples is not None:
        longest = longest_segment(examples)
        require(n <= longest, f"n-gram length {n} is longer than every evaluation example "
                              f"(the longest has {longest} words): choose --ngram {longest} "
                              f"or less (the book uses {DEFAULT_NGRAM})")
    return n


def find_dirty(examples: Sequence[Sequence[str]], corpus: Iterable[str], n: int,
               ) -> list[Match]:
    """Per example (a sequence of text segments): is any of its n-grams in `corpus` (an
    iterable of documents, read once)? Memory: the examples' n-grams and the current document.
    """
    check_ngram(n, examples)
    owners: dict[tuple[str, ...], list[int]] = {}
    for i, segments in enumerate(examples):
        for segment in segments:
            for gram in ngrams(words(segment), n):
                owners.setdefault(gram, []).append(i)
    checkable = [False] * len(examples)
    for ids in owners.values():
        for i in ids:
            checkable[i] = True
    num_checkable = sum(checkable)
    found: dict[int, tuple[tuple[str, ...], int]] = {}
    for index, document in enumerate(corpus):
        for gram in ngrams(words(document), n):
            ids = owners.get(gram)
            if ids is None:
                continue
            for i in ids:
                found.setdefault(i, (gram, index))
            del owners[gram]  # every owner now has a match; no need to look for it again
        if len(found) == num_checkable:
            break  # every checkable example is dirty: the rest cannot change a verdict
    return [Match(True, " ".join(found[i][0]), found[i][1]) if i in found
            else Match(False, checkable=checkable[i]) for i in range(len(examples))]


def read_corpus(paths: Sequence[str | Path]) -> Iterator[str]:
    """Documents of text files, one per non-blank line, streamed (the format notebook 07
    reads with CORPUS=<file>). Check the paths with `check_corpus_paths` first."""
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.strip():
                    yield line


def check_corpus_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Every path an existing file, else one UserError naming the first missing one."""
    out = []
    for path in paths:
        p = Path(path).expanduser()
        require(p.is_file(), f"corpus file {str(path)!r} does not exist (give text files, one "
                             f"document a line)")
        out.append(p)
    return out


# -- evaluation examples ---------------------------------------------------------------------

def example_segments(dataset: str, example: Mapping[str, Any],
                     num_templates: int | None = None) -> list[str]:
    """The text an example contributes to its prompts and targets: each field that the
    dataset's evaluation templates read (in inputs or targets), and its own answer options."""
    spec = tasks.get(dataset)
    fields: list[str] = []
    for t in eval_templates(spec, num_templates):
        for name in sorted(spec.templates[t].placeholders()):
            if name != _OPTIONS_FIELD and name not in fields:
                fields.append(name)
    segments = []
    for name in fields + ([_OPTIONS_FIELD] if example.get(_OPTIONS_FIELD) else []):
        value = example.get(name)
        values = value if isinstance(value, (list, tuple)) else [value]
        segments += [str(v) for v in values if v is not None and str(v).strip()]
    return segments


def scored_examples(dataset: str, evaluation: Mapping[str, Any]) -> list[dict]:
    """The test examples a published document scored, in its order: what
    `flan_nb.evaluate.held_out_cells` loads for the document's evaluation section."""
    return tasks.load_examples(dataset, "test", seed=evaluation["seed"],
                               size=evaluation["size"], limit=evaluation["max_examples"])


# -- the corpus a published plan pretrained on -----------------------------------------------

PRETRAINING_NOTEBOOK = "07_pretraining"


def plan_corpora(document: Mapping[str, Any]) -> list[str]:
    """The corpora the plan's base runs pretrained on, as notebook 07's CORPUS parameter names
    them ("tinyworld/<size>@<seed>" for a generated one), without repeats."""
    evaluation = document["evaluation"]
    tuned_bases = {str(r["parameters"].get(evaluation["base_parameter"]))
                   for r in document["provenance"]["runs"]
                   if Path(r["notebook"]).stem == evaluation["tuning_notebook"]}
    corpora = []
    for r in document["provenance"]["runs"]:
        if r["name"] in tuned_bases or Path(r["notebook"]).stem == PRETRAINING_NOTEBOOK:
            params = r.get("parameters", {})
            corpus = str(params.get("CORPUS", f"tinyworld/{evaluation['size']}"))
            seed = params.get("SEED", evaluation["seed"])
            label = f"{corpus}@{seed}" if corpus.startswith("tinyworld/") else corpus
            if label not in corpora:
                corpora.append(label)
    return corpora or [f"tinyworld/{evaluation['size']}@{evaluation['seed']}"]


def stream_corpora(labels: Sequence[str]) -> Iterator[str]:
    """The documents of each corpus in `labels` (as `plan_corpora` names them), one after the
    other: TinyWorld's as notebook 07 builds it (`flan_nb.tokenize.load_corpus`), a file's
    streamed line by line."""
    for label in labels:
        if label.startswith("tinyworld/"):
            corpus, _, seed = label.partition("@")
            yield from load_corpus(corpus, seed=int(seed or 0))
        else:
            yield from read_corpus(check_corpus_paths([label]))


# -- the analysis of a published document ----------------------------------------------------

def check_document(document: Any, where: str = "the results document") -> None:
    """One UserError unless `document` has what the analysis reads."""
    ok = (isinstance(document, dict) and isinstance(document.get("evaluation"), dict)
          and isinstance(document.get("scores"), list)
          and isinstance(document.get("provenance"), dict)
          and isinstance(document["provenance"].get("runs"), list)
          and isinstance(document.get("datasets"), list))
    require(ok, f"{where} lacks evaluation, provenance.runs, datasets or scores: republish "
                f"it with `flan-nb batch PLAN --publish`")


def _runs_of(document: Mapping[str, Any], row: Mapping[str, Any]) -> tuple[list, list]:
    """(tuned runs, their distinct base runs) of one per-dataset row, chosen as
    `flan_nb.results.summarise` groups them: tuning runs holding out the row's cluster whose
    parameters match the row's setting."""
    ev = document["evaluation"]
    tuned, bases = [], []
    for r in document["provenance"]["runs"]:
        params = r.get("parameters", {})
        if (Path(r["notebook"]).stem == ev["tuning_notebook"]
                and params.get(ev["held_out_parameter"]) == row["cluster"]
                and all(str(params.get(k)) == str(v) for k, v in row["setting"].items())):
            tuned.append(r["name"])
            base = str(params.get(ev["base_parameter"]))
            if base not in bases:
                bases.append(base)
    return tuned, bases


def _per_example(document: Mapping[str, Any], run: str, dataset: str, size: int) -> list:
    for s in document["scores"]:
        if s["run"] == run and s["dataset"] == dataset:
            values = s["test_per_example"]
            require(len(values) == size,
                    f"{run} on {dataset}: {len(values)} scores for {size} test examples; the "
                    f"document was published with other data: republish it")
            return values
    raise UserError(f"the results document has no scores of {run} on {dataset}: republish it")


def clean_minus_all(scores: Sequence[Sequence[float]], clean: Sequence[bool]):
    """clean-subset mean - all-examples mean of (seeds, examples) scores, with a 95% interval;
    `clean` marks the examples of the clean subset.

    The clean set is fixed by the detector, not drawn, so the difference is a fixed linear
    combination of the per-example scores: the mean over examples of x_i (N c_i / N_c - 1),
    with c_i = 1 for a clean example. Its interval is `flan_nb.stats.mean_interval` of those
    values (seeds and examples resampled as for every other interval of the book)."""
    x = np.atleast_2d(np.asarray(scores, dtype=float))
    clean = np.asarray(clean, dtype=bool)
    weights = x.shape[1] * clean / clean.sum() - 1.0
    return stats.mean_interval([x * weights[None, :]])


def _model_entry(scores: list[list[float]], matches: Sequence[Match]) -> dict[str, Any]:
    """All examples vs the clean subset: examples the detector checked and found nowhere in
    the corpus (one too short to check is in "all" but not "clean": it was never shown clean)."""
    x = np.asarray(scores, dtype=float)
    clean = np.array([m.checkable and not m.dirty for m in matches], dtype=bool)
    entry: dict[str, Any] = {"all": stats.mean_interval([x]).as_dict()}
    if not any(m.dirty for m in matches):
        # Nothing found: "all" is the clean subset only when every example was checked.
        whole = clean.all()
        zero = {"mean": 0.0, "ci_low": 0.0, "ci_high": 0.0}
        return {**entry, "clean": entry["all"] if whole else None,
                "clean_minus_all": zero if whole else None, "verdict": NO_DIRTY,
                "drops_over_paper_threshold": False}
    if clean.sum() < MIN_CLEAN:
        clean_mean = round(float(x[:, clean].mean()), 2) if clean.any() else None
        return {**entry, "clean": None if clean_mean is None else {
            "mean": clean_mean, "ci_low": None, "ci_high": None},
            "clean_minus_all": None, "verdict": TOO_FEW_CLEAN,
            "drops_over_paper_threshold": None}
    cx = x[:, clean]
    entry["clean"] = stats.mean_interval([cx]).as_dict()
    diff = clean_minus_all(x, clean)
    entry["clean_minus_all"] = diff.as_dict()
    entry["verdict"] = {stats.HELPS: CLEAN_HIGHER, stats.HURTS: CLEAN_LOWER}.get(
        stats.verdict(diff), NO_CHANGE)
    entry["drops_over_paper_threshold"] = bool(diff.mean < -PAPER_DROP_POINTS)
    return entry


def detect_datasets(document: Mapping[str, Any], ngram: int, corpus: Iterable[str],
                    ) -> dict[str, dict[str, Any]]:
    """Per dataset of the document: its test examples, their segments and the detector's
    matches (one pass over `corpus` for all datasets together)."""
    ev = document["evaluation"]
    names = list(dict.fromkeys(row["dataset"] for row in document["datasets"]))
    data = {}
    for name in names:
        examples = scored_examples(name, ev)
        data[name] = {"examples": examples,
                      "segments": [example_segments(name, ex, ev.get("num_templates"))
                                   for ex in examples]}
    everything = [s for d in data.values() for s in d["segments"]]
    matches = find_dirty(everything, corpus, ngram)
    start = 0
    for d in data.values():
        d["matches"] = matches[start:start + len(d["segments"])]
        start += len(d["segments"])
    return data


def section(document: Mapping[str, Any], *, ngram: int = DEFAULT_NGRAM,
            corpus: Iterable[str] | None = None, corpus_label: str | None = None,
            examples_shown: int = 3) -> dict[str, Any]:
    """The `contamination` section of a published results document (JSON-able): per (setting,
    dataset) the dirty examples and the base and tuned scores on all vs the clean subset.

    `corpus` None: the corpora the plan's base runs pretrained on (`plan_corpora`)."""
    check_document(document)
    check_ngram(ngram)
    labels = plan_corpora(document) if corpus is None else None
    source = stream_corpora(labels) if corpus is None else corpus
    data = detect_datasets(document, ngram, source)
    rows = []
    for row in document["datasets"]:
        name = row["dataset"]
        d = data[name]
        dirty = [m.dirty for m in d["matches"]]
        tuned_runs, base_runs = _runs_of(document, row)
        require(bool(tuned_runs), f"no tuning run of the document matches {name}'s setting "
                                  f"{row['setting']}: republish it")
        size = len(dirty)
        entry = {"setting": row["setting"], "cluster": row["cluster"], "dataset": name,
                 "metric": row["metric"], "num_examples": size,
                 "num_checkable": sum(m.checkable for m in d["matches"]),
                 "num_dirty": sum(dirty),
                 "dirty_share": round(100.0 * sum(dirty) / size, 2) if size else 0.0,
                 "num_seeds": len(tuned_runs)}
        for model, runs in (("base", base_runs), ("tuned", tuned_runs)):
            entry[model] = _model_entry([_per_example(document, r, name, size) for r in runs],
                                        d["matches"])
            if not entry["num_checkable"]:  # "no dirty example" would claim a check
                entry[model]["verdict"] = NONE_CHECKABLE
        entry["dirty_examples"] = [
            {"index": i, "ngram": m.ngram, "document": m.document}
            for i, m in enumerate(d["matches"]) if m.dirty][:examples_shown]
        rows.append(entry)
    return {"ngram": ngram,
            "corpus": corpus_label or (", ".join(labels) if labels else "given"),
            "text": "template fields and answer options, lower-cased, punctuation as spaces",
            "paper": PAPER_FINDING, "datasets": rows}


# -- command line ----------------------------------------------------------------------------

def load_results_file(path: str | Path) -> dict[str, Any]:
    """A published document read from a results file; a missing or corrupt one is one
    UserError. (A plan's results are read by `flan_nb.results.load_results`.)"""
    path = Path(path)
    fix = "republish it with `flan-nb batch PLAN --publish`"
    require(path.is_file(), f"results file {path} does not exist: publish it with "
                            f"`flan-nb batch PLAN --publish`")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"results file {path} is corrupt ({type(err).__name__}): "
                        f"{fix}") from None
    check_document(document, f"results file {path}")
    return document


def _setting(setting: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in setting.items()) or "-"


def table_rows(sec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per (setting, dataset, model): dirty examples of those checked, the score on all
    examples and clean - all (mean [95% CI]), and the verdict."""
    several = len({json.dumps(r["setting"], sort_keys=True) for r in sec["datasets"]}) > 1
    rows = []
    for r in sec["datasets"]:
        for model in MODELS:
            m = r[model]
            row = {"setting": _setting(r["setting"])} if several else {}
            row.update({"dataset": r["dataset"], "model": model,
                        "dirty/checked/n": f"{r['num_dirty']}/{r['num_checkable']}/"
                                           f"{r['num_examples']}",
                        "all": format_interval(m["all"]),
                        "clean - all": format_interval(m["clean_minus_all"]),
                        "verdict": m["verdict"]})
            rows.append(row)
    return rows


def format_section(sec: Mapping[str, Any], label: str = "") -> str:
    """The readable table of `flan-nb contamination`."""
    head = [f"results: {label}"] if label else []
    head += [f"corpus: {sec['corpus']}", f"dirty: an {sec['ngram']}-gram of the example's "
             f"{sec['text']} occurs in the corpus",
             f"paper: {sec['paper']}", "",
             "Scores on all test examples and clean - all (mean [95% CI], seeds pooled):"]
    return "\n".join(head + [format_table(table_rows(sec))])
