"""Assignments: every solution passes its hidden tests and every stub fails them, student
notebooks carry no solution, and `flan-nb grade` scores solved, untouched, partly solved and
misbehaving submissions as it should, without touching the book's files."""

import copy
import csv
import hashlib
import io
import json
from pathlib import Path

import pytest

from flan_nb.assignments import TAG_SOLUTION, TAG_STUB, TAG_TEACHER, TAG_TESTS
from flan_nb.assignments.assign import build
from flan_nb.assignments.harness import run_exercise
from flan_nb.assignments.master import cell_source, cell_tags, chapters, load_master, \
    parse_exercises
from flan_nb.cli import main
from flan_nb.errors import UserError

REPO = Path(__file__).resolve().parent.parent
CHAPTERS = chapters()
GRADED = [(c, e) for c in CHAPTERS for e in load_master(c)[1] if e.graded]


def test_every_chapter_has_a_graded_exercise():
    assert {c for c, _ in GRADED} == set(CHAPTERS)


@pytest.mark.parametrize("chapter,exercise", GRADED, ids=[e.label for _, e in GRADED])
def test_solution_passes_and_stub_fails(chapter, exercise):
    solved = run_exercise(exercise.tests, exercise.solution_code)
    assert solved["passed"], solved["message"]
    untouched = run_exercise(exercise.tests, exercise.stub)
    assert not untouched["passed"]


@pytest.mark.parametrize("chapter,exercise", [g for g in GRADED if g[1].forbid],
                         ids=[e.label for _, e in GRADED if e.forbid])
def test_calling_the_package_does_not_pass(chapter, exercise):
    # An answer that hands its arguments to the package's own function scores nothing.
    dotted = exercise.forbid[0]
    module, name = dotted.rsplit(".", 1)
    function = exercise.stub.split("def ", 1)[1].split("(", 1)[0]
    for answer in (f"import {module}\n{function} = {dotted}\n",
                   f"import {module}\ndef {function}(*args):\n    return {dotted}(*args)\n"):
        assert not run_exercise(exercise.tests, answer)["passed"], answer
    assert getattr(__import__(module, fromlist=[name]), name).__name__ == name  # restored


def _solution_lines(master: dict) -> set[str]:
    """Lines of solution and hidden-test cells that appear nowhere else in the master."""
    def lines(cells):
        return {line.strip() for c in cells for line in cell_source(c).splitlines()
                if len(line.strip()) >= 12}
    secret = [c for c in master["cells"]
              if {TAG_SOLUTION, TAG_TESTS, TAG_TEACHER} & set(cell_tags(c))]
    public = [c for c in master["cells"] if c not in secret]
    return lines(secret) - lines(public) - {":class: dropdown"}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_notebook_has_no_solution_text(chapter):
    master, _ = load_master(chapter)
    student, solved, tests = build(chapter)
    text = json.dumps(student)
    student_lines = {line.strip() for c in student["cells"]
                     for line in cell_source(c).splitlines()}
    secret = _solution_lines(master)
    solved_lines = {line.strip() for c in solved["cells"] for line in cell_source(c).splitlines()}
    assert secret & solved_lines  # what is looked for is there to find
    leaked = sorted(secret & student_lines)
    assert not leaked, leaked[:3]
    assert not any({TAG_SOLUTION, TAG_TESTS, TAG_TEACHER} & set(cell_tags(c))
                   for c in student["cells"])
    assert student["metadata"]["flan_nb"]["assignment"] == chapter
    assert all(c.get("outputs", []) == [] for c in student["cells"])
    assert ":::{exercise}" not in text  # plain Markdown for Jupyter and Colab
    assert len(tests["exercises"]) == sum(TAG_STUB in cell_tags(c) for c in student["cells"])


@pytest.fixture(scope="module")
def assigned(tmp_path_factory):
    out = tmp_path_factory.mktemp("assignments")
    assert main(["assign", "--out", str(out)]) == 0
    return out


