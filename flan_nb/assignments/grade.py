"""`flan-nb grade`: points per exercise for submitted student notebooks.

Each exercise of each submission runs in its own fresh Python process (`harness`), in a scratch
folder inside a temporary directory, with a time limit, a cap on what it prints, and an audit hook
that refuses writes and deletions outside the scratch folder and new programs. The submission is
only read. An exercise whose answer crashes, runs too long, prints too much or touches files
scores zero with a message saying which; the other exercises are graded as usual.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flan_nb.assignments import TAG_CHECK, TAG_EXERCISE, TAG_STUB, TAG_TESTS
from flan_nb.assignments.master import (NOTEBOOKS, Exercise, cell_source, cell_tags, chapters,
                                        load_master, read_notebook)
from flan_nb.errors import UserError

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_OUTPUT = 1_000_000  # bytes an exercise may print
MEMORY_LIMIT = 8 * 2**30  # address space of one exercise's process
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ("submission", "chapter", "exercise", "points", "max_points", "status", "message")


@dataclasses.dataclass
class ExerciseResult:
    submission: str
    chapter: str
    exercise: str
    points: float
    max_points: float
    status: str  # passed | failed | crashed | timeout | output | forbidden | missing
    message: str
    seconds: float = 0.0


def load_key(chapter: str, key: Path | None = None) -> list[Exercise]:
    """The graded exercises of a chapter: from `flan-nb assign`'s tests/<chapter>.json under
    `key` if there is one, else from the master notebook (in `key`, default notebooks/)."""
    key = Path(key) if key is not None else NOTEBOOKS
    stored = key / "tests" / f"{chapter}.json"
    if stored.is_file():
        data = json.loads(stored.read_text())
        return [Exercise(e["label"], "", stub="", tests=e["tests"]) for e in data["exercises"]]
    _, exercises = load_master(chapter, key)
    return [e for e in exercises if e.graded]


def submission_chapter(nb: dict, path: Path, chapter: str | None, known: list[str]) -> str:
    """The chapter a submission answers: --chapter, the notebook's metadata, or its file name."""
    if chapter is None:
        chapter = nb.get("metadata", {}).get("flan_nb", {}).get("assignment")
    if chapter is None:
        chapter = next((c for c in known if path.name.startswith(c)), None)
    if chapter is None:
        raise UserError(f"{path} is not a flan-nb assignment (no flan_nb.assignment metadata and "
                        f"its name starts with no chapter): pass --chapter, e.g. --chapter 01_bpe")
    if chapter not in known:
        raise UserError(f"{path}: unknown chapter {chapter!r}: choose one of {', '.join(known)}")
    return chapter


def answer_code(nb: dict, label: str) -> str | None:
    """The code cells a student wrote for `label`: from its stub cell to the next exercise,
    without the public checks (they use the chapter's data, which a lone exercise lacks)."""
    cells = nb["cells"]
    start = next((i for i, c in enumerate(cells) if TAG_STUB in cell_tags(c)
                  and c.get("metadata", {}).get("flan_nb", {}).get("exercise") == label), None)
    if start is None:
        return None
    parts = []
    for cell in cells[start:]:
        tags = cell_tags(cell)
        if cell is not cells[start] and (TAG_EXERCISE in tags or TAG_STUB in tags):
            break
        if cell.get("cell_type") == "code" and TAG_CHECK not in tags:
            parts.append(cell_source(cell))
    return "\n\n".join(parts)


def _limits(max_output: int, cpu_seconds: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_output + 1, max_output + 1))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    return apply


