"""Chapter 04 (tasks and clusters): its config. The registry, the held-out splits and their
tables are the stages' own (`flan_nb.tasks`, `flan_nb.splits`)."""

from __future__ import annotations

import dataclasses

from flan_nb import tasks
from flan_nb.errors import require
from flan_nb.tinyworld import SIZES


@dataclasses.dataclass(frozen=True)
class TasksChapterConfig:
    """Parameters of notebook 04 (defaults: its parameters cell)."""

    split_source: str  # whose datasets the held-out split is drawn from: tinyworld or tfds
    held_out: str  # a cluster id
    size: str  # TinyWorld size
    seed: int

    def __post_init__(self):
        require(self.split_source in tasks.SOURCES,
                f"SPLIT_SOURCE must be one of {', '.join(tasks.SOURCES)}, "
                f"got {self.split_source!r}")
        require(self.held_out in tasks.CLUSTERS,
                f"HELD_OUT must be a cluster id ({', '.join(tasks.CLUSTERS)}), "
                f"got {self.held_out!r}")
        require(self.size in SIZES, f"SIZE must be one of {', '.join(SIZES)}, got {self.size!r}")
