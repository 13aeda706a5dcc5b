"""The catalogue verbs: `flan-nb tasks` lists the dataset registry, `flan-nb show` renders examples.

    flan-nb tasks [--json] [--source tinyworld|tfds] [--cluster CLUSTER]
    flan-nb show DATASET [--template K] [--n N] [--split S] [--seed S] [--size S] [--json]
                 [--format zero-shot|few-shot|no-template|dataset-name] [--shots K]
                 [--max-input-tokens N] [--tokenizer PATH|words]

Both only read `flan_nb.tasks`, so they list and show TinyWorld's datasets and the paper's real
ones alike (real ones need their TFDS data for `show`). Formats come from `flan_nb.formats`;
few-shot exemplars are drawn from the training split and pruned to fit the budget in tokens
(`formats.command_line_budget`).
"""

from __future__ import annotations

import json
import sys

from flan_nb import formats, tasks, tfds_data
from flan_nb.errors import UserError

COLUMNS = ("name", "cluster", "source", "num_templates", "kind", "metric")


def task_rows(source: str | None = None, cluster: str | None = None) -> list[dict]:
    """One dict per registered dataset: name, cluster, source, num_templates, kind, metric,
    tfds_names (what `tfds build` prepares: a list, empty for TinyWorld), manual_download."""
    tasks.check_source(source)
    rows = []
    for s in tasks.all_datasets(source=source, cluster=cluster):
        tfds = isinstance(s, tfds_data.TFDSDatasetSpec)
        rows.append({"name": s.name, "cluster": s.cluster, "source": s.source,
                     "num_templates": len(s.templates), "kind": s.kind, "metric": s.metric,
                     "tfds_names": list(tfds_data.tfds_names(s)) if tfds else [],
                     "manual_download": tfds and s.manual_download is not None})
    return rows


def _print_table(rows: list[dict]) -> None:
    widths = {c: max([len(c)] + [len(str(r[c])) for r in rows]) for c in COLUMNS}
    print("  ".join(c.ljust(widths[c]) for c in COLUMNS).rstrip())
    for row in rows:
        print("  ".join(str(row[c]).ljust(widths[c]) for c in COLUMNS).rstrip())


def _cmd_tasks(args) -> int:
    rows = task_rows(args.source, args.cluster)
    if args.check_data:
        specs = [tasks.get(r["name"]) for r in rows if r["source"] == "tfds"]
        if not specs:
            raise UserError("--check-data checks TFDS datasets: add --source tfds")
        # Every split of every dataset: one message names all that are missing.
        tfds_data.check_prepared(specs, ("train", "validation", "test"), args.data_dir)
        print(f"TFDS data prepared for all {len(specs)} datasets")
        return 0
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows)
        print(f"{len(rows)} datasets")
    return 0


def show_rows(name: str, template: int = 0, n: int = 3, split: str = "validation",
              seed: int = 0, size: str = "book", fmt: str = "zero-shot", shots: int = 3,
              budget=None) -> list[dict]:
    """The first `n` examples of a split rendered through one template in format `fmt`, as
    dicts; few-shot draws `shots` exemplars from the training split within `budget` (a
    `formats.TokenBudget`)."""
    if n < 1:
        raise UserError(f"--n must be at least 1, got {n}")
    if shots < 0:
        raise UserError(f"--shots must be >= 0, got {shots}")
    spec = tasks.get(name)
    if not 0 <= template < len(spec.templates):
        raise UserError(f"{name} has templates 0..{len(spec.templates) - 1}, not {template}")
    formats.check_format(fmt)
    examples = tasks.load_examples(name, split, seed=seed, size=size, limit=n)
    pool = tasks.load_examples(name, "train", seed=seed, size=size) if fmt == "few-shot" else ()
    rows = []
    for index, fields in enumerate(examples):
        rendered = formats.render_format(fmt, spec, fields, template, pool=pool, k=shots,
                                         budget=budget, seed=seed)
        rows.append({"dataset": name, "split": split, "index": index, "template": template,
                     "inputs": rendered.inputs, "targets": rendered.targets,
                     "options": list(rendered.options)})
    return rows


def _cmd_show(args) -> int:
    budget = None
    if args.format == "few-shot":
        budget = formats.command_line_budget(
            args.tokenizer, args.max_input_tokens, size=args.size, seed=args.seed,
            tfds=tasks.get(args.dataset).source == "tfds")
    rows = show_rows(args.dataset, args.template, args.n, args.split, args.seed, args.size,
                     args.format, args.shots, budget)
    for row in rows:
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
            continue
        print(f"=== {row['dataset']} / {row['split']} #{row['index']} / template "
              f"{row['template']} ===")
        print(row["inputs"])
        print(f"--- target: {row['targets']}")
        print()
    if budget is not None and budget.warning():
        print(f"flan-nb show: warning: {budget.warning()}", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("tasks", help="list the registered datasets")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument("--source", help="only datasets of this source (tinyworld or tfds)")
    p.add_argument("--cluster", help="only datasets of this cluster (e.g. nli)")
    p.add_argument("--check-data", action="store_true",
                   help="check that the TFDS data of these datasets is prepared; name every "
                        "missing one and the commands that prepare them")
    p.add_argument("--data-dir", help="TFDS data folder for --check-data (default "
                                      "$TFDS_DATA_DIR or ~/tensorflow_datasets)")
    p.set_defaults(func=_cmd_tasks)

    s = subparsers.add_parser("show", help="print examples rendered through a template")
    s.add_argument("dataset", help="dataset name, e.g. tw_nli (see `flan-nb tasks`)")
    s.add_argument("--template", type=int, default=0, help="template id, 0-9 (default 0)")
    s.add_argument("--n", type=int, default=3, help="number of examples (default 3)")
    s.add_argument("--split", default="validation", help="train, validation or test")
    s.add_argument("--seed", type=int, default=0, help="TinyWorld seed (default 0)")
    s.add_argument("--size", default="book", help="TinyWorld size (default book)")
    s.add_argument("--json", action="store_true", help="one JSON object per example")
    s.add_argument("--format", default="zero-shot", choices=formats.FORMATS,
                   help="prompt format (default zero-shot)")
    s.add_argument("--shots", type=int, default=3,
                   help="few-shot exemplars from the training split (default 3)")
    s.add_argument("--max-input-tokens", type=int, default=formats.MAX_INPUT_TOKENS,
                   help=f"few-shot prompts are pruned to this many tokens (default "
                        f"{formats.MAX_INPUT_TOKENS})")
    s.add_argument("--tokenizer", metavar="PATH|words", help=formats.TOKENIZER_HELP)
    s.set_defaults(func=_cmd_show)
