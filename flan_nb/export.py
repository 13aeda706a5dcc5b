"""The `split` and `export` verbs: held-out splits as JSON, formatted data as JSON Lines.

`flan-nb split --held-out CLUSTER [--source S] --json` prints the dataset names to tune on, to
evaluate, and those the paper's rules exclude. `flan-nb export --held-out CLUSTER --format F
--out FILE.jsonl` writes one line per rendered example: {"dataset", "cluster", "split",
"template_id", "inputs", "targets", "options"}. The training split exports the tuning datasets,
one template per example drawn with the seed (as a mixture samples them); any other split exports
the held-out datasets through every template (the paper reports the mean over templates). The
file is written to a temporary name and renamed, so a failure never leaves half a file, and an
existing file is replaced only with `--force`. TinyWorld needs nothing beyond the default install;
TFDS data needs the `tfds` extra, and every dataset it needs is checked before anything is written.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path
from typing import Iterator

from flan_nb import formats, splits, tasks
from flan_nb.errors import UserError

DEFAULT_SOURCE = "tinyworld"  # the book's default data
TEMPLATE_CHOICES = ("one", "all")
FEW_SHOT_POOL = 2000  # few-shot exemplars come from this many training examples per dataset


def export_records(held_out: str, fmt: str = "zero-shot", *, source: str = DEFAULT_SOURCE,
                   split: str = "train", size: str = "book", seed: int = 0,
                   limit: int | None = None, data_dir: str | None = None,
                   templates: str | None = None, k: int = 3,
                   budget: formats.TokenBudget | None = None) -> Iterator[dict]:
    """The records `export` writes, one per rendered example (see the module docstring).

    `templates` is "one" (a seeded random template per example; the default for "train") or
    "all" (every template; the default otherwise). `limit` caps examples per dataset. Few-shot
    draws `k` exemplars from the first FEW_SHOT_POOL training examples of each dataset (whatever
    `limit` is) and prunes them to fit `budget` (default: the command line's default, see
    `formats.command_line_budget`). TFDS data missing for any dataset is one UserError naming
    them all, raised here.
    """
    formats.check_format(fmt)
    templates = templates or ("one" if split == "train" else "all")
    if templates not in TEMPLATE_CHOICES:
        raise UserError(f"unknown templates choice {templates!r}: choose one of "
                        f"{', '.join(TEMPLATE_CHOICES)}")
    if limit is not None and limit < 1:
        raise UserError(f"--limit must be at least 1 example per dataset, got {limit}")
    if k < 0:
        raise UserError(f"--k must be >= 0, got {k}")
    plan = splits.held_out_split(held_out, splits.check_source(source))
    names = plan.train if split == "train" else plan.eval
    specs = [tasks.get(name) for name in names]
    if fmt == "few-shot" and budget is None:
        real = any(spec.source == "tfds" for spec in specs)
        budget = formats.command_line_budget(None, formats.MAX_INPUT_TOKENS, tfds=real,
                                             size=size, seed=seed)
    tasks.check_data(specs, [split, "train"] if fmt == "few-shot" else [split], data_dir)
    # Bad input fails here, before anything is written; the records follow lazily.
    return _records(names, fmt, split=split, size=size, seed=seed, limit=limit,
                    data_dir=data_dir, templates=templates, k=k, budget=budget)


def _records(names: list[str], fmt: str, *, split: str, size: str, seed: int,
             limit: int | None, data_dir: str | None, templates: str, k: int,
             budget: formats.TokenBudget | None) -> Iterator[dict]:
    rng = random.Random(seed)
    for name in names:
        spec = tasks.get(name)
        examples = tasks.load_examples(name, split, seed=seed, size=size, data_dir=data_dir,
                                       limit=limit)
        pool = (tasks.load_examples(name, "train", seed=seed, size=size, data_dir=data_dir,
                                    limit=FEW_SHOT_POOL) if fmt == "few-shot" else [])
        for fields in examples:
            ids = (range(len(spec.templates)) if templates == "all"
                   else [rng.randrange(len(spec.templates))])
            for template_id in ids:
                rendered = formats.render_format(fmt, spec, fields, template_id, pool=pool, k=k,
                                                 budget=budget, seed=seed)
                yield {"dataset": name, "cluster": spec.cluster, "split": split,
                       "template_id": template_id, "inputs": rendered.inputs,
                       "targets": rendered.targets, "options": list(rendered.options)}


def check_out(path: str | os.PathLike, force: bool = False) -> Path:
    """`path` as a Path if `export` may write it: not a folder, and not an existing file
    unless `force` (an export replaces a file whole, so a typo would lose data)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"--out {str(path)!r} is a folder; give a file name like data.jsonl")
    if path.exists() and not force:
        raise UserError(f"--out {str(path)!r} already exists; give --force to overwrite it")
    return path


