"""`flan-nb tinyworld build --seed S --out DIR [--size book|smoke|large]`: TinyWorld as files.

`flan-nb tinyworld stats [--seed S] [--size S]` prints the same statistics without writing.
`flan-nb tinyworld variants [--size S] [--held-out C] [--json]` counts the task variants per
cluster (`flan_nb.tinyworld.variants`) and, with --held-out, the tuning tasks NUM_TUNING_TASKS
(notebook 08) can draw from.

Writes, into DIR:
    world.jsonl                       one fact per line {"subject", "relation", "value"}
    corpus.jsonl                      one document per line {"text"}
    datasets/<name>/<split>.jsonl     one example (its template fields) per line
    stats.json                        sizes: facts, documents, words, examples per cluster
Everything is written to a temporary folder first and renamed at the end, so an interrupted build
never leaves half a TinyWorld behind. A split that runs out of distinct examples stops short
rather than repeat one; `build` then names it in one warning line on stderr.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from flan_nb import splits as splits_lib
from flan_nb import tasks
from flan_nb.errors import UserError
import flan_nb.tinyworld.variants as tw_variants
from flan_nb.tinyworld.datasets import BY_NAME
from flan_nb.tinyworld.loader import TinyWorld
from flan_nb.tinyworld.world import SIZES


def _write_jsonl(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")


def stats(tw) -> dict:
    """How big a TinyWorld is: world counts, corpus size, examples per dataset and cluster."""
    per_cluster: dict[str, int] = {}
    per_dataset = {}
    for name, splits in tw.datasets.items():
        per_dataset[name] = {split: len(rows) for split, rows in splits.items()}
        cluster = BY_NAME[name].cluster
        per_cluster[cluster] = per_cluster.get(cluster, 0) + sum(per_dataset[name].values())
    words = [doc.split() for doc in tw.corpus]
    return {
        "seed": tw.seed, "size": tw.size, "world": tw.world.stats(),
        "corpus_documents": len(tw.corpus), "corpus_words": sum(len(w) for w in words),
        "corpus_vocabulary": len({x for w in words for x in w}),
        "datasets": len(tw.datasets), "clusters": len(per_cluster),
        "examples_per_cluster": {c: per_cluster.get(c, 0) for c in tasks.CLUSTERS},
        "split_sizes": tw.split_sizes,  # name -> split -> asked for; a split may stop short
        "examples_per_dataset": per_dataset,
    }


def build_to(out: str | Path, seed: int = 0, size: str = "book", force: bool = False,
             split_sizes: dict[str, int] | None = None) -> dict:
    """Generate TinyWorld (seed, size) and write it under `out`; returns its stats."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        # --force replaces an older build (a folder); a file is never one, so it is kept.
        raise UserError(f"{out} is a file, not a folder: --out names the folder TinyWorld is "
                        f"written into; choose a new folder path (the file is left as it is)")
    if out.exists() and any(out.iterdir()) and not force:
        raise UserError(f"{out} already exists and is not empty; pass --force to replace it")
    tw = TinyWorld(seed, size, split_sizes)  # validates seed, size and split sizes first
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        _write_jsonl(tmp / "world.jsonl", ({"subject": f.subject, "relation": f.relation,
                                            "value": f.value} for f in tw.world.facts))
        _write_jsonl(tmp / "corpus.jsonl", ({"text": doc} for doc in tw.corpus))
        for name, splits in tw.datasets.items():
            for split, rows in splits.items():
                _write_jsonl(tmp / "datasets" / name / f"{split}.jsonl", rows)
        info = stats(tw)
        (tmp / "stats.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n",
                                        encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return info


def stopped_short(per_dataset: dict[str, dict[str, int]],
                  split_sizes: dict[str, dict[str, int]]) -> list[str]:
    """Each split with fewer examples than asked (`split_sizes`: name -> split -> asked), as
    "name split made/asked": it ran out of distinct examples (see `flan_nb.tinyworld.datasets`)."""
    return [f"{name} {split} {made}/{split_sizes[name][split]}"
            for name, splits in sorted(per_dataset.items())
            for split, made in splits.items() if made < split_sizes[name].get(split, 0)]


def _cmd_build(args) -> int:
    sizes = {k: v for k, v in (("train", args.train), ("validation", args.validation),
                               ("test", args.test)) if v is not None}
    info = build_to(args.out, seed=args.seed, size=args.size, force=args.force,
                    split_sizes=sizes)
    print(f"TinyWorld seed={info['seed']} size={info['size']} -> {args.out}: "
          f"{info['world']['facts']} facts, {info['corpus_documents']} documents, "
          f"{info['corpus_words']} words, {info['datasets']} datasets in "
          f"{info['clusters']} clusters")
    short = stopped_short(info["examples_per_dataset"], info["split_sizes"])
    if short:  # not an error: the README explains that splits stop short rather than repeat
        print(f"flan-nb tinyworld: warning: {len(short)} splits ran out of distinct "
              f"examples and stopped short (made/asked): {', '.join(short)}", file=sys.stderr)
    return 0


def _cmd_stats(args) -> int:
    start = time.process_time()
    tw = TinyWorld(args.seed, args.size)
    tw.corpus, tw.datasets
    info = dict(stats(tw), generation_cpu_seconds=round(time.process_time() - start, 1))
    print(json.dumps(info, indent=2, sort_keys=True))
    return 0


def variant_counts(seed: int = 0, size: str = "book", held_out: str | None = None) -> dict:
    """Variants per cluster in the catalog and in the world (seed, size); with `held_out`, the
    tuning pool per cluster (datasets + variants) that NUM_TUNING_TASKS draws from."""
    if held_out is not None:  # checked before anything is generated
        tasks.check_cluster(held_out)
        if seed != 0:
            raise UserError("--held-out counts chapter 08's tuning pool, whose world is seed 0; "
                            "leave --seed out")
    start = time.perf_counter()
    tw = TinyWorld(seed, size)
    made = tw.variants
    info = {"seed": seed, "size": size,
            "catalog": tw_variants.counts_per_cluster(),
            "in_world": tw_variants.counts_per_cluster(made),
            "examples": sum(len(rows) for v in made.values() for rows in v.values()),
            "generation_seconds": round(time.perf_counter() - start, 1)}
    info["catalog_total"], info["in_world_total"] = len(tw_variants.VARIANTS), len(made)
    if held_out is not None:
        split = splits_lib.held_out_split(held_out, "tinyworld")
        pool = splits_lib.tuning_pool(split, size)
        info["held_out"] = held_out
        info["tuning_pool"] = {c: len(names) for c, names in pool.items()}
        info["max_num_tuning_tasks"] = sum(info["tuning_pool"].values())
    return info


def _cmd_variants(args) -> int:
    info = variant_counts(args.seed, args.size, args.held_out)
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
        return 0
    pool = info.get("tuning_pool", {})
    print(f"{'cluster':<40} {'catalog':>7} {args.size:>7}" + (" tuning pool" if pool else ""))
    for cluster, count in info["catalog"].items():
        row = f"{cluster:<40} {count:>7} {info['in_world'][cluster]:>7}"
        if pool:
            row += f" {pool.get(cluster, 0):>11}"
        print(row)
    print(f"{'total':<40} {info['catalog_total']:>7} {info['in_world_total']:>7}"
          + (f" {info['max_num_tuning_tasks']:>11}" if pool else ""))
    print(f"{info['examples']} examples, generated in {info['generation_seconds']} s"
          + (f"; NUM_TUNING_TASKS may be 0..{info['max_num_tuning_tasks']} with "
             f"{args.held_out} held out" if pool else ""))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("tinyworld", help="generate TinyWorld (the book's default data)")
    sub = p.add_subparsers(dest="tinyworld_verb", metavar="ACTION")
    sub.required = True
    b = sub.add_parser("build", help="write the world, corpus and datasets as JSONL")
    b.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
    b.add_argument("--out", required=True, help="output folder")
    b.add_argument("--size", default="book", choices=SIZES, help="world size (default book)")
    for split in ("train", "validation", "test"):
        b.add_argument(f"--{split}", type=int, metavar="N",
                       help=f"examples of every dataset in the {split} split (default: the size's; "
                            f"training splits then differ by dataset)")
    b.add_argument("--force", action="store_true",
                   help="replace a non-empty output folder (never a file)")
    b.set_defaults(func=_cmd_build)
    st = sub.add_parser("stats", help="print the sizes of a TinyWorld as JSON (writes nothing)")
    st.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
    st.add_argument("--size", default="book", choices=SIZES, help="world size (default book)")
    st.set_defaults(func=_cmd_stats)
    v = sub.add_parser("variants", help="count the task variants per cluster (and the tuning "
                                        "pool with --held-out)")
    v.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
    v.add_argument("--size", default="book", choices=SIZES, help="world size (default book)")
    v.add_argument("--held-out", default=None, metavar="CLUSTER",
                   help="also count the tasks NUM_TUNING_TASKS can draw from with CLUSTER held out")
    v.add_argument("--json", action="store_true", help="print JSON")
    v.set_defaults(func=_cmd_variants)