def run_isolated(tests: str, answer: str, timeout: float = DEFAULT_TIMEOUT_S,
                 max_output: int = DEFAULT_MAX_OUTPUT) -> tuple[str, str]:
    """(status, message) of one exercise run in a fresh process in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="flan-nb-grade-") as tmp:
        sandbox = Path(tmp) / "work"
        sandbox.mkdir()
        job = Path(tmp) / "job.json"
        job.write_text(json.dumps({"tests": tests, "answer": answer, "sandbox": str(sandbox)}))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(sandbox),
               "TMPDIR": str(sandbox), "MPLCONFIGDIR": str(sandbox), "MPLBACKEND": "Agg",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "JAX_PLATFORMS": "cpu",
               "PYTHONPATH": os.pathsep.join(
                   [str(PACKAGE_ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
        read_fd, write_fd = os.pipe()
        output_path = Path(tmp) / "output.txt"
        with open(output_path, "wb") as output:
            proc = subprocess.Popen(
                [sys.executable, "-m", "flan_nb.assignments.harness", str(job), str(write_fd)],
                cwd=sandbox, env=env, stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, pass_fds=(write_fd,), start_new_session=True,
                preexec_fn=_limits(max_output, int(timeout) + 5))
            os.close(write_fd)
            try:
                proc.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                try:  # the whole group: anything the answer left running goes too
                    os.killpg(proc.pid, 9)
                except ProcessLookupError:
                    pass
                proc.wait()
        os.set_blocking(read_fd, False)
        try:
            raw = os.read(read_fd, 1 << 20)
        except BlockingIOError:
            raw = b""
        finally:
            os.close(read_fd)
        printed = output_path.stat().st_size
    if timed_out:
        return "timeout", f"ran longer than {timeout:g} s (an endless loop?)"
    if printed > max_output:
        return "output", f"printed more than {max_output:,} bytes"
    try:
        result = json.loads(raw.decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "crashed", (f"the process died before the tests finished (exit status "
                           f"{proc.returncode})")
    message = result["message"]
    if result["passed"]:
        return "passed", message
    if "answers may not touch files" in message:
        return "forbidden", message
    if message.startswith("your code raised"):
        return "crashed", message
    return "failed", message


def grade(paths: list[Path], chapter: str | None = None, key: Path | None = None,
          timeout: float = DEFAULT_TIMEOUT_S,
          max_output: int = DEFAULT_MAX_OUTPUT) -> list[ExerciseResult]:
    """Grade submissions; every input is checked before the first exercise runs."""
    if not (0 < timeout < 24 * 3600):
        raise UserError(f"--timeout must be a number of seconds between 0 and 86400, "
                        f"got {timeout}")
    key_dir = Path(key) if key is not None else NOTEBOOKS
    if (key_dir / "tests").is_dir():  # the output of `flan-nb assign`
        known = sorted(p.stem for p in (key_dir / "tests").glob("*.json"))
    elif key_dir.is_dir():
        known = chapters(key_dir)
    else:
        raise UserError(f"--key {key_dir}: no such folder (give notebooks/ or the folder "
                        f"`flan-nb assign` wrote)")
    jobs = []
    for path in map(Path, paths):
        nb = read_notebook(path)
        name = submission_chapter(nb, path, chapter, known)
        exercises = load_key(name, key_dir)
        if any(TAG_TESTS in cell_tags(c) for c in nb["cells"]):
            raise UserError(f"{path} is a master notebook (it holds the hidden tests), not a "
                            f"submission: grade the notebooks `flan-nb assign` writes")
        if not any(TAG_STUB in cell_tags(c) and c.get("metadata", {}).get("flan_nb")
                   for c in nb["cells"]):
            raise UserError(f"{path} is not a submission: it has no exercise cell tagged "
                            f"{TAG_STUB!r} (hand out the notebooks `flan-nb assign` writes)")
        jobs.append((path, nb, name, exercises))
    results = []
    for path, nb, name, exercises in jobs:
        for ex in exercises:
            answer = answer_code(nb, ex.label)
            start = time.perf_counter()
            if answer is None:
                status, message = "missing", f"no cell tagged {TAG_STUB} for {ex.label}"
            else:
                status, message = run_isolated(ex.tests, answer, timeout, max_output)
            points = ex.points if status == "passed" else 0.0
            results.append(ExerciseResult(str(path), name, ex.label, points, ex.points, status,
                                          message, round(time.perf_counter() - start, 2)))
    return results


def to_csv(results: list[ExerciseResult]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in results:
        writer.writerow([getattr(r, c) for c in COLUMNS])
    return buffer.getvalue()


def to_json(results: list[ExerciseResult]) -> str:
    submissions: dict[str, dict] = {}
    for r in results:
        entry = submissions.setdefault(r.submission, {
            "submission": r.submission, "chapter": r.chapter, "points": 0.0, "max_points": 0.0,
            "exercises": []})
        entry["points"] += r.points
        entry["max_points"] += r.max_points
        entry["exercises"].append(dataclasses.asdict(r))
    return json.dumps({"submissions": list(submissions.values())}, indent=2) + "\n"


def to_table(results: list[ExerciseResult]) -> str:
    lines, totals = [], {}
    for r in results:
        lines.append(f"{r.submission}  {r.exercise}  {r.points:g}/{r.max_points:g}  {r.status}: "
                     f"{r.message}")
        got, most = totals.get(r.submission, (0.0, 0.0))
        totals[r.submission] = (got + r.points, most + r.max_points)
    lines += [f"{s}  total {got:g}/{most:g}" for s, (got, most) in totals.items()]
    return "\n".join(lines) + "\n"
