"""Chapter 14 (data contamination, the paper's Appendix C): its config, the frame-collision
measurement that picks n, the detector shown on a few examples, and the clean-vs-all figure.

The detector and the analysis live in `flan_nb.contamination`; the published numbers come from
`results/appendix_c.json` (`flan-nb batch notebooks/plans/appendix_c.yaml --publish`), whose
`contamination` section is `flan_nb.contamination.section` of the published scores.
"""

from __future__ import annotations

import collections
import dataclasses
import textwrap
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from flan_nb import contamination, plans, results, tasks
from flan_nb.chapters import published as published_lib
from flan_nb.errors import UserError
from flan_nb.params import book_path, require
from flan_nb.report import MODEL_COLORS, MODEL_LABELS
from flan_nb.tinyworld import phrases

CHAPTER = "14_data_contamination"
PAPER_DATASETS_OVER_1_POINT = ("ReCoRD", "PIQA")  # Appendix C: the only clean-subset drops > 1


@dataclasses.dataclass(frozen=True)
class DataContaminationConfig:
    """Notebook 14's parameters (one field per parameter), validated on construction."""

    plan: str  # the plan whose published results are analysed
    ngram: int  # n-gram length of the detector (words)
    example_dataset: str  # the dataset whose examples the detector is shown on
    num_examples_shown: int  # examples shown per kind (dirty, clean, too short)

    def __post_init__(self):
        published_lib.check_plan_file(self.plan, "PLAN", "plans/appendix_c.yaml")
        contamination.check_ngram(self.ngram)
        tasks.get(self.example_dataset)  # an unknown name is a UserError listing the known
        require(isinstance(self.num_examples_shown, int) and 1 <= self.num_examples_shown <= 5,
                f"NUM_EXAMPLES_SHOWN must be an integer from 1 to 5, got "
                f"{self.num_examples_shown!r}")

    def plan_path(self) -> Path:
        return Path(book_path(self.plan))


# -- the plan, its corpus and its evaluation data ---------------------------------------------

def evaluation_of(plan: plans.Plan) -> dict[str, Any]:
    """The evaluation data settings of a plan (size, seed, max_examples, num_templates), with
    the defaults `flan_nb.results.EvaluationConfig` uses, read without validating the rest."""
    defaults = {f.name: f.default for f in dataclasses.fields(results.EvaluationConfig)}
    return {**defaults, **dict(plan.evaluation)}


def plan_corpora(plan: plans.Plan) -> list[str]:
    """The corpora the plan's pretraining runs read, named as `flan_nb.contamination
    .plan_corpora` names them, from the plan alone (before anything is published)."""
    ev = evaluation_of(plan)
    runs = [{"name": p.name, "notebook": p.notebook.name, "parameters": p.parameters()}
            for p in plan.runs]
    return contamination.plan_corpora({"evaluation": ev, "provenance": {"runs": runs}})


# -- picking n ------------------------------------------------------------------------------

def fact_sentences(world) -> list[tuple[Any, list[str]]]:
    """(fact, words) for every phrasing of every fact, statements and questions."""
    out = []
    for fact in world.facts:
        for i in range(phrases.num_phrasings(fact)):
            out.append((fact, contamination.words(phrases.statement(world, fact, i))))
        for i in range(phrases.num_questions(fact)):
            out.append((fact, contamination.words(phrases.question(world, fact, i))))
    return out


def frame_collisions(world, ns: Iterable[int]) -> list[dict[str, Any]]:
    """Per n: distinct n-grams of the world's fact sentences, how many belong to more than one
    fact (a frame shared by different facts), how many sentences have an n-gram and how many
    of them contain a shared one, and an example of a shared n-gram."""
    sentences = fact_sentences(world)
    rows = []
    for n in ns:
        owners: dict[tuple[str, ...], set] = collections.defaultdict(set)
        for fact, words in sentences:
            for gram in contamination.ngrams(words, n):
                owners[gram].add(fact)
        shared = [g for g, o in owners.items() if len(o) > 1]
        with_gram = [w for _, w in sentences if len(w) >= n]
        colliding = sum(any(len(owners[g]) > 1 for g in contamination.ngrams(w, n))
                        for w in with_gram)
        rows.append({"n": n, "n-grams": len(owners), "shared by 2+ facts": len(shared),
                     "sentences with one": len(with_gram), "sentences colliding": colliding,
                     "example shared": " ".join(min(shared)) if shared else "-"})
    return rows


