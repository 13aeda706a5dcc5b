"""Runs one exercise's hidden tests against an answer; the grader starts it in a fresh process.

    python -m flan_nb.assignments.harness JOB.json RESULT_FD

JOB.json holds `tests` (the hidden tests' code), `answer` (the student's cells) and `sandbox` (the
only folder the answer may write to). The result, a JSON object, goes to the pipe RESULT_FD.
`run_exercise` is the same logic in-process (the tests use it to check solutions and stubs).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from pathlib import Path

# Audit events through which code changes files or starts programs.
_DELETE_EVENTS = {"os.remove", "os.rmdir", "shutil.rmtree", "os.rename", "os.truncate",
                  "os.chmod", "os.chown", "os.link", "os.symlink", "os.mkdir", "os.utime"}
_PROCESS_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                   "os.fork", "os.forkpty", "pty.spawn"}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def strip_magics(code: str) -> str:
    """Notebook-only lines (`%time`, `!pip ...`) mean nothing outside IPython: drop them."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in code.splitlines())


def _resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return importlib.import_module(module), name


MAX_MESSAGE = 300  # characters of a failure message kept in the report


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 3] + "..."


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return _short(f"{type(err).__name__}: {text[0]}" if text else type(err).__name__)


def run_exercise(tests: str, answer: str) -> dict:
    """Hidden tests against an answer in this process: {passed, message, tests: {name: msg}}."""
    namespace: dict = {"__name__": "__main__"}
    exec(compile(tests, "<hidden tests>", "exec"), namespace)
    # Tests are taken before the answer runs, so an answer cannot replace them.
    test_functions = {k: v for k, v in namespace.items() if k.startswith("test_") and callable(v)}
    forbid = list(namespace.get("FORBID", []))
    try:
        exec(compile(strip_magics(answer), "<your answer>", "exec"), namespace)
    except BaseException as err:  # noqa: BLE001 - any failure of the answer is a result
        if isinstance(err, KeyboardInterrupt):
            raise
        return {"passed": False, "message": f"your code raised {_first_line(err)}", "tests": {}}
    patched = []
    try:
        for dotted in forbid:
            module, name = _resolve(dotted)
            reference = getattr(module, name)
            if any(value is reference for value in list(namespace.values())):
                return {"passed": False, "tests": {},
                        "message": f"the answer uses {dotted}: write it yourself"}

            def refuse(*args, _dotted=dotted, **kwargs):
                raise AssertionError(f"the answer calls {_dotted}: write it yourself")
            patched.append((module, name, reference))
            setattr(module, name, refuse)
        results = _run_tests(test_functions)
    finally:
        for module, name, reference in patched:  # in-process callers get the package back
            setattr(module, name, reference)
    failed = [f"{k}: {v}" for k, v in results.items() if v != "ok"]
    return {"passed": not failed and bool(results),
            "message": "all tests pass" if not failed else failed[0], "tests": results}


def _run_tests(test_functions: dict) -> dict[str, str]:
    results = {}
    for name, test in test_functions.items():
        try:
            test()
            results[name] = "ok"
        except AssertionError as err:
            results[name] = _short(str(err)) or "assertion failed"
        except BaseException as err:  # noqa: BLE001
            if isinstance(err, KeyboardInterrupt):
                raise
            results[name] = f"raised {_first_line(err)}"
    return results


def _inside(path, root: str) -> bool:
    if isinstance(path, int):
        return True  # an already open descriptor
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    try:
        full = os.path.realpath(os.fspath(path))
    except TypeError:
        return False
    return full == root or full.startswith(root + os.sep)


def install_guard(sandbox: str, violations: list[str]) -> None:
    """An audit hook that refuses, and records, writes and deletions outside `sandbox` and any
    new program. It protects against accidents and casual misuse, not against a determined
    attacker (run untrusted work in a container)."""
    root = os.path.realpath(sandbox)

    def hook(event, args):
        problem = None
        if event == "open" and len(args) >= 3:
            path, mode, flags = args[:3]
            writes = (any(c in mode for c in "wax+") if isinstance(mode, str)
                      else bool((flags or 0) & _WRITE_FLAGS))
            if writes and not _inside(path, root):
                problem = f"tried to write {path}"
        elif event in _DELETE_EVENTS:
            paths = [a for a in args if isinstance(a, (str, bytes, os.PathLike))]
            outside = [p for p in paths if not _inside(p, root)]
            if outside:
                problem = f"tried to change or delete {os.fsdecode(outside[0])}"
        elif event in _PROCESS_EVENTS:
            problem = f"tried to start a program ({event})"
        if problem:
            violations.append(problem)
            raise PermissionError(f"{problem}: answers may not touch files or start programs")

    sys.addaudithook(hook)


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text())
    Path(argv[0]).unlink()  # the hidden tests are not left on disk for the answer to read
    result_fd = int(argv[1])
    violations: list[str] = []
    install_guard(job["sandbox"], violations)
    try:
        result = run_exercise(job["tests"], job["answer"])
    except BaseException:  # noqa: BLE001 - the hidden tests themselves failed to load
        result = {"passed": False, "tests": {},
                  "message": "the hidden tests failed to run: " + traceback.format_exc(-1)}
    if violations:
        result = {"passed": False, "tests": result.get("tests", {}),
                  "message": f"{violations[0]} (answers may not touch files or start programs)"}
    sys.stdout.flush()
    os.write(result_fd, json.dumps(result).encode())
    os.close(result_fd)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
