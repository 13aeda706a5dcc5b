"""Chapter 08 (instruction tuning): its config (what to tune on, how to pack it) and the
before/after loss figure.

The training settings and the loss figures are shared with chapter 07 (`flan_nb.chapters.training`).
"""

from __future__ import annotations

import dataclasses
import random

import numpy as np

from flan_nb import formats, splits, tasks
from flan_nb.chapters.training import TrainingSettings
from flan_nb.errors import require
from flan_nb.pipeline import make_batches

# The paper's recipe, for comparisons printed and drawn beside ours.
PAPER_TUNING_STEPS = 30_000
PAPER_TUNING_BATCH_TOKENS = 8_192
PAPER_LEARNING_RATE = 3e-5
# What FORMAT may tune on: FLAN's instructions and the two ablation formats of Figure 8.
TUNING_FORMATS = ("zero-shot", "no-template", "dataset-name")
COT_MIXTURE_CLUSTER = "cot"  # flan_nb.tasks.MIXTURES: the CoT tuning datasets
FEW_SHOT_EXEMPLARS = 3  # exemplars of a few-shot tuning example, before pruning to fit


def cot_tuning_datasets(source: str, size: str) -> list[str]:
    """The CoT tuning datasets of `source` that have training examples at TinyWorld `size`
    (a smoke world is too small for some chains)."""
    names = [s.name for s in tasks.all_variants(source=source)
             if s.cluster == COT_MIXTURE_CLUSTER]
    return [n for n in names if tasks.load_examples(n, "train", size=size, limit=1)]