def shortest_clean_n(rows: Sequence[Mapping[str, Any]]) -> int | None:
    """The smallest n of `frame_collisions` rows at which no n-gram is shared by two facts
    while some sentence still has one."""
    for row in rows:
        if row["shared by 2+ facts"] == 0 and row["sentences with one"] > 0:
            return row["n"]
    return None


# -- the detector on a few examples ---------------------------------------------------------

def shown_examples(dataset: str, examples: Sequence[Mapping[str, Any]],
                   matches: Sequence[contamination.Match], per_kind: int,
                   width: int = 79) -> list[str]:
    """Lines describing up to `per_kind` dirty, clean and unchecked examples: the segments
    (shortened) and, for a dirty one, the n-gram found and the corpus document it is in."""
    kinds = {"dirty": [], "clean (checked)": [], "not checkable (all segments < n words)": []}
    for i, m in enumerate(matches):
        kind = ("dirty" if m.dirty else "clean (checked)" if m.checkable
                else "not checkable (all segments < n words)")
        if len(kinds[kind]) < per_kind:
            kinds[kind].append(i)
    lines = []
    for kind, ids in kinds.items():
        lines.append(f"{kind}: {len([m for m in matches if _kind(m) == kind])} of "
                     f"{len(matches)} {dataset} test examples")
        for i in ids:
            text = " | ".join(contamination.example_segments(dataset, examples[i]))
            lines += textwrap.wrap(f"#{i}: {text}", width, initial_indent="  ",
                                   subsequent_indent="     ", max_lines=3, placeholder=" ...")
            if matches[i].dirty:
                lines += textwrap.wrap(f"found: \"{matches[i].ngram}\" (corpus document "
                                       f"{matches[i].document})", width,
                                       initial_indent="     ", subsequent_indent="     ")
    return lines


def _kind(m: contamination.Match) -> str:
    return ("dirty" if m.dirty else "clean (checked)" if m.checkable
            else "not checkable (all segments < n words)")


# -- published results ----------------------------------------------------------------------

@dataclasses.dataclass
class Published(published_lib.Published):
    """A plan and, when published, its document and contamination section."""

    section: dict[str, Any] | None
    computed_here: bool  # True: the document has no section for this n, computed here


def load_published(path: str | Path, ngram: int) -> Published:
    """The plan's results (`flan_nb.chapters.published.load_published`: None when never
    published; corrupt: UserError) and its contamination section: the published one when it
    used `ngram`, else computed here from the published per-example scores (seconds on
    TinyWorld)."""
    found = published_lib.load_published(path)
    plan, document, changes = found.plan, found.document, found.changes
    if document is None:
        return Published(plan, None, changes, None, False)
    published = document.get("contamination")
    if published is not None:
        check_section(published)
    if isinstance(published, dict) and published.get("ngram") == ngram:
        return Published(plan, document, changes, published, False)
    return Published(plan, document, changes, contamination.section(document, ngram=ngram),
                     True)


def not_published_line(published: Published) -> str:
    """The one line the page shows when the plan's results do not exist yet."""
    return (f"**Not published yet:** `{results.plan_label(published.plan)}` has no results "
            f"file; `{published.command}` trains what is missing and publishes it.")


def section_metrics(sec: Mapping[str, Any]) -> dict[str, float]:
    """Flat numbers for run.record: per dataset the dirty share and, per model, all and
    clean - all means."""
    out = {}
    for r in sec["datasets"]:
        key = r["dataset"]
        out[f"{key}/dirty_share"] = r["dirty_share"]
        out[f"{key}/num_dirty"] = r["num_dirty"]
        for model in contamination.MODELS:
            out[f"{key}/{model}/all"] = r[model]["all"]["mean"]
            diff = r[model]["clean_minus_all"]
            if diff is not None:
                out[f"{key}/{model}/clean_minus_all"] = diff["mean"]
    return out


