"""Small helpers every notebook calls at the top: the environment report and the run handle."""

from __future__ import annotations

import dataclasses
import html
import importlib.metadata
import json
import os
import platform
import textwrap
from pathlib import Path


def environment_report() -> dict[str, str]:
    """Python, package versions and JAX devices, printed at the top of every chapter."""
    # on use (cost: flan_nb/__init__): `flan-nb params` imports this module
    import flax
    import jax
    import optax

    devices = jax.devices()
    info = {
        "python": platform.python_version(),
        "flan_nb": importlib.metadata.version("flan-nb"),  # not `import flan_nb`: no cycle
        "jax": jax.__version__,
        "flax": flax.__version__,
        "optax": optax.__version__,
        "backend": jax.default_backend(),
        "devices": f"{len(devices)} x {devices[0].device_kind}",
        "cpu_count": str(os.cpu_count()),
    }
    for key, value in info.items():
        print(f"{key:>9}: {value}")
    return info


# The rendered book's text column holds about 88 monospace characters; a longer output line is
# cut off on the page. Tables go through `show_table` (HTML) instead of wide printed text.
MAX_OUTPUT_WIDTH = 88


def print_wrapped(text: str, width: int = MAX_OUTPUT_WIDTH, indent: str = "  ") -> None:
    """Print `text` with each of its lines wrapped at `width` (continuations indented), so long
    generated documents and lists read whole on the rendered page."""
    for line in str(text).splitlines() or [""]:
        print(textwrap.fill(line, width, subsequent_indent=indent, break_long_words=True,
                            break_on_hyphens=False, replace_whitespace=False) if line else "")


def pretty_config(config, printer, cycle: bool) -> None:
    """IPython's display of a config object: one field a line (`make_config` installs it), where
    the dataclass repr is one line wider than the page."""
    if cycle:
        printer.text(f"{type(config).__name__}(...)")
        return
    with printer.group(2, f"{type(config).__name__}(", ")"):
        for i, field in enumerate(dataclasses.fields(config)):
            if i:
                printer.text(",")
            printer.breakable()
            printer.text(f"{field.name}=")
            printer.pretty(getattr(config, field.name))


def wide_output_lines(executed_notebook, width: int = MAX_OUTPUT_WIDTH) -> list[tuple[int, str]]:
    """(cell index, line) for every text output line of an executed notebook wider than `width`
    (printed text, stderr, and the plain-text result of a cell that has no HTML form)."""
    nb = json.loads(Path(executed_notebook).read_text(encoding="utf-8"))
    found = []
    for index, cell in enumerate(nb.get("cells", [])):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                text = output.get("text", "")
            elif "data" in output and "text/html" not in output["data"]:
                text = output["data"].get("text/plain", "")
            elif output.get("output_type") == "error":
                continue  # a failed run is reported by its own test
            else:
                continue
            text = "".join(text) if isinstance(text, list) else text
            for line in text.replace("\r", "\n").splitlines():
                if len(line) > width:
                    found.append((index, line))
    return found


def show_table(rows, columns=None, digits: int = 3) -> None:
    """Display rows (dicts) as an HTML table in a notebook (plain text elsewhere): the rendered
    book wraps or scrolls a table, where a printed one is cut off at the page's edge."""
    # IPython on use: only inside a notebook (the CLI and scripts do without it)
    from IPython.display import HTML, display

    rows = list(rows)
    columns = list(columns or (list(rows[0]) if rows else []))

    def cell(value):
        if isinstance(value, float):
            return f"{value:.{digits}f}"
        return "" if value is None else str(value)


    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell(r.get(c)))}</td>" for c in columns)
                   + "</tr>" for r in rows)
    display(HTML(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"))
