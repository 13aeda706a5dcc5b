"""What the chapters that render published sweeps share (chapters 10 to 15): loading a plan
with its results file (a prompt-tuning plan's through `flan_nb.prompt_results`), checking a
config's plan-file parameter, the "not run yet" text when it was never published, warnings
when the plan changed since, and intervals read and written the same way on every page.

A published plan is `results/<plan-stem>.json` (`flan_nb.results`); a chapter renders it
instead of retraining, and says how to make it when it is missing, so the book builds either way.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from flan_nb import plans, prompt_results, results, stats
from flan_nb.errors import require
from flan_nb.params import book_path
# The chapters format intervals through this module, beside its other published-result helpers.
from flan_nb.stats import format_interval  # noqa: F401


def check_plan_file(value: Any, parameter: str, example: str) -> None:
    """A config's plan parameter names a plan file under notebooks/ (else a UserError naming
    the parameter and an example)."""
    require(isinstance(value, str) and value.endswith((".yaml", ".yml"))
            and os.path.isfile(book_path(value)),
            f"{parameter} must name a plan file under notebooks/ (e.g. {example}), got "
            f"{value!r}")


@dataclasses.dataclass
class Published:
    """A plan and its published results (None: not published yet)."""

    plan: plans.Plan
    document: dict[str, Any] | None
    changes: list[str]  # runs that differ from the plan since it was published

    @property
    def stem(self) -> str:
        return self.plan.stem

    @property
    def command(self) -> str:
        return results.publish_command(self.plan)


def load_published(path: str | Path) -> Published:
    """The plan and, when it was published, its results (a corrupt file is a UserError; a
    plan changed since publishing is rendered, with `changes` saying what differs). A
    prompt-tuning plan is read by `flan_nb.prompt_results`, any other by `flan_nb.results`."""
    plan = plans.load_plan(path)
    if not results.results_path(plan).is_file():
        return Published(plan, None, [])
    reader = prompt_results if prompt_results.is_prompt_tuning_plan(plan) else results
    document = reader.load_results(plan, check_plan=False)
    return Published(plan, document, reader.differences(plan, document))


def change_warnings(changes: Sequence[str], shown: int = 3) -> list[str]:
    """Warnings for runs that differ from the plan since it was published: the first few,
    then how many more (`flan_nb.results.differences`)."""
    lines = [f"WARNING: the plan changed since publishing: {c}" for c in changes[:shown]]
    if len(changes) > shown:
        lines.append(f"WARNING: and {len(changes) - shown} more runs differ; republish")
    return lines


def retrained_shared_runs(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Runs two published documents share by name whose recorded training differs (their
    final losses): the two were published from different trainings of the same plan steps
    (another runs folder or code commit), so their shared numbers need not agree."""
    def losses(doc):
        return {r["name"]: r.get("metrics", {}).get("final_loss")
                for r in doc.get("provenance", {}).get("runs", [])}

    la, lb = losses(a), losses(b)
    return [name for name in la if name in lb and None not in (la[name], lb[name])
            and la[name] != lb[name]]


def retrained_markdown(name_a: str, a: Mapping[str, Any], name_b: str,
                       b: Mapping[str, Any]) -> str | None:
    """One sentence when `a` and `b` share runs trained differently (else None)."""
    runs = retrained_shared_runs(a, b)
    if not runs:
        return None
    commits = (a["provenance"].get("commit", "?")[:7], b["provenance"].get("commit", "?")[:7])
    return (f"Note: the runs {name_a} shares by name with {name_b} were trained separately "
            f"for each ({len(runs)} differ in final loss, e.g. `{runs[0]}`; published at "
            f"commits {commits[0]} and {commits[1]}), so the numbers the two share can differ "
            f"by their run-to-run spread.")


def not_run_markdown(published: Published) -> str:
    """What the page says for a plan that was never published."""
    return (f"**{published.stem}: not run yet.** {published.plan.description} "
            f"It has {len(published.plan.runs)} runs; this command trains the missing ones and "
            f"publishes `{results.plan_label(published.plan)}`'s results:\n\n"
            f"```\n{published.command}\n```")


# -- intervals -------------------------------------------------------------------------------

def compare(a: Mapping[str, float], b: Mapping[str, float]) -> str:
    """"higher" / "lower" when the 95% intervals of a and b do not overlap (a conservative
    reading), else "indistinguishable"."""
    if a["ci_low"] > b["ci_high"]:
        return "higher"
    if a["ci_high"] < b["ci_low"]:
        return "lower"
    return "indistinguishable"


def yerr(intervals: Sequence[Mapping[str, float]]):
    """Matplotlib error bars (below, above) of intervals."""
    # clipped at 0: a mean rounded to 2 digits may sit a hair outside its rounded interval
    return [[max(0.0, i["mean"] - i["ci_low"]) for i in intervals],
            [max(0.0, i["ci_high"] - i["mean"]) for i in intervals]]


def probe_cells(probe: Mapping[str, Any]) -> dict[str, Any]:
    """A published knowledge probe's table cells: runs, facts, chance, and the intervals of
    cloze (the corpus's own words), templates and their gap."""
    return {"runs": len(probe["runs"]), "facts": probe["num_facts"], "chance": probe["chance"],
            "cloze": format_interval(probe["cloze"]),
            "templates": format_interval(probe["template"]),
            "cloze - templates": format_interval(probe["gap"])}


# -- a published document's settings ---------------------------------------------------------

def json_key(setting: Mapping[str, Any]) -> str:
    """A setting as a hashable, order-independent key."""
    return json.dumps(setting, sort_keys=True, default=str)


def settings(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The distinct settings of a published sweep, in plan order."""
    out: list[dict[str, Any]] = []
    for c in document["clusters"]:
        if c["setting"] not in out:
            out.append(c["setting"])
    return out


def clusters(document: Mapping[str, Any]) -> list[str]:
    """The held-out clusters of a published sweep, in plan order."""
    return list(dict.fromkeys(c["cluster"] for c in document["clusters"]))