@dataclasses.dataclass(frozen=True)
class TuningChapterConfig(TrainingSettings):
    """Notebook 08's parameters (one field per parameter), validated on construction.

    Tuning keeps the base model's dtype, so it has no DTYPE parameter.
    """

    # The cluster(s) left out of tuning and evaluated zero-shot in 09, comma-separated (Figure 6
    # holds out three at once); the paper's rules remove their neighbours too.
    held_out: str
    tuning_clusters: str  # clusters tuned on, comma-separated; "" = every one the rules allow
    base_run: str  # run name under runs/, or a path to a run folder
    source: str  # tinyworld or tfds
    size: str  # TinyWorld size
    data_dir: str  # TFDS data folder ("" = TFDS's default)
    max_input_length: int
    max_target_length: int
    bidirectional_prefix: bool
    # Packed examples masked from each other (Flan 2022's packing) or not (FLAN 2021's, an EOS
    # between examples): see flan_nb.packing.
    isolate_packed: bool
    rate_cap: int  # examples-proportional mixing, rate = min(examples, cap)
    max_examples: int  # training examples per dataset
    # Flan 2022's task-count axis: 0 tunes on the datasets of the held-out split; N > 0 on N
    # tasks drawn (seeded, cluster-stratified) from those datasets and TinyWorld's task variants
    # (flan_nb.splits.select_tuning_tasks); TinyWorld only.
    num_tuning_tasks: int
    # Figure 8: tune on FLAN instructions ("zero-shot"), the raw inputs ("no-template"), or
    # the raw inputs after the dataset's name ("dataset-name"); see flan_nb.formats.
    format: str
    num_templates: int  # Appendix B: tune on each dataset's first N templates; 0 = all
    # The paper's options suffix (OPTIONS and one "- answer" line per choice) on every
    # classification template; False tunes without any options list (chapter 10's
    # shared-answer-space ablation; evaluation keeps the suffix).
    options_suffix: bool
    # Flan 2022's CoT mixture: add TinyWorld's chain-of-thought tuning datasets (twc_*, mixture
    # "cot", flan_nb.tinyworld.cot), rendered with their rationales (the "cot" format).
    cot_mixture: bool
    # Flan 2022's mixed prompt formats: this share of tuning examples is rendered few-shot
    # (FEW_SHOT_EXEMPLARS exemplars of the same dataset and template, pruned to fit
    # MAX_INPUT_LENGTH), the rest zero-shot; 0 = zero-shot only.
    few_shot_fraction: float
    datasets_per_cluster: int  # Appendix B: the first N datasets of each cluster; 0 = all
    num_eval_batches: int  # batches of validation examples for the before/after losses

    def __post_init__(self):
        splits.check_source(self.source)
        require(self.held_out_clusters, "HELD_OUT names no cluster: give one or more cluster "
                                        "ids, comma-separated (e.g. \"nli\")")
        splits.parse_clusters(self.tuning_clusters, "TUNING_CLUSTERS")
        require(self.format in TUNING_FORMATS,
                f"FORMAT must be one of {', '.join(TUNING_FORMATS)} (Figure 8's tuning "
                f"formats), got {self.format!r}")
        for name in ("num_templates", "datasets_per_cluster"):
            value = getattr(self, name)
            require(isinstance(value, int) and not isinstance(value, bool) and value >= 0,
                    f"{name.upper()} must be an integer >= 0 (0: all), got {value!r}")
        require(isinstance(self.options_suffix, bool),
                f"OPTIONS_SUFFIX must be True or False, got {self.options_suffix!r}")
        require(self.options_suffix or self.format == "zero-shot",
                f"OPTIONS_SUFFIX = False removes the options from FLAN's templates, but FORMAT "
                f"= {self.format!r} has none; set OPTIONS_SUFFIX = True or FORMAT = \"zero-shot\"")
        require(self.options_suffix or not self.few_shot_fraction,
                "OPTIONS_SUFFIX = False tunes zero-shot prompts only; set FEW_SHOT_FRACTION = 0")
        require(self.num_templates == 0 or self.format == "zero-shot",
                f"NUM_TEMPLATES={self.num_templates} chooses FLAN templates, but FORMAT = "
                f"{self.format!r} has none; set NUM_TEMPLATES = 0 or FORMAT = \"zero-shot\"")
        require(self.num_tuning_tasks == 0 or (self.datasets_per_cluster == 0
                                               and not self.tuning_clusters),
                "NUM_TUNING_TASKS draws its own tasks: use it with DATASETS_PER_CLUSTER = 0 and "
                "TUNING_CLUSTERS = \"\"")
        require(self.rate_cap > 0 and self.max_examples > 0,
                f"RATE_CAP and MAX_EXAMPLES must be positive, got {self.rate_cap} and "
                f"{self.max_examples}")
        require(self.isolate_packed or not self.bidirectional_prefix,
                "BIDIRECTIONAL_PREFIX = True needs ISOLATE_PACKED = True: without isolation a "
                "row is one sequence, and a bidirectional prefix would let an example's inputs "
                "see the next example's; set one of them to False")
        self._check_num_tuning_tasks()
        self._check_cot_and_few_shot()
        self._check_num_templates(self.tuning_split())
        require(self.num_eval_batches >= 1,
                f"NUM_EVAL_BATCHES must be >= 1, got {self.num_eval_batches}")
        for name in ("max_input_length", "max_target_length"):
            require(getattr(self, name) >= 2, f"{name.upper()} counts the EOS: it must be at "
                                              f"least 2, got {getattr(self, name)}")
        super().__post_init__()

    def _check_num_tuning_tasks(self) -> None:
        n = self.num_tuning_tasks
        require(isinstance(n, int) and not isinstance(n, bool) and n >= 0,
                f"NUM_TUNING_TASKS must be an integer >= 0 (0: the datasets), got {n!r}")
        if n == 0:
            return
        require(self.source == "tinyworld",
                f"NUM_TUNING_TASKS={n} needs SOURCE = \"tinyworld\" (task variants are "
                f"TinyWorld's), got {self.source!r}; set NUM_TUNING_TASKS = 0 for {self.source}")
        splits.check_num_tuning_tasks(n, self._split(), self.size)

    def _check_cot_and_few_shot(self) -> None:
        require(isinstance(self.cot_mixture, bool),
                f"COT_MIXTURE must be True or False, got {self.cot_mixture!r}")
        if self.cot_mixture:
            require(bool(cot_tuning_datasets(self.source, self.size)),
                    f"COT_MIXTURE = True asks for chain-of-thought datasets, and source "
                    f"{self.source!r} has none (TinyWorld's twc_* are the only ones): set "
                    f"COT_MIXTURE = False or SOURCE = \"tinyworld\"")
            require(self.format == "zero-shot",
                    f"COT_MIXTURE = True renders CoT data through its templates, but FORMAT = "
                    f"{self.format!r} has none; set FORMAT = \"zero-shot\"")
        fraction = self.few_shot_fraction
        require(isinstance(fraction, (int, float)) and not isinstance(fraction, bool)
                and 0 <= fraction <= 1,
                f"FEW_SHOT_FRACTION must be a number from 0 (zero-shot only) to 1 (all "
                f"few-shot), got {fraction!r}")
        require(fraction == 0 or self.format == "zero-shot",
                f"FEW_SHOT_FRACTION = {fraction} mixes few-shot FLAN templates in, but FORMAT "
                f"= {self.format!r} has no templates; set FEW_SHOT_FRACTION = 0 or FORMAT = "
                f"\"zero-shot\"")

    def _check_num_templates(self, split) -> None:
        if self.num_templates == 0:
            return
        fewest = min(split.train, key=lambda name: len(tasks.get(name).templates))
        count = len(tasks.get(fewest).templates)
        require(self.num_templates <= count,
                f"NUM_TEMPLATES={self.num_templates} but {fewest} has {count} templates: choose "
                f"0 (all) to {count}")

    @property
    def held_out_clusters(self) -> tuple[str, ...]:
        return splits.parse_clusters(self.held_out, "HELD_OUT")

    @property
    def held_out_label(self) -> str:
        """The held-out cluster(s) as one file-name-safe word."""
        return "+".join(self.held_out_clusters)

    def _split(self):
        train = splits.parse_clusters(self.tuning_clusters, "TUNING_CLUSTERS") or None
        return splits.split_for(self.held_out_clusters, source=self.source,
                                train_clusters=train)

    def tuning_split(self):
        """The held-out split this run tunes on: `train` holds the datasets (of
        TUNING_CLUSTERS, at most DATASETS_PER_CLUSTER of each), or with NUM_TUNING_TASKS = N
        the N tasks drawn by `flan_nb.splits.select_tuning_tasks`."""
        split = self._split()
        if self.num_tuning_tasks == 0:
            split = splits.limit_datasets_per_cluster(split, self.datasets_per_cluster)
        else:
            train = splits.select_tuning_tasks(split, self.num_tuning_tasks, seed=self.seed,
                                               size=self.size)
            clusters = tuple(c for c in split.train_clusters
                             if any(tasks.get(n).cluster == c for n in train))
            split = dataclasses.replace(split, train=train, train_clusters=clusters)
        if self.cot_mixture:  # Flan 2022 adds its CoT mixture to the others
            split = dataclasses.replace(split, train=[*split.train, *cot_tuning_datasets(
                self.source, self.size)])
        return split

    def train_config(self):
        return super().train_config(bidirectional_prefix=self.bidirectional_prefix,
                                    max_input_length=self.max_input_length,
                                    max_target_length=self.max_target_length)

    def render(self, name: str, fields, template_id: int):
        """One example of dataset `name` in this run's FORMAT (`template_id` is used by FLAN
        instructions only: the ablation formats have one rendering per example); a CoT
        dataset's example with its rationale (the "cot" format)."""
        spec = tasks.get(name)
        if spec.cluster == COT_MIXTURE_CLUSTER:
            return formats.render_format("cot", spec, fields, template_id)
        if not self.options_suffix:
            return formats.without_options(spec, fields, template_id)
        return formats.render_format(self.format, spec, fields, template_id)

    def renderer(self, tokenizer):
        """`render`, with FEW_SHOT_FRACTION of the examples few-shot: exemplars from the
        dataset's training split, the same template, pruned to fit MAX_INPUT_LENGTH (EOS
        included) in `tokenizer`'s tokens. Which examples are few-shot is seeded by SEED and
        the example, so a resumed run renders them the same."""
        if not self.few_shot_fraction:
            return self.render
        budget = formats.TokenBudget(lambda text: len(tokenizer.encode(text)),
                                     self.max_input_length - 1)
        pools: dict[str, list] = {}

        def render(name, fields, template_id):
            rendered = self.render(name, fields, template_id)
            draw = random.Random(f"few-shot/{self.seed}/{name}/{template_id}/"
                                 f"{rendered.inputs}").random()
            if draw >= self.few_shot_fraction or tasks.get(name).cluster == COT_MIXTURE_CLUSTER:
                return rendered
            if name not in pools:
                pools[name] = tasks.load_examples(name, "train", size=self.size,
                                                  data_dir=self.data_dir or None,
                                                  limit=self.max_examples)
            return budget.few_shot(tasks.get(name), fields, template_id, pools[name],
                                   FEW_SHOT_EXEMPLARS, seed=self.seed)

        return render

    def num_templates_of(self, datasets) -> dict[str, int]:
        """Template ids the mixture draws from per dataset: NUM_TEMPLATES of FLAN's (or all),
        one for an ablation format."""
        if self.format != "zero-shot":
            return {name: 1 for name in datasets}
        return {name: self.num_templates or len(tasks.get(name).templates) for name in datasets}

    def batches(self, datasets, tokenizer, *, split: str = "train"):
        """The packed instruction pipeline over `datasets` with this chapter's settings."""
        return make_batches(datasets, tokenizer, batch_size=self.train_config().batch_size,
                            max_input_length=self.max_input_length,
                            max_target_length=self.max_target_length,
                            seq_length=self.seq_length, seed=self.seed, size=self.size,
                            split=split, rate_cap=self.rate_cap,
                            max_examples=self.max_examples, data_dir=self.data_dir or None,
                            isolate=self.isolate_packed, render=self.renderer(tokenizer),
                            num_templates=self.num_templates_of(datasets))


def plot_before_after(before: dict[str, float], after: dict[str, float]):
    """Grouped bars: validation loss of each group (held-in, held-out) before and after."""
    import matplotlib.pyplot as plt

    names = list(before)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(5.2, 3.2))
    ax.bar(x - 0.2, [before[n] for n in names], 0.4, label="base model", color="0.6")
    ax.bar(x + 0.2, [after[n] for n in names], 0.4, label="instruction-tuned", color="C0")
    for i, name in enumerate(names):
        ax.text(i - 0.2, before[name], f"{before[name]:.2f}", ha="center", va="bottom",
                fontsize=8)
        ax.text(i + 0.2, after[name], f"{after[name]:.2f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [f"{n} validation" for n in names])
    ax.set_ylabel("loss on target tokens (nats)")
    ax.legend(frameon=False, fontsize=8)
    return fig
