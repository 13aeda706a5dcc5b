"""The `flan-nb` command (also `python -m flan_nb`).

Each verb lives beside the stage it serves; this module only wires them. A verb module exposes
`register(subparsers)` which adds its parser and sets `func` (args -> exit status). Verb modules
import heavy libraries (JAX, papermill) inside their handlers so that `flan-nb tasks` starts fast.
Bad input (`UserError`) becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from flan_nb.errors import UserError

# Modules that contribute verbs, in the order `flan-nb --help` lists them.
VERB_MODULES = [
    "flan_nb.runner",
    "flan_nb.bench",
    "flan_nb.plans_cli",  # batch, results
    "flan_nb.export",
    "flan_nb.tinyworld.cli",
    "flan_nb.catalog_cli",
    "flan_nb.assignments.cli",
]


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="flan-nb", description="The FLAN notebook book's command line.")
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    subparsers.required = True
    for module in VERB_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as err:
        print(f"flan-nb {args.verb}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
