"""Course assignments from the master notebooks: student versions, hidden tests, grading.

The master notebooks (`notebooks/NN_slug.ipynb`) are the single source. Their exercise cells carry
Jupyter cell tags (kept by Jupyter, JupyterLab, Colab and papermill):

- `exercise` (markdown): opens an exercise, a MyST `:::{exercise}` block with a `:label:`;
- `exercise-stub` (code): what the student completes (a function that returns None);
- `exercise-check` (code): a public check run in the chapter; it prints a hint, never raises;
- `exercise-solution` (markdown): a `:::{solution} LABEL` dropdown; its first ```python block is
  the reference answer of a code exercise;
- `exercise-tests` (raw, also `remove-cell`): hidden tests, self-contained Python: imports the
  answer may use, optional `POINTS = n` and `FORBID = ["module.function", ...]` (package
  functions the answer must not call), and `test_*` functions with literal expected values;
- `teacher-only` (any cell): text for the book's readers only (e.g. "solutions are in the
  dropdowns"), left out of student notebooks.

Cells between one `exercise` cell and the next belong to that exercise. `flan-nb assign` writes
student notebooks (no solution, no hidden test), solved notebooks and hidden tests; `flan-nb grade`
runs each exercise of a submission in its own fresh Python process with a time limit.
"""

TAG_EXERCISE = "exercise"
TAG_STUB = "exercise-stub"
TAG_CHECK = "exercise-check"
TAG_SOLUTION = "exercise-solution"
TAG_TESTS = "exercise-tests"
TAG_TEACHER = "teacher-only"
