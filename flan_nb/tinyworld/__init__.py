"""TinyWorld: the book's default data, generated offline from a seed.

A small world (people, animals, places, things, causal rules), a pretraining corpus that states its
facts in many paraphrases, a made-up second language (Velan), and datasets for all 12 FLAN task
clusters, shaped like the real ones and registered in `flan_nb.tasks` under names starting `tw_`.

    from flan_nb import tinyworld
    tw = tinyworld.build(seed=0, size="book")   # cached per (seed, size)
    tw.world, tw.corpus, tw.datasets
    tinyworld.load_split("tw_nli", "train")     # list of field dicts
"""

from __future__ import annotations

# The package's public names, from the modules that define them (`loader` imports the generators;
# no module of the package imports the package itself).
from flan_nb.tinyworld.loader import SPLITS, TinyWorld, build, corpus, load_split, parse_corpus
from flan_nb.tinyworld.world import SIZE_SPECS, SIZES, SizeSpec, World, size_spec

__all__ = ["SIZES", "SIZE_SPECS", "SPLITS", "SizeSpec", "TinyWorld", "World", "build", "corpus",
           "load_split", "parse_corpus", "size_spec"]
