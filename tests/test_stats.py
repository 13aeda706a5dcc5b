"""Bootstrap intervals over examples and seeds, paired differences, verdicts, histograms."""

import numpy as np
import pytest

from flan_nb import stats
from flan_nb.errors import UserError


def coin(p, shape, seed):
    return 100.0 * (np.random.default_rng(seed).random(shape) < p)


def test_interval_brackets_the_mean_and_shrinks_with_more_examples():
    small = stats.mean_interval([coin(0.5, (1, 50), 0)])
    large = stats.mean_interval([coin(0.5, (1, 2000), 0)])
    for interval in (small, large):
        assert interval.ci_low < interval.mean < interval.ci_high
    assert large.half_width < small.half_width / 3
    # about 1.96 * 50 / sqrt(n) for a fair coin in percent
    assert large.half_width == pytest.approx(1.96 * 50 / np.sqrt(2000), rel=0.25)


def test_seed_to_seed_spread_widens_the_interval():
    same = np.tile(coin(0.5, (1, 300), 1), (3, 1))  # three identical seeds
    spread = same + np.array([[-15.0], [0.0], [15.0]])  # seeds that disagree by 15 points
    narrow, wide = stats.mean_interval([same]), stats.mean_interval([spread])
    assert narrow.mean == pytest.approx(wide.mean)
    assert wide.half_width > narrow.half_width + 5


def test_cluster_mean_counts_each_dataset_once_and_is_reproducible():
    a, b = np.full((2, 10), 80.0), np.full((2, 400), 20.0)
    a[0, 0] = b[0, 0] = 50.0  # some spread so that the bootstrap runs
    interval = stats.mean_interval([a, b])
    assert interval.mean == pytest.approx((a.mean() + b.mean()) / 2)
    assert stats.mean_interval([a, b]) == interval  # fixed bootstrap seed


def test_paired_difference_is_narrower_than_the_two_intervals():
    base = coin(0.5, 400, 2)
    tuned = np.where(coin(0.1, (3, 400), 3) > 0, 100.0 - base, base)  # flips 10% of answers
    tuned = np.maximum(tuned, base)  # only ever fixes an answer: a small, sure gain
    diff = stats.mean_interval(stats.paired_differences([tuned], [base]))
    assert diff.ci_low > 0 and stats.verdict(diff) == stats.HELPS
    assert diff.half_width < stats.mean_interval([tuned]).half_width
    assert stats.verdict(stats.Interval(-3, -5, -1)) == stats.HURTS
    assert stats.verdict(stats.Interval(1, -2, 4)) == stats.NO_CHANGE


def test_constant_scores_and_bad_input():
    assert stats.mean_interval([np.zeros((3, 5))]) == stats.Interval(0.0, 0.0, 0.0)
    with pytest.raises(UserError, match="at least 2 examples"):
        stats.mean_interval([[50.0]])
    with pytest.raises(UserError, match="same seeds"):
        stats.mean_interval([np.zeros((2, 4)), np.zeros((3, 4))])
    with pytest.raises(UserError, match="different examples"):
        stats.paired_differences([np.zeros((2, 4))], [np.zeros(5)])


def test_histogram_and_dominant_answer():
    counts = stats.histogram(["yes"] * 19 + [" no"])
    assert counts == {"yes": 19, "no": 1}
    assert stats.dominant_answer(counts) == ("yes", 0.95)
    assert stats.dominant_answer({"yes": 9, "no": 1}) is None  # 90% is not more than 90%
    assert stats.dominant_answer({}) is None


def test_required_examples_for_an_interval_width():
    # a fair coin in percent has std 50: +-5 points needs about 385 examples
    assert stats.required_examples(5.0, 50.0) == 385


def test_weights_make_each_cluster_count_once():
    # cluster A has two datasets (scores 80 and 60), cluster B one (scores 20): the average of
    # the two clusters is (70 + 20) / 2 = 45, not the datasets' plain mean 53.3
    a1, a2, b = coin(0.8, (3, 200), 4), coin(0.6, (3, 200), 5), coin(0.2, (3, 200), 6)
    weighted = stats.mean_interval([a1, a2, b], weights=[0.25, 0.25, 0.5])
    cluster_a = (a1.mean() + a2.mean()) / 2
    assert weighted.mean == pytest.approx((cluster_a + b.mean()) / 2)
    assert weighted.ci_low < weighted.mean < weighted.ci_high
    plain = stats.mean_interval([a1, a2, b])
    assert plain.mean == pytest.approx((a1.mean() + a2.mean() + b.mean()) / 3)
    # equal weights (any scale) give the plain mean and, same draws, the same interval
    equal = stats.mean_interval([a1, a2, b], weights=[2, 2, 2])
    assert equal.mean == pytest.approx(plain.mean)
    assert equal.ci_low == pytest.approx(plain.ci_low) and \
        equal.ci_high == pytest.approx(plain.ci_high)
    # the interval follows the weights: most weight on a noisy group widens it
    quiet, noisy = np.tile(coin(0.5, (1, 400), 7), (3, 1)), coin(0.5, (3, 20), 8)
    assert (stats.mean_interval([quiet, noisy], weights=[1, 9]).half_width
            > stats.mean_interval([quiet, noisy], weights=[9, 1]).half_width)
    for bad in ([1, 1], [1, 0, 1], [1, -1, 1], [1, float("nan"), 1]):
        with pytest.raises(UserError, match="weights must be one positive number per group"):
            stats.mean_interval([a1, a2, b], weights=bad)


def test_format_interval_of_every_kind_of_interval():
    # one format for an Interval, its published dict, a lone mean and a missing number
    assert stats.format_interval(stats.Interval(2.04, -1.26, 5.35)) == "2.0 [-1.3, 5.3]"
    assert stats.format_interval({"mean": 2.04, "ci_low": -1.26, "ci_high": 5.35},
                                 digits=2) == "2.04 [-1.26, 5.35]"
    assert stats.format_interval({"mean": 7.0, "ci_low": None, "ci_high": None}) == "7.0"
    assert stats.format_interval(None) == "-" and stats.format_interval({}) == "-"
