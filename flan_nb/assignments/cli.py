"""The assignment verbs: `flan-nb assign` writes student notebooks and hidden tests,
`flan-nb grade` grades submissions.

    flan-nb assign [CHAPTER ...] [--out DIR]
    flan-nb grade SUBMISSION.ipynb [...] [--chapter NN_slug] [--key DIR] [--timeout S]
                  [--max-output BYTES] [--format table|csv|json] [--out FILE]
"""

from __future__ import annotations

import os
from pathlib import Path

from flan_nb.assignments import grade
from flan_nb.assignments.assign import assign
from flan_nb.assignments.grade import DEFAULT_MAX_OUTPUT, DEFAULT_TIMEOUT_S
from flan_nb.errors import UserError


def _cmd_assign(args) -> int:
    written = assign(Path(args.out), args.chapters or None)
    chapters = len(written) // 3
    print(f"wrote {chapters} chapter(s) to {args.out}/: student/ (hand out), solutions/, tests/")
    return 0


def _cmd_grade(args) -> int:
    if args.max_output <= 0:
        raise UserError(f"--max-output must be positive, got {args.max_output}")
    if args.out and not Path(args.out).resolve().parent.is_dir():
        raise UserError(f"--out {args.out}: its folder does not exist")
    results = grade.grade([Path(p) for p in args.submissions], args.chapter,
                          Path(args.key) if args.key else None, args.timeout, args.max_output)
    text = {"csv": grade.to_csv, "json": grade.to_json, "table": grade.to_table}[args.format](
        results)
    if args.out:
        tmp = Path(args.out).with_name(Path(args.out).name + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, args.out)
    else:
        print(text, end="")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("assign", help="write student notebooks and hidden tests")
    p.add_argument("chapters", nargs="*", metavar="CHAPTER", help="e.g. 01_bpe (default: all)")
    p.add_argument("--out", default="assignments", help="output folder (default: assignments)")
    p.set_defaults(func=_cmd_assign)

    g = subparsers.add_parser("grade", help="grade submitted student notebooks")
    g.add_argument("submissions", nargs="+", metavar="SUBMISSION.ipynb")
    g.add_argument("--chapter", help="the chapter answered (default: notebook metadata or name)")
    g.add_argument("--key", help="notebooks/ (default) or the folder `flan-nb assign` wrote")
    g.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                   help=f"seconds per exercise (default {DEFAULT_TIMEOUT_S:g})")
    g.add_argument("--max-output", type=int, default=DEFAULT_MAX_OUTPUT,
                   help=f"bytes an exercise may print (default {DEFAULT_MAX_OUTPUT:,})")
    g.add_argument("--format", choices=("table", "csv", "json"), default="table")
    g.add_argument("--out", help="write the report to this file instead of stdout")
    g.set_defaults(func=_cmd_grade)
