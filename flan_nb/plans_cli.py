"""The plan verbs of `flan-nb`: `batch` (run a plan, `--publish` its results) and `results`.

They sit above both the plan runner (`flan_nb.plans`) and published results
(`flan_nb.results`, which reads plans), so neither of those imports the other's command line.
"""

from __future__ import annotations

import json

from flan_nb import plans, prompt_results, results


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


def register(subparsers) -> None:
    _register_batch(subparsers)
    _register_results(subparsers)
