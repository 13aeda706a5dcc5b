"""Chapter 02 on the smoke profile: lossless SentencePiece and the comparison with our BPE."""

import pytest


@pytest.mark.notebook
def test_sentencepiece_chapter_round_trips_and_compares(run_smoke):
    metrics = run_smoke("02_sentencepiece").metrics()
    assert metrics["round_trip_ok"] is True
    comparison = metrics["comparison"]
    assert comparison["vocab_size"] == 500
    for key in ("ours_chars_per_token", "sentencepiece_chars_per_token",
                "unigram_chars_per_token"):
        assert comparison[key] > 1.0
    assert metrics["ours_over_sentencepiece_speed"] > 0