def test_assign_writes_every_chapter(assigned):
    for chapter in CHAPTERS:
        for sub, ext in (("student", "ipynb"), ("solutions", "ipynb"), ("tests", "json")):
            assert (assigned / sub / f"{chapter}.{ext}").is_file()


def _book_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted((REPO / "notebooks").rglob("*")) + sorted((REPO / "flan_nb").rglob("*.py")):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _grade(capsys, *args) -> list[dict]:
    assert main(["grade", *map(str, args), "--format", "csv"]) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def _with_answers(notebook: Path, out: Path, answers: dict[str, str]) -> Path:
    """A copy of a student notebook with some stubs replaced, as a student would."""
    nb = json.loads(notebook.read_text())
    for cell in nb["cells"]:
        label = cell["metadata"].get("flan_nb", {}).get("exercise")
        if TAG_STUB in cell_tags(cell) and label in answers:
            cell["source"] = answers[label]
    out.write_text(json.dumps(nb))
    return out


def test_grade_solved_untouched_and_partial(assigned, tmp_path, capsys):
    before = _book_hash()
    _, exercises = load_master("01_bpe")
    first = exercises[0]
    partial = _with_answers(assigned / "student" / "01_bpe.ipynb", tmp_path / "01_bpe_ana.ipynb",
                            {first.label: first.solution_code})
    rows = _grade(capsys, assigned / "solutions" / "01_bpe.ipynb",
                  assigned / "student" / "01_bpe.ipynb", partial)
    total = {}
    for row in rows:
        total[row["submission"]] = total.get(row["submission"], 0) + float(row["points"])
    assert list(total.values()) == [2.0, 0.0, 1.0]
    # the stored tests (`--key`) grade exactly like the master notebooks
    assert [r["points"] for r in _grade(capsys, partial, "--key", assigned)] == ["1.0", "0.0"]
    assert _book_hash() == before


