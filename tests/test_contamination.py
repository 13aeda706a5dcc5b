"""The contamination detector (flan_nb.contamination): planted duplicates are all found and no
other example is flagged, the corpus is read once as a stream, bad input is one line, and the
clean-vs-all analysis of a (hand-built) published document is what its scores say."""

from __future__ import annotations

import json

import numpy as np
import pytest

from flan_nb import contamination as c
from flan_nb import tasks
from flan_nb.cli import main
from flan_nb.errors import UserError

N = 5
# Ten examples of distinct made-up words, so no n-gram is shared by chance.
EXAMPLES = [[" ".join(f"w{i}x{k}" for k in range(8)), f"short{i} answer"] for i in range(10)]
PLANTED = {2: 1, 5: 3, 7: 3}  # example -> the corpus document its 5-gram is planted in


def corpus_docs():
    docs = [f"filler text number {d} with nothing of interest in it at all" for d in range(6)]
    for example, doc in PLANTED.items():
        words = EXAMPLES[example][0].split()
        # Upper case and punctuation differ from the example: normalisation must match them.
        docs[doc] += " " + ", ".join(words[2:2 + N]).upper() + "!"
    # A near miss: 4 consecutive words of example 0 (n - 1) and 5 words of example 1 out of order.
    w0, w1 = EXAMPLES[0][0].split(), EXAMPLES[1][0].split()
    docs[4] += " " + " ".join(w0[:N - 1]) + " zzz " + " ".join(reversed(w1[:N]))
    return docs


class OneShot:
    """A corpus that can be iterated once (a second pass raises) and counts what was read."""

    def __init__(self, docs):
        self.docs, self.read, self.started = list(docs), 0, False

    def __iter__(self):
        assert not self.started, "the detector read the corpus twice"
        self.started = True
        for d in self.docs:
            self.read += 1
            yield d


def test_planted_duplicates_are_all_found_and_none_invented():
    corpus = OneShot(corpus_docs())
    matches = c.find_dirty(EXAMPLES, corpus, N)
    assert {i for i, m in enumerate(matches) if m.dirty} == set(PLANTED)
    for example, doc in PLANTED.items():
        m = matches[example]
        assert m.document == doc
        assert m.ngram == " ".join(EXAMPLES[example][0].split()[2:2 + N])
    assert all(m.ngram is None and m.document is None for i, m in enumerate(matches)
               if i not in PLANTED)
    assert corpus.read == len(corpus.docs)  # read to the end, once


def test_the_corpus_is_a_stream_read_once():
    gen = (d for d in corpus_docs())  # a generator: a second pass would see nothing
    assert sum(m.dirty for m in c.find_dirty(EXAMPLES, gen, N)) == len(PLANTED)
    with pytest.raises(StopIteration):
        next(gen)


def test_reading_stops_once_every_ngram_is_found():
    docs = [EXAMPLES[0][0]] + ["never read"] * 5
    corpus = OneShot(docs)
    matches = c.find_dirty([EXAMPLES[0]], corpus, N)
    assert matches[0].dirty and corpus.read == 1


def test_short_segments_cannot_be_checked():
    matches = c.find_dirty([["one two three"], ["a b c d e f"]], ["a b c d e f", "one two three"],
                           N)
    assert [(m.dirty, m.checkable) for m in matches] == [(False, False), (True, True)]


def test_words_normalise_case_and_punctuation():
    assert c.words("Naomi's BAG,  is--brown.") == ["naomi", "s", "bag", "is", "brown"]
    assert list(c.ngrams(["a", "b", "c"], 2)) == [("a", "b"), ("b", "c")]


@pytest.mark.parametrize("n", [9, 0, -1, True, 2.5])
def test_bad_n_is_a_user_error(n):
    with pytest.raises(UserError, match="n-gram length"):
        c.find_dirty(EXAMPLES, iter(corpus_docs()), n)


def test_clean_minus_all_is_the_difference_of_the_two_means():
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 100, size=(3, 40))
    dirty = rng.uniform(size=40) < 0.3
    diff = c.clean_minus_all(scores, ~dirty)
    assert diff.mean == pytest.approx(scores[:, ~dirty].mean() - scores.mean())
    assert diff.ci_low <= diff.mean <= diff.ci_high


