"""`flan-nb bench NAME --json`: performance figures, measured as ratios within one run.

Each benchmark is a module of this package (`tokenize`, `pack`, `eval`, `train`) whose
`benchmark(quick)` returns a flat dict of numbers; this module only dispatches, so the stage
modules hold no benchmark. The machine is shared and noisy, so every benchmark measures
its baseline in the same invocation and reports the ratio beside the absolute figures.
"""

from __future__ import annotations

import importlib
import json

from flan_nb.errors import require

# name -> "module:function"; the function takes `quick: bool` and returns a dict.
BENCHMARKS = {
    "tokenize": "flan_nb.bench.tokenize:benchmark",
    "pack": "flan_nb.bench.pack:benchmark",
    "eval": "flan_nb.bench.eval:benchmark",
    "train": "flan_nb.bench.train:benchmark",
}


# Options only some benchmarks take: name -> benchmarks that accept it.
OPTIONS = {"model": ("train",)}


def run_benchmark(name: str, quick: bool = False, **options) -> dict:
    for option, value in options.items():
        require(value is None or name in OPTIONS[option],
                f"--{option} applies to bench {' / '.join(OPTIONS[option])} only, not {name}")
    module_name, func_name = BENCHMARKS[name].split(":")
    given = {k: v for k, v in options.items() if v is not None}
    return getattr(importlib.import_module(module_name), func_name)(quick=quick, **given)


def _cmd_bench(args) -> int:
    result = run_benchmark(args.name, quick=args.quick, model=args.model)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        width = max(len(k) for k in result)
        for key in sorted(result):
            print(f"{key:<{width}}  {result[key]}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("bench", help="performance figures (JSON with --json)")
    p.add_argument("name", choices=sorted(BENCHMARKS), help="what to measure")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quick", action="store_true", help="smaller inputs (for tests)")
    p.add_argument("--model", default=None,
                   help="train: the model shape (default small-5m; tiny-1m is the book's)")
    p.set_defaults(func=_cmd_bench)
