"""Public checks for the chapters' exercises: known cases, a hint when one fails, never a raise.

A check compares a student's function with expected values written in the notebook (not with the
package's own function, which the student could simply call) and prints either `correct` or
`not yet: ` and a hint, so that an unfinished stub never stops the chapter.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) or isinstance(got, float):
        try:
            return math.isclose(float(got), float(want), rel_tol=1e-6, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    if isinstance(want, (list, tuple)) and isinstance(got, (list, tuple)):
        return len(got) == len(want) and all(_same(g, w) for g, w in zip(got, want))
    if isinstance(want, dict) and isinstance(got, dict):
        return set(got) == set(want) and all(_same(got[k], want[k]) for k in want)
    try:
        return bool(got == want)
    except Exception:  # noqa: BLE001 - e.g. an array compared with a list
        return False


def check(fn: Callable, cases: Iterable[tuple[tuple, Any, str]],
          convert: Callable[[Any], Any] | None = None) -> bool:
    """Run `fn(*args)` on each (args, expected, hint); print `correct` or the first hint.

    `convert` turns the result into something comparable (e.g. `dict` for a Counter)."""
    for args, want, hint in cases:
        shown = ", ".join(repr(a) for a in args)
        try:
            got = fn(*args)
        except Exception as err:  # noqa: BLE001 - an unfinished answer must not stop the chapter
            print(f"not yet: {fn.__name__}({shown}) raised {type(err).__name__}: {err}")
            return False
        if got is None:
            print(f"not yet: {fn.__name__} returns nothing (replace the stub's `return None`)")
            return False
        if convert is not None:
            got = convert(got)
        if not _same(got, want):
            print(f"not yet: {fn.__name__}({shown}) gave {got!r}, expected {want!r}. "
                  f"Hint: {hint}")
            return False
    print("correct")
    return True