def test_examples_too_short_to_check_are_never_counted_clean():
    dirty, clean, short = c.Match(True, "a b", 0), c.Match(False), c.Match(False, checkable=False)
    scores = [[0.0, 100.0, 100.0, 50.0, 50.0]]
    entry = c._model_entry(scores, [dirty, clean, clean, short, short])
    assert entry["clean"]["mean"] == pytest.approx(100.0)  # the two checked clean examples
    assert entry["clean_minus_all"]["mean"] == pytest.approx(100.0 - 60.0)
    # One checked example, dirty; the rest unchecked: no clean subset to compare.
    entry = c._model_entry(scores, [dirty, short, short, short, short])
    assert entry["verdict"] == c.TOO_FEW_CLEAN and entry["clean"] is None
    # Nothing dirty: the whole set is the clean one only if every example was checked.
    entry = c._model_entry(scores, [clean, clean, clean, short, short])
    assert entry["verdict"] == c.NO_DIRTY and entry["clean"] is None
    entry = c._model_entry(scores, [clean] * 5)
    assert entry["verdict"] == c.NO_DIRTY and entry["clean"] == entry["all"]


# -- a published document, built by hand ----------------------------------------------------

EVALUATION = {"tuning_notebook": "08_instruction_tuning", "held_out_parameter": "HELD_OUT",
              "seed_parameter": "SEED", "base_parameter": "BASE_RUN", "num_templates": 2,
              "max_examples": 6, "source": "tinyworld", "size": "smoke", "seed": 0}
DATASET = "tw_squad"


def document(datasets=((DATASET, "reading_comprehension"),)):
    """Base and two tuned seeds per held-out cluster, scored on each dataset's test examples."""
    runs = [{"name": "base", "notebook": "07_pretraining.ipynb",
             "parameters": {"CORPUS": "tinyworld/smoke", "SEED": 0}}]
    scores, rows = [], []
    for dataset, cluster in datasets:
        n = len(c.scored_examples(dataset, EVALUATION))
        rows.append({"setting": {}, "cluster": cluster, "dataset": dataset, "metric": "f1"})
        scores.append({"run": "base", "dataset": dataset,
                       "test_per_example": [float(10 * i) for i in range(n)]})
        for seed in (0, 1):
            name = f"tuned-{cluster}-s{seed}"
            if not any(r["name"] == name for r in runs):
                runs.append({"name": name, "notebook": "08_instruction_tuning.ipynb",
                             "parameters": {"HELD_OUT": cluster, "SEED": seed,
                                            "BASE_RUN": "base"}})
            scores.append({"run": name, "dataset": dataset,
                           "test_per_example": [float(100 * (i % 2)) for i in range(n)]})
    return {"format": 1, "plan": "hand-built", "evaluation": EVALUATION,
            "provenance": {"runs": runs}, "datasets": rows, "scores": scores, "clusters": []}


def planted_corpus(dirty_ids):
    examples = c.scored_examples(DATASET, EVALUATION)
    return [f"Once upon a time. {examples[i]['context']} The end." for i in dirty_ids]


def test_section_on_a_hand_built_document():
    doc = document()
    examples = c.scored_examples(DATASET, EVALUATION)
    assert len(examples) == len(tasks.load_examples(DATASET, "test", seed=0, size="smoke",
                                                    limit=6))
    sec = c.section(doc, ngram=c.DEFAULT_NGRAM, corpus=iter(planted_corpus([1, 4])),
                    corpus_label="planted")
    json.dumps(sec)  # JSON-able
    (row,) = sec["datasets"]
    assert (row["num_examples"], row["num_dirty"], row["num_seeds"]) == (6, 2, 2)
    assert [d["index"] for d in row["dirty_examples"]] == [1, 4]
    base = np.array([10.0 * i for i in range(6)])
    clean = np.array([i not in (1, 4) for i in range(6)])
    assert row["base"]["all"]["mean"] == pytest.approx(base.mean())
    assert row["base"]["clean"]["mean"] == pytest.approx(base[clean].mean())
    assert row["base"]["clean_minus_all"]["mean"] == pytest.approx(
        base[clean].mean() - base.mean())
    tuned = np.array([100.0 * (i % 2) for i in range(6)])
    assert row["tuned"]["clean_minus_all"]["mean"] == pytest.approx(
        tuned[clean].mean() - tuned.mean())  # 25 - 50: the two dirty examples scored 100


