"""Per-dataset and per-cluster reporting on scores fixed by hand."""

import json

import pytest

from flan_nb import report
from flan_nb.chapters import ch09_zero_shot_evaluation as ch09
from flan_nb.errors import UserError


def _scores():
    rows = []
    # dataset d1 (cluster c): test 50/70/60 over templates 0..2; dev best is template 2.
    for template, (dev, test) in enumerate([(40, 50), (55, 70), (80, 60)]):
        rows.append(report.TemplateScore("tuned", "d1", "c", template, "validation",
                                         "accuracy", dev, 10))
        rows.append(report.TemplateScore("tuned", "d1", "c", template, "test",
                                         "accuracy", test, 20))
    # dataset d2 (cluster c): one template, dev tie-free.
    rows.append(report.TemplateScore("tuned", "d2", "c", 0, "validation", "f1", 30, 10))
    rows.append(report.TemplateScore("tuned", "d2", "c", 0, "test", "f1", 20, 20))
    # the base model on d1 without dev scores
    rows.append(report.TemplateScore("base", "d1", "c", 0, "test", "accuracy", 33, 20))
    return rows


def test_dataset_reports_mean_std_and_best_dev():
    reports = report.dataset_reports(_scores())
    d1 = report.lookup(reports, model="tuned", dataset="d1")
    assert d1.mean == pytest.approx(60.0)
    assert d1.std == pytest.approx(10.0)  # sample std of 50, 70, 60
    assert (d1.best_dev_template, d1.best_dev_test) == (2, 60)
    d2 = report.lookup(reports, model="tuned", dataset="d2")
    assert (d2.mean, d2.std, d2.best_dev_test) == (20, 0.0, 20)
    base = report.lookup(reports, model="base", dataset="d1")
    assert base.best_dev_template is None and base.best_dev_test is None


def test_best_dev_ties_take_the_lowest_template():
    rows = [report.TemplateScore("m", "d", "c", t, split, "accuracy", v, 1)
            for t, dev, test in [(0, 50, 10), (1, 50, 90)]
            for split, v in [("validation", dev), ("test", test)]]
    (only,) = report.dataset_reports(rows)
    assert only.best_dev_template == 0 and only.best_dev_test == 10


def test_cluster_reports_average_datasets_equally():
    clusters = report.cluster_reports(report.dataset_reports(_scores()))
    tuned = report.lookup(clusters, model="tuned", cluster="c")
    assert tuned.mean == pytest.approx((60 + 20) / 2)
    assert tuned.best_dev == pytest.approx((60 + 20) / 2)
    assert tuned.num_datasets == 2
    base = report.lookup(clusters, model="base", cluster="c")
    assert base.mean == 33 and base.best_dev is None


def test_records_round_trip_through_json():
    scores = _scores()
    records = json.loads(json.dumps(report.to_records(scores)))
    assert report.scores_from_records(records) == scores


def test_missing_test_split_and_mixed_metrics_are_user_errors():
    dev_only = [report.TemplateScore("m", "d", "c", 0, "validation", "accuracy", 1.0, 1)]
    with pytest.raises(UserError, match="no 'test' scores for d"):
        report.dataset_reports(dev_only)
    mixed = [report.TemplateScore("m", "d", "c", 0, "test", "accuracy", 1.0, 1),
             report.TemplateScore("m", "d", "c", 1, "test", "f1", 1.0, 1)]
    with pytest.raises(UserError, match="mixes metrics"):
        report.dataset_reports(mixed)
    with pytest.raises(UserError, match="found 0"):
        report.lookup(report.dataset_reports(_scores()), dataset="nope")


def test_format_table_aligns_and_rounds():
    text = report.format_table([{"name": "nli", "score": 51.234, "best": None},
                                {"name": "closed_book_qa", "score": 7.0, "best": 8.25}],
                               digits=1)
    lines = text.splitlines()
    assert lines[0].split() == ["name", "score", "best"]
    assert "51.2" in lines[2] and lines[2].rstrip().endswith("-")
    assert lines[3].split() == ["closed_book_qa", "7.0", "8.2"]
    assert len({len(line.rstrip()) for line in lines[:2]}) == 1


def test_floor_table_in_percent_for_classification_sets_only():
    table = report.floor_table(["tw_rte", "tw_trivia_qa"], size="smoke")
    assert set(table) == {"tw_rte"}  # a generation set has no floors
    assert table["tw_rte"]["random"] == pytest.approx(50.0)  # yes/no
    assert 0 <= table["tw_rte"]["majority"] <= 100 and "bow_probe" in table["tw_rte"]


def test_cluster_floors_need_every_dataset():
    floors = {"a": {"majority": 40.0}, "b": {"majority": 60.0}}
    assert report.cluster_floors(floors, {"x": ["a", "b"], "y": ["a", "gen"]}) == {"x": 50.0}


def _ci(mean, half):
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half}


def test_figures_draw_ours_with_intervals_and_the_papers_bars():
    import matplotlib

    matplotlib.use("Agg")
    clusters = [{"cluster": "nli", "base": _ci(30, 2), "tuned": _ci(40, 3),
                 "majority_floor": 33.3}]
    fig = ch09.plot_clusters(clusters)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "paper (arXiv v1): FLAN 137B zero-shot" in labels
    assert "majority-class floor" in labels
    assert any("95% CI" in label for label in labels)
    # the tuned bar's error bar spans its interval, 37 to 43
    segments = [seg for coll in fig.axes[0].collections
                for seg in getattr(coll, "get_segments", lambda: [])()]
    spans = {(round(min(s[:, 1]), 1), round(max(s[:, 1]), 1)) for s in segments if len(s)}
    assert (37.0, 43.0) in spans and (28.0, 32.0) in spans
    datasets = [{"dataset": "d1", "metric": "accuracy", "base": _ci(30, 1),
                 "tuned": _ci(35, 1), "floors": {"majority": 50.0, "random": 33.3}}]
    fig = ch09.plot_datasets(datasets, mirrors={"d1": ("ANLI R1", "ANLI R2", "ANLI R3")})
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels.count("majority floor") == 1 and labels.count("random floor") == 1
    assert any(label.startswith("paper (arXiv v1):") for label in labels)
    assert "paper: ANLI R1-R3" in fig.axes[0].get_xticklabels()[0].get_text()


def test_markdown_table_escapes_and_rounds():
    text = report.markdown_table([{"a": 1.234, "b": "x|y", "c": None}])
    assert text.splitlines() == ["| a | b | c |", "|---|---|---|", "| 1.2 | x\\|y | - |"]


def test_paper_numbers_for_real_datasets_and_their_tinyworld_mirrors():
    assert report.paper_score("bool_q") == report.paper_score("tw_boolq") == 82.9
    assert report.paper_score("cb") == 64.1
    assert report.paper_score("anli") == round((47.7 + 43.9 + 47.0) / 3, 1)
    assert report.paper_score("tw_nli") is None and report.paper_score("mnli") is None
