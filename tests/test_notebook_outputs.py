"""Printed output fits the rendered book's text column (88 characters): a longer line is cut off
on the page. Checked on the smoke runs the notebook tests already executed (run once a session)."""

from pathlib import Path

import pytest

from flan_nb.notebook import MAX_OUTPUT_WIDTH, wide_output_lines
from flan_nb.runs import EXECUTED_NOTEBOOK

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.notebook
@pytest.mark.parametrize("stem", [p.stem for p in NOTEBOOKS])
def test_no_output_line_is_wider_than_the_page(run_smoke, stem):
    wide = wide_output_lines(run_smoke(stem).path / EXECUTED_NOTEBOOK)
    assert not wide, (f"{len(wide)} output lines wider than {MAX_OUTPUT_WIDTH} characters, "
                      f"e.g. cell {wide[0][0]}: {wide[0][1][:120]!r}")


def test_the_check_finds_a_wide_line(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('x' * 100)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ok\n" + "x" * 89)]
    table = nbformat.v4.new_code_cell("table")
    table.outputs = [nbformat.v4.new_output("execute_result", execution_count=1, data={
        "text/plain": "y" * 200, "text/html": "<table></table>"})]  # shown as HTML: wraps
    nb.cells = [cell, table]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert wide_output_lines(path) == [(0, "x" * 89)]