def reading_lines(sec: Mapping[str, Any]) -> list[str]:
    """What the section says, per verdict, beside the paper's reading (from the intervals)."""
    by: dict[str, list[str]] = collections.defaultdict(list)
    for r in sec["datasets"]:
        for model in contamination.MODELS:
            m = r[model]
            diff = m["clean_minus_all"]
            value = f" ({diff['mean']:+.1f})" if diff and m["verdict"] in (
                contamination.CLEAN_LOWER, contamination.CLEAN_HIGHER) else ""
            by[m["verdict"]].append(f"{r['dataset']} {model}{value}")
    order = (contamination.CLEAN_LOWER, contamination.CLEAN_HIGHER, contamination.NO_CHANGE,
             contamination.NO_DIRTY, contamination.TOO_FEW_CLEAN,
             contamination.NONE_CHECKABLE)
    lines = [f"- **{v}**: {', '.join(by[v])}." for v in order if by.get(v)]
    over = [f"{r['dataset']} {m}" for r in sec["datasets"] for m in contamination.MODELS
            if r[m].get("drops_over_paper_threshold")]
    lines.append(f"- the paper's reading, a clean-subset drop of more than "
                 f"{contamination.PAPER_DROP_POINTS:.0f} point (point estimate): "
                 f"{', '.join(over) or 'none'} here; in the paper "
                 f"{' and '.join(PAPER_DATASETS_OVER_1_POINT)} only.")
    return lines


def plot_section(sec: Mapping[str, Any], title: str):
    """Left: share of checkable and of dirty test examples per dataset. Right: clean - all
    per dataset for the base and tuned models, with 95% intervals, zero and the paper's -1
    point line."""
    import matplotlib.pyplot as plt

    rows = sec["datasets"]
    names = [r["dataset"] for r in rows]
    ys = list(range(len(rows)))
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 0.45 * len(rows) + 1.8), sharey=True,
                                      gridspec_kw={"width_ratios": [1, 2]})
    left.barh(ys, [100.0 * r["num_checkable"] / r["num_examples"] for r in rows],
              color="0.85", label="checkable (a segment of n words)")
    left.barh(ys, [r["dirty_share"] for r in rows], color="0.45", label="dirty")
    left.set_xlim(0, 100)
    left.set_xlabel("test examples (%)")
    left.legend(fontsize=7, loc="lower right")
    left.set_yticks(ys, names, fontsize=8)
    left.invert_yaxis()
    for k, model in enumerate(contamination.MODELS):
        got = [(y, r[model]["clean_minus_all"]) for y, r in zip(ys, rows)
               if r[model]["clean_minus_all"] is not None]
        if not got:
            continue
        offsets = [y + (k - 0.5) * 0.3 for y, _ in got]
        means = [d["mean"] for _, d in got]
        err = [[d["mean"] - d["ci_low"] for _, d in got], [d["ci_high"] - d["mean"]
                                                             for _, d in got]]
        right.errorbar(means, offsets, xerr=err, fmt="o", color=MODEL_COLORS[model],
                       capsize=3, label=f"{MODEL_LABELS[model]} (95% CI)")
    right.axvline(0, color="0.5", lw=0.8)
    right.axvline(-contamination.PAPER_DROP_POINTS, color="k", ls=":", lw=0.8,
                  label="paper: only ReCoRD, PIQA below -1")
    right.set_xlabel("clean subset - all examples (points)")
    right.legend(fontsize=7, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def check_section(sec: Any) -> None:
    """A published contamination section has the shape this chapter reads."""
    if not (isinstance(sec, dict) and isinstance(sec.get("datasets"), list)):
        raise UserError("the results' contamination section is malformed: republish it")
