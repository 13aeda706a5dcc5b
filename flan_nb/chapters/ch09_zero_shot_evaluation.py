"""Chapter 09 (zero-shot evaluation): its config, the figures of published held-out results
(the paper's Figures 1 and 5 with intervals and floors) and the flat metrics it records.
Scoring itself is the stage's (`flan_nb.evaluate`); the statistics and the published file are
the experiment layer's (`flan_nb.stats`, `flan_nb.results`)."""

from __future__ import annotations

import dataclasses
import os
import textwrap
from typing import Any, Mapping, Sequence

from flan_nb import plans, plotting, report, sharding
from flan_nb.errors import require
from flan_nb.params import book_path
from flan_nb.tasks import CLUSTERS


@dataclasses.dataclass(frozen=True)
class EvalChapterConfig:
    """Parameters of notebook 09 (defaults: its parameters cell)."""

    plan: str  # held-out plan (relative to notebooks/), published results
    run_plan: bool  # rerun the plan and republish instead of reading results/
    example_run: str  # tuned run of the worked example
    data_dir: str  # TFDS data folder ("" = TFDS's default), when RUN_PLAN evaluates
    mesh_data: int  # devices over which the models are replicated
    mesh_fsdp: int  # devices that shard the parameters (a model too big for one chip)
    mesh_tensor: int  # devices that split heads and MLP

    def __post_init__(self):
        require(isinstance(self.plan, str) and self.plan.endswith((".yaml", ".yml")),
                f"PLAN must be a .yaml plan file (e.g. plans/book.yaml), got {self.plan!r}")
        require(isinstance(self.run_plan, bool),
                f"RUN_PLAN must be True or False, got {self.run_plan!r}")
        require(isinstance(self.example_run, str) and self.example_run.strip() != "",
                f"EXAMPLE_RUN must name a tuned run (e.g. 08_instruction_tuning), got "
                f"{self.example_run!r}")
        # With RUN_PLAN the plan makes EXAMPLE_RUN; a folder path is checked as a run folder,
        # and a missing plan file by `flan_nb.params.check_files`.
        if self.run_plan and "/" not in self.example_run and os.path.isfile(book_path(self.plan)):
            planned = [r.name for r in plans.load_plan(book_path(self.plan)).runs]
            require(self.example_run in planned,
                    f"EXAMPLE_RUN {self.example_run!r} is not a run of PLAN {self.plan!r}, which "
                    f"RUN_PLAN executes; its runs are {', '.join(planned)}")
        sharding.check_mesh_sizes(self.mesh_data, self.mesh_fsdp, self.mesh_tensor)

    def mesh(self):
        """The device mesh the models are loaded onto (after `maybe_initialize_distributed`)."""
        return sharding.make_mesh(self.mesh_data, self.mesh_fsdp, self.mesh_tensor)


def headline_metrics(document: Mapping[str, Any]) -> dict[str, float]:
    """Flat `cluster/<cluster>/<model>` means (model: base, tuned, difference) of published
    results, for run.record."""
    out = {}
    for c in document["clusters"]:
        for model in ("base", "tuned", "difference"):
            out[f"cluster/{c['cluster']}/{model}"] = c[model]["mean"]
    return out


