"""Statistics of an experiment: means with 95% bootstrap intervals, paired differences, verdicts.

A held-out comparison scores every model on the same examples through the same templates. One
number per (seed, example) is kept, the score averaged over templates (templates are a fixed
design, every one is evaluated, so they are not resampled). A cluster's score is the mean over
its datasets (each counts once) of the mean over seeds and examples.

The interval resamples what would change in a rerun: the tuning seeds and the examples. Both are
drawn independently (a crossed bootstrap: seeds with replacement, and examples with replacement
inside each dataset) by `scipy.stats.bootstrap`, which treats each of them as one sample; the
statistic gathers the scores of the drawn seeds and examples. The difference tuned - base is
computed per (seed, example) on the same examples and templates, so the interval of the paired
difference is much narrower than the two intervals side by side suggest. With percentile
intervals and three seeds the seed part of the interval is coarse: it says what three seeds can.

A verdict comes from the interval of the difference: "helps" when it lies above 0, "hurts" when
below 0, "no detectable change" when it contains 0 (Agarwal et al. 2021 argue for intervals over
point estimates with few seeds).
"""

from __future__ import annotations

import collections
import dataclasses
import warnings
from typing import Any, Mapping, Sequence

import numpy as np

from flan_nb.errors import UserError

CONFIDENCE = 0.95
NUM_RESAMPLES = 2000
# Fixed, so a published interval is reproduced exactly from the same scores.
BOOTSTRAP_SEED = 0
HELPS, HURTS, NO_CHANGE = "helps", "hurts", "no detectable change"
# A model giving one answer to more than this share of the examples is flagged: its score
# says nothing about the task, only about that answer's share of the labels.
DOMINANT_SHARE = 0.9


@dataclasses.dataclass(frozen=True)
class Interval:
    """A mean and its 95% bootstrap confidence interval (same units as the scores)."""

    mean: float
    ci_low: float
    ci_high: float

    def as_dict(self, digits: int = 2) -> dict[str, float]:
        return {"mean": round(self.mean, digits), "ci_low": round(self.ci_low, digits),
                "ci_high": round(self.ci_high, digits)}

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2


def _as_groups(groups: Sequence[Any]) -> list[np.ndarray]:
    """Each group as a float array (seeds, examples); all with the same number of seeds."""
    arrays = [np.atleast_2d(np.asarray(g, dtype=np.float64)) for g in groups]
    if not arrays:
        raise UserError("no scores to summarise")
    seeds = {a.shape[0] for a in arrays}
    if len(seeds) != 1:
        raise UserError(f"every dataset of a cluster needs the same seeds, got {sorted(seeds)}")
    for a in arrays:
        if a.shape[1] < 2:
            raise UserError(f"a bootstrap interval needs at least 2 examples per dataset, got "
                            f"{a.shape[1]}")
    return arrays


