"""`flan-nb assign`: student notebooks, solved notebooks and hidden tests from the masters.

    OUT/student/NN_slug.ipynb    to hand out: no solution, no hidden test, public checks kept
    OUT/solutions/NN_slug.ipynb  the student notebook with every stub replaced by its solution
    OUT/tests/NN_slug.json       hidden tests and points, what `flan-nb grade --key OUT` reads
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from pathlib import Path

import flan_nb
from flan_nb.assignments import (TAG_CHECK, TAG_EXERCISE, TAG_SOLUTION, TAG_STUB, TAG_TEACHER,
                                 TAG_TESTS)
from flan_nb.assignments.master import NOTEBOOKS, Exercise, cell_source, cell_tags, load_master
from flan_nb.assignments.master import chapters as all_chapters
from flan_nb.errors import UserError

DIRECTIVE_OPEN = re.compile(r"^:::\{exercise\}.*$")
STUDENT_NOTE = (
    "**Student version of chapter {chapter}.** Write your answers in the cells under each\n"
    "exercise that start as stubs (tagged `exercise-stub`; keep the tag and the function name).\n"
    "Run the check cell below each one for a hint. Hand in this `.ipynb` file: every exercise is\n"
    "graded on its own, in a fresh Python process with a time limit, so an answer may use the\n"
    "modules the chapter imports but not data the chapter computes.")


def _plain_statement(source: str, number: int) -> str:
    """A MyST `exercise` block as plain Markdown, numbered, for Jupyter and Colab."""
    out, inside, first = [], False, False
    for line in source.splitlines():
        if DIRECTIVE_OPEN.match(line):
            inside, first = True, True
            continue
        if inside and line.startswith(":") and not line.startswith(":::"):
            continue  # a directive option such as :label:
        if inside and line.strip() == ":::":
            inside = False
            continue
        if first and line.strip():
            line, first = f"**Exercise {number}.** {line}", False
        out.append(line)
    return "\n".join(out).strip("\n")


def _fresh(cell: dict, source: str | None = None) -> dict:
    cell = copy.deepcopy(cell)
    if source is not None:
        cell["source"] = source
    if cell["cell_type"] == "code":
        cell["outputs"], cell["execution_count"] = [], None
    return cell


def build(chapter: str, notebooks: Path = NOTEBOOKS) -> tuple[dict, dict, dict]:
    """(student notebook, solved notebook, hidden tests) of one chapter."""
    master, exercises = load_master(chapter, notebooks)
    student, solved = copy.deepcopy(master), copy.deepcopy(master)
    student["cells"], solved["cells"] = [], []
    current: Exercise | None = None
    number = 0
    for cell in master["cells"]:
        tags = cell_tags(cell)
        source = cell_source(cell)
        if TAG_EXERCISE in tags:
            number += 1
            current = exercises[number - 1]
            cell = _fresh(cell, _plain_statement(source, number))
        if TAG_TESTS in tags:
            continue
        if TAG_SOLUTION in tags or TAG_TEACHER in tags:
            solved["cells"].append(_fresh(cell))
            continue
        cell = _fresh(cell)
        if current is not None and (TAG_STUB in tags or TAG_CHECK in tags
                                    or TAG_EXERCISE in tags):
            cell.setdefault("metadata", {})["flan_nb"] = {"exercise": current.label}
        student["cells"].append(cell)
        if TAG_STUB in tags and current is not None:
            cell = _fresh(cell, current.solution_code)
        solved["cells"].append(cell)
    note = {"cell_type": "markdown", "metadata": {"tags": ["student-note"]},
            "source": STUDENT_NOTE.format(chapter=chapter)}
    source_hash = hashlib.sha256((notebooks / f"{chapter}.ipynb").read_bytes()).hexdigest()
    for nb, kind in ((student, "student"), (solved, "solutions")):
        nb["cells"].insert(0, copy.deepcopy(note))
        nb["metadata"]["flan_nb"] = {"assignment": chapter, "version": kind,
                                     "master_sha256": source_hash,
                                     "flan_nb_version": flan_nb.__version__}
    tests = {"chapter": chapter, "master_sha256": source_hash,
             "exercises": [{"label": e.label, "points": e.points, "tests": e.tests}
                           for e in exercises if e.graded]}
    return student, solved, tests


def _write(path: Path, text: str) -> None:
    """Write through a temporary file, so an interrupted run never leaves half a notebook."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def assign(out: Path, chapters: list[str] | None = None,
           notebooks: Path = NOTEBOOKS) -> list[Path]:
    """Write every chapter's assignment under `out`; all chapters are built before any write."""
    chapters = chapters or all_chapters(notebooks)
    if Path(out).exists() and not Path(out).is_dir():
        raise UserError(f"--out {out} is a file: give a folder")
    built = {c: build(c, notebooks) for c in chapters}
    written = []
    for chapter, (student, solved, tests) in built.items():
        for sub, content in (("student", student), ("solutions", solved)):
            path = Path(out) / sub / f"{chapter}.ipynb"
            _write(path, json.dumps(content, indent=1, ensure_ascii=False) + "\n")
            written.append(path)
        path = Path(out) / "tests" / f"{chapter}.json"
        _write(path, json.dumps(tests, indent=1, ensure_ascii=False) + "\n")
        written.append(path)
    return written
