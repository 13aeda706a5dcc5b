"""The plan verbs of `flan-nb`: `batch` (run a plan, `--publish` its results), `results` and
`contamination` (dirty evaluation examples of published results, `flan_nb.contamination`).

They sit above both the plan runner (`flan_nb.plans`) and published results
(`flan_nb.results`, which reads plans), so neither of those imports the other's command line.
"""

from __future__ import annotations

import json

from flan_nb import contamination, plans, prompt_results, results


def _publisher(plan: plans.Plan):
    """The module that publishes a plan: prompt tuning's (Figure 10) or the held-out one's."""
    return prompt_results if prompt_results.is_prompt_tuning_plan(plan) else results


def _cmd_batch(args) -> int:
    plan = plans.load_plan(args.plan)
    publisher = _publisher(plan)
    if args.publish:
        publisher.check_publishable(plan)  # a plan without evaluation fails before any run
    if args.dry_run:
        for planned, reason in plans.plan_status(plan):
            state = "finished" if reason is None else f"to run: {reason}"
            print(f"{planned.name}: {planned.notebook.name} {planned.profile} "
                  f"{dict(planned.overrides)} [{state}]")
        return 0
    outcomes = plans.run_plan(plan, force=args.force, keep_going=args.keep_going,
                              progress=not args.quiet)
    print(plans.summary_table(outcomes))
    if any(o.status == plans.FAILED for o in outcomes):
        return 1
    if args.publish:
        path = publisher.publish(plan, command=f"flan-nb batch {args.plan} --publish",
                                 progress=not args.quiet)
        print(f"published {path}")
        print(publisher.format_results(publisher.load_results(plan, path)))
    return 0


def _register_batch(subparsers) -> None:
    p = subparsers.add_parser("batch", help="run a grid of notebooks from a YAML plan (resumable)")
    p.add_argument("plan", help="plan file, e.g. notebooks/plans/book.yaml")
    p.add_argument("--dry-run", action="store_true", help="list the runs and their state only")
    p.add_argument("--force", action="store_true", help="redo runs that already finished")
    p.add_argument("--keep-going", action="store_true", help="go on after a failed run")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--publish", action="store_true",
                   help="then evaluate the runs and write results/<plan-stem>.json")
    p.set_defaults(func=_cmd_batch)


def _cmd_results(args) -> int:
    plan = plans.load_plan(args.plan)
    publisher = _publisher(plan)
    document = publisher.load_results(plan)
    if args.json:
        print(json.dumps({k: v for k, v in document.items() if k not in ("scores", "records")},
                         indent=1))
    else:
        print(publisher.format_results(document))
    return 0


def _register_results(subparsers) -> None:
    p = subparsers.add_parser("results", help="the published results of a plan, as a table")
    p.add_argument("plan", help="plan file, e.g. notebooks/plans/book.yaml")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_results)


def _cmd_contamination(args) -> int:
    ngram = contamination.check_ngram(args.ngram)
    paths = contamination.check_corpus_paths(args.corpus) if args.corpus else None
    if args.target.endswith(".json"):
        document, label = contamination.load_results_file(args.target), args.target
    else:
        plan = plans.load_plan(args.target)
        document, label = results.load_results(plan), results.plan_label(plan)
        contamination.check_document(document, f"results of {label}")
    # Every check (n against the examples' lengths included) runs before the corpus is read.
    section = contamination.section(
        document, ngram=ngram,
        corpus=contamination.read_corpus(paths) if paths else None,
        corpus_label=", ".join(str(p) for p in paths) if paths else None)
    if args.json:
        print(json.dumps(section, indent=1))
    else:
        print(contamination.format_section(section, label))
    return 0


def _register_contamination(subparsers) -> None:
    p = subparsers.add_parser("contamination",
                              help="evaluation examples found in the pretraining corpus "
                                   "(n-gram overlap) and the scores without them")
    p.add_argument("target", metavar="RESULTS_OR_PLAN",
                   help="results/<plan>.json, or the plan file (e.g. notebooks/plans/book.yaml)")
    p.add_argument("--ngram", type=int, default=contamination.DEFAULT_NGRAM,
                   help=f"n-gram length in words (default {contamination.DEFAULT_NGRAM})")
    p.add_argument("--corpus", nargs="+", metavar="PATH",
                   help="text files, one document a line (default: the corpus the plan's base "
                        "runs pretrained on)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_contamination)


def register(subparsers) -> None:
    _register_batch(subparsers)
    _register_results(subparsers)
    _register_contamination(subparsers)