def mean_interval(groups: Sequence[Any], *, weights: Sequence[float] | None = None,
                  confidence: float = CONFIDENCE, num_resamples: int = NUM_RESAMPLES,
                  seed: int = BOOTSTRAP_SEED) -> Interval:
    """Mean over groups (datasets) of each group's mean over (seeds, examples), with a
    bootstrap interval that resamples seeds and, independently per group, examples.

    `groups`: one array-like (num_seeds, num_examples) per dataset (or (num_examples,) for one
    seed); row s of every group comes from the same seed (the same model), so seeds are drawn
    once for all groups. With one seed only examples are resampled. `weights` (one positive
    number per group; default equal) make the mean a weighted one, e.g. 1 / (clusters x the
    cluster's datasets) so that every cluster counts once in an average over clusters.
    """
    # scipy on use (cost: flan_nb/__init__): only this test needs it
    from scipy import stats as scipy_stats

    arrays = _as_groups(groups)
    w = None  # equal weights: the plain mean, exactly as results were published before
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(arrays),) or not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise UserError(f"weights must be one positive number per group ({len(arrays)}), "
                            f"got {list(weights)!r}")
        w = w / w.sum()
    num_seeds = arrays[0].shape[0]
    point = float(np.mean([a.mean() for a in arrays]) if w is None
                  else np.dot(w, [a.mean() for a in arrays]))
    if all(np.ptp(a) == 0 for a in arrays) and len({float(a.flat[0]) for a in arrays}) == 1:
        return Interval(point, point, point)  # every score equal: no spread to resample
    with_seeds = num_seeds > 1

    def statistic(*indices, axis=-1):
        # each index array: (batch, n) drawn positions, or (n,) when called unbatched
        seed_idx = indices[0] if with_seeds else None
        example_idx = indices[1:] if with_seeds else indices
        means = []
        for a, ex in zip(arrays, example_idx):
            ex = np.asarray(ex, dtype=np.intp)
            if seed_idx is None:
                means.append(a[0][ex].mean(axis=-1))  # (batch,)
            else:
                s = np.asarray(seed_idx, dtype=np.intp)
                # (batch, drawn seeds, drawn examples) -> mean over both
                means.append(a[s[..., :, None], ex[..., None, :]].mean(axis=(-2, -1)))
        if w is None:
            return np.mean(means, axis=0)
        return np.tensordot(w, np.asarray(means), axes=1)  # weighted over groups

    data = ([np.arange(num_seeds)] if with_seeds else []) + [np.arange(a.shape[1])
                                                             for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "degenerate" warnings on near-constant scores
        result = scipy_stats.bootstrap(
            tuple(data), statistic, n_resamples=num_resamples, vectorized=True, paired=False,
            confidence_level=confidence, method="percentile", batch=500,
            rng=np.random.default_rng(seed))
    low, high = result.confidence_interval
    return Interval(point, float(min(low, point)), float(max(high, point)))


def paired_differences(tuned: Sequence[Any], base: Sequence[Any]) -> list[np.ndarray]:
    """Per dataset, tuned - base on the same examples: (seeds, examples) minus (examples,)."""
    out = []
    for t, b in zip(tuned, base, strict=True):
        t, b = np.atleast_2d(np.asarray(t, float)), np.asarray(b, float).reshape(-1)
        if t.shape[1] != b.shape[0]:
            raise UserError(f"tuned and base were scored on different examples ({t.shape[1]} "
                            f"vs {b.shape[0]}): a paired difference needs the same ones")
        out.append(t - b[None, :])
    return out


def verdict(difference: Interval) -> str:
    """helps / hurts / no detectable change, from where the interval lies relative to 0."""
    if difference.ci_low > 0:
        return HELPS
    if difference.ci_high < 0:
        return HURTS
    return NO_CHANGE


def format_interval(interval: Mapping[str, Any] | Interval | None, digits: int = 1) -> str:
    """"mean [low, high]" of an `Interval` or a published one; "mean" alone when it has no
    interval (one number), "-" when there is none."""
    if interval is None or (isinstance(interval, Mapping) and not interval):
        return "-"
    if isinstance(interval, Interval):
        interval = dataclasses.asdict(interval)
    if interval.get("ci_low") is None:
        return f"{interval['mean']:.{digits}f}"
    return (f"{interval['mean']:.{digits}f} [{interval['ci_low']:.{digits}f}, "
            f"{interval['ci_high']:.{digits}f}]")


def histogram(predictions: Sequence[str]) -> dict[str, int]:
    """How often each answer was given, most common first."""
    return dict(collections.Counter(p.strip() for p in predictions).most_common())


def dominant_answer(counts: Mapping[str, int],
                    share: float = DOMINANT_SHARE) -> tuple[str, float] | None:
    """(answer, its share) when one answer was given to more than `share` of the examples."""
    total = sum(counts.values())
    if not total:
        return None
    answer, count = max(counts.items(), key=lambda kv: kv[1])
    return (answer, count / total) if count / total > share else None


def required_examples(half_width: float, std: float, confidence: float = CONFIDENCE) -> int:
    """Examples needed for an interval of +-`half_width` on a mean of scores with standard
    deviation `std` (normal approximation): how an evaluation size is justified."""
    # scipy on use (cost: flan_nb/__init__): only this test needs it
    from scipy import stats as scipy_stats

    z = scipy_stats.norm.ppf(0.5 + confidence / 2)
    return int(np.ceil((z * std / half_width) ** 2))