def plot_clusters(clusters: Sequence[Mapping[str, Any]],
                  paper: Mapping[str, Mapping[str, float]] = report.PAPER_FIGURE1):
    """Figure 1 analogue from published clusters (`flan_nb.results`): per held-out cluster,
    base and tuned means with their 95% intervals (error bars), the majority floor on the
    examples scored, and the paper's bars."""
    import matplotlib.pyplot as plt  # lazily: see flan_nb/__init__.py

    names = [c["cluster"] for c in clusters]
    series = [(report.MODEL_LABELS[m] + " (95% CI)", [c[m]["mean"] for c in clusters],
               [plotting.ci_error(c[m]) for c in clusters], {"color": report.MODEL_COLORS[m]})
              for m in ("base", "tuned")]
    for key, shade in (("GPT-3 175B zero-shot", "0.85"), ("FLAN 137B zero-shot", "0.6")):
        series.append((f"paper ({report.PAPER_VERSION}): {key}",
                       [paper.get(n, {}).get(key) for n in names], None,
                       {**plotting.PAPER_STYLE, "color": shade}))
    fig, ax = plt.subplots(figsize=(max(7.5, 0.9 * len(names) + 2), 3.6))
    plotting.grouped_bars(ax, range(len(names)), 0.8 / len(series), series)
    labelled = False
    for i, c in enumerate(clusters):
        if c.get("majority_floor") is not None:
            ax.hlines(c["majority_floor"], i - 0.45, i + 0.45, colors="k", linestyles=":",
                      label=None if labelled else "majority-class floor")
            labelled = True
    many = len(names) > 5  # then one tilted line per label, so neighbours do not run together
    ax.set_xticks(range(len(names)), [CLUSTERS.get(n, n) if many
                                      else textwrap.fill(CLUSTERS.get(n, n), 16) for n in names],
                  fontsize=8 if many else None, rotation=30 if many else 0,
                  ha="right" if many else "center", rotation_mode="anchor")
    ax.set_ylabel("zero-shot score (%)")
    ax.set_title("Held-out clusters: each evaluated on a model tuned without it")
    ax.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(0, -0.42 if many else -0.2))
    return fig


def plot_datasets(datasets: Sequence[Mapping[str, Any]],
                  paper: Mapping[str, float] = report.PAPER_FIGURE5,
                  mirrors: Mapping[str, Sequence[str]] = report.PAPER_MIRRORS):
    """Figure 5 analogue from published datasets: per dataset, base and tuned means with
    their 95% intervals, the floors on the examples scored, and the paper's number for a
    mirrored real dataset."""
    import matplotlib.pyplot as plt  # lazily: see flan_nb/__init__.py

    names = [d["dataset"] for d in datasets]
    series = [(report.MODEL_LABELS[m] + " (95% CI)", [d[m]["mean"] for d in datasets],
               [plotting.ci_error(d[m]) for d in datasets], {"color": report.MODEL_COLORS[m]})
              for m in ("base", "tuned")]
    paper_values = [report.paper_score(n, paper, mirrors) for n in names]
    series.append((f"paper ({report.PAPER_VERSION}): FLAN 137B zero-shot "
                   f"(same or mirrored dataset)",
                   paper_values, None, plotting.PAPER_STYLE))
    fig, ax = plt.subplots(figsize=(max(8.0, 0.75 * len(names) + 2), 3.6))
    plotting.grouped_bars(ax, range(len(names)), 0.8 / len(series), series)
    labelled: set[str] = set()
    for i, d in enumerate(datasets):
        floors = d.get("floors") or {}
        # majority on the left half of the group, random on the right: both stay visible
        for kind, style, color, (a, b) in (("majority", ":", "k", (-0.45, 0.0)),
                                           ("random", "--", "0.5", (0.0, 0.45))):
            if kind in floors:
                ax.hlines(floors[kind], i + a, i + b, colors=color, linestyles=style,
                          label=None if kind in labelled else f"{kind} floor")
                labelled.add(kind)
    many = len(names) > 10  # then one tilted line per label
    sep = ", " if many else "\n"
    labels = []
    for d, value in zip(datasets, paper_values):
        mirror = ""
        if value is not None:
            rounds = mirrors[d["dataset"]]  # "ANLI R1" .. "ANLI R3" -> "ANLI R1-R3"
            label = rounds[0] if len(rounds) == 1 else f"{rounds[0]}-{rounds[-1].split()[-1]}"
            mirror = f"{sep}paper: {label}"
        labels.append(f"{d['dataset']}{sep if not many else ' '}({d['metric']}){mirror}")
    ax.set_xticks(range(len(names)), labels, fontsize=7, rotation=45 if many else 0,
                  ha="right" if many else "center", rotation_mode="anchor")
    ax.set_ylabel("zero-shot score (%)")
    ax.set_title("Per dataset: mean over seeds, templates and examples (95% CI)")
    ax.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(0, -0.5 if many else -0.2))
    return fig