def test_section_with_nothing_planted_has_no_dirty_example():
    sec = c.section(document(), ngram=c.DEFAULT_NGRAM, corpus=["nothing here at all"])
    row = sec["datasets"][0]
    assert row["num_dirty"] == 0 and row["base"]["verdict"] == c.NO_DIRTY


def test_a_dataset_of_short_examples_is_not_called_clean():
    doc = document(((DATASET, "reading_comprehension"), ("tw_trivia_qa", "closed_book_qa")))
    sec = c.section(doc, ngram=c.DEFAULT_NGRAM, corpus=iter(planted_corpus([0])))
    squad, trivia = sec["datasets"]
    assert squad["num_dirty"] == 1 and squad["base"]["verdict"] != c.NONE_CHECKABLE
    assert trivia["num_checkable"] == 0  # smoke questions have at most 8 words
    assert trivia["tuned"]["verdict"] == trivia["base"]["verdict"] == c.NONE_CHECKABLE


def test_the_plan_corpus_is_the_base_runs():
    assert c.plan_corpora(document()) == ["tinyworld/smoke@0"]


def test_misaligned_scores_are_a_user_error():
    doc = document()
    doc["scores"][0]["test_per_example"].append(0.0)
    with pytest.raises(UserError, match="republish"):
        c.section(doc, corpus=[])


# -- the command line -----------------------------------------------------------------------

@pytest.fixture
def results_file(tmp_path):
    path = tmp_path / "hand.json"
    path.write_text(json.dumps(document()))
    return path


def test_cli_table_and_json(results_file, tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(planted_corpus([0, 2, 3])) + "\n")
    assert main(["contamination", str(results_file), "--corpus", str(corpus), "--json"]) == 0
    sec = json.loads(capsys.readouterr().out)
    assert sec["datasets"][0]["num_dirty"] == 3 and sec["corpus"] == str(corpus)
    assert main(["contamination", str(results_file), "--corpus", str(corpus)]) == 0
    out = capsys.readouterr().out
    assert "3/" in out and "tw_squad" in out


@pytest.mark.parametrize("args, message", [
    (["--ngram", "400"], "longer than every evaluation example"),
    (["--ngram", "0"], "n-gram length must be"),
    (["--corpus", "/no/such/corpus.txt"], "does not exist"),
])
def test_cli_bad_input_is_one_line_exit_2(results_file, capsys, args, message):
    assert main(["contamination", str(results_file), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_cli_missing_or_corrupt_results(tmp_path, capsys):
    assert main(["contamination", str(tmp_path / "none.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    assert main(["contamination", str(bad)]) == 2
    assert "corrupt" in capsys.readouterr().err
    bad.write_text(json.dumps({"format": 1}))
    assert main(["contamination", str(bad)]) == 2
    assert "lacks" in capsys.readouterr().err


# -- publishing: results.publish writes the section when the plan asks for it ----------------

def test_publish_writes_the_contamination_section(tmp_path, monkeypatch):
    import dataclasses

    from flan_nb import plans, results

    if "contamination_ngram" not in {f.name for f in dataclasses.fields(
            results.EvaluationConfig)}:
        pytest.skip("flan_nb.results does not call contamination.section yet")
    from notebook_workspace import notebook_workspace
    from test_results import fake_evaluation, fake_runs, make_base_runs, write_plan

    nb_dir = notebook_workspace(
        tmp_path, monkeypatch, "tune.ipynb",
        'HELD_OUT = "nli"  # cluster\nBASE_RUN = "base"  # base\nSEED = 0  # seed\n',
        profile_yaml="tune: {}\n")
    fake_runs(monkeypatch)
    make_base_runs("base")
    monkeypatch.setattr(results, "evaluate_plan", fake_evaluation)
    plan_path = write_plan(nb_dir, contamination_ngram=c.DEFAULT_NGRAM)
    plans.run_plan(plan_path, echo=lambda line: None)
    document = results.load_results(plan_path, results.publish(plan_path, progress=False))
    sec = document["contamination"]
    assert sec["ngram"] == c.DEFAULT_NGRAM and sec["corpus"] == "tinyworld/smoke@0"
    assert [r["dataset"] for r in sec["datasets"]] == ["tw_rte", "tw_trivia_qa"]
    assert sec == c.section(document, ngram=c.DEFAULT_NGRAM)  # recomputable from the file
