"""Reading the exercise cells of a master notebook (the tag convention is in the package doc)."""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from pathlib import Path

from flan_nb.assignments import (TAG_CHECK, TAG_EXERCISE, TAG_SOLUTION, TAG_STUB, TAG_TESTS)
from flan_nb.errors import UserError

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CHAPTER_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+$")
LABEL_PATTERN = re.compile(r"^:label:\s*(\S+)\s*$", re.M)
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.S)
DEFAULT_POINTS = 1


@dataclasses.dataclass
class Exercise:
    """One exercise of a chapter: its label, statement and, for code exercises, the code parts."""

    label: str
    statement: str
    stub: str | None = None
    check: str | None = None
    solution_text: str | None = None
    tests: str | None = None

    @property
    def graded(self) -> bool:
        return self.tests is not None

    @property
    def solution_code(self) -> str:
        match = PYTHON_BLOCK.search(self.solution_text or "")
        if match is None:
            raise UserError(f"exercise {self.label}: its solution cell has no ```python block")
        return match.group(1)

    @property
    def points(self) -> float:
        return float(_literal(self.tests or "", "POINTS", DEFAULT_POINTS))

    @property
    def forbid(self) -> list[str]:
        return list(_literal(self.tests or "", "FORBID", []))


def _literal(code: str, name: str, default):
    """The literal value of a top-level `NAME = ...` in the tests' code (without running it)."""
    for node in ast.parse(code).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == name):
            return ast.literal_eval(node.value)
    return default


def cell_tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def chapters(notebooks: Path = NOTEBOOKS) -> list[str]:
    """The chapter stems (`01_bpe`, ...) of the master notebooks."""
    return sorted(p.stem for p in notebooks.glob("*.ipynb") if CHAPTER_PATTERN.match(p.stem))


def master_path(chapter: str, notebooks: Path = NOTEBOOKS) -> Path:
    known = chapters(notebooks)
    if chapter not in known:
        raise UserError(f"unknown chapter {chapter!r}: choose one of {', '.join(known)}")
    return notebooks / f"{chapter}.ipynb"


def read_notebook(path: Path) -> dict:
    """A notebook as JSON, or a UserError saying why the file is not one."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError(f"{path} is not a notebook (not JSON: {err})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise UserError(f"{path} is not a notebook (no cell list)")
    return nb


def parse_exercises(nb: dict, where: str = "notebook") -> list[Exercise]:
    """The exercises of a master notebook, in order; a misplaced or incomplete part is an error."""
    exercises: list[Exercise] = []
    for index, cell in enumerate(nb["cells"]):
        tags = cell_tags(cell)
        source = cell_source(cell)
        if TAG_EXERCISE in tags:
            labels = LABEL_PATTERN.findall(source)
            if len(labels) != 1:
                raise UserError(f"{where} cell {index}: an `exercise` cell needs one :label:")
            if any(e.label == labels[0] for e in exercises):
                raise UserError(f"{where} cell {index}: exercise label {labels[0]} used twice")
            exercises.append(Exercise(labels[0], source))
            continue
        for tag, field in ((TAG_STUB, "stub"), (TAG_CHECK, "check"),
                           (TAG_SOLUTION, "solution_text"), (TAG_TESTS, "tests")):
            if tag not in tags:
                continue
            if not exercises:
                raise UserError(f"{where} cell {index}: `{tag}` before any `exercise` cell")
            if getattr(exercises[-1], field) is not None:
                raise UserError(f"{where} cell {index}: a second `{tag}` cell for "
                                f"{exercises[-1].label}")
            setattr(exercises[-1], field, source)
    for ex in exercises:
        parts = [ex.stub is not None, ex.tests is not None]
        if any(parts) and not all(parts):
            raise UserError(f"{where}: exercise {ex.label} needs both a stub and hidden tests")
        if ex.graded:
            ex.solution_code  # noqa: B018 - raises when the solution has no code
    return exercises


def load_master(chapter: str, notebooks: Path = NOTEBOOKS) -> tuple[dict, list[Exercise]]:
    path = master_path(chapter, notebooks)
    nb = read_notebook(path)
    return nb, parse_exercises(nb, str(path))