def write_jsonl_atomic(path: str | os.PathLike, records) -> int:
    """Write `records` as JSON Lines through a temporary file and a rename; the number written.
    On any error the temporary file is removed and `path` is left as it was."""
    path = check_out(path, force=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    count = 0
    try:
        with tmp.open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def _cmd_split(args) -> int:
    plan = splits.held_out_split(args.held_out, splits.check_source(args.source))
    if args.json:
        print(json.dumps(plan.to_dict()))
        return 0
    for part, names in plan.to_dict().items():
        print(f"{part} ({len(names)}): {', '.join(names) or '-'}")
    return 0


def _cmd_export(args) -> int:
    out = check_out(args.out, args.force)
    budget = None
    if args.format == "few-shot":
        budget = formats.command_line_budget(args.tokenizer, args.max_input_tokens,
                                             tfds=args.source != "tinyworld", size=args.size,
                                             seed=args.seed)
    records = export_records(args.held_out, args.format, source=args.source, split=args.split,
                             size=args.size, seed=args.seed, limit=args.limit,
                             data_dir=args.data_dir, templates=args.templates, k=args.k,
                             budget=budget)
    count = write_jsonl_atomic(out, records)
    print(f"wrote {count} examples to {out}")
    if budget is not None and budget.warning():
        print(f"flan-nb export: warning: {budget.warning()}", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    sources = ", ".join(tasks.source_names())
    p = subparsers.add_parser("split", help="a leave-one-cluster-out split (--json)")
    p.add_argument("--held-out", required=True, metavar="CLUSTER",
                   help=f"the evaluated cluster: {', '.join(tasks.CLUSTERS)}")
    p.add_argument("--source", default=DEFAULT_SOURCE, help=f"{sources} (default tinyworld)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_split)

    p = subparsers.add_parser("export", help="formatted examples of a split as JSON Lines")
    p.add_argument("--held-out", required=True, metavar="CLUSTER", help="the evaluated cluster")
    p.add_argument("--format", required=True, metavar="FORMAT",
                   help=f"{', '.join(formats.FORMATS)}")
    p.add_argument("--out", required=True, metavar="FILE.jsonl",
                   help="the file to write (an existing one only with --force)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    p.add_argument("--source", default=DEFAULT_SOURCE, help=f"{sources} (default tinyworld)")
    p.add_argument("--split", default="train",
                   help="train (the tuning datasets) or validation/test (the held-out ones)")
    p.add_argument("--size", default="book", help="TinyWorld size (default book)")
    p.add_argument("--seed", type=int, default=0, help="TinyWorld seed and template draw")
    p.add_argument("--limit", type=int, help="at most this many examples per dataset")
    p.add_argument("--data-dir", help="TFDS data folder (default $TFDS_DATA_DIR or "
                                      "~/tensorflow_datasets)")
    p.add_argument("--templates", choices=TEMPLATE_CHOICES,
                   help="one random template per example (default for train) or all")
    p.add_argument("--k", type=int, default=3, help="few-shot exemplars (default 3)")
    p.add_argument("--max-input-tokens", type=int, default=formats.MAX_INPUT_TOKENS,
                   help=f"few-shot prompt budget, in tokens (default {formats.MAX_INPUT_TOKENS})")
    p.add_argument("--tokenizer", metavar="PATH|words", help=formats.TOKENIZER_HELP)
    p.set_defaults(func=_cmd_export)