def test_grade_json_report(assigned, capsys):
    assert main(["grade", str(assigned / "solutions" / "05_templates.ipynb"),
                 "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)["submissions"][0]
    assert (report["chapter"], report["points"], report["max_points"]) == ("05_templates", 2, 2)


def test_misbehaving_answers_score_zero_with_a_message(assigned, tmp_path, capsys):
    before = _book_hash()
    victim = tmp_path / "keep.txt"
    victim.write_text("precious")
    labels = [e.label for e in load_master("01_bpe")[1] if e.graded]
    loops = _with_answers(assigned / "student" / "01_bpe.ipynb", tmp_path / "01_bpe_a.ipynb", {
        labels[0]: "while True:\n    pass\n",
        labels[1]: "while True:\n    print('x' * 10000)\n"})
    harms = _with_answers(assigned / "student" / "01_bpe.ipynb", tmp_path / "01_bpe_b.ipynb", {
        labels[0]: f"import os\nos.remove({str(victim)!r})\n",
        labels[1]: "def merge_pair(symbols, pair):\n    return symbols[0] / 0\n"})
    rows = _grade(capsys, loops, harms, "--timeout", "5")
    got = [(r["status"], float(r["points"])) for r in rows]
    assert got == [("timeout", 0), ("output", 0), ("forbidden", 0), ("failed", 0)]
    assert "longer than 5 s" in rows[0]["message"] and "printed more" in rows[1]["message"]
    assert str(victim) in rows[2]["message"] and "TypeError" in rows[3]["message"]
    assert victim.read_text() == "precious"
    assert _book_hash() == before


def test_crash_at_import_time_scores_zero(assigned, tmp_path, capsys):
    labels = [e.label for e in load_master("01_bpe")[1] if e.graded]
    crash = _with_answers(assigned / "student" / "01_bpe.ipynb", tmp_path / "01_bpe_c.ipynb", {
        labels[0]: "raise RuntimeError('boom')\n", labels[1]: "import os\nos._exit(3)\n"})
    rows = _grade(capsys, crash)
    assert [r["status"] for r in rows] == ["crashed", "crashed"]
    assert "RuntimeError: boom" in rows[0]["message"]


@pytest.mark.parametrize("make,expected", [
    (lambda d: d / "missing.ipynb", "no such file"),
    (lambda d: (d / "x.ipynb").write_text("not json") and d / "x.ipynb", "not a notebook"),
    (lambda d: (d / "x.ipynb").write_text('{"cells": [], "metadata": {}}') and d / "x.ipynb",
     "not a flan-nb assignment"),
    (lambda d: REPO / "notebooks" / "01_bpe.ipynb", "master notebook"),
])
def test_grade_bad_input_is_one_line_and_exit_2(tmp_path, capsys, make, expected):
    assert main(["grade", str(make(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1


def test_unknown_chapter_exit_2(assigned, capsys):
    assert main(["grade", str(assigned / "student" / "01_bpe.ipynb"), "--chapter", "99_x"]) == 2
    assert main(["assign", "99_x", "--out", str(assigned)]) == 2
    assert capsys.readouterr().err.count("unknown chapter '99_x'") == 2


def test_master_parts_need_their_exercise():
    raw = {"cell_type": "raw", "metadata": {"tags": [TAG_TESTS]}, "source": "x = 1"}
    with pytest.raises(UserError, match="before any `exercise` cell"):
        parse_exercises({"cells": [raw]})
    ex = {"cell_type": "markdown", "metadata": {"tags": ["exercise"]},
          "source": ":::{exercise}\n:label: ex-x\nWrite f.\n:::"}
    with pytest.raises(UserError, match="needs both a stub and hidden tests"):
        parse_exercises({"cells": [ex, copy.deepcopy(raw)]})


def test_book_renders_exercises_and_launch_buttons():
    import yaml

    config = yaml.safe_load((REPO / "_config.yml").read_text())
    assert "sphinx_exercise" in config["sphinx"]["extra_extensions"]
    assert config["repository"]["url"].startswith("https://")
    assert config["launch_buttons"]["colab_url"] and config["launch_buttons"]["binderhub_url"]
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    assert "book/for_teachers" in [c["file"] for p in toc["parts"] for c in p["chapters"]]
    assert '"sphinx-exercise==' in (REPO / "pyproject.toml").read_text()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_master_solutions_are_dropdowns_of_their_exercise(chapter):
    master, exercises = load_master(chapter)
    for ex in exercises:
        assert ex.solution_text is not None, f"{ex.label} has no solution"
        assert ex.solution_text.startswith(f":::{{solution}} {ex.label}\n:class: dropdown")
    for cell in master["cells"]:
        if TAG_TESTS in cell_tags(cell):
            assert cell["cell_type"] == "raw" and "remove-cell" in cell_tags(cell)


def test_public_check_gives_hints_and_never_raises(capsys):
    from flan_nb.assignments.checks import check

    def square(x):
        return x * x

    def broken(x):
        raise KeyError(x)

    cases = [((2,), 4, "multiply"), ((3,), 9.0, "floats compare approximately")]
    assert check(square, cases) and capsys.readouterr().out == "correct\n"
    assert not check(lambda x: x + x, cases)
    assert "gave 6, expected 9.0. Hint: floats" in capsys.readouterr().out
    assert not check(broken, cases) and "raised KeyError" in capsys.readouterr().out
    assert not check(lambda x: None, cases) and "returns nothing" in capsys.readouterr().out


def test_every_solved_notebook_gets_full_marks_in_the_sandbox(assigned, capsys):
    # The same answers as test_solution_passes_and_stub_fails, now through the isolated
    # processes: the sandbox must not break any chapter's imports.
    rows = _grade(capsys, *sorted((assigned / "solutions").glob("*.ipynb")), "--key", assigned)
    assert {r["chapter"] for r in rows} == set(CHAPTERS)
    assert [r for r in rows if r["status"] != "passed"] == []


def test_long_failure_messages_are_cut():
    tests = "def test_x():\n    assert f(), 'x' * 100000\n"
    assert len(run_exercise(tests, "def f():\n    return False\n")["message"]) < 400
